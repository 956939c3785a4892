"""WS-Security verification of requests: what a valid message proves, and
each way a message is refused (tampering, wrong key, expiry, replay,
unsigned or stale timestamp, untrusted STS, every signature-wrapping
variant), plus xmlsec1 as an independent oracle of our signatures."""

from __future__ import annotations

import copy
import subprocess
from datetime import timedelta

import pytest
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import SignatureConstructionMethod

from gateway.domain.errors import AccessDenied
from gateway.identity import wssecurity
from gateway.identity.errors import TokenRejected
from gateway.domain.principal import Role
from gateway.identity.replay import ReplayGuard
from gateway.identity.signing import SAML_ASSERTION_ID
from gateway.identity.wssecurity import verify_message
from gateway.identity.xml import parse_untrusted
from gateway.identity.xmldsig import EXC_C14N, RSA_SHA256, SHA256
from gateway.soap11.envelope import (
    SOAP11_NS,
    STATUS_NOT_AUTHORIZED,
    WSSE_NS,
    WSU_NS,
    Envelope,
    SoapFault,
    read_envelope,
)
from gateway.soap11.service import ws_security
from tests.conftest import declaration
from tests.identity.conftest import PAYLOAD_NS, unsigned_envelope

NS = {"s": SOAP11_NS, "wsse": WSSE_NS, "wsu": WSU_NS, "ds": "http://www.w3.org/2000/09/xmldsig#",
      "saml": "urn:oasis:names:tc:SAML:1.0:assertion", "p": PAYLOAD_NS}
WSU_ID = f"{{{WSU_NS}}}Id"


def refused(verify, data: bytes, mode: str = "saml-hok", **kw) -> TokenRejected:
    with pytest.raises(TokenRejected) as err:
        verify(data, mode, **kw)
    return err.value


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=NS)
    assert len(found) == 1, path
    return found[0]


# ------------------------------------------------------------------ accepted


def test_saml_message_proves_the_tokens_principal_and_yields_the_signed_payload(signed_saml, verify, gw, personas):
    verified = verify(signed_saml("gp", text="consult"))
    gp = personas["gp"]
    assert verified.principal is not None
    assert (verified.principal.niss, verified.principal.role, verified.principal.quality, verified.principal.nihii) == (
        gp.niss, Role.PROVIDER, "doctor", gp.nihii)
    assert verified.certificate == gw.platform.pki.persona("gp").certificate
    assert verified.assertion is not None and verified.assertion.subject_certificate == verified.certificate
    assert verified.payload.tag == f"{{{PAYLOAD_NS}}}Ping"
    assert verified.payload.findtext("p:Text", namespaces=NS) == "consult"
    assert verified.timestamp_created == gw.clock.now()


def test_the_verified_principal_drives_the_therapeutic_link_rule(signed_saml, verify, gw, personas):
    """IC-A1: the same consultation allowed for gp (link) and denied for gp-no-link."""
    gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    gp = verify(signed_saml("gp")).principal
    assert gp is not None and gw.inclusions.consult(gp, personas["patient"].niss).inclusions
    stranger = verify(signed_saml("gp-no-link")).principal
    assert stranger is not None
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.consult(stranger, personas["patient"].niss)
    assert err.value.rule == "IC-A1"


def test_pharmacist_token_gives_the_pharmacy_principal(signed_saml, verify, personas):
    principal = verify(signed_saml("pharmacist")).principal
    assert principal is not None
    assert (principal.role, principal.organisation_nihii, principal.nihii) == (
        Role.PHARMACIST, personas["pharmacist"].organisation_nihii, personas["pharmacist"].nihii)


def test_x509_message_proves_the_certificate_and_no_principal(signed_x509, verify, gw):
    verified = verify(signed_x509("persona-nurse"), "x509")
    assert verified.principal is None and verified.assertion is None
    assert verified.certificate == gw.platform.pki.persona("nurse").certificate
    assert verified.payload.findtext("p:Text", namespaces=NS) == "hello"


# ------------------------------------------------------------------ tampering, keys, tokens


def test_tampered_body_is_refused(signed_saml, verify):
    root = parse_untrusted(signed_saml())
    one(root, "//p:Text").text = "changed"
    assert refused(verify, etree.tostring(root)).code == "message-digest-mismatch"


def test_tampered_assertion_is_refused(signed_saml, verify, personas):
    root = parse_untrusted(signed_saml("gp-no-link"))
    for value in root.xpath("//saml:Attribute[@AttributeName='urn:be:fgov:person:ssin']/saml:AttributeValue", namespaces=NS):
        value.text = personas["gp"].niss
    assert refused(verify, etree.tostring(root)).code == "assertion-bad-signature"


def test_message_signed_with_another_personas_key_is_refused(signed_saml, verify):
    assert refused(verify, signed_saml("gp", signer="nurse")).code == "message-signature-invalid"


def test_expired_token_is_refused_even_in_a_fresh_message(signed_saml, verify, issue, clock):
    token = issue("gp", lifetime=timedelta(hours=1))
    clock.advance(timedelta(hours=1, minutes=2))
    assert refused(verify, signed_saml("gp", token=token)).code == "assertion-expired"


def test_token_from_an_untrusted_sts_is_refused(signed_saml, verify, gw, issue):
    root = parse_untrusted(issue("gp"))
    root.remove(root[-1])
    untrusted = gw.platform.pki.credential("untrusted-sts")
    from gateway.identity.saml import sign_assertion

    token = etree.tostring(sign_assertion(root, untrusted.private_key, untrusted.certificate))
    assert refused(verify, signed_saml("gp", token=token)).code == "assertion-untrusted-signer"


def test_x509_certificate_outside_the_sandbox_ca_or_expired_is_refused(signed_x509, verify):
    assert refused(verify, signed_x509("untrusted-sts"), "x509").code == "certificate-untrusted"
    assert refused(verify, signed_x509("persona-gp-expired-certificate"), "x509").code == "certificate-expired"


def test_key_identifier_must_name_the_assertion(signed_saml, verify):
    root = parse_untrusted(signed_saml())
    one(root, "//wsse:KeyIdentifier").text = "_another"
    assert refused(verify, etree.tostring(root)).code == "key-reference-invalid"


# ------------------------------------------------------------------ replay and timestamps


def test_replayed_message_is_refused(signed_saml, verify):
    data = signed_saml()
    assert verify(data).principal is not None
    assert refused(verify, data).code == "message-replayed"


def test_replay_is_refused_by_another_instance(signed_saml, verify, gw):
    """Two verifiers (two gateway instances) share the replay table."""
    data = signed_saml()
    verify(data)
    assert refused(verify, data, replay=ReplayGuard(gw.db)).code == "message-replayed"


def test_expired_timestamp_is_refused(signed_saml, verify, clock):
    data = signed_saml(lifetime=60)
    clock.advance(timedelta(seconds=121))
    assert refused(verify, data).code == "timestamp-expired"


def test_stale_timestamp_is_refused_even_if_not_expired(signed_saml, verify, clock):
    data = signed_saml(lifetime=3600)
    clock.advance(timedelta(minutes=6))
    assert refused(verify, data).code == "timestamp-stale"


def test_timestamp_from_the_future_is_refused(signed_saml, verify, clock):
    clock.advance(timedelta(minutes=3))
    data = signed_saml()
    clock.advance(-timedelta(minutes=3))
    assert refused(verify, data).code == "timestamp-in-future"


def test_missing_security_or_timestamp_is_refused(signed_saml, verify):
    assert refused(verify, etree.tostring(unsigned_envelope())).code == "security-header-missing"
    root = parse_untrusted(signed_saml())
    timestamp = one(root, "//wsu:Timestamp")
    timestamp.getparent().remove(timestamp)
    assert refused(verify, etree.tostring(root)).code == "timestamp-missing"


def _sign_only(envelope: etree._Element, ids: list[str], key, assertion_id: str) -> None:
    key_info = etree.Element("{http://www.w3.org/2000/09/xmldsig#}KeyInfo")
    reference = etree.SubElement(key_info, f"{{{WSSE_NS}}}SecurityTokenReference")
    etree.SubElement(reference, f"{{{WSSE_NS}}}KeyIdentifier", ValueType=SAML_ASSERTION_ID).text = assertion_id
    signer = XMLSigner(method=SignatureConstructionMethod.detached, signature_algorithm=RSA_SHA256,
                       digest_algorithm=SHA256, c14n_algorithm=EXC_C14N)
    signature = signer.sign(envelope, key=key, reference_uri=["#" + i for i in ids], id_attribute="Id", key_info=key_info)
    envelope.find(f"{{{SOAP11_NS}}}Header/{{{WSSE_NS}}}Security").append(signature)


def test_unsigned_timestamp_is_refused(signed_saml, verify, gw):
    """A signature over the Body only: the timestamp could be renewed at will."""
    root = parse_untrusted(signed_saml())
    security = one(root, "//wsse:Security")
    security.remove(one(root, "//wsse:Security/ds:Signature"))
    body_id = one(root, "/s:Envelope/s:Body").get(WSU_ID)
    _sign_only(root, [body_id], gw.platform.pki.persona("gp").private_key, one(root, "//saml:Assertion").get("AssertionID"))
    assert refused(verify, etree.tostring(root)).code == "timestamp-not-signed"


def test_unsigned_body_is_refused(signed_saml, verify, gw):
    root = parse_untrusted(signed_saml())
    one(root, "//wsse:Security").remove(one(root, "//wsse:Security/ds:Signature"))
    ts_id = one(root, "//wsu:Timestamp").get(WSU_ID)
    _sign_only(root, [ts_id], gw.platform.pki.persona("gp").private_key, one(root, "//saml:Assertion").get("AssertionID"))
    assert refused(verify, etree.tostring(root)).code == "body-not-signed"


def test_x509_signature_must_cover_the_binary_security_token(signed_x509, verify, gw):
    """Otherwise the token could be swapped for another certificate with the same key."""
    root = parse_untrusted(signed_x509("persona-gp"))
    security = one(root, "//wsse:Security")
    old = one(root, "//wsse:Security/ds:Signature")
    key_info = copy.deepcopy(old.find("ds:KeyInfo", NS))
    security.remove(old)
    signer = XMLSigner(method=SignatureConstructionMethod.detached, signature_algorithm=RSA_SHA256,
                       digest_algorithm=SHA256, c14n_algorithm=EXC_C14N)
    ids = ["#" + one(root, "/s:Envelope/s:Body").get(WSU_ID), "#" + one(root, "//wsu:Timestamp").get(WSU_ID)]
    security.append(signer.sign(root, key=gw.platform.pki.persona("gp").private_key, reference_uri=ids, id_attribute="Id",
                                key_info=key_info))
    assert refused(verify, etree.tostring(root), "x509").code == "token-not-signed"


# ------------------------------------------------------------------ signature wrapping


def _evil_body(root: etree._Element, text: str = "evil", with_id: str | None = None) -> etree._Element:
    body = etree.Element(f"{{{SOAP11_NS}}}Body")
    if with_id:
        body.set(WSU_ID, with_id)
    payload = etree.SubElement(body, f"{{{PAYLOAD_NS}}}Ping")
    etree.SubElement(payload, f"{{{PAYLOAD_NS}}}Text").text = text
    return body


def test_signed_body_moved_into_the_header_and_replaced_is_refused(signed_saml, verify):
    root = parse_untrusted(signed_saml())
    body = one(root, "/s:Envelope/s:Body")
    wrapper = etree.SubElement(one(root, "/s:Envelope/s:Header"), "{urn:evil}Wrapper")
    wrapper.append(body)  # moves it
    root.append(_evil_body(root))
    error = refused(verify, etree.tostring(root))
    assert error.code == "signature-wrapping"


def test_replacement_body_reusing_the_signed_id_is_refused(signed_saml, verify):
    root = parse_untrusted(signed_saml())
    body = one(root, "/s:Envelope/s:Body")
    etree.SubElement(one(root, "/s:Envelope/s:Header"), "{urn:evil}Wrapper").append(body)
    root.append(_evil_body(root, with_id=body.get(WSU_ID)))
    assert refused(verify, etree.tostring(root)).code == "signature-wrapping"


def test_moved_body_is_caught_after_verification_too(signed_saml, verify, monkeypatch):
    """Second line of defence: even if the shape checks let a moved Body
    through, the Body signxml verified is not the envelope's Body."""
    root = parse_untrusted(signed_saml())
    body = one(root, "/s:Envelope/s:Body")
    etree.SubElement(one(root, "/s:Envelope/s:Header"), "{urn:evil}Wrapper").append(body)
    root.append(_evil_body(root))
    lenient = wssecurity._structure

    def no_body_count(envelope: Envelope, mode):
        hidden = envelope.header.find("{urn:evil}Wrapper/" + f"{{{SOAP11_NS}}}Body")
        hidden.tag = "{urn:evil}Hidden"  # out of sight of the shape checks only
        try:
            return lenient(envelope, mode)
        finally:
            hidden.tag = f"{{{SOAP11_NS}}}Body"

    monkeypatch.setattr(wssecurity, "_structure", no_body_count)
    assert refused(verify, etree.tostring(root)).code == "signature-wrapping"


def test_duplicated_body_is_refused(signed_saml, verify, gw, sandbox_trust):
    root = parse_untrusted(signed_saml())
    root.append(_evil_body(root))
    with pytest.raises(SoapFault) as fault:  # the SOAP face refuses it before security
        read_envelope(root)
    assert fault.value.code == "malformed-envelope"
    # and verify_message on its own refuses it too
    header, first = root[0], root[1]
    with pytest.raises(TokenRejected) as err:
        verify_message(Envelope(root, header, first), mode="saml-hok", trust=sandbox_trust,
                       clock=gw.clock, replay=ReplayGuard(gw.db))
    assert err.value.code == "signature-wrapping"


def test_signed_body_wrapped_in_an_extra_element_is_refused(signed_saml, gw, sandbox_trust):
    root = parse_untrusted(signed_saml())
    body = one(root, "/s:Envelope/s:Body")
    etree.SubElement(root, "{urn:evil}Wrapper").append(body)
    evil = _evil_body(root)
    root.append(evil)
    with pytest.raises(SoapFault):  # the SOAP face refuses the extra Envelope child
        read_envelope(root)
    with pytest.raises(TokenRejected) as err:  # and so does the verifier on its own
        verify_message(Envelope(root, root[0], evil), mode="saml-hok", trust=sandbox_trust,
                       clock=gw.clock, replay=ReplayGuard(gw.db))
    assert err.value.code == "signature-wrapping"


def test_payload_wrapped_inside_the_signed_body_is_refused(signed_saml, verify):
    root = parse_untrusted(signed_saml())
    body = one(root, "/s:Envelope/s:Body")
    wrapper = etree.SubElement(body, "{urn:evil}Wrapper")
    wrapper.append(body[0])
    assert refused(verify, etree.tostring(root)).code == "message-digest-mismatch"


def test_signed_timestamp_wrapped_and_replaced_is_refused(signed_saml, verify, clock):
    """The old signed Timestamp hidden in a wrapper, a fresh unsigned one in its place."""
    root = parse_untrusted(signed_saml())
    security = one(root, "//wsse:Security")
    signed = one(root, "//wsu:Timestamp")
    etree.SubElement(security, "{urn:evil}Wrapper").append(signed)
    fresh = copy.deepcopy(signed)
    fresh.set(WSU_ID, "TS-fresh")
    security.insert(0, fresh)
    assert refused(verify, etree.tostring(root)).code == "signature-wrapping"


def test_only_timestamp_wrapped_in_an_extra_element_is_refused(signed_saml, verify):
    root = parse_untrusted(signed_saml())
    security = one(root, "//wsse:Security")
    etree.SubElement(security, "{urn:evil}Wrapper").append(one(root, "//wsu:Timestamp"))
    assert refused(verify, etree.tostring(root)).code == "signature-wrapping"


def test_second_timestamp_is_refused(signed_saml, verify):
    root = parse_untrusted(signed_saml())
    timestamp = one(root, "//wsu:Timestamp")
    second = copy.deepcopy(timestamp)
    del second.attrib[WSU_ID]
    timestamp.addnext(second)
    assert refused(verify, etree.tostring(root)).code == "signature-wrapping"


def test_duplicated_assertion_is_refused(signed_saml, verify, issue):
    root = parse_untrusted(signed_saml("gp-no-link"))
    other = parse_untrusted(issue("gp"))  # a genuine token of someone else, added beside
    one(root, "//wsse:Security").insert(1, other)
    assert refused(verify, etree.tostring(root)).code == "signature-wrapping"


def test_duplicated_id_attribute_is_refused(signed_saml, verify):
    root = parse_untrusted(signed_saml())
    body_id = one(root, "/s:Envelope/s:Body").get(WSU_ID)
    decoy = etree.SubElement(one(root, "/s:Envelope/s:Header"), "{urn:evil}Decoy")
    decoy.set(WSU_ID, body_id)
    assert refused(verify, etree.tostring(root)).code == "signature-wrapping"


def test_second_security_header_is_refused(signed_saml, verify):
    root = parse_untrusted(signed_saml())
    header = one(root, "/s:Envelope/s:Header")
    header.append(etree.Element(f"{{{WSSE_NS}}}Security"))
    assert refused(verify, etree.tostring(root)).code == "signature-wrapping"


# ------------------------------------------------------------------ the SOAP face adapter


def test_ws_security_turns_a_refusal_into_a_not_authorized_fault(gw, signed_saml):
    security = ws_security(gw.messages, "saml-hok")  # the SOAP face's policy over the verifier the wiring built
    data = signed_saml()
    payload, principal, detail = security(read_envelope(parse_untrusted(data)), data)
    assert principal is not None and principal.quality == "doctor" and payload.tag == f"{{{PAYLOAD_NS}}}Ping"
    assert detail.assertion is not None
    with pytest.raises(SoapFault) as fault:
        security(read_envelope(parse_untrusted(data)), data)
    assert (fault.value.code, fault.value.status, fault.value.http_status) == ("message-replayed", STATUS_NOT_AUTHORIZED, 500)


# ------------------------------------------------------------------ independent oracle


def test_xmlsec1_verifies_a_message_signed_with_saml(xmlsec1, signed_saml, gw, tmp_path):
    message = tmp_path / "message.xml"
    message.write_bytes(signed_saml())
    cert = tmp_path / "gp.pem"
    cert.write_bytes(gw.platform.pki.persona("gp").cert_pem)
    command = [xmlsec1, "--verify", "--id-attr:Id", f"{SOAP11_NS}:Body", "--id-attr:Id", f"{WSU_NS}:Timestamp",
               "--pubkey-cert-pem", str(cert), "--node-xpath", "/*/*[1]/*[local-name()='Security']/*[local-name()='Signature']",
               str(message)]
    ok = subprocess.run(command, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "SignedInfo References (ok/all): 2/2" in ok.stdout + ok.stderr
    root = parse_untrusted(message.read_bytes())
    one(root, "//p:Text").text = "changed"
    message.write_bytes(etree.tostring(root))
    assert subprocess.run(command, capture_output=True, text=True).returncode != 0
