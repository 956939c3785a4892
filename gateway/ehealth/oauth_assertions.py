"""``private_key_jwt`` client authentication (RFC 7523 §2.2, OIDC Core §9).

The client signs a short JWT (iss = sub = its client id, aud = the token
endpoint, exp, iat, jti) with its private key. We check the signature with
the key we hold for that client, the times against the injected clock, and
refuse a second use of a ``jti`` until the assertion would have expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable, Mapping

import jwt
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from gateway.ehealth.oauth_clients import ClientKey
from gateway.ehealth.oauth_errors import OAuthError
from gateway.ehealth.oauth_model import OAuthUsedAssertion

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("RS256",)
MAX_LIFETIME = timedelta(minutes=10)  # bounds how long a jti must be remembered
LEEWAY = timedelta(seconds=30)


@dataclass(frozen=True)
class AuthenticatedClient:
    client_id: str
    jti: str
    claims: dict[str, Any]


def has_client_assertion(form: Mapping[str, str]) -> bool:
    return bool(form.get("client_assertion") or form.get("client_assertion_type"))


def authenticate_client(
    platform: "Platform",
    form: Mapping[str, str],
    *,
    audiences: tuple[str, ...],
    resolve: Callable[[str], ClientKey | None],
) -> AuthenticatedClient:
    """Verify the request's client assertion; ``resolve`` gives the key of a client id.

    Every refusal is ``invalid_client`` (401): the caller learns what to fix,
    never whether another client's key would have worked.
    """
    if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
        raise OAuthError("invalid_client", f"Authenticate with private_key_jwt: client_assertion_type={JWT_BEARER} "
                                           "and a signed client_assertion.")
    assertion = form["client_assertion"]
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise OAuthError("invalid_client", "The client_assertion is not a signed JWT.") from None
    if header.get("alg") not in ASSERTION_ALGORITHMS:
        raise OAuthError("invalid_client", f"The client_assertion's algorithm {header.get('alg')!r} is refused; sign with RS256.")
    client_id = unverified.get("iss")
    if not isinstance(client_id, str) or not client_id:
        raise OAuthError("invalid_client", "The client_assertion has no issuer (iss = your client id).")
    if form.get("client_id") and form["client_id"] != client_id:
        raise OAuthError("invalid_client", "client_id and the client_assertion's issuer differ.")
    key = resolve(client_id)
    if key is None:
        raise OAuthError("invalid_client", f"Unknown client {client_id!r}; organisations use 'cbe-' followed by their 10-digit CBE number.")
    if header.get("kid") != key.kid:
        raise OAuthError("invalid_client", f"Unknown key id {header.get('kid')!r} for {client_id}; the kid is the RFC 7638 "
                                           "thumbprint of your sandbox certificate's public key.")
    try:
        claims = jwt.decode(assertion, key.public_key, algorithms=list(ASSERTION_ALGORITHMS),
                            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                                     "verify_iss": False, "verify_sub": False, "verify_jti": False})
    except jwt.InvalidSignatureError:
        raise OAuthError("invalid_client", f"The client_assertion's signature does not verify with the key of {client_id}.") from None
    except jwt.PyJWTError as exc:
        raise OAuthError("invalid_client", f"The client_assertion cannot be read: {exc}.") from None
    _check_claims(platform, claims, client_id, audiences)
    jti = str(claims["jti"])
    _spend_jti(platform, client_id, jti, int(claims["exp"]))
    return AuthenticatedClient(client_id, jti, claims)


def _check_claims(platform: "Platform", claims: Mapping[str, Any], client_id: str, audiences: tuple[str, ...]) -> None:
    if claims.get("sub") != client_id:
        raise OAuthError("invalid_client", "The client_assertion's sub must equal its iss (your client id).")
    aud = claims.get("aud")
    if not any(a in audiences for a in (aud if isinstance(aud, list) else [aud])):
        raise OAuthError("invalid_client", f"The client_assertion's audience must be the token endpoint {audiences[0]}.")
    now = platform.clock.now().timestamp()
    leeway = LEEWAY.total_seconds()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, (int, float)) or not isinstance(iat, (int, float)):
        raise OAuthError("invalid_client", "The client_assertion needs exp and iat (seconds since the epoch).")
    if now > exp + leeway:
        raise OAuthError("invalid_client", "The client_assertion has expired; sign a fresh one for each request.")
    if iat > now + leeway or (isinstance(claims.get("nbf"), (int, float)) and claims["nbf"] > now + leeway):
        raise OAuthError("invalid_client", "The client_assertion is not valid yet (iat or nbf in the future); check your clock.")
    if exp - now > MAX_LIFETIME.total_seconds():
        raise OAuthError("invalid_client", f"The client_assertion lives too long; exp may be at most "
                                           f"{int(MAX_LIFETIME.total_seconds())} s ahead.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 128:
        raise OAuthError("invalid_client", "The client_assertion needs a unique jti (1 to 128 characters).")


def _spend_jti(platform: "Platform", client_id: str, jti: str, exp: int) -> None:
    """Record the jti, refusing it if already recorded; forget expired ones on the way."""
    now = int(platform.clock.now().timestamp())
    keep_until = exp + int(LEEWAY.total_seconds())
    try:
        with platform.db.transaction() as session:
            session.execute(delete(OAuthUsedAssertion).where(OAuthUsedAssertion.expires_at < now))
            session.add(OAuthUsedAssertion(client_id=client_id, jti=jti, expires_at=keep_until))
    except IntegrityError:
        raise OAuthError("invalid_client", "This client_assertion (jti) was already used; sign a new one per request.") from None
