"""Authorization codes with PKCE (RFC 7636, S256 only).

A code lives 60 s, is stored as its hash, and is spent by its first
presentation to the token endpoint, even a wrong one: a guessed verifier
gets one try, and a replayed code (RFC 6749 §4.1.2) never works.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import delete, select, update

from gateway.ehealth.oauth_errors import OAuthError
from gateway.ehealth.oauth_model import OAuthAuthorizationCode
from gateway.identity.jwk import b64url

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

CODE_LIFETIME = timedelta(seconds=60)
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")  # base64url of a SHA-256, no padding


def s256(verifier: str) -> str:
    """The S256 code challenge of a verifier: base64url(SHA-256(ascii(verifier)))."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def valid_challenge(challenge: str) -> bool:
    return bool(_CHALLENGE.match(challenge))


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RedeemedCode:
    subject: str
    client_id: str
    scope: str
    claims: dict[str, Any]
    nonce: str | None
    auth_time: int


def issue_code(
    platform: "Platform", *, client_id: str, redirect_uri: str, code_challenge: str, scope: str, nonce: str | None,
    subject: str, claims: Mapping[str, Any],
) -> str:
    """A fresh code for what the user just authenticated; only its hash is kept."""
    code = secrets.token_urlsafe(32)
    now = int(platform.clock.now().timestamp())
    with platform.db.transaction() as session:
        session.execute(delete(OAuthAuthorizationCode).where(OAuthAuthorizationCode.expires_at < now - 3600))
        session.add(OAuthAuthorizationCode(
            code_hash=_hash(code), client_id=client_id, redirect_uri=redirect_uri, code_challenge=code_challenge,
            scope=scope, nonce=nonce, subject=subject, claims=dict(claims), auth_time=now,
            expires_at=now + int(CODE_LIFETIME.total_seconds()), used_at=None,
        ))
    return code


def redeem_code(platform: "Platform", *, code: str, client_id: str, redirect_uri: str, code_verifier: str | None) -> RedeemedCode:
    """Spend the code, then check it was this client's, for this redirect URI, and the verifier."""
    now = int(platform.clock.now().timestamp())
    digest = _hash(code)
    with platform.db.transaction() as session:
        spent = session.execute(
            update(OAuthAuthorizationCode)
            .where(OAuthAuthorizationCode.code_hash == digest, OAuthAuthorizationCode.used_at.is_(None))
            .values(used_at=now)
        ).rowcount
        row = session.execute(select(OAuthAuthorizationCode).where(OAuthAuthorizationCode.code_hash == digest)).scalar_one_or_none()
    if row is None:
        raise OAuthError("invalid_grant", "Unknown authorization code.")
    if spent != 1:
        raise OAuthError("invalid_grant", "This authorization code was already used; start the sign-in again.")
    if now > row.expires_at:
        raise OAuthError("invalid_grant", f"The authorization code expired (codes live {int(CODE_LIFETIME.total_seconds())} s).")
    if row.client_id != client_id:
        raise OAuthError("invalid_grant", "The authorization code was issued to another client.")
    if row.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri differs from the one of the authorization request.")
    if not code_verifier or not _VERIFIER.match(code_verifier):
        raise OAuthError("invalid_grant", "A code_verifier of 43 to 128 unreserved characters is required (PKCE).")
    if not secrets.compare_digest(s256(code_verifier), row.code_challenge):
        raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge (S256).")
    return RedeemedCode(row.subject, row.client_id, row.scope, dict(row.claims), row.nonce, row.auth_time)
