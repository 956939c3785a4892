"""Verified access tokens kept until they expire: by the digest of their
bytes, never past their exp, refusals never kept, bounded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from gateway.domain.clock import FixedClock
from gateway.domain.principal import Role
from gateway.identity.claims import Claims
from gateway.identity.errors import TokenRejected
from gateway.identity.token_cache import CachedTokens

NOW = datetime(2026, 6, 15, 12, tzinfo=timezone.utc)


class Counting:
    """A verifier that accepts every token but ``refused``, counting its calls."""

    def __init__(self, refused: set[str] | None = None) -> None:
        self.calls = 0
        self.refused = refused or set()

    def verify(self, token: str) -> Claims:
        self.calls += 1
        if token in self.refused:
            raise TokenRejected("bad-signature", "The token's signature does not verify with the issuer's key.")
        return Claims(niss="85073003328", role=Role.PROVIDER, extra={"jti": token[-8:]})


def token(minutes: int = 15, **claims: object) -> str:
    return jwt.encode({"exp": int((NOW + timedelta(minutes=minutes)).timestamp()), **claims}, "k" * 32, algorithm="HS256")


def test_a_verified_token_is_checked_once_until_its_expiry():
    clock, inner = FixedClock(NOW), Counting()
    tokens = CachedTokens(inner, clock)
    t = token(15)
    assert tokens.principal(t).niss == "85073003328"
    assert tokens.verify(t) == tokens.verify(t)
    assert inner.calls == 1
    clock.advance(timedelta(minutes=15))  # at exp: checked again (and refused there by the real verifier)
    tokens.verify(t)
    assert inner.calls == 2


def test_the_key_is_the_token_itself_not_what_it_claims():
    inner = Counting()
    tokens = CachedTokens(inner, FixedClock(NOW))
    same_claims = [token(15, jti="one"), token(15, jti="one") + "x"]  # another signature, same claims
    inner.refused.add(same_claims[1])
    tokens.verify(same_claims[0])
    with pytest.raises(TokenRejected):
        tokens.verify(same_claims[1])
    assert inner.calls == 2


def test_refusals_are_never_kept():
    t = token(15)
    inner = Counting(refused={t})
    tokens = CachedTokens(inner, FixedClock(NOW))
    for _ in range(2):
        with pytest.raises(TokenRejected):
            tokens.verify(t)
    assert inner.calls == 2 and len(tokens) == 0


def test_an_expired_or_expiry_less_token_is_not_kept():
    inner = Counting()
    tokens = CachedTokens(inner, FixedClock(NOW))
    tokens.verify(token(-1))
    tokens.verify(jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256"))
    assert len(tokens) == 0


def test_the_cache_is_bounded_least_recently_used_first():
    inner = Counting()
    tokens = CachedTokens(inner, FixedClock(NOW), max_entries=2)
    a, b, c = token(10), token(11), token(12)
    tokens.verify(a)
    tokens.verify(b)
    tokens.verify(a)  # a is now the most recent
    tokens.verify(c)  # b goes
    assert len(tokens) == 2 and inner.calls == 3
    tokens.verify(a)
    assert inner.calls == 3
    tokens.verify(b)
    assert inner.calls == 4
