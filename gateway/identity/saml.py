"""SAML 1.1 holder-of-key assertions as the eHealth STS issues them: build,
sign (enveloped, exclusive c14n, RSA-SHA256) and verify.

Verification trusts only what the signature covers: every value of a
:class:`VerifiedAssertion` is read from the element signxml returns as
signed, never from a fresh search of the input (signature wrapping).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml import XMLSigner, XMLVerifier
from signxml.algorithms import SignatureConstructionMethod
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature, SignXMLException

from gateway.domain.clock import Clock
from gateway.identity.claims import Claims, claims_from_saml_attributes
from gateway.identity.errors import TokenRejected
from gateway.identity.xmldsig import (
    EXC_C14N,
    RSA_SHA256,
    SHA256,
    cert_b64,
    cert_from_b64,
    duplicate_ids,
    parse_xml_datetime,
    same_cert,
    verifier_config,
    xml_datetime,
)
from gateway.namespaces import DS_NS
from gateway.namespaces import SAML1_NS as SAML_NS
from gateway.namespaces import SAMLP1_NS as SAMLP_NS

CM_HOLDER_OF_KEY = "urn:oasis:names:tc:SAML:1.0:cm:holder-of-key"
AM_X509_PKI = "urn:oasis:names:tc:SAML:1.0:am:X509-PKI"
NAMEID_X509 = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
STS_ISSUER = "urn:be:fgov:ehealth:sts:1_0"  # the Issuer the eHealth STS (and the simulated one) writes

Attribute = tuple[str, str, list[str]]  # (namespace, name, values)


def _saml(name: str) -> str:
    return f"{{{SAML_NS}}}{name}"


def _ds(name: str) -> str:
    return f"{{{DS_NS}}}{name}"


def new_id() -> str:
    """An NCName identifier (SAML 1.1 IDs may not start with a digit)."""
    return "_" + uuid.uuid4().hex


def _subject(parent: etree._Element, cert: x509.Certificate, chain: Sequence[x509.Certificate] = ()) -> None:
    subject = etree.SubElement(parent, _saml("Subject"))
    name_id = etree.SubElement(subject, _saml("NameIdentifier"), Format=NAMEID_X509,
                               NameQualifier=cert.issuer.rfc4514_string())
    name_id.text = cert.subject.rfc4514_string()
    confirmation = etree.SubElement(subject, _saml("SubjectConfirmation"))
    etree.SubElement(confirmation, _saml("ConfirmationMethod")).text = CM_HOLDER_OF_KEY
    key_info = etree.SubElement(confirmation, _ds("KeyInfo"))
    x509_data = etree.SubElement(key_info, _ds("X509Data"))
    for each in (cert, *chain):
        etree.SubElement(x509_data, _ds("X509Certificate")).text = cert_b64(each)


def build_assertion(
    *,
    issuer: str,
    subject_niss: str,
    subject_cert: x509.Certificate,
    attributes: list[Attribute],
    authentication_method: str,
    not_before: datetime,
    not_on_or_after: datetime,
    issue_instant: datetime,
    subject_chain: Sequence[x509.Certificate] = (),
) -> etree._Element:
    """An unsigned SAML 1.1 assertion about the holder of ``subject_cert``.

    ``subject_niss`` is the SSIN the issuer vouches for; the caller passes it
    among ``attributes`` too (the identification attributes carry it).
    ``subject_chain`` are CA certificates to send after the holder's."""
    if not subject_niss:
        raise ValueError("an assertion needs the subject's SSIN")
    assertion = etree.Element(
        _saml("Assertion"), nsmap={"saml": SAML_NS, "ds": DS_NS},
        MajorVersion="1", MinorVersion="1", AssertionID=new_id(), Issuer=issuer,
        IssueInstant=xml_datetime(issue_instant),
    )
    etree.SubElement(assertion, _saml("Conditions"), NotBefore=xml_datetime(not_before),
                     NotOnOrAfter=xml_datetime(not_on_or_after))
    authn = etree.SubElement(assertion, _saml("AuthenticationStatement"),
                             AuthenticationInstant=xml_datetime(issue_instant),
                             AuthenticationMethod=authentication_method)
    _subject(authn, subject_cert, subject_chain)
    statement = etree.SubElement(assertion, _saml("AttributeStatement"))
    _subject(statement, subject_cert, subject_chain)
    for namespace, name, values in attributes:
        attribute = etree.SubElement(statement, _saml("Attribute"), AttributeName=name, AttributeNamespace=namespace)
        for value in values:
            etree.SubElement(attribute, _saml("AttributeValue")).text = value
    return assertion


def sign_assertion(assertion: etree._Element, key: rsa.RSAPrivateKey | bytes, cert: x509.Certificate) -> etree._Element:
    """The assertion with an enveloped signature (the last child, as SAML 1.1
    orders it). Returns a new element; serialise *that* one."""
    signer = XMLSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm=RSA_SHA256,
                       digest_algorithm=SHA256, c14n_algorithm=EXC_C14N)
    signer.namespaces = {"ds": DS_NS}
    return signer.sign(assertion, key=key, cert=[cert], reference_uri="#" + assertion.get("AssertionID", ""),
                       id_attribute="AssertionID")


@dataclass(frozen=True)
class VerifiedAssertion:
    """What a verified assertion says; ``element`` is the signed assertion as
    signxml returned it (its signature removed by the enveloped transform)."""

    element: etree._Element
    assertion_id: str
    issuer: str
    attributes: dict[str, list[str]]
    subject_certificate: x509.Certificate
    not_before: datetime
    not_on_or_after: datetime
    # CA certificates the confirmation carries after the holder's own (candidates
    # for its chain, never trusted for themselves)
    subject_chain: tuple[x509.Certificate, ...] = ()

    def claims(self) -> Claims:
        try:
            return claims_from_saml_attributes(self.attributes)
        except ValueError as exc:
            raise TokenRejected("assertion-malformed", f"The assertion cannot be read as claims: {exc}.") from None


def _signer_certificate(signature: etree._Element, trusted: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """The trusted keys to try: the one named in KeyInfo, or all of them."""
    embedded = signature.findall(f"{_ds('KeyInfo')}/{_ds('X509Data')}/{_ds('X509Certificate')}")
    if not embedded:
        return list(trusted)
    try:
        cert = cert_from_b64(embedded[0].text)
    except ValueError:
        raise TokenRejected("assertion-untrusted-signer", "The assertion's signing certificate cannot be read.") from None
    matches = [t for t in trusted if same_cert(t, cert)]
    if not matches:
        raise TokenRejected("assertion-untrusted-signer",
                            f"The assertion is signed by certificate serial {cert.serial_number} (issuer "
                            f"{cert.issuer.rfc4514_string()}), which is not a trusted STS, or not the STS of the Issuer "
                            "the assertion names.")
    return matches


def _check_shape(element: etree._Element) -> str:
    """Refuse before verifying what signxml could be fooled by: not an
    assertion, no or several signatures, nested assertions, duplicate IDs."""
    if element.tag != _saml("Assertion"):
        raise TokenRejected("assertion-malformed", f"Expected a SAML 1.1 Assertion ({SAML_NS}), got {element.tag}.")
    if element.get("MajorVersion") != "1" or element.get("MinorVersion") != "1":
        raise TokenRejected("assertion-malformed", "Only SAML 1.1 assertions (MajorVersion 1, MinorVersion 1) are accepted.")
    assertion_id = element.get("AssertionID")
    if not assertion_id:
        raise TokenRejected("assertion-malformed", "The assertion has no AssertionID.")
    signatures = element.findall(_ds("Signature"))
    if not signatures:
        raise TokenRejected("assertion-unsigned", "The assertion carries no signature.")
    if len(signatures) > 1 or len(list(element.iter(_ds("Signature")))) > 1:
        raise TokenRejected("assertion-wrapping", "The assertion carries more than one signature.")
    if any(e is not element for e in element.iter(_saml("Assertion"))):
        raise TokenRejected("assertion-wrapping", "The assertion contains another assertion.")
    if duplicate_ids(element):
        raise TokenRejected("assertion-wrapping", "An ID value occurs more than once in the assertion.")
    return assertion_id


def _verify_signature(element: etree._Element, assertion_id: str, trusted: Sequence[x509.Certificate],
                      at: datetime) -> etree._Element:
    candidates = _signer_certificate(element.find(_ds("Signature")), trusted)
    if not candidates:
        raise TokenRejected("assertion-untrusted-signer", "No STS certificate is trusted here.")
    config = verifier_config("./", at=at, references=1)
    last: Exception | None = None
    for cert in candidates:
        try:
            result = XMLVerifier().verify(element, x509_cert=cert, id_attribute="AssertionID", expect_config=config)
        except InvalidDigest:
            raise TokenRejected("assertion-bad-signature",
                                "The assertion was changed after the STS signed it (digest mismatch).") from None
        except InvalidCertificate as exc:
            raise TokenRejected("assertion-untrusted-signer", f"The STS certificate is not valid now: {exc}") from None
        except (InvalidSignature, InvalidInput, SignXMLException, etree.DocumentInvalid) as exc:
            last = exc
            continue
        signed = result.signed_xml  # type: ignore[union-attr]
        references = result.signature_xml.findall(f"{_ds('SignedInfo')}/{_ds('Reference')}")  # type: ignore[union-attr]
        if (signed is None or signed.tag != _saml("Assertion") or signed.get("AssertionID") != assertion_id
                or [r.get("URI") for r in references] != ["#" + assertion_id]):
            raise TokenRejected("assertion-wrapping", "The signature does not cover this assertion as a whole.")
        return signed
    raise TokenRejected("assertion-bad-signature", f"The assertion's signature does not verify: {last}")


def _hok_certificate(signed: etree._Element) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """The one certificate every Subject confirms with holder-of-key, and
    the CA certificates that may follow it in the same X509Data (XML
    Signature allows a chain there: the holder's first)."""
    subjects = list(signed.iter(_saml("Subject")))
    chains: list[list[x509.Certificate]] = []
    for subject in subjects:
        confirmation = subject.find(_saml("SubjectConfirmation"))
        methods = [] if confirmation is None else [m.text for m in confirmation.findall(_saml("ConfirmationMethod"))]
        if CM_HOLDER_OF_KEY not in methods:
            raise TokenRejected("assertion-no-holder-of-key",
                                f"A Subject of the assertion is not confirmed by {CM_HOLDER_OF_KEY}.")
        data = confirmation.findall(f"{_ds('KeyInfo')}/{_ds('X509Data')}")  # type: ignore[union-attr]
        values = data[0].findall(_ds("X509Certificate")) if len(data) == 1 else []
        if not values:
            raise TokenRejected("assertion-no-holder-of-key",
                                "The holder-of-key confirmation must carry one X509Data with the holder's X.509 "
                                "certificate first.")
        try:
            chains.append([cert_from_b64(v.text) for v in values])
        except ValueError as exc:
            raise TokenRejected("assertion-no-holder-of-key", f"The confirmation certificate is unreadable: {exc}.") from None
    if not chains:
        raise TokenRejected("assertion-no-holder-of-key", "The assertion has no Subject to confirm.")
    if any(not same_cert(chains[0][0], c[0]) for c in chains[1:]):
        raise TokenRejected("assertion-no-holder-of-key", "The assertion's Subjects confirm different certificates.")
    return chains[0][0], tuple(c for chain in chains for c in chain[1:])


def _attributes(signed: etree._Element) -> dict[str, list[str]]:
    attributes: dict[str, list[str]] = {}
    for attribute in signed.iter(_saml("Attribute")):
        name = attribute.get("AttributeName")
        if name:
            values = [(v.text or "").strip() for v in attribute.findall(_saml("AttributeValue"))]
            attributes.setdefault(name, []).extend(values)
    return attributes


def verify_assertion(
    element: etree._Element,
    *,
    trusted: Sequence[x509.Certificate],
    clock: Clock,
    skew: timedelta = timedelta(seconds=60),
    issuers: Sequence[str] = (STS_ISSUER,),
) -> VerifiedAssertion:
    """Verify an STS assertion or raise :class:`TokenRejected`: a trusted
    signer, an intact signature over the whole assertion, an expected
    Issuer, the validity window (with ``skew``), and holder-of-key
    confirmation."""
    assertion_id = _check_shape(element)
    now = clock.now()
    signed = _verify_signature(element, assertion_id, trusted, now)
    if (signed.get("Issuer") or "") not in issuers:
        raise TokenRejected("assertion-issuer-unknown", f"The assertion's Issuer {signed.get('Issuer')!r} is not an "
                            f"accepted STS ({' or '.join(repr(i) for i in issuers) or 'none is configured'}); ask "
                            "that STS for the token.")
    conditions = signed.find(_saml("Conditions"))
    try:
        not_before = parse_xml_datetime(None if conditions is None else conditions.get("NotBefore"))
        not_on_or_after = parse_xml_datetime(None if conditions is None else conditions.get("NotOnOrAfter"))
    except ValueError as exc:
        raise TokenRejected("assertion-malformed", f"The assertion's Conditions need NotBefore and NotOnOrAfter: {exc}.") from None
    if now + skew < not_before:
        raise TokenRejected("assertion-not-yet-valid", f"The assertion is valid from {xml_datetime(not_before)} only.")
    if now - skew >= not_on_or_after:
        raise TokenRejected("assertion-expired", f"The assertion expired at {xml_datetime(not_on_or_after)}; "
                            "ask the STS for a new one.")
    holder, chain = _hok_certificate(signed)
    return VerifiedAssertion(
        element=signed,
        assertion_id=assertion_id,
        issuer=signed.get("Issuer") or "",
        attributes=_attributes(signed),
        subject_certificate=holder,
        not_before=not_before,
        not_on_or_after=not_on_or_after,
        subject_chain=chain,
    )
