"""OpenID Connect resource-server side: the keys an identity provider
publishes, fetched and cached, and the verification of access tokens from
any of several configured issuers.

- :class:`JwksSource` reads the key set from a JWKS URL, or from the
  ``jwks_uri`` of the provider's discovery document, over an injected
  ``httpx.Client``; it refreshes it every ``refresh``, and refetches once when
  a token names a ``kid`` it does not know (a key rotation needs no restart),
  but never twice within ``min_refetch``: a flood of tokens with made-up
  ``kid`` values does not turn into a flood of requests to the provider.
- :class:`TokenVerifier` picks the configured issuer by the token's ``iss``
  and lets that issuer's :class:`~gateway.identity.jwt.JwtVerifier` check
  signature, audience and times and map the claims to a Principal.

Time is the injected clock's, so refresh intervals are tested without sleeping.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

import httpx

from gateway.domain.clock import Clock
from gateway.identity.claims import DEFAULT_CLAIMS, Claims, ClaimsMapping
from gateway.identity.errors import TokenRejected
from gateway.identity.jwt import DEFAULT_LEEWAY, JwtVerifier, KeySource, unverified_issuer
from gateway.domain.principal import Principal

log = logging.getLogger("gateway.identity.oidc")

DEFAULT_REFRESH = timedelta(hours=1)
DEFAULT_MIN_REFETCH = timedelta(minutes=1)


class KeysUnavailable(RuntimeError):
    """The key set could not be fetched or read."""


class JwksSource:
    """An issuer's published keys, fetched over HTTP and cached (a :class:`KeySource`)."""

    def __init__(
        self,
        http: httpx.Client,
        clock: Clock,
        *,
        jwks_url: str | None = None,
        discovery_url: str | None = None,
        issuer: str | None = None,
        refresh: timedelta = DEFAULT_REFRESH,
        min_refetch: timedelta = DEFAULT_MIN_REFETCH,
    ) -> None:
        if (jwks_url is None) == (discovery_url is None):
            raise ValueError("a key source needs exactly one of jwks_url and discovery_url")
        self.http = http
        self.clock = clock
        self.jwks_url = jwks_url
        self.discovery_url = discovery_url
        self.issuer = issuer
        self.refresh = refresh
        self.min_refetch = min_refetch
        self._keys: dict[str, Mapping[str, Any]] | None = None
        self._fetched_at: datetime | None = None
        self._attempted_at: datetime | None = None
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return self.jwks_url or f"the jwks_uri of {self.discovery_url}"

    def key(self, kid: str) -> Mapping[str, Any] | None:
        """The JWK named ``kid``, or ``None``; :class:`TokenRejected`
        (``jwks-unavailable``) when no key set could ever be fetched."""
        with self._lock:
            now = self.clock.now()
            due = self._fetched_at is None or now >= self._fetched_at + self.refresh
            if due and self._may_fetch(now):
                self._fetch(now)
            if self._keys is None:
                raise TokenRejected("jwks-unavailable", f"The keys of {self.issuer or 'the issuer'} cannot be fetched "
                                    f"from {self.where}; the token cannot be checked now. Try again later; if it "
                                    "persists, the gateway's operator must check that URL.")
            jwk = self._keys.get(kid)
            if jwk is None and self._may_fetch(now):
                log.info("unknown kid %r: refetching the keys of %s", kid, self.issuer or self.where)
                self._fetch(now)
                jwk = self._keys.get(kid)
            return jwk

    def _may_fetch(self, now: datetime) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_refetch

    def _fetch(self, now: datetime) -> None:
        """Replace the cached keys; on failure keep the ones we have (a
        provider's outage must not lock out tokens signed with known keys)."""
        self._attempted_at = now
        try:
            self._keys = self._download()
            self._fetched_at = now
        except KeysUnavailable as error:
            log.warning("keys of %s not refreshed: %s", self.issuer or self.where, error)

    def _get_json(self, url: str) -> Any:
        try:
            response = self.http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise KeysUnavailable(f"{url}: {error}") from None
        if response.status_code != 200:
            raise KeysUnavailable(f"{url} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise KeysUnavailable(f"{url} did not answer JSON") from None

    def _download(self) -> dict[str, Mapping[str, Any]]:
        url = self.jwks_url
        if url is None:
            document = self._get_json(self.discovery_url)  # type: ignore[arg-type]
            if not isinstance(document, dict) or not isinstance(document.get("jwks_uri"), str):
                raise KeysUnavailable(f"the discovery document {self.discovery_url} names no jwks_uri")
            if self.issuer is not None and document.get("issuer") != self.issuer:
                # OpenID Connect Discovery 1.0 §4.3: the document must be the issuer's own
                raise KeysUnavailable(f"the discovery document {self.discovery_url} is for issuer "
                                      f"{document.get('issuer')!r}, not {self.issuer!r}")
            url = document["jwks_uri"]
        jwks = self._get_json(url)
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list):
            raise KeysUnavailable(f"{url} is not a JWK set (no 'keys' array)")
        return {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}


@dataclass(frozen=True)
class TrustedIssuer:
    """One identity provider whose access tokens are accepted."""

    name: str
    issuer: str
    audiences: tuple[str, ...]
    keys: KeySource
    claims: ClaimsMapping = field(default=DEFAULT_CLAIMS)


class TokenVerifier:
    """Access tokens from any of the configured issuers, each checked by its
    own rules: signature with its keys (asymmetric algorithms only), one of
    its audiences, times against the clock, claims through its mapping."""

    def __init__(self, issuers: Sequence[TrustedIssuer], clock: Clock, *, leeway: timedelta = DEFAULT_LEEWAY) -> None:
        self.issuers = tuple(issuers)
        self._verifiers: dict[str, JwtVerifier] = {}
        for trusted in self.issuers:
            if trusted.issuer in self._verifiers:
                raise ValueError(f"issuer {trusted.issuer} is configured twice")
            self._verifiers[trusted.issuer] = JwtVerifier(trusted.issuer, trusted.audiences, trusted.keys, clock,
                                                          leeway=leeway, claims=trusted.claims)

    def verify(self, token: str) -> Claims:
        """The claims of a valid token of a trusted issuer, or :class:`TokenRejected`."""
        iss = unverified_issuer(token)
        verifier = self._verifiers.get(iss) if isinstance(iss, str) else None
        if verifier is None:
            trusted = ", ".join(repr(i.issuer) for i in self.issuers) or "none is configured"
            raise TokenRejected("wrong-issuer", f"The token was issued by {iss!r}, which is not a trusted issuer "
                                f"(trusted: {trusted}); sign in with one of those identity providers.")
        return verifier.verify(token)

    def principal(self, token: str) -> Principal:
        return self.verify(token).principal()
