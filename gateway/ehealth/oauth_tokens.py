"""Minting the IdP's tokens: RS256 access tokens (JWT, RFC 9068 shape) and
OpenID Connect ID tokens, signed with the sandbox ``oauth`` key.

The caller's facts go in through :meth:`Claims.to_jwt`, so the gateway
reads them back with the same vocabulary (:mod:`gateway.identity.jwt`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Mapping

import jwt

from gateway.ehealth.oauth_keys import ACCESS_TOKEN_AUDIENCE, SIGNING_ALGORITHM, signing_credential, signing_jwk

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

ACCESS_TOKEN_LIFETIME = timedelta(minutes=15)
ID_TOKEN_LIFETIME = timedelta(minutes=15)
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"


@dataclass(frozen=True)
class TokenGrant:
    """What the IdP decided to grant, whatever the grant type."""

    subject: str
    client_id: str
    scope: str
    claims: Mapping[str, Any]  # Claims.to_jwt() (an organisation's without ssin)
    not_after: datetime | None = None  # e.g. the exchanged SAML assertion's end
    nonce: str | None = None
    auth_time: int | None = None


def _sign(platform: "Platform", payload: Mapping[str, Any], typ: str) -> str:
    key = signing_credential(platform.pki).private_key
    return jwt.encode(dict(payload), key, algorithm=SIGNING_ALGORITHM,
                      headers={"kid": signing_jwk(platform.pki)["kid"], "typ": typ})


def access_token(platform: "Platform", issuer: str, grant: TokenGrant) -> tuple[str, int]:
    """The signed access token and its lifetime in seconds."""
    now = platform.clock.now()
    expires = now + ACCESS_TOKEN_LIFETIME
    if grant.not_after is not None and grant.not_after < expires:
        expires = grant.not_after
    payload = {
        **grant.claims,
        "iss": issuer,
        "aud": ACCESS_TOKEN_AUDIENCE,
        "sub": grant.subject,
        "client_id": grant.client_id,
        "scope": grant.scope,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_urlsafe(18),
    }
    if grant.auth_time is not None:
        payload["auth_time"] = grant.auth_time
    return _sign(platform, payload, "at+jwt"), int((expires - now).total_seconds())


def id_token(platform: "Platform", issuer: str, grant: TokenGrant) -> str:
    """An OIDC ID token for the client (aud = client id), with the nonce it sent."""
    now = platform.clock.now()
    payload: dict[str, Any] = {
        "iss": issuer,
        "aud": grant.client_id,
        "azp": grant.client_id,
        "sub": grant.subject,
        "iat": int(now.timestamp()),
        "exp": int((now + ID_TOKEN_LIFETIME).timestamp()),
        "auth_time": grant.auth_time or int(now.timestamp()),
        **{k: v for k, v in grant.claims.items() if k in ("name", "amr", "role")},
    }
    if grant.nonce:
        payload["nonce"] = grant.nonce
    return _sign(platform, payload, "JWT")


def token_response(platform: "Platform", issuer: str, grant: TokenGrant, *, exchanged: bool = False) -> dict[str, Any]:
    """The token endpoint's success body (RFC 6749 §5.1; RFC 8693 §2.2.1 when ``exchanged``)."""
    token, expires_in = access_token(platform, issuer, grant)
    body: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": grant.scope}
    if exchanged:
        body["issued_token_type"] = ACCESS_TOKEN_TYPE
    if "openid" in grant.scope.split() and not exchanged and grant.claims.get("ssin"):
        body["id_token"] = id_token(platform, issuer, grant)
    return body
