"""Blinded pseudonymisation, the wire contract shared by the simulated
pseudonymisation service and the gateway's client (neither imports the
other), as eHealth's *blinded pseudo* service works in principle:

1. the client maps the identifier into the group (:func:`to_group`) and
   blinds it with a random exponent ``r``: ``B = h^r``;
2. the service raises what it receives to the domain's secret key ``k``:
   ``E = B^k`` (it never sees ``h``, so never the identifier);
3. the client unblinds: ``P = E^(1/r) = h^k``, the identifier's pseudonym
   in that domain, which only a holder of ``k`` could have computed.

The group is the quadratic residues modulo the 2048-bit safe prime of
RFC 3526 (group 14), of prime order ``q = (p - 1) / 2``. Values travel as
base64url of their big-endian bytes.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)
Q = (P - 1) // 2
SIZE = 256  # bytes of a group element


def encode(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes(SIZE, "big")).decode("ascii").rstrip("=")


def decode(text: str) -> int:
    """A group element from its wire form; ValueError if it is not one."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    value = int.from_bytes(raw, "big")
    if len(raw) != SIZE or not 1 < value < P - 1 or pow(value, Q, P) != 1:
        raise ValueError("not an element of the group")
    return value


def to_group(identifier: str, domain: str) -> int:
    """The identifier as a group element (a square, so in the subgroup of order q)."""
    digest = b"".join(hashlib.sha512(f"{i}|{domain}|{identifier}".encode()).digest() for i in range(5))
    return pow(int.from_bytes(digest, "big") % P, 2, P)


def blind(identifier: str, domain: str) -> tuple[int, int]:
    """``(r, B)``: the secret blinding exponent and the blinded element to send."""
    r = secrets.randbelow(Q - 1) + 1
    return r, pow(to_group(identifier, domain), r, P)


def evaluate(blinded: int, key: int) -> int:
    """What the service answers: the blinded element raised to the domain key."""
    return pow(blinded, key % Q or 1, P)


def unblind(evaluated: int, r: int) -> int:
    """The pseudonym ``h^k`` from the service's answer."""
    return pow(evaluated, pow(r, -1, Q), P)


def pseudonym(identifier: str, domain: str, key: int) -> int:
    """The pseudonym computed directly, by the holder of the domain key."""
    return pow(to_group(identifier, domain), key % Q or 1, P)
