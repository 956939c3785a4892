"""Server side of eHealth WS-Security: verify a signed SOAP 1.1 request
(SAML holder-of-key or X.509 BinarySecurityToken) and say what it proved.

Against signature wrapping the verifier (1) refuses any shape where a
second Body, Security, Timestamp, token or ID value could give signxml
another element to resolve than the one the service will process, (2) lets
signxml verify the one ds:Signature of the one wsse:Security, and (3) uses
only the elements signxml returns as signed, after checking that each is
byte for byte (exclusive c14n) the envelope's one Body, the one Timestamp
and the one token, at their only legitimate places.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Literal, Protocol

from cryptography import x509
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature, SignXMLException

from gateway.domain.clock import Clock
from gateway.identity.certstore import CertificateStore
from gateway.identity.errors import MessageRejected, TokenRejected
from gateway.domain.principal import Principal
from gateway.identity.saml import VerifiedAssertion, verify_assertion
from gateway.identity.signing import BASE64_BINARY, SAML_ASSERTION_ID, X509V3
from gateway.identity.sts_trust import TrustedSts, claims_of
from gateway.identity.xmldsig import (
    EXC_C14N,
    cert_from_b64,
    duplicate_ids,
    exc_c14n,
    parse_xml_datetime,
    verifier_config,
)
from gateway.namespaces import DS_NS, EXC_C14N_NS, SAML1_NS, SOAP11_NS, WSSE_NS, WSU_NS, qname

Mode = Literal["saml-hok", "x509"]
SKEW = timedelta(seconds=60)
MAX_AGE = timedelta(minutes=5)


_q = qname


BODY, HEADER = _q(SOAP11_NS, "Body"), _q(SOAP11_NS, "Header")
SECURITY, TIMESTAMP = _q(WSSE_NS, "Security"), _q(WSU_NS, "Timestamp")
BST, STR = _q(WSSE_NS, "BinarySecurityToken"), _q(WSSE_NS, "SecurityTokenReference")
ASSERTION, SIGNATURE = _q(SAML1_NS, "Assertion"), _q(DS_NS, "Signature")
WSU_ID = _q(WSU_NS, "Id")


class SoapMessage(Protocol):
    """A SOAP 1.1 envelope as the face has read it (its one Header and Body)."""

    @property
    def root(self) -> etree._Element: ...

    @property
    def header(self) -> etree._Element | None: ...

    @property
    def body(self) -> etree._Element: ...


class ReplayCheck(Protocol):
    """Records a signature until it expires; True if it was already seen."""

    def seen(self, digest: str, expires: datetime, now: datetime) -> bool: ...


@dataclass(frozen=True)
class MessageTrust:
    """Whom WS-Security verification trusts: the store that holder-of-key
    and X.509 token certificates must chain to, and the STSs whose
    assertions are accepted (their signing certificates, pinned, and the
    Issuer names they write). With no STS, only X.509-signed messages pass."""

    certificates: CertificateStore
    sts_certificates: tuple[x509.Certificate, ...] = ()
    sts_issuers: tuple[str, ...] = ()
    # Each STS's Issuers paired with its certificates (gateway.identity.sts_trust);
    # when only the flat lists are given, they are one STS.
    sts: tuple[TrustedSts, ...] = ()

    def __post_init__(self) -> None:
        if not self.sts and (self.sts_certificates or self.sts_issuers):
            object.__setattr__(self, "sts", (TrustedSts("sts", self.sts_issuers, self.sts_certificates),))
        elif self.sts and not (self.sts_certificates or self.sts_issuers):
            object.__setattr__(self, "sts_certificates", tuple(c for s in self.sts for c in s.certificates))
            object.__setattr__(self, "sts_issuers", tuple(i for s in self.sts for i in s.issuers))

    def sts_for(self, issuer: str) -> TrustedSts | None:
        """The STS that writes ``issuer``: only its certificates may sign an assertion naming it."""
        return next((s for s in self.sts if issuer in s.issuers), None)


@dataclass(frozen=True)
class VerifiedMessage:
    """What a verified request proved. ``payload`` is the Body child as
    signxml returned it signed; act on it and nothing else."""

    payload: etree._Element
    principal: Principal | None
    certificate: x509.Certificate
    assertion: VerifiedAssertion | None
    timestamp_created: datetime
    timestamp_expires: datetime
    signature_digest: str


def _reject(code: str, message: str) -> MessageRejected:
    return MessageRejected(code, message)


def _only(elements: list[etree._Element], what: str, missing_code: str) -> etree._Element:
    if not elements:
        raise _reject(missing_code, f"The message has no {what}.")
    if len(elements) > 1:
        raise _reject("signature-wrapping", f"The message has {len(elements)} {what} elements; exactly one is allowed.")
    return elements[0]


@dataclass(frozen=True)
class _Parts:
    """The one of each element the message may have, found before verifying."""

    body: etree._Element
    security: etree._Element
    timestamp: etree._Element
    signature: etree._Element
    token: etree._Element


def _structure(envelope: SoapMessage, mode: Mode) -> _Parts:
    """Security elements are counted in the whole Header: the Body is the
    sender's signed content (a BinarySecurityToken in an STS request's
    UseKey is legitimate there), anything added to the Header is not."""
    root = envelope.root
    bodies = [e for e in root.iter(BODY)]
    if len(bodies) != 1 or bodies[0] is not envelope.body or envelope.body.getparent() is not root:
        raise _reject("signature-wrapping", "The message must have exactly one SOAP Body, a child of the Envelope.")
    header = envelope.header
    if header is None or header.getparent() is not root:
        raise _reject("security-header-missing", "The message has no SOAP Header with a wsse:Security element.")
    security = _only(list(header.iter(SECURITY)), "wsse:Security", "security-header-missing")
    if security.getparent() is not header:
        raise _reject("signature-wrapping", "wsse:Security must be a child of the SOAP Header.")
    timestamp = _only(list(header.iter(TIMESTAMP)), "wsu:Timestamp", "timestamp-missing")
    if timestamp.getparent() is not security:
        raise _reject("signature-wrapping", "The wsu:Timestamp must be a child of wsse:Security.")
    signatures = [s for s in header.iter(SIGNATURE) if s.getparent() is security]
    signature = _only(signatures, "ds:Signature in wsse:Security", "signature-missing")
    if mode == "saml-hok":
        token = _only(list(header.iter(ASSERTION)), "SAML assertion", "assertion-missing")
    else:
        token = _only(list(header.iter(BST)), "wsse:BinarySecurityToken", "token-missing")
    if token.getparent() is not security:
        raise _reject("signature-wrapping", "The security token must be a child of wsse:Security.")
    duplicates = duplicate_ids(root)
    if duplicates:
        raise _reject("signature-wrapping", f"ID values occur more than once: {', '.join(duplicates[:3])}.")
    return _Parts(envelope.body, security, timestamp, signature, token)


def _timestamp(timestamp: etree._Element, now: datetime, max_age: timedelta) -> tuple[datetime, datetime]:
    created = timestamp.findall(_q(WSU_NS, "Created"))
    expires = timestamp.findall(_q(WSU_NS, "Expires"))
    if len(created) != 1 or len(expires) != 1:
        raise _reject("timestamp-malformed", "wsu:Timestamp needs one wsu:Created and one wsu:Expires.")
    try:
        c, e = parse_xml_datetime(created[0].text), parse_xml_datetime(expires[0].text)
    except ValueError as exc:
        raise _reject("timestamp-malformed", f"wsu:Timestamp holds an unreadable instant: {exc}.") from None
    if e <= c:
        raise _reject("timestamp-malformed", "wsu:Expires must come after wsu:Created.")
    if c > now + SKEW:
        raise _reject("timestamp-in-future", "wsu:Created is in the future; check the client's clock.")
    if now > e + SKEW:
        raise _reject("timestamp-expired", "The message's wsu:Timestamp has expired; sign it again.")
    if now - c > max_age:
        raise _reject("timestamp-stale", f"The message was created more than {int(max_age.total_seconds())} s ago.")
    return c, e


def _key_reference(signature: etree._Element) -> etree._Element:
    refs = signature.findall(f"{_q(DS_NS, 'KeyInfo')}/{STR}")
    if len(refs) != 1:
        raise _reject("key-reference-invalid", "ds:KeyInfo must hold one wsse:SecurityTokenReference.")
    return refs[0]


def _saml_key(signature: etree._Element, assertion: VerifiedAssertion) -> None:
    identifiers = _key_reference(signature).findall(_q(WSSE_NS, "KeyIdentifier"))
    if (len(identifiers) != 1 or identifiers[0].get("ValueType") != SAML_ASSERTION_ID
            or (identifiers[0].text or "").strip() != assertion.assertion_id):
        raise _reject("key-reference-invalid", "The signature's KeyIdentifier must name the assertion's AssertionID "
                      f"(ValueType {SAML_ASSERTION_ID}).")


def _x509_key(signature: etree._Element, token: etree._Element, store: CertificateStore, now: datetime) -> x509.Certificate:
    references = _key_reference(signature).findall(_q(WSSE_NS, "Reference"))
    if len(references) != 1 or references[0].get("URI") != "#" + (token.get(WSU_ID) or "\0"):
        raise _reject("key-reference-invalid", "The signature must reference the BinarySecurityToken by its wsu:Id.")
    if token.get("ValueType") != X509V3 or token.get("EncodingType", BASE64_BINARY) != BASE64_BINARY:
        raise _reject("token-invalid", f"The BinarySecurityToken must be an X.509v3 certificate ({X509V3}), base64.")
    try:
        cert = cert_from_b64(token.text)
    except ValueError as exc:
        raise _reject("token-invalid", f"The BinarySecurityToken is not a certificate: {exc}.") from None
    store.verify(cert, now)
    return cert


def _verify_signature(root: etree._Element, cert: x509.Certificate, now: datetime) -> list[Any]:
    location = f"./{HEADER}/{SECURITY}/"
    try:
        results = XMLVerifier().verify(root, x509_cert=cert, id_attribute="Id",
                                       expect_config=verifier_config(location, at=now, references=True))
    except InvalidDigest as exc:
        raise _reject("message-digest-mismatch", f"A signed part was changed after signing: {exc}.") from None
    except InvalidCertificate as exc:
        raise _reject("certificate-expired", f"The signing certificate is not valid now: {exc}.") from None
    except InvalidSignature:
        raise _reject("message-signature-invalid", "The message signature does not verify with the key of the "
                      f"certificate it must be made with (serial {cert.serial_number}).") from None
    except (InvalidInput, SignXMLException, etree.DocumentInvalid) as exc:
        raise _reject("signature-invalid", f"The message signature cannot be processed: {exc}.") from None
    return results if isinstance(results, list) else [results]


def _reference_prefixes(reference: etree._Element) -> list[str] | None:
    """The reference's exclusive-c14n InclusiveNamespaces (to recompute its c14n)."""
    algorithms = [t.get("Algorithm") for t in reference.iter(_q(DS_NS, "Transform"))]
    if algorithms != [EXC_C14N]:
        raise _reject("signature-invalid", f"Reference {reference.get('URI')} must use one transform, exclusive c14n.")
    prefixes = reference.find(f".//{_q(EXC_C14N_NS, 'InclusiveNamespaces')}")
    return prefixes.get("PrefixList", "").split() if prefixes is not None else None


def _signed_parts(results: list[Any], parts: _Parts, mode: Mode) -> etree._Element:
    """Match each verified reference to the one element it must be (same
    name, same wsu:Id, same exclusive c14n bytes); return the verified Body."""
    expected = {"Body": parts.body, "Timestamp": parts.timestamp}
    if mode == "x509":
        expected["BinarySecurityToken"] = parts.token
    if not results:
        raise _reject("body-not-signed", "The message signature has no reference.")
    signed_info = results[0].signature_xml.find(_q(DS_NS, "SignedInfo"))
    c14n = signed_info.find(_q(DS_NS, "CanonicalizationMethod"))
    if c14n is None or c14n.get("Algorithm") != EXC_C14N:
        raise _reject("signature-invalid", f"SignedInfo must be canonicalised with exclusive c14n ({EXC_C14N}).")
    references = signed_info.findall(_q(DS_NS, "Reference"))
    if len(references) != len(results):
        raise _reject("signature-invalid", "The verified references do not match the SignedInfo.")
    signed: dict[str, etree._Element] = {}
    for result, reference in zip(results, references):
        element = result.signed_xml
        if element is None:
            raise _reject("signature-wrapping", "A reference does not resolve to an element.")
        name = etree.QName(element).localname
        original = expected.get(name)
        if (original is None or element.tag != original.tag or name in signed
                or reference.get("URI") != "#" + (original.get(WSU_ID) or "\0")):
            raise _reject("signature-wrapping", f"The signature covers {element.tag} ({reference.get('URI')}), which "
                          "is not the message's one Body, Timestamp or token.")
        if exc_c14n(original, _reference_prefixes(reference)) != result.signed_data:
            raise _reject("signature-wrapping", f"The signed {name} is not the {name} this message carries.")
        signed[name] = element
    for name in expected:
        if name not in signed:
            code = {"Body": "body-not-signed", "Timestamp": "timestamp-not-signed"}.get(name, "token-not-signed")
            raise _reject(code, f"The message signature does not cover the {name}.")
    return signed["Body"]


def _payload(body: etree._Element) -> etree._Element:
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise _reject("body-malformed", "The signed SOAP Body must hold exactly one element.")
    return children[0]


def verify_message(
    envelope: SoapMessage,
    *,
    mode: Mode,
    trust: MessageTrust,
    clock: Clock,
    replay: ReplayCheck,
    max_age: timedelta = MAX_AGE,
    assertions: Callable[..., VerifiedAssertion] = verify_assertion,
) -> VerifiedMessage:
    """Verify a request's WS-Security header or raise :class:`TokenRejected`
    (a :class:`MessageRejected` for message-level reasons, a
    :class:`~gateway.identity.certstore.CertificateRejected` for the signer's certificate)."""
    now = clock.now()
    parts = _structure(envelope, mode)
    created, expires = _timestamp(parts.timestamp, now, max_age)
    assertion: VerifiedAssertion | None = None
    sts: TrustedSts | None = None
    if mode == "saml-hok":
        # The Issuer the token names picks the keys to try; the verified
        # Issuer must then be that same STS's (one STS cannot speak for another).
        sts = trust.sts_for(parts.token.get("Issuer") or "")
        assertion = assertions(parts.token, trusted=sts.certificates if sts else trust.sts_certificates,
                               issuers=sts.issuers if sts else trust.sts_issuers, clock=clock, skew=SKEW)
        _saml_key(parts.signature, assertion)
        # The STS vouches for the holder-of-key certificate; it must also
        # chain to a trusted CA and be valid now (defence in depth).
        cert = assertion.subject_certificate
        trust.certificates.verify(cert, now, untrusted=assertion.subject_chain)
    elif mode == "x509":
        cert = _x509_key(parts.signature, parts.token, trust.certificates, now)
    else:
        raise ValueError(f"unknown WS-Security mode {mode!r}")
    results = _verify_signature(envelope.root, cert, now)
    payload = _payload(_signed_parts(results, parts, mode))
    value = parts.signature.findtext(_q(DS_NS, "SignatureValue")) or ""
    digest = hashlib.sha256(base64.b64decode("".join(value.split()))).hexdigest()
    if replay.seen(digest, expires + SKEW, now):
        raise _reject("message-replayed", "This signed message was already received; sign each request anew.")
    principal = claims_of(assertion, sts).principal() if assertion is not None else None
    return VerifiedMessage(payload, principal, cert, assertion, created, expires, digest)


class MessageVerifier:
    """What a SOAP service takes to check its requests: the trust, the clock
    and the replay record, bound once; the STS assertions it has verified
    are recognised by their signed bytes until they expire
    (:mod:`gateway.identity.assertion_cache`)."""

    def __init__(self, trust: MessageTrust, clock: Clock, replay: ReplayCheck, *, max_age: timedelta = MAX_AGE,
                 assertions: Callable[..., VerifiedAssertion] | None = None) -> None:
        from gateway.identity.assertion_cache import VerifiedAssertions

        self.trust = trust
        self.clock = clock
        self.replay = replay
        self.max_age = max_age
        self.assertions = assertions or VerifiedAssertions()

    def verify(self, envelope: SoapMessage, mode: Mode) -> VerifiedMessage:
        return verify_message(envelope, mode=mode, trust=self.trust, clock=self.clock, replay=self.replay,
                              max_age=self.max_age, assertions=self.assertions)
