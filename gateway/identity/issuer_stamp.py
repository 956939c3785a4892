"""Which identity provider signed a caller in, kept on the Principal.

Return to work's RP-S1 depends on it: regional users sign in through the
crossroads bank's IdP, the others through eHealth's. :class:`IssuerStamped`
wraps a :class:`~gateway.identity.oidc.TokenVerifier`: once the inner
verifier has checked a token (signature with that issuer's keys, issuer,
audience, times), the issuer it was checked against goes into the
Principal's ``extra["iss"]``."""

from __future__ import annotations

import dataclasses

from gateway.domain.principal import Principal
from gateway.identity.claims import Claims
from gateway.identity.jwt import unverified_issuer
from gateway.identity.oidc import TokenVerifier


class IssuerStamped:
    """A token verifier whose Principals name their verified issuer."""

    def __init__(self, inner: TokenVerifier) -> None:
        self.inner = inner

    @property
    def issuers(self):  # type: ignore[no-untyped-def]
        return self.inner.issuers

    def verify(self, token: str) -> Claims:
        claims = self.inner.verify(token)  # refuses a token not valid for the issuer it names
        issuer = unverified_issuer(token)
        return dataclasses.replace(claims, extra={**claims.extra, "iss": str(issuer)})

    def principal(self, token: str) -> Principal:
        return self.verify(token).principal()
