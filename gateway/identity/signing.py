"""Client side of eHealth WS-Security: sign a SOAP 1.1 envelope with a SAML
holder-of-key token, or with a bare X.509 certificate (BinarySecurityToken).

Used by the tests, the examples, the conformance runner and the zeep
plugin (:mod:`gateway.identity.zeep_wsse`), so that every client signs the
way ``ehealth.md`` says: Body + Timestamp (+ the token in X.509 mode),
exclusive c14n, RSA-SHA256, SHA-256, a detached signature in wsse:Security.
"""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import SignatureConstructionMethod

from gateway.domain.clock import Clock
from gateway.identity.xml import parse_untrusted
from gateway.identity.xmldsig import EXC_C14N, RSA_SHA256, SHA256, xml_datetime
from gateway.namespaces import DS_NS, SOAP11_NS, WSSE_NS, WSU_NS
from gateway.namespaces import SAML1_NS as SAML_NS

SAML_ASSERTION_ID = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID"
SAML_TOKEN_TYPE = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
WSU_ID = f"{{{WSU_NS}}}Id"

Key = rsa.RSAPrivateKey | bytes


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _security(envelope: etree._Element) -> etree._Element:
    """The envelope's wsse:Security header, made if absent (Header first)."""
    if envelope.tag != _q(SOAP11_NS, "Envelope"):
        raise ValueError("sign a SOAP 1.1 Envelope")
    header = envelope.find(_q(SOAP11_NS, "Header"))
    if header is None:
        header = etree.Element(_q(SOAP11_NS, "Header"))
        envelope.insert(0, header)
    security = header.find(_q(WSSE_NS, "Security"))
    if security is None:
        security = etree.SubElement(header, _q(WSSE_NS, "Security"), nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
        security.set(_q(SOAP11_NS, "mustUnderstand"), "1")
    return security


def _wsu_id(element: etree._Element, prefix: str) -> str:
    """The element's wsu:Id, set to a fresh one if it has none."""
    if not element.get(WSU_ID):
        element.set(WSU_ID, f"{prefix}-{uuid.uuid4().hex}")
    return element.get(WSU_ID)  # type: ignore[return-value]


def _timestamp(security: etree._Element, clock: Clock, lifetime: int) -> etree._Element:
    now = clock.now()
    timestamp = etree.SubElement(security, _q(WSU_NS, "Timestamp"), nsmap={"wsu": WSU_NS})
    etree.SubElement(timestamp, _q(WSU_NS, "Created")).text = xml_datetime(now)
    etree.SubElement(timestamp, _q(WSU_NS, "Expires")).text = xml_datetime(now + timedelta(seconds=lifetime))
    _wsu_id(timestamp, "TS")
    return timestamp


def _body(envelope: etree._Element) -> etree._Element:
    bodies = envelope.findall(_q(SOAP11_NS, "Body"))
    if len(bodies) != 1:
        raise ValueError("the envelope needs exactly one Body")
    return bodies[0]


def _sign(envelope: etree._Element, security: etree._Element, ids: list[str], key: Key,
          key_info: etree._Element) -> etree._Element:
    signer = XMLSigner(method=SignatureConstructionMethod.detached, signature_algorithm=RSA_SHA256,
                       digest_algorithm=SHA256, c14n_algorithm=EXC_C14N)
    signature = signer.sign(envelope, key=key, reference_uri=["#" + i for i in ids], id_attribute="Id",
                            key_info=key_info)
    security.append(signature)
    return envelope


def _key_info() -> tuple[etree._Element, etree._Element]:
    key_info = etree.Element(_q(DS_NS, "KeyInfo"), nsmap={"ds": DS_NS})
    reference = etree.SubElement(key_info, _q(WSSE_NS, "SecurityTokenReference"), nsmap={"wsse": WSSE_NS})
    return key_info, reference


def sign_with_saml(
    envelope: etree._Element,
    assertion: etree._Element | bytes,
    key: Key,
    cert: x509.Certificate,
    *,
    clock: Clock,
    lifetime: int = 60,
) -> etree._Element:
    """Add wsse:Security (Timestamp, the assertion as issued, Signature over
    Body and Timestamp with the holder-of-key key) and return the envelope.

    The assertion is inserted from its bytes so its signature stays intact;
    ``cert`` is the holder-of-key certificate (it is not sent: the verifier
    reads it from the assertion)."""
    data = assertion if isinstance(assertion, bytes) else etree.tostring(assertion)
    token = parse_untrusted(data)
    if token.tag != _q(SAML_NS, "Assertion") or not token.get("AssertionID"):
        raise ValueError("expected a SAML 1.1 Assertion with an AssertionID")
    security = _security(envelope)
    timestamp = _timestamp(security, clock, lifetime)
    security.append(token)
    key_info, reference = _key_info()
    identifier = etree.SubElement(reference, _q(WSSE_NS, "KeyIdentifier"), ValueType=SAML_ASSERTION_ID)
    identifier.text = token.get("AssertionID")
    return _sign(envelope, security, [_wsu_id(_body(envelope), "id"), _wsu_id(timestamp, "TS")], key, key_info)


def sign_with_x509(
    envelope: etree._Element,
    key: Key,
    cert: x509.Certificate,
    *,
    clock: Clock,
    lifetime: int = 60,
) -> etree._Element:
    """Add wsse:Security (Timestamp, BinarySecurityToken, Signature over Body,
    Timestamp and the token, the key referenced through the token)."""
    security = _security(envelope)
    timestamp = _timestamp(security, clock, lifetime)
    token = etree.SubElement(security, _q(WSSE_NS, "BinarySecurityToken"), ValueType=X509V3, EncodingType=BASE64_BINARY)
    token.text = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
    token_id = _wsu_id(token, "X509")
    key_info, reference = _key_info()
    etree.SubElement(reference, _q(WSSE_NS, "Reference"), URI="#" + token_id, ValueType=X509V3)
    ids = [_wsu_id(_body(envelope), "id"), _wsu_id(timestamp, "TS"), token_id]
    return _sign(envelope, security, ids, key, key_info)
