"""Whose signature the adapters believe on the platform's answers.

An answer's signature is checked against certificates the gateway is
*configured* to trust, never against whatever certificate the message
brings. :class:`CertificateTrust` is the question "is this certificate one
to trust, now?"; two answers are here:

- :class:`PinnedCertificates`: exactly these certificates (the sandbox's
  attribute-authority certificate, or the real platform's, as published);
- :func:`chain_trust`: a certificate store that builds and validates a
  path to a configured root (``gateway.identity.certstore.CertificateStore``
  or anything with its ``verify(cert, at, *, untrusted=...)``), for
  certificates that are renewed under the same CA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization


class CertificateTrust(Protocol):
    """Is ``certificate`` trusted at ``at``? ``untrusted`` are other
    certificates the message carries: path candidates, never anchors."""

    def __call__(self, certificate: x509.Certificate, *, untrusted: Sequence[x509.Certificate], at: datetime) -> bool: ...


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class PinnedCertificates:
    """Trust exactly these certificates, while they are valid."""

    certificates: tuple[x509.Certificate, ...]

    def __call__(self, certificate: x509.Certificate, *, untrusted: Sequence[x509.Certificate] = (), at: datetime) -> bool:
        pinned = {_der(c) for c in self.certificates}
        return (_der(certificate) in pinned
                and certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc)


def chain_trust(store: Any) -> CertificateTrust:
    """Trust what ``store.verify(cert, at, untrusted=...)`` accepts (it raises to refuse)."""

    def trusted(certificate: x509.Certificate, *, untrusted: Sequence[x509.Certificate] = (), at: datetime) -> bool:
        try:
            store.verify(certificate, at, untrusted=tuple(untrusted))
        except Exception:  # noqa: BLE001 - the store's refusal, whatever its type, is "not trusted"
            return False
        return True

    return trusted


def as_trust(value: "CertificateTrust | x509.Certificate | Sequence[x509.Certificate]") -> CertificateTrust:
    """A trust from a certificate or a list of certificates (pinned), or a trust as is."""
    if isinstance(value, x509.Certificate):
        return PinnedCertificates((value,))
    if isinstance(value, (list, tuple)):
        return PinnedCertificates(tuple(value))
    return value  # type: ignore[return-value]


def pinned_candidates(trust: CertificateTrust) -> tuple[x509.Certificate, ...]:
    """The certificates a pinned trust names (tried when a signature carries none)."""
    return tuple(getattr(trust, "certificates", ()))
