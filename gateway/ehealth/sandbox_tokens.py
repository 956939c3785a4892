"""Getting an access token as a sandbox persona, the way a vendor's software
would: patients and PSI staff sign in on the IdP's login page
(authorization code with PKCE); providers and pharmacists get an STS SAML
token and exchange it (RFC 8693, with proof of the holder-of-key); insurers
use client_credentials with their organisation key. Tests, examples and
the conformance runner use this; nothing here bypasses a check."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from gateway.domain.clock import Clock, SystemClock
from gateway.ehealth.pki import Credential, SandboxPki
from gateway.ehealth.sandbox.personas import Persona
from gateway.identity.jwk import jwk_thumbprint
from gateway.domain.principal import Role

REALM = "/ehealth/auth/realms/M2M"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REDIRECT = "http://127.0.0.1:8765/callback"


class TokenError(RuntimeError):
    """The IdP refused; the message carries its error and description."""


def _discovery(http: httpx.Client, base_url: str) -> dict[str, Any]:
    response = http.get(f"{base_url.rstrip('/')}{REALM}/.well-known/openid-configuration")
    response.raise_for_status()
    return response.json()


def _token(response: httpx.Response) -> str:
    if response.status_code != 200:
        raise TokenError(f"token endpoint said {response.status_code}: {response.text}")
    return str(response.json()["access_token"])


def client_assertion(credential: Credential, client_id: str, audience: str, clock: Clock) -> str:
    """A private_key_jwt client assertion (RS256, kid = key thumbprint)."""
    now = int(clock.now().timestamp())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 60, "jti": secrets.token_urlsafe(16)}
    return jwt.encode(claims, credential.private_key, algorithm="RS256",
                      headers={"kid": jwk_thumbprint(credential.certificate.public_key())})


def _sign_in(http: httpx.Client, endpoints: dict[str, Any], client_id: str, persona: Persona) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid integrated-care",
              "state": secrets.token_hex(8), "code_challenge": challenge, "code_challenge_method": "S256"}
    page = http.get(endpoints["authorization_endpoint"], params=params)
    page.raise_for_status()
    form = re.search(r'<form method="post" action="([^"]+)"', page.text)
    row = re.search(rf'<tr data-persona="{re.escape(persona.key)}">.*?<code class="sandbox-code">(\d{{6}})</code>', page.text, re.S)
    if not form or not row:
        raise TokenError(f"the sandbox login page does not offer {persona.key}")
    hidden = {unescape(n): unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}
    answer = http.post(unescape(form.group(1)), data={**hidden, "persona": persona.key, "otp": row.group(1), "action": "login"})
    if answer.status_code != 303:
        raise TokenError(f"sign-in of {persona.key} refused: {answer.status_code}")
    code = parse_qs(urlsplit(answer.headers["location"]).query).get("code")
    if not code:
        raise TokenError(f"sign-in of {persona.key} returned no code: {answer.headers['location']}")
    return _token(http.post(endpoints["token_endpoint"], data={
        "grant_type": "authorization_code", "client_id": client_id, "code": code[0], "redirect_uri": REDIRECT,
        "code_verifier": verifier}))


def persona_access_token(
    base_url: str, pki: SandboxPki, persona: Persona, *, clock: Clock | None = None, http: httpx.Client | None = None,
    lifetime: timedelta = timedelta(minutes=15),
) -> str:
    """An access token (RS256 JWT) for ``persona`` from the sandbox IdP at ``base_url``."""
    clock = clock or SystemClock()
    client = http or httpx.Client(timeout=30)
    try:
        endpoints = _discovery(client, base_url)
        token_endpoint = endpoints["token_endpoint"]
        if persona.role in (Role.PROVIDER, Role.PHARMACIST):
            from gateway.ehealth.sts_client import persona_token

            saml = persona_token(base_url, pki, persona, clock=clock, lifetime=lifetime, http=client)
            client_id = f"ssin-{persona.niss}"
            return _token(client.post(token_endpoint, data={
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token_type": "urn:ietf:params:oauth:token-type:saml1",
                "subject_token": base64.urlsafe_b64encode(saml).rstrip(b"=").decode(),
                "client_assertion_type": JWT_BEARER,
                "client_assertion": client_assertion(pki.persona(persona.key), client_id, token_endpoint, clock),
            }))
        if persona.role is Role.INSURER:
            client_id = f"cbe-{persona.organisation_cbe}"
            return _token(client.post(token_endpoint, data={
                "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
                "client_assertion": client_assertion(pki.organisation(persona.organisation_nihii or ""), client_id, token_endpoint, clock),
            }))
        client_id = "sandbox-citizen-app" if persona.role is Role.PATIENT else "sandbox-practice-app"
        return _sign_in(client, endpoints, client_id, persona)
    finally:
        if http is None:
            client.close()
