"""Whom an offline validation trusts: the STS certificates that may sign
SAML assertions and the CA that issues holder-of-key and X.509 token
certificates. The sandbox's by default; a tester validating another
platform's messages passes its own PEM files instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Sequence

from cryptography import x509

from gateway.config import DEFAULT_SANDBOX_SEED
from gateway.identity.replay import ReplayGuard


class TrustError(ValueError):
    """A trust file that holds no usable certificate."""


@dataclass(frozen=True)
class Trust:
    sts: tuple[x509.Certificate, ...]
    ca: x509.Certificate

    @classmethod
    def sandbox(cls, seed: int = DEFAULT_SANDBOX_SEED) -> "Trust":
        """The simulated platform's STS and the sandbox CA."""
        from gateway.ehealth.pki import load_pki

        pki = load_pki(seed)
        return cls((pki.platform("sts").certificate,), pki.ca.certificate)

    def replacing(self, sts: Sequence[Path] = (), ca: Path | None = None) -> "Trust":
        """This trust with the STS certificates and/or the CA read from PEM files."""
        certs = tuple(c for path in sts for c in read_certificates(path))
        return Trust(certs or self.sts, read_certificates(ca)[0] if ca else self.ca)


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


class RunReplayGuard(ReplayGuard):
    """Remembers signatures for one validation run only, in memory: a file
    validated offline was not received, so only a repeat within the same
    run is a replay. (A subclass, so the identity layer's type is honoured;
    it keeps no database.)"""

    def __init__(self) -> None:  # noqa: D107 - deliberately no database
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
