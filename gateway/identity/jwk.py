"""JSON Web Keys (RFC 7517) of RSA keys, and their RFC 7638 thumbprints.

The thumbprint is the ``kid`` of every sandbox key (the IdP's and the
organisations'): computed from the key itself, so a client and the server
agree on it without a registry of names.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def jwk_thumbprint(key: rsa.RSAPublicKey) -> str:
    """RFC 7638 SHA-256 thumbprint: the members ``e``, ``kty``, ``n`` in that order, no spaces."""
    numbers = key.public_numbers()
    canonical = json.dumps({"e": _uint(numbers.e), "kty": "RSA", "n": _uint(numbers.n)}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def rsa_public_jwk(certificate: x509.Certificate, *, alg: str = "RS256") -> dict[str, Any]:
    """The public JWK of a certificate's RSA key, with ``kid`` = thumbprint and the
    certificate itself in ``x5c`` (clients that pin certificates use it)."""
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("only RSA keys are used in the sandbox")
    numbers = key.public_numbers()
    der = certificate.public_bytes(serialization.Encoding.DER)
    return {
        "kty": "RSA",
        "use": "sig",
        "alg": alg,
        "kid": jwk_thumbprint(key),
        "n": _uint(numbers.n),
        "e": _uint(numbers.e),
        "x5c": [base64.b64encode(der).decode("ascii")],
        "x5t#S256": b64url(hashlib.sha256(der).digest()),
    }
