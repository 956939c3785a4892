"""Whether a caller's certificate is one to trust: X.509 path building and
validation (RFC 5280, with :mod:`cryptography.x509.verification`) from the
certificate up to a configured root CA, through the configured
intermediates and those the message carries, at the injected clock's time,
and, where a revocation list of an issuing CA is configured, not revoked.

Extension policy: the Web PKI profile, except that an end-entity
certificate need not carry a subjectAltName nor an authorityKeyIdentifier
(eHealth certificates name their holder in the subject, ``CN=SSIN=…``);
an extendedKeyUsage, when present, must allow client authentication.

Refusals carry a stable code: ``certificate-untrusted``,
``certificate-not-yet-valid``, ``certificate-expired``,
``certificate-revoked``, ``certificate-revocation-unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

from gateway.identity.errors import TokenRejected

MAX_CHAIN_DEPTH = 8


class CertificateRejected(TokenRejected):
    """A certificate that does not chain to a trusted root, or is not valid now."""


def describe(cert: x509.Certificate) -> str:
    """``subject (serial N, issued by issuer)``: enough for a person to find the certificate."""
    return f"{cert.subject.rfc4514_string()} (serial {cert.serial_number}, issued by {cert.issuer.rfc4514_string()})"


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # noqa: BLE001 - any failure means "not its issuer"
        return False
    return True


def _crl_issuer(crl: x509.CertificateRevocationList, candidates: Iterable[x509.Certificate]) -> x509.Certificate | None:
    for cert in candidates:
        if crl.issuer == cert.subject and crl.is_signature_valid(cert.public_key()):  # type: ignore[arg-type]
            return cert
    return None


def _invalid_ca(ca: x509.Certificate, cert: x509.Certificate, at: datetime) -> CertificateRejected:
    """The refusal for an issuing CA certificate that is not valid now."""
    if at < ca.not_valid_before_utc:
        code, when = "certificate-not-yet-valid", f"is valid from {ca.not_valid_before_utc:%Y-%m-%d %H:%M} UTC only"
    else:
        code, when = "certificate-expired", f"expired on {ca.not_valid_after_utc:%Y-%m-%d}"
    return CertificateRejected(code, f"The CA certificate {describe(ca)} in the chain of {describe(cert)} {when}. "
                               "Configure the CA's current certificate among the trusted intermediates, or have the "
                               "certificate renewed under a CA that is valid now.")


def _end_entity_policy() -> ExtensionPolicy:
    return (ExtensionPolicy.webpki_defaults_ee()
            .may_be_present(x509.AuthorityKeyIdentifier, Criticality.AGNOSTIC, None)
            .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None))


@dataclass(frozen=True)
class CertificateStore:
    """Trusted root CAs, known intermediate CAs and revocation lists.

    A CRL must be signed by one of the store's CAs: a list nobody here
    issued would silently check nothing, so it is refused at construction.
    """

    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    max_depth: int = MAX_CHAIN_DEPTH
    _crl_issuers: tuple[bytes, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.roots:
            raise ValueError("a certificate store needs at least one root CA certificate")
        issuers = []
        for crl in self.crls:
            issuer = _crl_issuer(crl, (*self.roots, *self.intermediates))
            if issuer is None:
                raise ValueError(f"the revocation list of {crl.issuer.rfc4514_string()} is not signed by any CA "
                                 "of the store; add that CA's certificate, or remove the list")
            issuers.append(_der(issuer))
        object.__setattr__(self, "_crl_issuers", tuple(issuers))

    @classmethod
    def of(cls, *roots: x509.Certificate) -> "CertificateStore":
        return cls(tuple(roots))

    def verify(self, cert: x509.Certificate, at: datetime, *,
               untrusted: Sequence[x509.Certificate] = ()) -> tuple[x509.Certificate, ...]:
        """The validated chain (the certificate first, a root last), or
        :class:`CertificateRejected`. ``untrusted`` are intermediates the
        message carries: candidates for the path, never anchors."""
        at = at.astimezone(timezone.utc)
        self._check_validity(cert, at, what="The certificate")
        pool = (*self.intermediates, *untrusted)
        verifier = (PolicyBuilder().store(Store(list(self.roots))).time(at).max_chain_depth(self.max_depth)
                    .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_end_entity_policy())
                    .build_client_verifier())
        try:
            chain = tuple(verifier.verify(cert, list(pool)).chain)
        except VerificationError as error:
            raise self._diagnose(cert, at, pool, error) from None
        self._check_revocation(chain, at)
        return chain

    # -- why a path failed, in words

    @staticmethod
    def _check_validity(cert: x509.Certificate, at: datetime, *, what: str) -> None:
        if at < cert.not_valid_before_utc:
            raise CertificateRejected("certificate-not-yet-valid", f"{what} {describe(cert)} is valid from "
                                      f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC only; check the clocks, or use "
                                      "a certificate valid now.")
        if at > cert.not_valid_after_utc:
            raise CertificateRejected("certificate-expired", f"{what} {describe(cert)} expired on "
                                      f"{cert.not_valid_after_utc:%Y-%m-%d}; renew it.")

    def _diagnose(self, cert: x509.Certificate, at: datetime, pool: Sequence[x509.Certificate],
                  error: VerificationError) -> CertificateRejected:
        """Follow the issuers by name and signature: a CA on the way that is
        not valid now is named; otherwise the path reaches no trusted root."""
        current, seen = cert, {_der(cert)}
        for _ in range(self.max_depth):
            parents = [c for c in (*self.roots, *pool) if _der(c) not in seen and _issued_by(current, c)]
            if not parents:
                break
            valid = [c for c in parents if c.not_valid_before_utc <= at <= c.not_valid_after_utc]
            if not valid:
                return _invalid_ca(parents[0], cert, at)
            root = next((c for c in valid if any(_der(c) == _der(r) for r in self.roots)), None)
            if root is not None:
                reason = str(error).removeprefix("validation failed: ")
                return CertificateRejected("certificate-untrusted", f"The certificate {describe(cert)} reaches the "
                                           f"trusted root {root.subject.rfc4514_string()}, but its chain breaks the "
                                           f"certificate profile: {reason}. Use a certificate fit for client "
                                           "authentication, issued as the CA's policy says.")
            current = valid[0]
            seen.add(_der(current))
        return CertificateRejected("certificate-untrusted", f"The certificate {describe(cert)} does not chain to a "
                                   "trusted root CA. Use a certificate issued under a trusted CA, or add its issuing "
                                   "CA to the trusted CA certificates or intermediates.")

    # -- revocation

    def _check_revocation(self, chain: tuple[x509.Certificate, ...], at: datetime) -> None:
        for cert, issuer in zip(chain, chain[1:]):
            for crl in self._lists_of(issuer):
                next_update = crl.next_update_utc
                if next_update is not None and at > next_update:
                    raise CertificateRejected("certificate-revocation-unknown", f"The revocation list of "
                                              f"{issuer.subject.rfc4514_string()} expired on {next_update:%Y-%m-%d %H:%M} "
                                              "UTC, so whether the certificate is revoked is unknown; install that "
                                              "CA's current CRL.")
                revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                if revoked is not None and revoked.revocation_date_utc <= at:
                    raise CertificateRejected("certificate-revoked", f"The certificate {describe(cert)} was revoked "
                                              f"on {revoked.revocation_date_utc:%Y-%m-%d}; it can no longer be used. "
                                              "Use a current certificate.")

    def _lists_of(self, issuer: x509.Certificate) -> list[x509.CertificateRevocationList]:
        der = _der(issuer)
        return [crl for crl, by in zip(self.crls, self._crl_issuers) if by == der]


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate of PEM data, or of one DER certificate."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    """A CRL in PEM or DER."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)
