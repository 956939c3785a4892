"""Tokens and keys of the sandbox personas, got the way a vendor gets them:
from the identity provider and STS at ``--idp`` over HTTP
(:mod:`gateway.ehealth.sandbox_tokens`, :mod:`gateway.ehealth.sts_client`).
Each persona's token is fetched once per run; named tokens (a suite's
``tokens:``) are fetched when the run starts, so that a short lifetime runs
out while other suites run rather than in a wait of its own."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from lxml import etree

from gateway.conformance.suites.model import TokenSpec
from gateway.domain.clock import Clock
from gateway.identity.xml import parse_untrusted

from gateway.namespaces import SAML1_NS as SAML_NS


@dataclass(frozen=True)
class Token:
    kind: str  # access | saml
    persona: str
    value: bytes | str  # the SAML assertion's bytes, or the access token
    expires: datetime | None


class TokenBroker:
    def __init__(self, idp: str, pki: Any, personas: dict[str, Any], clock: Clock) -> None:
        self.idp = idp
        self.pki = pki
        self.personas = personas
        self.clock = clock
        self._tokens: dict[tuple[str, str], Token] = {}
        self.named: dict[str, Token] = {}
        self._http = httpx.Client(timeout=60)

    def close(self) -> None:
        self._http.close()

    def persona(self, key: str) -> Any:
        if key not in self.personas:
            raise KeyError(f"no sandbox persona {key!r} (see: care-gateway sandbox personas)")
        return self.personas[key]

    def credential(self, key: str) -> Any:
        """The persona's sandbox key and certificate (``private_key``, ``certificate``)."""
        return self.pki.persona(self.persona(key).key)

    def access(self, key: str) -> str:
        """The persona's OAuth access token (cached for the run)."""
        token = self._tokens.get(("access", key))
        if token is None:
            token = self._fetch(TokenSpec(key, key, "access", 15 * 60))
            self._tokens[("access", key)] = token
        return str(token.value)

    def saml(self, key: str) -> bytes:
        """The persona's SAML holder-of-key assertion from the STS (cached for the run)."""
        token = self._tokens.get(("saml", key))
        if token is None:
            token = self._fetch(TokenSpec(key, key, "saml", 60 * 60))
            self._tokens[("saml", key)] = token
        return bytes(token.value)  # type: ignore[arg-type]

    def fetch_named(self, specs: list[TokenSpec]) -> None:
        for spec in specs:
            if spec.name not in self.named:
                self.named[spec.name] = self._fetch(spec)

    def token(self, name: str) -> Token:
        if name not in self.named:
            raise KeyError(f"no token named {name!r}: declare it under the suite's tokens:")
        return self.named[name]

    def _fetch(self, spec: TokenSpec) -> Token:
        persona = self.persona(spec.persona)
        lifetime = timedelta(seconds=spec.lifetime_seconds)
        from gateway.domain.rtw.roles import is_rtw_role

        if spec.kind == "saml":
            from gateway.ehealth.sts_client import persona_token

            if is_rtw_role(persona.role):  # return to work: the STS where that partner signs in (RP-S1)
                from gateway.ehealth.rtw.tokens import rtw_sts_token

                assertion = rtw_sts_token(self.idp, self.pki, persona, clock=self.clock, lifetime=lifetime, http=self._http)
            else:
                assertion = persona_token(self.idp, self.pki, persona, clock=self.clock, lifetime=lifetime, http=self._http)
            return Token("saml", spec.persona, assertion, saml_expiry(assertion))

        if is_rtw_role(persona.role):  # return to work: the sign-in of the IdP where that partner signs in (RP-S1)
            from gateway.ehealth.rtw.tokens import rtw_access_token

            access = rtw_access_token(self.idp, persona, http=self._http)
            return Token("access", spec.persona, access, jwt_expiry(access))
        from gateway.ehealth.sandbox_tokens import persona_access_token

        access = persona_access_token(self.idp, self.pki, persona, clock=self.clock, http=self._http, lifetime=lifetime)
        return Token("access", spec.persona, access, jwt_expiry(access))


def saml_expiry(assertion: bytes) -> datetime | None:
    """``Conditions/@NotOnOrAfter`` of a SAML 1.1 assertion (read, not verified: the target verifies)."""
    root = parse_untrusted(assertion)  # what a target's STS sent: no DTD, in any encoding
    value = root.find(f"{{{SAML_NS}}}Conditions")
    stamp = value.get("NotOnOrAfter") if value is not None else None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


def jwt_expiry(token: str) -> datetime | None:
    """``exp`` of a JWT (read, not verified)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), tz=timezone.utc)
    except (IndexError, KeyError, ValueError):
        return None


def mutate_jwt(token: str, how: str) -> str:
    """A token the target must refuse: claims changed under the same
    signature, ``alg: none`` without a signature, or the signature removed."""
    header, payload, _signature = (token.split(".") + ["", ""])[:3]

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()

    def decoded(part: str) -> dict[str, Any]:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    if how == "tamper-claims":
        claims = decoded(payload)
        claims["exp"] = int(claims.get("exp", 0)) + 24 * 3600  # a day more, same signature
        return f"{header}.{b64(claims)}.{_signature}"
    if how == "alg-none":
        return f"{b64({**decoded(header), 'alg': 'none'})}.{payload}."
    if how == "strip-signature":
        return f"{header}.{payload}."
    raise ValueError(f"unknown token mutation {how!r}")
