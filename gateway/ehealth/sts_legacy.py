"""The STS's legacy form: a SAML 1.1 ``samlp:Request`` wrapping a
``samlp:AttributeQuery``, signed enveloped by the caller's key (exclusive
c14n, RSA-SHA256, SHA-256), answered by a ``samlp:Response`` whose Status
says success or which attribute was refused.

Request shape (what :func:`build_legacy_request` writes and the STS reads):
the query's ``saml:Subject`` names the caller's certificate and confirms it
holder-of-key; its ``SubjectConfirmationData`` holds ``saml:Attribute``
elements for claims that carry a value (SSIN, an organisation's NIHII);
``saml:AttributeDesignator`` elements ask for attributes to certify.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from lxml import etree
from signxml import XMLSigner, XMLVerifier
from signxml.algorithms import SignatureConstructionMethod
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature, SignXMLException

from gateway.domain.clock import Clock
from gateway.ehealth.sts_attributes import Claim
from gateway.identity.certstore import CertificateStore
from gateway.identity.errors import MessageRejected
from gateway.identity.replay import ReplayGuard
from gateway.identity.saml import CM_HOLDER_OF_KEY, NAMEID_X509, SAML_NS, SAMLP_NS, new_id
from gateway.identity.signing import Key
from gateway.identity.xmldsig import (
    DS_NS,
    EXC_C14N,
    RSA_SHA256,
    SHA256,
    cert_b64,
    cert_from_b64,
    duplicate_ids,
    parse_xml_datetime,
    verifier_config,
    xml_datetime,
)
from gateway.soap11.envelope import FAULT_NS, Envelope

SKEW = timedelta(seconds=60)


def _p(name: str) -> str:
    return f"{{{SAMLP_NS}}}{name}"


def _s(name: str) -> str:
    return f"{{{SAML_NS}}}{name}"


def _ds(name: str) -> str:
    return f"{{{DS_NS}}}{name}"


@dataclass(frozen=True)
class LegacyRequest:
    """A verified legacy request: ``payload`` is the samlp:Request as signxml
    returned it signed; ``certificate`` the one that signed it."""

    payload: etree._Element
    certificate: x509.Certificate
    request_id: str
    issue_instant: datetime


def _reject(code: str, message: str) -> MessageRejected:
    return MessageRejected(code, message)


def verify_legacy_request(envelope: Envelope, *, ca: x509.Certificate, clock: Clock, replay: ReplayGuard,
                          max_age: timedelta = timedelta(minutes=5)) -> LegacyRequest:
    """Verify the enveloped signature of the Body's samlp:Request, its
    signer's certificate, its freshness, and that it is not a replay."""
    now = clock.now()
    request = envelope.payload
    if request is None or request.tag != _p("Request"):
        raise _reject("legacy-request-malformed", "The Body must hold one samlp:Request.")
    request_id = request.get("RequestID") or ""
    if not request_id or request.get("MajorVersion") != "1" or request.get("MinorVersion") != "1":
        raise _reject("legacy-request-malformed", "samlp:Request needs a RequestID and MajorVersion/MinorVersion 1/1.")
    signatures = request.findall(_ds("Signature"))
    if len(signatures) != 1 or len(list(envelope.root.iter(_ds("Signature")))) != 1:
        raise _reject("signature-missing", "samlp:Request must carry exactly one enveloped ds:Signature.")
    if duplicate_ids(envelope.root) or len(list(envelope.root.iter(_p("Request")))) != 1:
        raise _reject("signature-wrapping", "The message repeats an ID or a samlp:Request.")
    certs = signatures[0].findall(f"{_ds('KeyInfo')}/{_ds('X509Data')}/{_ds('X509Certificate')}")
    if len(certs) != 1:
        raise _reject("key-reference-invalid", "The signature's KeyInfo must carry the signer's certificate (X509Data).")
    try:
        cert = cert_from_b64(certs[0].text)
    except ValueError as exc:
        raise _reject("token-invalid", f"The signer's certificate is unreadable: {exc}.") from None
    CertificateStore.of(ca).verify(cert, now)
    try:
        result = XMLVerifier().verify(request, x509_cert=cert, id_attribute="RequestID",
                                      expect_config=verifier_config("./", at=now, references=1))
    except InvalidDigest:
        raise _reject("message-digest-mismatch", "samlp:Request was changed after signing.") from None
    except InvalidCertificate as exc:
        raise _reject("certificate-expired", f"The signing certificate is not valid now: {exc}.") from None
    except InvalidSignature:
        raise _reject("message-signature-invalid", "The request's signature does not verify with its certificate.") from None
    except (InvalidInput, SignXMLException, etree.DocumentInvalid) as exc:
        raise _reject("signature-invalid", f"The request's signature cannot be processed: {exc}.") from None
    signed = result.signed_xml  # type: ignore[union-attr]
    references = result.signature_xml.findall(f"{_ds('SignedInfo')}/{_ds('Reference')}")  # type: ignore[union-attr]
    if (signed is None or signed.tag != _p("Request") or signed.get("RequestID") != request_id
            or [r.get("URI") for r in references] != ["#" + request_id]):
        raise _reject("signature-wrapping", "The signature does not cover the samlp:Request as a whole.")
    try:
        issued = parse_xml_datetime(signed.get("IssueInstant"))
    except ValueError as exc:
        raise _reject("legacy-request-malformed", f"IssueInstant is unreadable: {exc}.") from None
    if issued > now + SKEW or now - issued > max_age:
        raise _reject("request-stale", f"IssueInstant must be within {int(max_age.total_seconds())} s of now.")
    value = signatures[0].findtext(_ds("SignatureValue")) or ""
    digest = hashlib.sha256(base64.b64decode("".join(value.split()))).hexdigest()
    if replay.seen(digest, issued + max_age + SKEW, now):
        raise _reject("message-replayed", "This signed request was already received; sign each request anew.")
    return LegacyRequest(signed, cert, request_id, issued)


def legacy_claims(request: etree._Element) -> tuple[list[Claim], x509.Certificate | None]:
    """The claims of a verified samlp:Request and the certificate its Subject
    confirms (None if it names none). ``ValueError`` if the query is malformed."""
    queries = request.findall(_p("AttributeQuery"))
    if len(queries) != 1:
        raise ValueError("samlp:Request must hold one samlp:AttributeQuery")
    query = queries[0]
    subject = query.find(_s("Subject"))
    claims: list[Claim] = []
    hok: x509.Certificate | None = None
    if subject is not None:
        confirmation = subject.find(_s("SubjectConfirmation"))
        if confirmation is not None:
            if confirmation.findtext(_s("ConfirmationMethod")) != CM_HOLDER_OF_KEY:
                raise ValueError(f"the Subject must be confirmed by {CM_HOLDER_OF_KEY}")
            cert = confirmation.findtext(f"{_ds('KeyInfo')}/{_ds('X509Data')}/{_ds('X509Certificate')}")
            hok = cert_from_b64(cert) if cert else None
            for attribute in confirmation.iterfind(f"{_s('SubjectConfirmationData')}/{_s('Attribute')}"):
                name = attribute.get("AttributeName")
                if not name:
                    raise ValueError("a saml:Attribute has no AttributeName")
                claims.append(Claim(name, (attribute.findtext(_s("AttributeValue")) or "").strip() or None))
    for designator in query.findall(_s("AttributeDesignator")):
        name = designator.get("AttributeName")
        if not name:
            raise ValueError("a saml:AttributeDesignator has no AttributeName")
        if all(c.uri != name for c in claims):
            claims.append(Claim(name, None))
    return claims, hok


def build_legacy_request(key: Key, cert: x509.Certificate, claims: list[tuple[str, str]], *, clock: Clock) -> etree._Element:
    """A signed samlp:Request asking the STS for ``claims`` (URI, value or "")."""
    request = etree.Element(_p("Request"), nsmap={"samlp": SAMLP_NS, "saml": SAML_NS, "ds": DS_NS},
                            MajorVersion="1", MinorVersion="1", RequestID=new_id(), IssueInstant=xml_datetime(clock.now()))
    etree.SubElement(request, _ds("Signature"), Id="placeholder")  # SAML 1.1 puts the signature before the query
    query = etree.SubElement(request, _p("AttributeQuery"))
    subject = etree.SubElement(query, _s("Subject"))
    name_id = etree.SubElement(subject, _s("NameIdentifier"), Format=NAMEID_X509, NameQualifier=cert.issuer.rfc4514_string())
    name_id.text = cert.subject.rfc4514_string()
    confirmation = etree.SubElement(subject, _s("SubjectConfirmation"))
    etree.SubElement(confirmation, _s("ConfirmationMethod")).text = CM_HOLDER_OF_KEY
    data = etree.SubElement(confirmation, _s("SubjectConfirmationData"))
    x509_data = etree.SubElement(etree.SubElement(confirmation, _ds("KeyInfo")), _ds("X509Data"))
    etree.SubElement(x509_data, _ds("X509Certificate")).text = cert_b64(cert)
    for uri, value in claims:
        if value:
            attribute = etree.SubElement(data, _s("Attribute"), AttributeName=uri, AttributeNamespace="")
            etree.SubElement(attribute, _s("AttributeValue")).text = value
        else:
            etree.SubElement(query, _s("AttributeDesignator"), AttributeName=uri, AttributeNamespace="")
    signer = XMLSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm=RSA_SHA256,
                       digest_algorithm=SHA256, c14n_algorithm=EXC_C14N)
    return signer.sign(request, key=key, cert=[cert], reference_uri="#" + request.get("RequestID", ""),
                       id_attribute="RequestID")


SUCCESS = "samlp:Success"
REQUESTER = "samlp:Requester"
REQUEST_DENIED = "samlp:RequestDenied"


def legacy_response(*, in_response_to: str, now: datetime, assertion: etree._Element | None = None,
                    status: tuple[str, ...] = (SUCCESS,), message: str | None = None,
                    attribute: str | None = None, code: str | None = None) -> etree._Element:
    """A samlp:Response: Success with the assertion, or a refusal whose
    StatusMessage and StatusDetail name the attribute."""
    response = etree.Element(_p("Response"), nsmap={"samlp": SAMLP_NS}, MajorVersion="1", MinorVersion="1",
                             ResponseID=new_id(), InResponseTo=in_response_to, IssueInstant=xml_datetime(now))
    parent = etree.SubElement(response, _p("Status"))
    status_element = parent
    for value in status:
        status_element = etree.SubElement(status_element, _p("StatusCode"), Value=value)
    if message:
        etree.SubElement(parent, _p("StatusMessage")).text = message
    if attribute or code:
        detail = etree.SubElement(parent, _p("StatusDetail"))
        for name, value in (("Code", code), ("Attribute", attribute)):
            if value:
                etree.SubElement(detail, f"{{{FAULT_NS}}}{name}", nsmap={"cg": FAULT_NS}).text = value
    if assertion is not None:
        response.append(assertion)
    return response
