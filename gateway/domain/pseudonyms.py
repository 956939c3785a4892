"""Pseudonymisation of NISS (IC-R10): keyed, deterministic, reversible only
with the key.

AES-SIV (RFC 5297) is a deterministic authenticated cipher: the same NISS
always gives the same pseudonym under one key (so the database can index
and join on it), nobody without the key can compute or reverse it, and a
pseudonym that was tampered with fails to decrypt instead of naming someone
else.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from gateway.domain.identifiers import compact

PSEUDONYM_LENGTH = 36  # base64url of 11 bytes + 16-byte tag
_DOMAIN = b"care-gateway:niss:v1"


class PseudonymError(ValueError):
    """A pseudonym that this service did not make (or that was altered)."""


class PseudonymService:
    """Turns a NISS into its pseudonym and back."""

    def __init__(self, key: bytes) -> None:
        if len(key) not in (32, 48, 64):
            raise ValueError("AES-SIV needs a 32, 48 or 64 byte key")
        self._siv = AESSIV(key)

    @classmethod
    def from_secret(cls, secret: str) -> "PseudonymService":
        """Derive the 64-byte key from a configured secret string."""
        return cls(hashlib.sha512(secret.encode("utf-8")).digest())

    def pseudonymise(self, niss: str) -> str:
        value = compact(niss)
        token = self._siv.encrypt(value.encode("ascii"), [_DOMAIN])
        return base64.urlsafe_b64encode(token).decode("ascii").rstrip("=")

    def reveal(self, pseudonym: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(pseudonym + "=" * (-len(pseudonym) % 4))
            return self._siv.decrypt(raw, [_DOMAIN]).decode("ascii")
        except (InvalidTag, ValueError) as exc:
            raise PseudonymError("not a pseudonym made by this service") from exc
