"""Whom an offline validation trusts: the STS certificates that may sign
SAML assertions and the Issuer names they write, and the CAs (roots, with
optional intermediates and CRLs) that holder-of-key and X.509 token
certificates must chain to. The sandbox's by default; a tester validating
another platform's messages passes its own PEM files, or the gateway's
trust settings (:meth:`Trust.from_settings`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from cryptography import x509

from gateway.config import DEFAULT_SANDBOX_SEED
from gateway.identity.certstore import CertificateStore
from gateway.identity.saml import STS_ISSUER
from gateway.identity.wssecurity import MessageTrust

if TYPE_CHECKING:
    from gateway.trust import TrustSettings


class TrustError(ValueError):
    """A trust file that holds no usable certificate."""


@dataclass(frozen=True)
class Trust:
    """``ca`` is one root CA certificate or several."""

    sts: tuple[x509.Certificate, ...]
    ca: x509.Certificate | tuple[x509.Certificate, ...]
    issuers: tuple[str, ...] = (STS_ISSUER,)
    intermediates: tuple[x509.Certificate, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()

    @property
    def roots(self) -> tuple[x509.Certificate, ...]:
        return self.ca if isinstance(self.ca, tuple) else (self.ca,)

    @classmethod
    def sandbox(cls, seed: int = DEFAULT_SANDBOX_SEED) -> "Trust":
        """The simulated platform's STS and the sandbox CA."""
        from gateway.ehealth.pki import load_pki

        pki = load_pki(seed)
        return cls((pki.platform("sts").certificate,), pki.ca.certificate)

    @classmethod
    def from_settings(cls, settings: "TrustSettings") -> "Trust":
        """The gateway's own trust, as its settings configure it."""
        messages = settings.message_trust()
        store = messages.certificates
        return cls(messages.sts_certificates, store.roots, messages.sts_issuers, store.intermediates, store.crls)

    def replacing(self, sts: Sequence[Path] = (), ca: Path | None = None) -> "Trust":
        """This trust with the STS certificates and/or the root CAs read from PEM files."""
        certs = tuple(c for path in sts for c in read_certificates(path))
        if ca is None:
            return Trust(certs or self.sts, self.roots, self.issuers, self.intermediates, self.crls)
        return Trust(certs or self.sts, tuple(read_certificates(ca)), self.issuers)  # another CA: its own chain

    def message_trust(self) -> MessageTrust:
        """What the identity layer's verifier takes."""
        return MessageTrust(CertificateStore(self.roots, self.intermediates, self.crls), self.sts, self.issuers)


def read_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate of a PEM file; :class:`TrustError` if there is none."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TrustError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise TrustError(f"{path} holds no PEM certificate")
    return certs


class RunReplayGuard:
    """Remembers signatures for one validation run only, in memory: a file
    validated offline was not received, so only a repeat within the same
    run is a replay. It keeps no database."""

    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}

    def seen(self, digest: str, expires: datetime, now: datetime) -> bool:
        if digest in self._seen and self._seen[digest] > now:
            return True
        self._seen[digest] = expires
        return False

    def purge(self, now: datetime) -> int:
        gone = [d for d, e in self._seen.items() if e <= now]
        for digest in gone:
            del self._seen[digest]
        return len(gone)
