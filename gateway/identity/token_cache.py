"""Verified access tokens remembered until they expire.

A vendor's software sends the same bearer token with every call for its
whole lifetime; verifying its signature each time costs more than the rest
of a read's identity work. A token that passed every check of the wrapped
verifier (signature, issuer, audience, times) is remembered by the SHA-256
of its exact bytes, never by anything the client chose (a ``jti`` or
``kid``), until its ``exp`` on the injected clock: the same bytes would pass
the same checks until then. Refusals are never remembered. A key removed
from an issuer's JWKS stops new tokens at once; tokens already verified
with it run to their ``exp``, as they would at any verifier that had
checked them. The cache is bounded (least recently used go first) and
lives in this process only.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Protocol

import jwt

from gateway.domain.clock import Clock
from gateway.domain.principal import Principal
from gateway.identity.claims import Claims


class ClaimsVerifier(Protocol):
    """A token verifier (:class:`~gateway.identity.oidc.TokenVerifier` or a wrapper of it)."""

    def verify(self, token: str) -> Claims: ...


class CachedTokens:
    """``inner`` with its verified tokens remembered until their expiry."""

    def __init__(self, inner: ClaimsVerifier, clock: Clock, *, max_entries: int = 10_000) -> None:
        self.inner = inner
        self.clock = clock
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[float, Claims]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def issuers(self) -> Any:
        return getattr(self.inner, "issuers", ())

    def verify(self, token: str) -> Claims:
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        now = self.clock.now().timestamp()
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None:
                if now < kept[0]:
                    self._entries.move_to_end(key)
                    return kept[1]
                del self._entries[key]
        claims = self.inner.verify(token)  # raises TokenRejected: nothing kept
        expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
        if isinstance(expires, (int, float)) and now < expires:
            with self._lock:
                self._entries[key] = (float(expires), claims)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return claims

    def principal(self, token: str) -> Principal:
        return self.verify(token).principal()

    def __len__(self) -> int:
        return len(self._entries)
