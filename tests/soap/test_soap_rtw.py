"""ReturnToWork v1 over SOAP, with real STS tokens whose attributes carry the
partner's CBE and the role the simulated user management confirms, and zeep
clients built from the published ?wsdl; every answer is checked against
ReturnToWork-v1.xsd. The same use cases as the FHIR face: RP-S1,
RP-A1..RP-A6, RP-F1, RP-A6 on the form, every act audited with channel
soap (RP-R2)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import zeep
from lxml import etree
from sqlalchemy import select
from zeep.plugins import Plugin

from gateway.contracts import contract
from gateway.domain.model import AuditRecord
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_persona
from gateway.ehealth.sts_client import persona_token
from gateway.soap11.envelope import SOAP11_NS
from tests.soap.conftest import refused

XSD = ("soap", "return-to-work", "ReturnToWork-v1.xsd")


class RtwSchema(Plugin):
    """Every answer's payload (faults aside) valid against ReturnToWork-v1.xsd."""

    def __init__(self) -> None:
        self.schema = etree.XMLSchema(etree.parse(str(contract(*XSD))))
        self.checked = 0

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        body = envelope.find(f"{{{SOAP11_NS}}}Body")
        payload = next(iter(body)) if body is not None and len(body) else None
        if payload is not None and payload.tag != f"{{{SOAP11_NS}}}Fault":
            assert self.schema.validate(payload), self.schema.error_log
            self.checked += 1
        return envelope, http_headers


def soap_clients(live: Any, personas: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    """``service(key)``: ReturnToWork as persona ``key`` (a token of the STS where its
    partner signs in, RP-S1: the crossroads bank's for regional users; a holder-of-key signature)."""
    from gateway.ehealth.rtw.tokens import rtw_sts_token
    from gateway.identity.zeep_wsse import SamlHolderOfKey

    schema, clients = RtwSchema(), {}
    staff = rtw_state(live.platform).sandbox.staff

    def service(key: str) -> Any:
        if key not in clients:
            persona = (personas or {}).get(key) or rtw_persona(key)
            token = (rtw_sts_token(live.base_url, live.platform, persona, clock=live.clock) if key in staff
                     else persona_token(live.base_url, live.platform, persona, clock=live.clock))
            credential = live.gw.platform.pki.persona(key)
            wsse = SamlHolderOfKey(token, credential.private_key, credential.certificate, clock=live.clock)
            clients[key] = zeep.Client(live.base_url + "/soap/ReturnToWork/v1?wsdl", wsse=wsse, plugins=[schema])
        return clients[key].service

    service.schema = schema  # type: ignore[attr-defined]
    return service


@pytest.fixture(scope="module")
def rtw(live, personas):  # type: ignore[no-untyped-def]
    return soap_clients(live, personas)


@pytest.fixture(scope="module")
def cast(live):  # type: ignore[no-untyped-def]
    return rtw_state(live.platform).sandbox.cast


@pytest.fixture(scope="module")
def opened(rtw, cast):  # type: ignore[no-untyped-def]
    answer = rtw("oa-rtw-coordinator").OpenDossier(InsuredSsin=cast.insured)
    assert answer.Created is True
    return answer.Dossier[0]


def fill(**items: Any) -> dict[str, Any]:
    return {"Routing": "insurer", "IncapacityStart": date(2025, 3, 3), "Expectations": "A training as a logistics planner",
            "WorkProblems": "Cannot carry loads any more", "CoordinatorName": "An Peeters", **items}


def test_rp_s1_the_sts_certifies_the_role_user_management_confirms(live) -> None:  # type: ignore[no-untyped-def]
    from gateway.identity.claims import ATTR_RTW_CBE, attr_rtw_role

    persona = rtw_persona("prev-nurse")
    token = persona_token(live.base_url, live.platform, persona, clock=live.clock)
    assert ATTR_RTW_CBE.encode() in token and attr_rtw_role("prev-nurse").encode() in token
    assert persona.organisation_cbe and persona.organisation_cbe.encode() in token


def test_rp_s1_the_sts_refuses_a_role_user_management_does_not_confirm(live) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from gateway.domain.principal import Role
    from gateway.ehealth.sts_client import StsRefused

    claimed = dataclasses.replace(rtw_persona("oa-team"), role=Role.OA_PHYSICIAN)  # a team member claiming the physician's role
    with pytest.raises(StsRefused) as refusal:
        persona_token(live.base_url, live.platform, claimed, clock=live.clock)
    assert "sts-not-member" in str(refusal.value)


def test_rp_s1_regional_users_call_with_the_crossroads_banks_sts_integrated_care_roles_get_no_access(live, rtw, opened) -> None:  # type: ignore[no-untyped-def]
    from gateway.ehealth.rtw.tokens import rtw_sts_token
    from gateway.ehealth.sts_client import StsRefused

    assert rtw("reg-counsellor").GetDossier(DossierId=opened.DossierId).Dossier[0].DossierId == opened.DossierId
    with pytest.raises(StsRefused) as refusal:  # eHealth's STS vouches for no regional user
        rtw_sts_token(live.base_url, live.platform, "reg-counsellor", sts="ehealth", clock=live.clock)
    assert refusal.value.code == "sts-wrong-identity-provider"
    fault = refused(rtw("insurer").GetDossier, DossierId=opened.DossierId)
    assert (fault["Rule"], fault["Code"]) == ("RP-S1", "role-not-allowed")


def test_rp_a1_the_insurer_opens_the_dossier_enriched_from_the_sources(rtw, opened, cast) -> None:  # type: ignore[no-untyped-def]
    assert opened.InsuredSsin == cast.insured and opened.Status == "open" and opened.InsuredName
    roles = [p.Role for p in opened.Partner]
    assert roles.count("insurer") == 1 and roles.count("employer") == 2 and "regional-service" in roles
    assert opened.TrioDossier is True  # asked of TRIO with a blinded pseudonym, told to the insurer
    assert rtw("inami-expert").GetDossier(DossierId=opened.DossierId).Dossier[0].TrioDossier is None
    again = rtw("oa-physician").OpenDossier(InsuredSsin=cast.insured)
    assert again.Created is False and again.Dossier[0].DossierId == opened.DossierId
    fault = refused(rtw("oa-physician-other").GetDossier, DossierId=opened.DossierId)
    assert fault["Rule"] == "RP-A1"


def test_rp_a3_the_prevention_service_of_the_current_employer_only(rtw, opened, cast) -> None:  # type: ignore[no-untyped-def]
    assert rtw("prev-admin").GetDossier(DossierId=opened.DossierId).Dossier[0].DossierId == opened.DossierId
    assert refused(rtw("prev-physician-former").OpenDossier, InsuredSsin=cast.changed_employer)["Rule"] == "RP-A3"


def test_rp_a4_inami_lists_every_dossier_others_name_a_person_or_partner(rtw, opened) -> None:  # type: ignore[no-untyped-def]
    listed = rtw("inami-expert").SearchDossiers()
    assert opened.DossierId in [d.DossierId for d in listed.Dossier]
    fault = refused(rtw("oa-physician").SearchDossiers)
    assert (fault["Rule"], fault["Code"]) == ("RP-A4", "criteria-required")


def test_rp_a5_the_deceased_persons_dossier_is_closed_to_all(rtw, cast) -> None:  # type: ignore[no-untyped-def]
    for key in ("oa-physician", "inami-inspector"):
        assert refused(rtw(key).OpenDossier, InsuredSsin=cast.deceased)["Rule"] == "RP-A5"


def test_dossiers_are_searched_by_person_partner_and_status_a_page_at_a_time(rtw, opened, cast) -> None:  # type: ignore[no-untyped-def]
    coordinator = rtw("oa-rtw-coordinator")
    coordinator.OpenDossier(InsuredSsin=cast.unregistered)
    by_person = coordinator.SearchDossiers(InsuredSsin=cast.insured)
    assert [d.DossierId for d in by_person.Dossier] == [opened.DossierId]
    first = coordinator.SearchDossiers(PartnerCbe=opened.OpenedBy.Cbe, PageSize=1)
    assert len(first.Dossier) == 1 and first.NextCursor
    rest = coordinator.SearchDossiers(PartnerCbe=opened.OpenedBy.Cbe, PageSize=10, Cursor=first.NextCursor)
    assert len(rest.Dossier) >= 1 and rest.Dossier[0].DossierId > first.Dossier[0].DossierId
    assert coordinator.SearchDossiers(PartnerCbe=opened.OpenedBy.Cbe, Status="closed").Dossier == []


def test_rp_f1_and_rp_a6_the_form_over_soap(rtw, opened) -> None:  # type: ignore[no-untyped-def]
    made = rtw("oa-physician").FillForm(DossierId=opened.DossierId, **fill(
        PhysicianExpectations="Part-time work first", FunctionalCapacities="No lifting above 5 kg")).Form[0]
    assert made.IncapacityStart == date(2025, 3, 3) and made.IncapacityOneYear is True
    assert refused(rtw("prev-nurse").FillForm, DossierId=opened.DossierId, **fill())["Rule"] == "RP-F1"
    fault = refused(rtw("oa-rtw-coordinator").FillForm, DossierId=opened.DossierId, **fill(Routing="regional-request"))
    assert (fault["Rule"], fault["Code"]) == ("RP-F1", "target-group-routing-c") and fault["Path"].endswith("TargetGroup")
    shown = {key: rtw(key).GetForm(FormId=made.FormId).Form[0].FunctionalCapacities is not None
             for key in ("oa-physician", "prev-physician", "inami-inspector", "oa-rtw-coordinator", "prev-nurse", "inami-expert")}
    assert shown == {"oa-physician": True, "prev-physician": True, "inami-inspector": True,
                     "oa-rtw-coordinator": False, "prev-nurse": False, "inami-expert": False}  # RP-A6
    listed = rtw("inami-expert").GetDossierForms(DossierId=opened.DossierId)
    assert [f.FormId for f in listed.Form] == [made.FormId] and listed.Form[0].IncapacityStart == date(2025, 3, 3)


def test_rp_a1_the_insurer_closes_the_dossier(rtw, cast) -> None:  # type: ignore[no-untyped-def]
    made = rtw("oa-physician-other").OpenDossier(InsuredSsin=cast.actiris).Dossier[0]
    assert refused(rtw("oa-physician").CloseDossier, DossierId=made.DossierId)["Rule"] == "RP-A1"
    assert rtw("oa-physician-other").CloseDossier(DossierId=made.DossierId).Dossier[0].Status == "closed"


def test_rp_r2_every_act_over_soap_leaves_one_audit_record(live, rtw, opened) -> None:  # type: ignore[no-untyped-def]
    def records() -> list[AuditRecord]:
        with live.gw.ctx.db.transaction() as session:
            return list(session.execute(select(AuditRecord).where(AuditRecord.action.like("rtw.%"))
                                        .order_by(AuditRecord.seq)).scalars().all())

    before = len(records())
    rtw("inami-inspector").GetDossier(DossierId=opened.DossierId)
    refused(rtw("oa-physician-other").GetDossier, DossierId=opened.DossierId)
    assert [(r.action, r.outcome, r.rule, r.channel) for r in records()[before:]] == [
        ("rtw.dossier.read", "allowed", "RP-A4", "soap"), ("rtw.dossier.read", "denied", "RP-A1", "soap")]
    assert rtw.schema.checked > 0
