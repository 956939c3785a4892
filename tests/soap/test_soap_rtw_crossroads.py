"""The social-security crossroads bank's STS and the regional services over
SOAP (issue 11): its users (VDAB, Forem, Actiris, ADG) get SAML 1.1
holder-of-key tokens from it, never from eHealth's STS or IdP (RP-S1); the
gateway trusts it by configuration only, each Issuer paired with its own
certificate (one STS cannot speak for the other); its attributes make the
Principal its IdP's claims make. Then RP-A2, RP-F2 and RP-M1 over SOAP, each
act audited on channel soap (RP-R2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import zeep
from lxml import etree
from sqlalchemy import select

from gateway.domain.model import AuditRecord
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.sts import BCSS_STS_ISSUER, bcss_sts_credential
from gateway.ehealth.rtw.tokens import rtw_access_token, rtw_persona, rtw_sts_token
from gateway.ehealth.sandbox_tokens import TokenError
from gateway.ehealth.sts_client import StsRefused
from gateway.identity.saml import AM_X509_PKI, STS_ISSUER, build_assertion, sign_assertion, verify_assertion
from gateway.identity.sts_trust import claims_of
from gateway.identity.xml import parse_untrusted
from gateway.identity.zeep_wsse import SamlHolderOfKey
from tests.soap.conftest import refused
from tests.soap.test_soap_rtw import fill, soap_clients


@pytest.fixture(scope="module")
def rtw(live):  # type: ignore[no-untyped-def]
    return soap_clients(live)


@pytest.fixture(scope="module")
def cast(live):  # type: ignore[no-untyped-def]
    return rtw_state(live.platform).sandbox.cast


@pytest.fixture(scope="module")
def insured_form(rtw, cast):  # type: ignore[no-untyped-def]
    """The insured person's dossier (registered with VDAB) and a form by the advising physician."""
    dossier = rtw("oa-rtw-coordinator").OpenDossier(InsuredSsin=cast.insured).Dossier[0]
    form = rtw("oa-physician").FillForm(DossierId=dossier.DossierId, **fill()).Form[0]
    return dossier, form


def audited(live, action: str) -> AuditRecord:  # type: ignore[no-untyped-def]
    with live.gw.ctx.db.transaction() as session:
        return session.execute(select(AuditRecord).where(AuditRecord.action == action)
                               .order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()


# ------------------------------------------------------------------ RP-S1


def test_rp_s1_the_crossroads_banks_sts_issues_its_own_assertion_for_a_regional_user(live) -> None:  # type: ignore[no-untyped-def]
    token = parse_untrusted(rtw_sts_token(live.base_url, live.platform, "reg-counsellor", clock=live.clock))
    assert token.get("Issuer") == BCSS_STS_ISSUER != STS_ISSUER
    signer = bcss_sts_credential(live.platform.pki).certificate
    verified = verify_assertion(token, trusted=(signer,), issuers=(BCSS_STS_ISSUER,), clock=live.clock)
    persona = rtw_persona("reg-counsellor")
    assert persona.organisation_cbe in verified.attributes["urn:be:ksz-bcss:enterprise-number"]
    assert verified.attributes["urn:be:ksz-bcss:rtw-function"] == ["reg-counsellor"]


def test_rp_s1_each_sts_vouches_only_for_the_users_of_its_partners(live) -> None:  # type: ignore[no-untyped-def]
    for key, sts in (("reg-counsellor", "ehealth"), ("reg-list-manager", "ehealth"), ("oa-physician", "bcss"),
                     ("inami-expert", "bcss")):
        with pytest.raises(StsRefused) as refusal:
            rtw_sts_token(live.base_url, live.platform, key, sts=sts, clock=live.clock)
        assert refusal.value.code == "sts-wrong-identity-provider", key
    with pytest.raises(TokenError):  # nor does eHealth's IdP sign a regional user in
        rtw_access_token(live.base_url, "reg-counsellor", realm="ehealth")


def test_rp_s1_the_crossroads_sts_refuses_a_role_user_management_does_not_confirm(live) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from gateway.domain.principal import Role

    claimed = dataclasses.replace(rtw_persona("reg-list-manager"), role=Role.REG_COUNSELLOR)
    with pytest.raises(StsRefused) as refusal:
        rtw_sts_token(live.base_url, live.platform, claimed, clock=live.clock)
    assert refusal.value.code == "sts-not-member"


def test_rp_s1_the_crossroads_sts_assertion_and_its_idp_token_make_the_same_principal(live) -> None:  # type: ignore[no-untyped-def]
    trust = live.gw.trust.message_trust()
    token = parse_untrusted(rtw_sts_token(live.base_url, live.platform, "reg-counsellor", clock=live.clock))
    sts = trust.sts_for(token.get("Issuer"))
    assert sts is not None and sts.name == "bcss"
    over_soap = claims_of(verify_assertion(token, trusted=sts.certificates, issuers=sts.issuers, clock=live.clock),
                          sts).principal()
    over_fhir = live.gw.tokens.principal(rtw_access_token(live.base_url, "reg-counsellor"))
    fields = ("niss", "role", "organisation_cbe", "display_name")
    assert [getattr(over_soap, f) for f in fields] == [getattr(over_fhir, f) for f in fields]
    assert over_soap.extra["iss"] == BCSS_STS_ISSUER
    policy = live.gw.return_to_work.policy
    assert policy.standing(over_soap).allowed and policy.standing(over_fhir).allowed


def forged(live, key: str, signer: str, issuer: str) -> bytes:  # type: ignore[no-untyped-def]
    """A well-formed assertion for persona ``key`` signed with ``signer``'s
    key ("sts" or "bcss-sts") under ``issuer``: what one STS would write to
    speak for the other."""
    persona = rtw_persona(key)
    credential = live.platform.pki.credential(signer) if signer == "sts" else bcss_sts_credential(live.platform.pki)
    now = live.clock.now()
    attributes = [("urn:be:ksz-bcss:attributes", "urn:be:ksz-bcss:ssin", [persona.niss]),
                  ("urn:be:ksz-bcss:attributes", "urn:be:ksz-bcss:rtw-function", [persona.role.value]),
                  ("urn:be:ksz-bcss:attributes", "urn:be:ksz-bcss:enterprise-number", [persona.organisation_cbe or ""])]
    assertion = build_assertion(issuer=issuer, subject_niss=persona.niss, subject_cert=live.platform.pki.persona(key).certificate,
                                attributes=attributes, authentication_method=AM_X509_PKI, not_before=now,
                                not_on_or_after=now + timedelta(hours=1), issue_instant=now)
    return etree.tostring(sign_assertion(assertion, credential.private_key, credential.certificate))


@pytest.mark.parametrize("signer, issuer", [("bcss-sts", STS_ISSUER), ("sts", BCSS_STS_ISSUER)])
def test_rp_s1_one_sts_cannot_speak_for_the_other(live, insured_form, signer: str, issuer: str) -> None:  # type: ignore[no-untyped-def]
    dossier, _ = insured_form
    credential = live.platform.pki.persona("reg-counsellor")
    wsse = SamlHolderOfKey(forged(live, "reg-counsellor", signer, issuer), credential.private_key, credential.certificate,
                           clock=live.clock)
    client = zeep.Client(live.base_url + "/soap/ReturnToWork/v1?wsdl", wsse=wsse)
    fault = refused(client.service.GetDossier, DossierId=dossier.DossierId)
    assert fault["Code"] == "assertion-untrusted-signer", fault


def test_rp_s1_the_same_assertion_signed_by_its_own_sts_is_accepted(live, insured_form) -> None:  # type: ignore[no-untyped-def]
    dossier, _ = insured_form  # the control of the test above: only the pairing made it fail
    credential = live.platform.pki.persona("reg-counsellor")
    wsse = SamlHolderOfKey(forged(live, "reg-counsellor", "bcss-sts", BCSS_STS_ISSUER), credential.private_key,
                           credential.certificate, clock=live.clock)
    client = zeep.Client(live.base_url + "/soap/ReturnToWork/v1?wsdl", wsse=wsse)
    assert client.service.GetDossier(DossierId=dossier.DossierId).Dossier[0].DossierId == dossier.DossierId


# ------------------------------------------------------------ RP-A2, RP-F2, RP-M1


def test_rp_a2_the_regional_service_of_registration_reads_the_dossier_another_does_not(live, rtw, insured_form) -> None:  # type: ignore[no-untyped-def]
    dossier, _ = insured_form
    assert rtw("reg-list-manager").GetDossier(DossierId=dossier.DossierId).Dossier[0].DossierId == dossier.DossierId
    record = audited(live, "rtw.dossier.read")
    assert (record.outcome, record.rule, record.channel) == ("allowed", "RP-A2", "soap")  # RP-R2
    fault = refused(rtw("reg-counsellor-forem").GetDossier, DossierId=dossier.DossierId)
    assert (fault["Rule"], fault["Code"]) == ("RP-A2", "not-registered")


def test_rp_f2_over_soap_the_regional_service_reads_the_form_once_the_person_is_registered(live, rtw, cast, insured_form) -> None:  # type: ignore[no-untyped-def]
    dossier, form = insured_form  # registered with VDAB: the form reaches it
    assert rtw("reg-counsellor").GetForm(FormId=form.FormId).Form[0].FormId == form.FormId
    record = audited(live, "rtw.form.read")
    assert (record.outcome, record.rule, record.channel) == ("allowed", "RP-F2", "soap")
    assert [f.FormId for f in rtw("reg-list-manager").GetDossierForms(DossierId=dossier.DossierId).Form] == [form.FormId]
    other = rtw("oa-rtw-coordinator").OpenDossier(InsuredSsin=cast.unregistered).Dossier[0]  # registered nowhere
    made = rtw("oa-rtw-coordinator").FillForm(DossierId=other.DossierId, **fill()).Form[0]
    fault = refused(rtw("reg-counsellor").GetForm, FormId=made.FormId)
    assert (fault["Rule"], fault["Code"]) == ("RP-F2", "not-registered")
    assert refused(rtw("reg-counsellor").GetDossierForms, DossierId=other.DossierId)["Rule"] == "RP-F2"
    record = audited(live, "rtw.form.search")
    assert (record.outcome, record.rule, record.channel) == ("denied", "RP-F2", "soap")


def test_rp_m1_over_soap_the_counsellor_sees_whether_a_year_passed_the_insurer_the_start_date(rtw, insured_form) -> None:  # type: ignore[no-untyped-def]
    _, form = insured_form
    for key in ("reg-counsellor", "reg-list-manager"):
        seen = rtw(key).GetForm(FormId=form.FormId).Form[0]
        assert seen.IncapacityStart is None and seen.IncapacityOneYear is True, key
    insurer = rtw("oa-rtw-coordinator").GetForm(FormId=form.FormId).Form[0]
    assert insurer.IncapacityStart == date(2025, 3, 3) and insurer.IncapacityOneYear is True


def test_rp_s1_an_ehealth_assertion_naming_a_regional_role_is_refused_by_the_gateway(live, insured_form) -> None:  # type: ignore[no-untyped-def]
    """Defence in depth: even if eHealth's STS certified a regional role (it
    refuses to), the gateway would not take a regional user from it."""
    from gateway.identity.claims import ATTR_CERT_HOLDER_SSIN, ATTR_PERSON_SSIN, ATTR_RTW_CBE, CERTIFIED_NS, IDENTIFICATION_NS, attr_rtw_role

    dossier, _ = insured_form
    persona = rtw_persona("reg-counsellor")
    sts, holder = live.platform.pki.platform("sts"), live.platform.pki.persona("reg-counsellor")
    now = live.clock.now()
    attributes = [(IDENTIFICATION_NS, ATTR_CERT_HOLDER_SSIN, [persona.niss]), (IDENTIFICATION_NS, ATTR_PERSON_SSIN, [persona.niss]),
                  (IDENTIFICATION_NS, ATTR_RTW_CBE, [persona.organisation_cbe or ""]),
                  (CERTIFIED_NS, attr_rtw_role("reg-counsellor"), ["true"])]
    assertion = sign_assertion(build_assertion(issuer=STS_ISSUER, subject_niss=persona.niss, subject_cert=holder.certificate,
                                               attributes=attributes, authentication_method=AM_X509_PKI, not_before=now,
                                               not_on_or_after=now + timedelta(hours=1), issue_instant=now),
                               sts.private_key, sts.certificate)
    wsse = SamlHolderOfKey(etree.tostring(assertion), holder.private_key, holder.certificate, clock=live.clock)
    client = zeep.Client(live.base_url + "/soap/ReturnToWork/v1?wsdl", wsse=wsse)
    fault = refused(client.service.GetDossier, DossierId=dossier.DossierId)
    assert (fault["Rule"], fault["Code"]) == ("RP-S1", "wrong-identity-provider")
