"""The WS-Security and SAML checks of an envelope, for a report.

The gateway's own verifier (:func:`gateway.identity.wssecurity.verify_message`)
decides, so a partner's message is judged exactly as the SOAP face would
judge it: header structure and wrapping defences, timestamp, the assertion
(via :func:`gateway.identity.saml.verify_assertion`), the signature over Body
and Timestamp with the holder-of-key. It stops at the first refusal, so the
assertion is also checked on its own (signer, signature, validity, issuer,
holder-of-key certificate): a report then names every broken part of it even
when the message fails earlier. Each check runs on its own copy of the
document: verification never touches what the report quotes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from gateway.conformance.soap.trust import RunReplayGuard, Trust
from gateway.domain.clock import FixedClock
from gateway.identity.errors import TokenRejected
from gateway.identity.saml import verify_assertion
from gateway.identity.wssecurity import Mode, verify_message
from gateway.namespaces import SAML1_NS, SOAP11_NS, WSSE_NS
from gateway.soap11.envelope import read_envelope

SECURITY = "/Envelope/Header/Security"
ASSERTION = f"{SECURITY}/Assertion"
HOLDER_OF_KEY = f"{ASSERTION}/AuthenticationStatement/Subject/SubjectConfirmation"
SIGNATURE = f"{SECURITY}/Signature"
TOKEN = f"{SECURITY}/BinarySecurityToken"
SKEW = timedelta(seconds=60)

# Where each refusal code of the identity layer points in the envelope.
_PATHS: dict[str, str] = {
    "security-header-missing": "/Envelope/Header",
    "signature-wrapping": "/Envelope",
    "timestamp-missing": SECURITY,
    "signature-missing": SECURITY,
    "assertion-missing": SECURITY,
    "token-missing": SECURITY,
    "timestamp-malformed": f"{SECURITY}/Timestamp",
    "timestamp-in-future": f"{SECURITY}/Timestamp",
    "timestamp-expired": f"{SECURITY}/Timestamp",
    "timestamp-stale": f"{SECURITY}/Timestamp",
    "timestamp-not-signed": f"{SECURITY}/Timestamp",
    "key-reference-invalid": f"{SIGNATURE}/KeyInfo",
    "message-digest-mismatch": SIGNATURE,
    "message-signature-invalid": SIGNATURE,
    "signature-invalid": SIGNATURE,
    "message-replayed": SIGNATURE,
    "body-not-signed": "/Envelope/Body",
    "body-malformed": "/Envelope/Body",
    "token-invalid": TOKEN,
    "token-not-signed": TOKEN,
}
# OperationOutcome issue types (the rest are "security").
_ISSUE_TYPES = {"timestamp-expired": "expired", "timestamp-stale": "expired", "assertion-expired": "expired",
                "certificate-expired": "expired", "message-replayed": "duplicate", "body-malformed": "structure"}


@dataclass(frozen=True)
class SecurityProblem:
    rule: str  # the identity layer's refusal code, as the SOAP Fault would carry it
    path: str
    message: str

    @property
    def issue_type(self) -> str:
        return _ISSUE_TYPES.get(self.rule, "security")


def _path(code: str, mode: Mode) -> str:
    if code.startswith("assertion-"):
        return ASSERTION
    if code.startswith("certificate-"):
        return HOLDER_OF_KEY if mode == "saml-hok" else TOKEN
    return _PATHS.get(code, SECURITY)


def _mode(header: etree._Element) -> Mode:
    """SAML holder-of-key when the header carries an assertion (what every
    eHealth service asks), X.509 when it carries only a BinarySecurityToken."""
    if next(header.iter(f"{{{SAML1_NS}}}Assertion"), None) is None \
            and next(header.iter(f"{{{WSSE_NS}}}BinarySecurityToken"), None) is not None:
        return "x509"
    return "saml-hok"


def _assertion(header: etree._Element) -> etree._Element | None:
    """The one assertion directly in wsse:Security (others are wrapping, reported by the message check)."""
    found = [a for s in header.findall(f"{{{WSSE_NS}}}Security") for a in s.findall(f"{{{SAML1_NS}}}Assertion")]
    return found[0] if len(found) == 1 else None


class SecurityCheck:
    """WS-Security and SAML checks at a given instant, under a given trust."""

    def __init__(self, trust: Trust, replay: RunReplayGuard | None = None) -> None:
        self.trust = trust
        self.messages = trust.message_trust()
        self.replay = replay if replay is not None else RunReplayGuard()

    def check(self, root: etree._Element, at: datetime) -> list[SecurityProblem]:
        """The problems of a SOAP 1.1 envelope's security (none: it verifies)."""
        header = root.find(f"{{{SOAP11_NS}}}Header")
        if header is None or header.find(f"{{{WSSE_NS}}}Security") is None:
            return [SecurityProblem("security-header-missing", "/Envelope/Header",
                                    "The message has no SOAP Header with a wsse:Security element: every eHealth service "
                                    "requires WS-Security with a SAML holder-of-key token and a signature.")]
        mode = _mode(header)
        problems: list[SecurityProblem] = []
        assertion = _assertion(header) if mode == "saml-hok" else None
        if assertion is not None:
            problems += self.assertion_problems(copy.deepcopy(assertion), at)
        try:
            verify_message(read_envelope(copy.deepcopy(root)), mode=mode, trust=self.messages, clock=FixedClock(at),
                           replay=self.replay)
        except TokenRejected as refused:
            if refused.code not in {p.rule for p in problems}:
                problems.append(SecurityProblem(refused.code, _path(refused.code, mode), refused.message))
        return problems

    def assertion_problems(self, assertion: etree._Element, at: datetime) -> list[SecurityProblem]:
        """Signer, signature, issuer, validity and holder-of-key (the identity
        layer's check), then the holder-of-key certificate's chain."""
        try:
            verified = verify_assertion(assertion, trusted=self.messages.sts_certificates,
                                        issuers=self.messages.sts_issuers, clock=FixedClock(at), skew=SKEW)
        except TokenRejected as refused:
            return [SecurityProblem(refused.code, _path(refused.code, "saml-hok"), refused.message)]
        try:
            self.messages.certificates.verify(verified.subject_certificate, at, untrusted=verified.subject_chain)
        except TokenRejected as refused:
            return [SecurityProblem(refused.code, HOLDER_OF_KEY, f"Holder-of-key certificate: {refused.message}")]
        return []
