"""The simulated STS over real HTTP, driven by zeep from its own WSDL: a
token for every kind of persona, refusals that name the attribute, the
legacy SAML 1.1 form, request security (signature, certificate, replay),
and xmlsec1 as an independent oracle of the issued assertion."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import httpx
import pytest
import zeep
from lxml import etree

from gateway.ehealth.sandbox.personas import Persona
from gateway.ehealth.sandbox.personas import personas as personas_of
from gateway.ehealth.sts import ACTION_RST, AUTHCLAIMS_DIALECT, KEY_TYPE_PUBLIC_KEY, REQUEST_TYPE_ISSUE
from gateway.ehealth.sts_client import (
    BINDING,
    StsRefused,
    persona_claims,
    persona_token,
    request_token,
    request_token_legacy,
    sts_url,
)
from gateway.ehealth.sts_legacy import build_legacy_request
from gateway.identity.certstore import CertificateStore
from gateway.identity.claims import (
    ATTR_CERT_HOLDER_SSIN,
    ATTR_DOCTOR_BOOLEAN,
    ATTR_DOCTOR_NIHII,
    ATTR_GIVENNAME,
    attr_org_nihii,
    attr_org_recognised,
    attr_professional_boolean,
    attr_professional_nihii,
)
from gateway.domain.principal import Role
from gateway.identity.saml import SAML_NS, SAMLP_NS, STS_ISSUER, verify_assertion
from gateway.identity.signing import BASE64_BINARY, SAML_TOKEN_TYPE, X509V3, sign_with_saml
from gateway.identity.wssecurity import MessageTrust, verify_message
from gateway.identity.xml import parse_untrusted
from gateway.identity.zeep_wsse import X509Signature
from gateway.soap11.envelope import FAULT_NS, SOAP11_NS, envelope_bytes, read_envelope

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"


@pytest.fixture
def restore_clock(live):
    start = live.clock.now()
    yield live.clock
    live.clock.set(start)


def persona(live, key: str) -> Persona:
    """A persona of the live gateway's own registries."""
    return personas_of(live.gw.platform.registries)[key]


def token_for(live, key: str, **kw) -> bytes:
    return persona_token(live.base_url, live.platform, persona(live, key), clock=live.clock, **kw)


def verified(live, token: bytes):
    return verify_assertion(parse_untrusted(token), trusted=[live.gw.platform.pki.platform("sts").certificate], clock=live.clock)


def refusal(live, cert_name: str, claims: list[tuple[str, str]]) -> StsRefused:
    cred = live.gw.platform.pki.credential(cert_name)
    with pytest.raises(StsRefused) as err:
        request_token(live.base_url, cred.private_key, cred.certificate, claims=claims, clock=live.clock)
    return err.value


# ------------------------------------------------------------------ contract


def test_wsdl_is_served_with_both_operations_and_this_address(live):
    response = httpx.get(live.url("/ehealth/IAM/SecurityTokenService/v1?wsdl"))
    assert response.status_code == 200
    wsdl = parse_untrusted(response.content)
    actions = {op.getparent().get("name"): op.get("soapAction")
               for op in wsdl.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")}
    assert actions == {"RequestSecurityToken": ACTION_RST,
                       "RequestSecureToken": "urn:be:fgov:ehealth:sts:protocol:v1:RequestSecureToken"}
    address = wsdl.find(f".//{{{WSDL_NS}}}port/{{http://schemas.xmlsoap.org/wsdl/soap/}}address")
    assert address.get("location") == live.url("/ehealth/IAM/SecurityTokenService/v1")
    assert sts_url(live.base_url) == address.get("location")


# ------------------------------------------------------------------ every persona kind


@pytest.mark.parametrize("key", ["gp", "nurse", "excluded-profession"])
def test_professionals_get_their_certified_quality_and_nihii(live, key):
    who = persona(live, key)
    token = verified(live, token_for(live, key))
    assert token.issuer == STS_ISSUER
    assert token.subject_certificate == live.gw.platform.pki.persona(key).certificate
    claims = token.claims()
    assert (claims.niss, claims.role, claims.quality, claims.nihii) == (who.niss, Role.PROVIDER, who.quality,
                                                                       who.nihii)
    if who.quality == "doctor":
        assert token.attributes[ATTR_DOCTOR_BOOLEAN] == ["true"] and token.attributes[ATTR_DOCTOR_NIHII] == [who.nihii]
    else:
        assert token.attributes[attr_professional_boolean(who.quality)] == ["true"]
    assert token.attributes[ATTR_GIVENNAME] == [live.gw.platform.registries.professionals_of(who.niss)[0].first_name]


def test_pharmacist_gets_the_recognised_pharmacy_and_their_nihii(live):
    who = persona(live, "pharmacist")
    token = verified(live, token_for(live, "pharmacist"))
    assert token.attributes[attr_org_nihii("pharmacy")] == [who.organisation_nihii]
    assert token.attributes[attr_org_recognised("pharmacy")] == ["true"]
    assert token.attributes[attr_professional_nihii("pharmacist")] == [who.nihii]
    claims = token.claims()
    assert (claims.role, claims.organisation_nihii, claims.nihii) == (Role.PHARMACIST, who.organisation_nihii, who.nihii)


@pytest.mark.parametrize("key", ["patient", "patient-2", "bis-patient"])
def test_patients_get_identification_attributes_only(live, key):
    token = verified(live, token_for(live, key))
    assert token.claims().role is Role.PATIENT and token.claims().niss == persona(live, key).niss
    assert set(token.attributes) == {ATTR_CERT_HOLDER_SSIN, "urn:be:fgov:person:ssin"}


@pytest.mark.parametrize("key, org", [("psi-admin", "psi"), ("psi-coordinator-other", "psi"), ("insurer", "insurer")])
def test_organisation_staff_get_their_organisation_certified(live, key, org):
    who = persona(live, key)
    token = verified(live, token_for(live, key))
    assert token.attributes[attr_org_nihii(org)] == [who.organisation_nihii]
    assert token.attributes[attr_org_recognised(org)] == ["true"]


def test_lifetime_is_as_requested_and_capped_at_24_hours(live):
    short = verified(live, token_for(live, "gp", lifetime=timedelta(hours=2)))
    assert short.not_on_or_after - short.not_before == timedelta(hours=2)
    long = verified(live, token_for(live, "gp", lifetime=timedelta(hours=48)))
    assert long.not_on_or_after - long.not_before == timedelta(hours=24)


def test_issued_token_secures_a_service_call(live):
    """The whole chain: STS token -> WS-Security message -> verified principal."""
    from gateway.identity.replay import ReplayGuard

    token = token_for(live, "nurse")
    cred = live.gw.platform.pki.persona("nurse")
    payload = etree.Element("{urn:test}Ping")
    envelope = sign_with_saml(parse_untrusted(envelope_bytes(payload)), token, cred.private_key, cred.certificate,
                              clock=live.clock)
    pki = live.gw.platform.pki
    trust = MessageTrust(CertificateStore.of(pki.ca.certificate), (pki.platform("sts").certificate,), (STS_ISSUER,))
    result = verify_message(read_envelope(parse_untrusted(etree.tostring(envelope))), mode="saml-hok", trust=trust,
                            clock=live.clock, replay=ReplayGuard(live.gw.db))
    assert result.principal is not None and result.principal.quality == "nurse"


# ------------------------------------------------------------------ refusals name the attribute


def assert_names(error: StsRefused, attribute: str, code: str) -> None:
    assert error.code == code
    assert attribute in error.message
    assert error.path is not None and attribute in error.path


def test_physician_with_an_expired_visa_is_refused_the_doctor_attribute(live):
    error = refusal(live, "persona-expired-visa", persona_claims(persona(live, "expired-visa")))
    assert_names(error, ATTR_DOCTOR_BOOLEAN, "sts-visa-invalid")
    assert "2024-12-31" in error.message


def test_excluded_profession_claiming_doctor_is_refused(live):
    who = persona(live, "excluded-profession")
    error = refusal(live, "persona-excluded-profession", [(ATTR_CERT_HOLDER_SSIN, who.niss), (ATTR_DOCTOR_BOOLEAN, "")])
    assert_names(error, ATTR_DOCTOR_BOOLEAN, "sts-not-a-professional")


def test_pharmacist_claiming_another_pharmacy_is_refused(live):
    who = persona(live, "pharmacist-no-link")
    pharmacy_a = persona(live, "pharmacist").organisation_nihii
    error = refusal(live, "persona-pharmacist-no-link", [
        (ATTR_CERT_HOLDER_SSIN, who.niss), (attr_org_nihii("pharmacy"), pharmacy_a),
        (attr_org_recognised("pharmacy"), ""),
    ])
    assert_names(error, attr_org_nihii("pharmacy"), "sts-not-member")
    assert pharmacy_a in error.message


def test_ssin_other_than_the_certificates_is_refused(live):
    error = refusal(live, "persona-gp", [(ATTR_CERT_HOLDER_SSIN, persona(live, "patient").niss)])
    assert_names(error, ATTR_CERT_HOLDER_SSIN, "sts-ssin-mismatch")


def test_someone_elses_nihii_is_refused(live):
    gp = persona(live, "gp")
    error = refusal(live, "persona-gp", [(ATTR_CERT_HOLDER_SSIN, gp.niss), (ATTR_DOCTOR_NIHII, persona(live, "gp-no-link").nihii)])
    assert_names(error, ATTR_DOCTOR_NIHII, "sts-nihii-mismatch")


def test_deceased_persons_certificate_gets_no_token(live):
    error = refusal(live, "persona-deceased-patient", persona_claims(persona(live, "deceased-patient")))
    assert_names(error, ATTR_CERT_HOLDER_SSIN, "sts-person-deceased")


def test_expired_certificate_is_refused(live):
    error = refusal(live, "persona-gp-expired-certificate", persona_claims(persona(live, "gp")))
    assert error.code == "certificate-expired"
    assert "expired" in error.message


def test_certificate_from_outside_the_sandbox_ca_is_refused(live):
    assert refusal(live, "untrusted-sts", [(ATTR_CERT_HOLDER_SSIN, "")]).code == "certificate-untrusted"


def test_refusal_is_a_soap_fault_with_status_and_attribute_in_the_detail(live):
    """What a connector sees on the wire, without our client's help."""
    cred = live.gw.platform.pki.persona("expired-visa")
    client = zeep.Client(sts_url(live.base_url) + "?wsdl", wsse=X509Signature(cred.private_key, cred.certificate, live.clock))
    with pytest.raises(zeep.exceptions.Fault) as fault:
        client.service.RequestSecurityToken(
            TokenType=SAML_TOKEN_TYPE, RequestType=REQUEST_TYPE_ISSUE,
            Claims={"Dialect": AUTHCLAIMS_DIALECT, "ClaimType": [{"Uri": ATTR_DOCTOR_BOOLEAN}]})
    assert ATTR_DOCTOR_BOOLEAN in fault.value.message
    detail = fault.value.detail
    assert detail.findtext(f".//{{{FAULT_NS}}}Status") == "urn:be:fgov:ehealth:2.0:status:NotAuthorized"
    assert ATTR_DOCTOR_BOOLEAN in detail.findtext(f".//{{{FAULT_NS}}}Path")


def test_issuance_and_refusal_are_logged(live, caplog):
    caplog.set_level("INFO", logger="gateway.ehealth.sts")
    token_for(live, "gp")
    with pytest.raises(StsRefused):
        token_for(live, "expired-visa")
    messages = [r.getMessage() for r in caplog.records if r.name == "gateway.ehealth.sts"]
    assert any(m.startswith("sts: issued _") for m in messages)
    assert any("refused" in m and ATTR_DOCTOR_BOOLEAN in m for m in messages)
    assert not any(persona(live, "gp").niss in m for m in messages)  # no plaintext NISS in the log


# ------------------------------------------------------------------ request security


def _signed_rst(live, key: str, *, use_key_of: str | None = None) -> bytes:
    cred = live.gw.platform.pki.persona(key)
    client = zeep.Client(sts_url(live.base_url) + "?wsdl")
    use = live.gw.platform.pki.persona(use_key_of or key).certificate
    import base64

    from cryptography.hazmat.primitives import serialization

    message = client.create_message(
        client.create_service(BINDING, sts_url(live.base_url)), "RequestSecurityToken",
        TokenType=SAML_TOKEN_TYPE, RequestType=REQUEST_TYPE_ISSUE, KeyType=KEY_TYPE_PUBLIC_KEY,
        Claims={"Dialect": AUTHCLAIMS_DIALECT, "ClaimType": [{"Uri": ATTR_CERT_HOLDER_SSIN}]},
        UseKey={"BinarySecurityToken": {"_value_1": base64.b64encode(use.public_bytes(serialization.Encoding.DER)).decode(),
                                        "ValueType": X509V3, "EncodingType": BASE64_BINARY}})
    envelope, _ = X509Signature(cred.private_key, cred.certificate, live.clock).apply(message, {})
    return etree.tostring(envelope)


def post(live, data: bytes, action: str = ACTION_RST) -> tuple[int, etree._Element]:
    response = httpx.post(sts_url(live.base_url), content=data,
                          headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'})
    return response.status_code, parse_untrusted(response.content)


def fault_code(root: etree._Element) -> str | None:
    return root.findtext(f".//{{{FAULT_NS}}}Code")


def test_signed_request_bytes_are_accepted_once(live):
    data = _signed_rst(live, "gp")
    status, root = post(live, data)
    assert status == 200 and root.find(f".//{{{SAML_NS}}}Assertion") is not None
    status, root = post(live, data)
    assert status == 500 and fault_code(root) == "message-replayed"


def test_unsigned_request_is_refused(live):
    data = _signed_rst(live, "gp")
    root = parse_untrusted(data)
    root.remove(root.find(f"{{{SOAP11_NS}}}Header"))
    status, answer = post(live, etree.tostring(root))
    assert status == 500 and fault_code(answer) == "security-header-missing"


def test_tampered_request_is_refused(live):
    root = parse_untrusted(_signed_rst(live, "gp-no-link"))
    claim = root.find(".//{http://docs.oasis-open.org/wsfed/authorization/200706}ClaimType")
    claim.set("Uri", ATTR_DOCTOR_BOOLEAN)
    assert fault_code(post(live, etree.tostring(root))[1]) == "message-digest-mismatch"


def test_use_key_must_be_the_signers_certificate(live):
    """gp may not obtain a token confirming nurse's certificate."""
    status, root = post(live, _signed_rst(live, "gp", use_key_of="nurse"))
    assert status == 500 and fault_code(root) == "sts-usekey-mismatch"


def test_wrong_soap_action_is_refused(live):
    status, root = post(live, _signed_rst(live, "gp"), action="urn:be:fgov:ehealth:sts:protocol:v1:Other")
    assert status == 500 and fault_code(root) == "sts-request-invalid"


# ------------------------------------------------------------------ legacy form


def test_legacy_request_gets_a_samlp_response_with_the_assertion(live):
    gp = persona(live, "gp")
    cred = live.gw.platform.pki.persona("gp")
    token = request_token_legacy(live.base_url, cred.private_key, cred.certificate, claims=persona_claims(gp), clock=live.clock)
    claims = verified(live, token).claims()
    assert (claims.niss, claims.quality, claims.nihii) == (gp.niss, "doctor", gp.nihii)


def test_legacy_response_carries_a_success_status(live):
    cred = live.gw.platform.pki.persona("nurse")
    request = build_legacy_request(cred.private_key, cred.certificate, persona_claims(persona(live, "nurse")),
                                   clock=live.clock)
    status, root = post(live, envelope_bytes(request), action="urn:be:fgov:ehealth:sts:protocol:v1:RequestSecureToken")
    response = root.find(f".//{{{SAMLP_NS}}}Response")
    assert status == 200 and response.get("InResponseTo") == request.get("RequestID")
    assert response.find(f"{{{SAMLP_NS}}}Status/{{{SAMLP_NS}}}StatusCode").get("Value") == "samlp:Success"


def test_legacy_refusal_is_a_saml_status_naming_the_attribute(live):
    cred = live.gw.platform.pki.persona("expired-visa")
    with pytest.raises(StsRefused) as err:
        request_token_legacy(live.base_url, cred.private_key, cred.certificate,
                             claims=persona_claims(persona(live, "expired-visa")), clock=live.clock)
    assert err.value.status == "samlp:Requester samlp:RequestDenied"
    assert err.value.code == "sts-visa-invalid"
    assert err.value.path in (ATTR_DOCTOR_BOOLEAN, ATTR_DOCTOR_NIHII)  # the first doctor attribute it checked
    assert err.value.path in err.value.message


def test_tampered_legacy_request_is_refused(live):
    cred = live.gw.platform.pki.persona("gp-no-link")
    request = build_legacy_request(cred.private_key, cred.certificate, [(ATTR_CERT_HOLDER_SSIN, "")], clock=live.clock)
    designator = request.find(f".//{{{SAML_NS}}}AttributeDesignator")
    designator.set("AttributeName", ATTR_DOCTOR_BOOLEAN)
    status, root = post(live, envelope_bytes(request), action="urn:be:fgov:ehealth:sts:protocol:v1:RequestSecureToken")
    assert status == 500 and fault_code(root) == "message-digest-mismatch"


def test_legacy_request_cannot_be_replayed_or_kept(live, restore_clock):
    cred = live.gw.platform.pki.persona("gp")
    request = envelope_bytes(build_legacy_request(cred.private_key, cred.certificate, [], clock=live.clock))
    action = "urn:be:fgov:ehealth:sts:protocol:v1:RequestSecureToken"
    assert post(live, request, action=action)[0] == 200
    assert fault_code(post(live, request, action=action)[1]) == "message-replayed"
    stale = envelope_bytes(build_legacy_request(cred.private_key, cred.certificate, [], clock=live.clock))
    restore_clock.advance(timedelta(minutes=10))
    assert fault_code(post(live, stale, action=action)[1]) == "request-stale"


# ------------------------------------------------------------------ independent oracle


@pytest.fixture
def xmlsec1() -> str:
    path = shutil.which("xmlsec1")
    if path is None:
        pytest.skip("xmlsec1 is not installed (Debian/Ubuntu package: xmlsec1); it is the independent signature oracle")
    return path


def test_xmlsec1_verifies_the_issued_assertion_with_the_sts_certificate(live, xmlsec1, tmp_path):
    token = tmp_path / "assertion.xml"
    token.write_bytes(token_for(live, "pharmacist"))
    sts_pem, ca_pem = tmp_path / "sts.pem", tmp_path / "ca.pem"
    sts_pem.write_bytes(live.gw.platform.pki.platform("sts").cert_pem)
    ca_pem.write_bytes(live.gw.platform.pki.ca.cert_pem)
    command = [xmlsec1, "--verify", "--id-attr:AssertionID", f"{SAML_NS}:Assertion", "--trusted-pem", str(ca_pem),
               "--pubkey-cert-pem", str(sts_pem), str(token)]
    ok = subprocess.run(command, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "SignedInfo References (ok/all): 1/1" in ok.stdout + ok.stderr
    # and the oracle is not a rubber stamp: one changed value fails it
    root = parse_untrusted(token.read_bytes())
    root.find(f".//{{{SAML_NS}}}AttributeValue").text = persona(live, "patient").niss
    token.write_bytes(etree.tostring(root))
    assert subprocess.run(command, capture_output=True, text=True).returncode != 0


def test_IC_A3_sts_token_of_psi_staff_carries_their_confirmed_role(live, personas):
    """PSI staff calling with practice software: the STS certifies their role in
    the PSI only when user management confirms it, and the token then acts as
    that role (IC-A3 scope, IC-F4 listing)."""
    from gateway.ehealth.sts_client import StsRefused, persona_claims, request_token
    from gateway.identity.claims import attr_org_nihii, attr_org_role
    from gateway.identity.saml import verify_assertion
    from gateway.identity.xml import parse_untrusted

    coordinator = personas["psi-coordinator"]
    token = persona_token(live.base_url, live.platform, coordinator, clock=live.clock)
    verified = verify_assertion(parse_untrusted(token), trusted=[live.gw.platform.pki.platform("sts").certificate], clock=live.clock)
    principal = verified.claims().principal()
    assert (principal.role.value, principal.organisation_nihii) == ("psi-coordinator", coordinator.organisation_nihii)
    assert live.gw.inclusions.list_patients(principal).page_size > 0  # IC-F4 through an STS token
    credential = live.gw.platform.pki.persona("psi-admin")
    wrong = [(uri, value) for uri, value in persona_claims(personas["psi-admin"])]
    wrong = [c for c in wrong if "psi-administrative" not in c[0]] + [(attr_org_role("psi", "psi-coordinator"), "")]
    with pytest.raises(StsRefused) as err:
        request_token(live.base_url, credential.private_key, credential.certificate, claims=wrong, clock=live.clock)
    assert err.value.code == "sts-not-member" and attr_org_role("psi", "psi-coordinator") in (err.value.path or "")
    assert attr_org_nihii("psi") in {uri for uri, _ in wrong}
