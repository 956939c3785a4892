"""WS-Security of IntegratedCare over real HTTP: tampered body, tampered
token, expired token, replay, another persona's token, an untrusted STS and
every signature-wrapping variant are refused with a SOAP Fault
(NotAuthorized, or a malformed envelope), and nothing stored changes.

Every message is a DeclareInclusion that would write if it were accepted;
the last test sends it properly signed and sees it stored, so the refusals
above are refusals of the message, not of its content."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Callable

import pytest
from lxml import etree

from gateway.identity.saml import sign_assertion
from gateway.identity.xml import parse_untrusted
from gateway.soap11.envelope import SOAP11_NS, STATUS_INVALID_INPUT, STATUS_NOT_AUTHORIZED, WSSE_NS, WSU_NS
from gateway.soap.integrated_care import NS
from tests.soap.conftest import request, response_fault, stored_state

X = {"s": SOAP11_NS, "wsse": WSSE_NS, "wsu": WSU_NS, "ds": "http://www.w3.org/2000/09/xmldsig#",
     "saml": "urn:oasis:names:tc:SAML:1.0:assertion", "ic": NS}
WSU_ID = f"{{{WSU_NS}}}Id"


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=X)
    assert len(found) == 1, path
    return found[0]


@pytest.fixture(scope="module")
def declaration(live, personas) -> Callable[[], etree._Element]:
    """A valid declaration the gp could make (an information inclusion of patient-2 in PSI A)."""

    def make() -> etree._Element:
        start = (live.clock.today() - timedelta(days=5)).isoformat()
        return request("DeclareInclusion", PatientSsin=personas["patient-2"].niss, PsiNihii=personas["psi-admin"].organisation_nihii,
                       Status="information", StartDate=start, ResearchConsent={"Decision": "agree", "Date": start})

    return make


def refused_unchanged(soap, live, data: bytes) -> dict[str, str | None]:
    """POST ``data``; it must be a Fault and leave every table as it was."""
    before = stored_state(live.gw)
    response = soap.post(data, action="DeclareInclusion")
    assert response.status_code == 500 and response.headers["content-type"].startswith("text/xml")
    fault = response_fault(response)
    assert stored_state(live.gw) == before, "a refused message changed stored data"
    return fault


def not_authorized(soap, live, data: bytes) -> str | None:
    fault = refused_unchanged(soap, live, data)
    assert (fault["Status"], fault["faultcode"], fault["Path"]) == (STATUS_NOT_AUTHORIZED, "soapenv:Client", "/Envelope/Header/Security")
    return fault["Code"]


# ------------------------------------------------------------------ tampering, tokens, keys


def test_tampered_body_is_refused(soap, live, personas, declaration):
    root = parse_untrusted(soap.signed("gp", declaration()))
    one(root, "//ic:Status").text = "principal"
    assert not_authorized(soap, live, etree.tostring(root)) == "message-digest-mismatch"


def test_tampered_token_is_refused(soap, live, personas, declaration):
    """gp-no-link's token made to say it is the gp (who has the link)."""
    root = parse_untrusted(soap.signed("gp-no-link", declaration()))
    for value in root.xpath("//saml:Attribute[@AttributeName='urn:be:fgov:person:ssin']/saml:AttributeValue", namespaces=X):
        value.text = personas["gp"].niss
    assert not_authorized(soap, live, etree.tostring(root)) == "assertion-bad-signature"


def test_expired_token_is_refused_even_in_a_freshly_signed_message(soap, live, personas, declaration):
    from gateway.ehealth.sts_client import persona_token

    token = persona_token(live.base_url, live.platform, personas["gp"], clock=live.clock, lifetime=timedelta(minutes=2))
    start = live.clock.now()
    live.clock.advance(timedelta(minutes=5))
    try:
        assert not_authorized(soap, live, soap.signed("gp", declaration(), token=token)) == "assertion-expired"
    finally:
        live.clock.set(start)


def test_replayed_message_is_refused(soap, live, personas):
    data = soap.signed("gp", request("GetPatientInclusions", PatientSsin=personas["patient"].niss))
    assert soap.post(data, action="GetPatientInclusions").status_code == 200
    before = stored_state(live.gw)
    fault = response_fault(soap.post(data, action="GetPatientInclusions"))
    assert (fault["Code"], fault["Status"]) == ("message-replayed", STATUS_NOT_AUTHORIZED)
    assert stored_state(live.gw) == before  # not even an audit record: the replay never reached the domain


def test_a_token_of_another_persona_is_refused(soap, live, declaration):
    """The gp's token, but the message signed with gp-no-link's key: not the holder of that key."""
    assert not_authorized(soap, live, soap.signed("gp", declaration(), signer="gp-no-link")) == "message-signature-invalid"


def test_a_token_from_an_untrusted_sts_is_refused(soap, live, declaration):
    token = parse_untrusted(soap.token("gp"))
    token.remove(token.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    untrusted = live.gw.platform.pki.credential("untrusted-sts")
    forged = etree.tostring(sign_assertion(token, untrusted.private_key, untrusted.certificate))
    assert not_authorized(soap, live, soap.signed("gp", declaration(), token=forged)) == "assertion-untrusted-signer"


def test_expired_timestamp_and_missing_security_are_refused(soap, live, declaration):
    data = soap.signed("gp", declaration())
    start = live.clock.now()
    live.clock.advance(timedelta(minutes=3))
    try:
        assert not_authorized(soap, live, data) == "timestamp-expired"
    finally:
        live.clock.set(start)
    from gateway.soap11.envelope import envelope_bytes

    assert not_authorized(soap, live, envelope_bytes(declaration())) == "security-header-missing"


# ------------------------------------------------------------------ signature wrapping


def _evil_body(personas, with_id: str | None = None) -> etree._Element:
    """A Body declaring what the signer never signed: a principal inclusion of the patient."""
    body = etree.Element(f"{{{SOAP11_NS}}}Body")
    if with_id:
        body.set(WSU_ID, with_id)
    body.append(request("DeclareInclusion", PatientSsin=personas["patient"].niss, PsiNihii=personas["psi-admin"].organisation_nihii,
                        Status="principal", StartDate="2026-01-05", ResearchConsent={"Decision": "agree", "Date": "2026-01-05"}))
    return body


def body_moved_to_header(root, personas) -> None:
    etree.SubElement(one(root, "/s:Envelope/s:Header"), "{urn:evil}Wrapper").append(one(root, "/s:Envelope/s:Body"))
    root.append(_evil_body(personas))


def body_moved_and_its_id_reused(root, personas) -> None:
    body = one(root, "/s:Envelope/s:Body")
    etree.SubElement(one(root, "/s:Envelope/s:Header"), "{urn:evil}Wrapper").append(body)
    root.append(_evil_body(personas, with_id=body.get(WSU_ID)))


def second_body(root, personas) -> None:
    root.append(_evil_body(personas))


def body_wrapped_in_an_envelope_child(root, personas) -> None:
    etree.SubElement(root, "{urn:evil}Wrapper").append(one(root, "/s:Envelope/s:Body"))
    root.append(_evil_body(personas))


def payload_wrapped_inside_the_body(root, personas) -> None:
    body = one(root, "/s:Envelope/s:Body")
    payload = body[0]
    etree.SubElement(body, "{urn:evil}Wrapper").append(payload)
    body.insert(0, _evil_body(personas)[0])


def timestamp_wrapped_and_replaced(root, personas) -> None:
    security = one(root, "//wsse:Security")
    signed = one(root, "//wsu:Timestamp")
    etree.SubElement(security, "{urn:evil}Wrapper").append(signed)
    fresh = copy.deepcopy(signed)
    fresh.set(WSU_ID, "TS-fresh")
    security.insert(0, fresh)


def second_assertion(root, personas, soap=None) -> None:
    other = parse_untrusted(soap.token("gp"))  # a genuine token of someone else, beside the signer's
    one(root, "//wsse:Security").insert(1, other)


def id_attribute_duplicated(root, personas) -> None:
    decoy = etree.SubElement(one(root, "/s:Envelope/s:Header"), "{urn:evil}Decoy")
    decoy.set(WSU_ID, one(root, "/s:Envelope/s:Body").get(WSU_ID))
    decoy.append(_evil_body(personas)[0])


def second_security_header(root, personas) -> None:
    one(root, "/s:Envelope/s:Header").append(etree.Element(f"{{{WSSE_NS}}}Security"))


WRAPPING = {
    body_moved_to_header: "signature-wrapping",
    body_moved_and_its_id_reused: "signature-wrapping",
    second_body: "malformed-envelope",
    body_wrapped_in_an_envelope_child: "malformed-envelope",
    payload_wrapped_inside_the_body: "message-digest-mismatch",
    timestamp_wrapped_and_replaced: "signature-wrapping",
    second_assertion: "signature-wrapping",
    id_attribute_duplicated: "signature-wrapping",
    second_security_header: "signature-wrapping",
}


@pytest.mark.parametrize("wrap", list(WRAPPING), ids=[w.__name__ for w in WRAPPING])
def test_signature_wrapping_is_refused(soap, live, personas, declaration, wrap):
    """gp-no-link signs an innocent declaration; the attacker makes the
    gateway act on another payload while the signature still verifies."""
    root = parse_untrusted(soap.signed("gp-no-link", declaration()))
    if wrap is second_assertion:
        wrap(root, personas, soap)
    else:
        wrap(root, personas)
    fault = refused_unchanged(soap, live, etree.tostring(root))
    assert fault["Code"] == WRAPPING[wrap]
    expected = STATUS_INVALID_INPUT if WRAPPING[wrap] == "malformed-envelope" else STATUS_NOT_AUTHORIZED
    assert fault["Status"] == expected


# ------------------------------------------------------------------ the control


def test_the_same_declaration_properly_signed_is_stored(soap, live, personas, declaration):
    before = stored_state(live.gw)
    response = soap.post(soap.signed("gp", declaration()), action="DeclareInclusion")
    assert response.status_code == 200, response.text
    assert stored_state(live.gw)["inclusion"] != before["inclusion"]
