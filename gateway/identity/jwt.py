"""Verification of one issuer's JWT access tokens into :class:`Claims`.

Every check is made here, explicitly, against the injected clock (PyJWT's
own time checks read the wall clock, so they are switched off): one place
says why a token is refused, with a stable code. Which issuers exist and
where their keys come from is configuration (:mod:`gateway.identity.oidc`
picks the issuer of a token and fetches its keys).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any, Callable, Mapping, Protocol, Sequence

import jwt

from gateway.domain.clock import Clock
from gateway.identity.claims import CLAIM_NISS, CLAIM_ROLE, DEFAULT_CLAIMS, Claims, ClaimsMapping
from gateway.identity.errors import TokenRejected
from gateway.domain.principal import SYSTEM_NISS, Principal, Role

# Asymmetric signatures only: with ``none`` or ``HS*`` anyone who knows the
# public key (it is published) could forge a token.
ALLOWED_ALGORITHMS: tuple[str, ...] = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
DEFAULT_LEEWAY = timedelta(seconds=30)
# An organisation acting machine to machine has no SSIN; its Principal carries this placeholder.
NO_PERSON_NISS = SYSTEM_NISS
ORGANISATION_ROLES = frozenset({Role.INSURER.value, Role.ORGANISATION.value})

Jwks = Mapping[str, Any]


class KeySource(Protocol):
    """Where an issuer's public keys come from (:class:`gateway.identity.oidc.JwksSource`
    fetches them over HTTP); ``None`` when the key set has no such ``kid``."""

    def key(self, kid: str) -> Mapping[str, Any] | None: ...


class StaticKeys:
    """A key set given in memory, or a callable asked for the current one at
    each lookup (so a rotation needs no restart)."""

    def __init__(self, jwks: Jwks | Callable[[], Jwks]) -> None:
        self._jwks = jwks

    def key(self, kid: str) -> Mapping[str, Any] | None:
        keys = self._jwks() if callable(self._jwks) else self._jwks
        return next((k for k in keys.get("keys", []) if k.get("kid") == kid), None)


def _as_source(jwks: Jwks | Callable[[], Jwks] | KeySource) -> KeySource:
    if isinstance(jwks, Mapping) or callable(jwks):
        return StaticKeys(jwks)
    return jwks


class JwtVerifier:
    """Verifies one issuer's access tokens for its accepted audiences.

    ``jwks`` is a :class:`KeySource`, a key set, or a callable returning the
    current one. ``claims`` says which claims carry the facts of a Principal.
    """

    def __init__(
        self,
        issuer: str,
        audience: str | Sequence[str],
        jwks: Jwks | Callable[[], Jwks] | KeySource,
        clock: Clock,
        *,
        leeway: timedelta = DEFAULT_LEEWAY,
        algorithms: Sequence[str] = ALLOWED_ALGORITHMS,
        claims: ClaimsMapping = DEFAULT_CLAIMS,
    ) -> None:
        unsafe = [a for a in algorithms if a[:2] not in _KEY_TYPES]
        if unsafe:
            raise ValueError(f"only asymmetric JWS algorithms may be accepted, not {', '.join(unsafe)}")
        self.issuer = issuer
        self.audiences = (audience,) if isinstance(audience, str) else tuple(audience)
        if not self.audiences:
            raise ValueError(f"issuer {issuer}: at least one accepted audience is needed")
        self.keys = _as_source(jwks)
        self.clock = clock
        self.leeway = leeway
        self.algorithms = tuple(algorithms)
        self.claims = claims

    @property
    def audience(self) -> str:
        return self.audiences[0]

    def verify(self, token: str) -> Claims:
        """The claims of a valid access token, or :class:`TokenRejected`."""
        return claims_from_payload(self.verify_payload(token), self.claims)

    def principal(self, token: str) -> Principal:
        return self.verify(token).principal()

    def verify_payload(self, token: str) -> dict[str, Any]:
        """The verified payload, every check made (signature, issuer, audience, times)."""
        header = unverified_header(token)
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenRejected(
                "alg-not-allowed", f"The token's algorithm {alg!r} is refused; accepted: {', '.join(self.algorithms)}."
            )
        key = self._key(header.get("kid"), alg)
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

    def _key(self, kid: object, alg: str) -> Any:
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("unknown-kid", "The token's header names no key (kid).")
        jwk = self.keys.key(kid)
        if jwk is None:
            raise TokenRejected("unknown-kid", f"No key {kid!r} in the key set (JWKS) of {self.issuer}; was the token "
                                "issued there, and is the key still published?")
        if jwk.get("kty") != _KEY_TYPES[alg[:2]] or jwk.get("alg", alg) != alg or jwk.get("use", "sig") != "sig":
            raise TokenRejected("unknown-kid", f"Key {kid} of {self.issuer} is not a {_KEY_TYPES[alg[:2]]} signing key "
                                f"for {alg}.")
        try:
            return jwt.PyJWK(dict(jwk), algorithm=alg).key
        except jwt.PyJWTError as exc:
            raise TokenRejected("unknown-kid", f"Key {kid} of {self.issuer} cannot be used: {exc}.") from None

    def _check_issuer_audience(self, payload: Mapping[str, Any]) -> None:
        if payload.get("iss") != self.issuer:
            raise TokenRejected("wrong-issuer", f"The token was issued by {payload.get('iss')!r}, not by {self.issuer!r}.")
        aud = payload.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if not any(a in audiences for a in self.audiences):
            raise TokenRejected("wrong-audience", f"The token is meant for {aud!r}, not for "
                                f"{' or '.join(repr(a) for a in self.audiences)}.")

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


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, read before anything is trusted (to pick a key)."""
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRejected("malformed", "The token is not a compact JWS (header.payload.signature).") from None


def unverified_issuer(token: str) -> object:
    """The ``iss`` claim, read before anything is trusted (to pick the issuer)."""
    unverified_header(token)
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        raise TokenRejected("malformed", "The token's payload is not a JSON object.") from None


def claims_from_payload(payload: Mapping[str, Any], mapping: ClaimsMapping = DEFAULT_CLAIMS) -> Claims:
    """The Claims of a verified access token, read through ``mapping``.

    An organisation's machine-to-machine token names no person: it carries
    no SSIN, and its Claims get :data:`NO_PERSON_NISS`. Every other role
    must name its person.
    """
    body = mapping.normalise(payload)
    role = body.get(CLAIM_ROLE)
    if not isinstance(role, str):
        raise TokenRejected("invalid-claims", f"The token has no role claim ({mapping.role}).")
    if CLAIM_NISS not in body:
        if role not in ORGANISATION_ROLES:
            raise TokenRejected("invalid-claims", f"A token with role {role!r} must name its person ({mapping.niss}).")
        body[CLAIM_NISS] = NO_PERSON_NISS
    try:
        claims = Claims.from_jwt(body)
    except (KeyError, ValueError, TypeError) as exc:
        raise TokenRejected("invalid-claims", f"The token's claims cannot be read: {exc}.") from None
    extra = {k: str(body[k]) for k in ("sub", "client_id", "scope", "jti") if body.get(k) is not None}
    return dataclasses.replace(claims, extra=extra)
