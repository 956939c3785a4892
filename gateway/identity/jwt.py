"""Verification of JWT access tokens (RS256) into :class:`Claims`, and the
FastAPI dependency that turns ``Authorization: Bearer`` into a Principal.

Every check is made here, explicitly, against the injected clock (PyJWT's
own time checks read the wall clock, so they are switched off): one place
says why a token is refused, with a stable code.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable, Mapping

import jwt
from fastapi import HTTPException, Request

from gateway.domain.clock import Clock
from gateway.ehealth.oauth_keys import ACCESS_TOKEN_AUDIENCE, issuer_for, sandbox_jwks
from gateway.identity.claims import CLAIM_NISS, CLAIM_ROLE, Claims
from gateway.identity.errors import TokenRejected
from gateway.identity.principal import SYSTEM_NISS, Principal, Role

if TYPE_CHECKING:
    from gateway.services import Gateway

ALLOWED_ALGORITHMS: tuple[str, ...] = ("RS256",)
DEFAULT_LEEWAY = timedelta(seconds=30)
# An organisation acting machine to machine has no SSIN; its Principal carries this placeholder.
NO_PERSON_NISS = SYSTEM_NISS
ORGANISATION_ROLES = frozenset({Role.INSURER.value, Role.ORGANISATION.value})

Jwks = Mapping[str, Any]


class JwtVerifier:
    """Verifies one issuer's access tokens for one audience.

    ``jwks`` is a key set, or a callable returning the current one (asked
    again when a ``kid`` is unknown, so a key rotation needs no restart).
    Only asymmetric algorithms are accepted: ``none`` and ``HS*`` would let
    anyone who knows the public key forge tokens.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks: Jwks | Callable[[], Jwks],
        clock: Clock,
        *,
        leeway: timedelta = DEFAULT_LEEWAY,
        algorithms: tuple[str, ...] = ALLOWED_ALGORITHMS,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._jwks = jwks
        self.clock = clock
        self.leeway = leeway
        self.algorithms = algorithms

    def verify(self, token: str) -> Claims:
        """The claims of a valid access token, or :class:`TokenRejected`."""
        return claims_from_payload(self.verify_payload(token))

    def verify_payload(self, token: str) -> dict[str, Any]:
        """The verified payload, every check made (signature, issuer, audience, times)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("malformed", "The token is not a compact JWS (header.payload.signature).") from None
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenRejected(
                "alg-not-allowed", f"The token's algorithm {alg!r} is refused; only {', '.join(self.algorithms)} is accepted."
            )
        key = self._key(header.get("kid"))
        try:
            payload = jwt.decode(
                token, key, algorithms=[alg],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                         "verify_iss": False, "verify_sub": False, "verify_jti": False},
            )
        except jwt.InvalidSignatureError:
            raise TokenRejected("bad-signature", "The token's signature does not verify with the issuer's key.") from None
        except jwt.PyJWTError as exc:
            raise TokenRejected("malformed", f"The token cannot be read: {exc}.") from None
        self._check_issuer_audience(payload)
        self._check_times(payload)
        return payload

    def _keys(self) -> Jwks:
        return self._jwks() if callable(self._jwks) else self._jwks

    def _key(self, kid: object) -> Any:
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("unknown-kid", "The token's header names no key (kid).")
        for jwk in self._keys().get("keys", []):
            if jwk.get("kid") == kid:
                if jwk.get("kty") != "RSA":
                    raise TokenRejected("unknown-kid", f"Key {kid} is not an RSA key.")
                return jwt.PyJWK(dict(jwk), algorithm="RS256").key
        raise TokenRejected("unknown-kid", f"No key {kid!r} in the issuer's key set (JWKS); was the token issued here?")

    def _check_issuer_audience(self, payload: Mapping[str, Any]) -> None:
        if payload.get("iss") != self.issuer:
            raise TokenRejected("wrong-issuer", f"The token was issued by {payload.get('iss')!r}, not by {self.issuer!r}.")
        aud = payload.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.audience not in audiences:
            raise TokenRejected("wrong-audience", f"The token is meant for {aud!r}, not for {self.audience!r}.")

    def _check_times(self, payload: Mapping[str, Any]) -> None:
        now = self.clock.now().timestamp()
        leeway = self.leeway.total_seconds()
        exp = payload.get("exp")
        if not isinstance(exp, (int, float)):
            raise TokenRejected("missing-claim", "The token has no expiry (exp).")
        if now > exp + leeway:
            raise TokenRejected("expired", "The token has expired; ask the IdP for a new one.")
        for name in ("nbf", "iat"):
            value = payload.get(name)
            if value is not None and (not isinstance(value, (int, float)) or value > now + leeway):
                raise TokenRejected("not-yet-valid", f"The token is not valid yet ({name} is in the future); check clocks.")


def claims_from_payload(payload: Mapping[str, Any]) -> Claims:
    """The Claims of a verified access token.

    An organisation's machine-to-machine token names no person: it carries
    no ``ssin``, and its Claims get :data:`NO_PERSON_NISS`. Every other role
    must name its person.
    """
    role = payload.get(CLAIM_ROLE)
    if not isinstance(role, str):
        raise TokenRejected("invalid-claims", "The token has no role claim.")
    body = dict(payload)
    if CLAIM_NISS not in body:
        if role not in ORGANISATION_ROLES:
            raise TokenRejected("invalid-claims", f"A token with role {role!r} must name its person (ssin).")
        body[CLAIM_NISS] = NO_PERSON_NISS
    try:
        claims = Claims.from_jwt(body)
    except (KeyError, ValueError, TypeError) as exc:
        raise TokenRejected("invalid-claims", f"The token's claims cannot be read: {exc}.") from None
    extra = {k: str(body[k]) for k in ("sub", "client_id", "scope", "jti") if body.get(k) is not None}
    return dataclasses.replace(claims, extra=extra)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'").encode("ascii", "replace").decode("ascii")


def bearer_challenge(error: str | None = None, description: str | None = None, realm: str = "care-gateway") -> str:
    """An RFC 6750 ``WWW-Authenticate`` value; no error code when no token was sent (§3.1)."""
    parts = [f'realm="{realm}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{_quoted(description)}"')
    return "Bearer " + ", ".join(parts)


def bearer_token(request: Request) -> str:
    """The token of ``Authorization: Bearer …``, or a 401 that says what is missing."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise HTTPException(401, "An access token is required (Authorization: Bearer ...).",
                            headers={"WWW-Authenticate": bearer_challenge()})
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "Send the access token as 'Authorization: Bearer <token>'.",
                            headers={"WWW-Authenticate": bearer_challenge("invalid_request", "use the Bearer scheme")})
    return token.strip()


def bearer_principal(
    gw: "Gateway", *, issuer: str | None = None, audience: str | None = None
) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the Principal of a valid sandbox-IdP access token.

    The issuer defaults to the sandbox IdP at the request's own base URL
    (the IdP computes it the same way); the keys are read in-process from
    the sandbox PKI, never over HTTP.
    """
    wanted_audience = audience or ACCESS_TOKEN_AUDIENCE

    def jwks() -> Jwks:
        return sandbox_jwks(gw.pki)

    def dependency(request: Request) -> Principal:
        token = bearer_token(request)
        verifier = JwtVerifier(issuer or issuer_for(str(request.base_url)), wanted_audience, jwks, gw.clock)
        try:
            return verifier.verify(token).principal()
        except TokenRejected as exc:
            raise HTTPException(401, exc.message, headers={"WWW-Authenticate": bearer_challenge("invalid_token", exc.message)}) from None

    return dependency
