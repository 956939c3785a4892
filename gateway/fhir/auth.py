"""Who is calling the FHIR face: the ``Authorization: Bearer`` token, checked
by the token verifier the composition root gives (which issuers, keys and
audiences it trusts is configuration, not this module's business), and
the RFC 6750 answer when it is missing or refused."""

from __future__ import annotations

from typing import Callable, Protocol

from fastapi import HTTPException, Request

from gateway.identity.bearer import BearerMissing, bearer_challenge, read_bearer
from gateway.identity.errors import TokenRejected
from gateway.domain.principal import Principal


class PrincipalVerifier(Protocol):
    """Turns an access token into the Principal it proves, or raises
    :class:`~gateway.identity.errors.TokenRejected`."""

    def principal(self, token: str) -> Principal: ...


def bearer_token(request: Request) -> str:
    """The token of ``Authorization: Bearer …``, or a 401 that says what is missing."""
    try:
        return read_bearer(request.headers.get("authorization"))
    except BearerMissing as missing:
        raise HTTPException(401, missing.message, headers={
            "WWW-Authenticate": bearer_challenge(missing.error, "use the Bearer scheme" if missing.error else None)
        }) from None


def bearer_principal(verifier: PrincipalVerifier) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the Principal of a valid access token, or a 401
    with an ``invalid_token`` challenge naming the reason."""

    def dependency(request: Request) -> Principal:
        token = bearer_token(request)
        try:
            return verifier.principal(token)
        except TokenRejected as refused:
            raise HTTPException(401, refused.message, headers={
                "WWW-Authenticate": bearer_challenge("invalid_token", refused.message)
            }) from None

    return dependency


__all__ = ["PrincipalVerifier", "bearer_challenge", "bearer_principal", "bearer_token"]
