"""Signing in the return-to-work users (RP-S1), in two realms:

- ``bcss``: the social-security crossroads bank's own user management, a
  second OpenID Connect provider with its own realm, issuer, keys and
  claims (:data:`BCSS_CLAIMS`), for the regional services' users;
- ``ehealth``: eHealth's IdP (same issuer and keys as
  :mod:`gateway.ehealth.oauth`), for insurer, prevention-service and INAMI
  users, at its own sign-in endpoints under the M2M realm.

Both offer the sandbox sign-in of :mod:`gateway.ehealth.oauth_login`
(authorization code with PKCE, a persona and its sandbox code) to one
public client each, and issue RS256 access tokens for the audience
``care-gateway``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping
from urllib.parse import urlencode

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from gateway.ehealth.oauth_clients import PublicClient
from gateway.ehealth.oauth_codes import issue_code, redeem_code, valid_challenge
from gateway.ehealth.oauth_errors import NO_STORE, OAuthError
from gateway.ehealth.oauth_keys import ACCESS_TOKEN_AUDIENCE, REALM, SIGNING_ALGORITHM, issuer_for
from gateway.ehealth.oauth_login import LoginPage, verify_sandbox_code
from gateway.ehealth.oauth_tokens import TokenGrant, token_response
from gateway.ehealth.platform import PREFIX
from gateway.ehealth.rtw.personas import rtw_personas
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.sandbox.personas import Persona
from gateway.identity.claims import Claims
from gateway.identity.jwk import rsa_public_jwk

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

BCSS_REALM = "/bcss/auth/realms/UMAN"
BCSS_OIDC = BCSS_REALM + "/protocol/openid-connect"
EHEALTH_RTW = REALM + "/return-to-work"  # eHealth's sign-in endpoints for return-to-work users
BCSS_CLIENT = PublicClient("bcss-rtw-app", "Sandbox regional-service software (return to work)", frozenset())
EHEALTH_CLIENT = PublicClient("ehealth-rtw-app", "Sandbox insurer, prevention-service and INAMI software (return to work)",
                              frozenset())
# The crossroads bank's claim names (the gateway maps them with [[trust.oidc]] claims).
BCSS_CLAIMS = {
    "niss": "urn:be:ksz-bcss:ssin",
    "role": "urn:be:ksz-bcss:rtw-function",
    "organisation_cbe": "urn:be:ksz-bcss:enterprise-number",
    "display_name": "name",
    "authentication": "amr",
}
BCSS_AUTHENTICATION = "uman-bcss"
TOKEN_LIFETIME = timedelta(minutes=15)
SCOPES = frozenset({"openid", "profile", "return-to-work", "integrated-care"})
_KEYS = Path(__file__).resolve().parent.parent / "data" / "rtw"


def bcss_issuer(public_url: str) -> str:
    return public_url.rstrip("/") + PREFIX + BCSS_REALM


@dataclass(frozen=True)
class BcssKey:
    """The crossroads bank IdP's signing key (a sandbox key, shipped)."""

    private_pem: bytes
    certificate: x509.Certificate

    @property
    def jwk(self) -> dict[str, Any]:
        return rsa_public_jwk(self.certificate, alg=SIGNING_ALGORITHM)


_BCSS_KEY: list[BcssKey] = []


def bcss_key() -> BcssKey:
    if not _BCSS_KEY:
        _BCSS_KEY.append(BcssKey((_KEYS / "bcss-idp.key.pem").read_bytes(),
                                 x509.load_pem_x509_certificate((_KEYS / "bcss-idp.cert.pem").read_bytes())))
    return _BCSS_KEY[0]


def bcss_jwks() -> dict[str, Any]:
    return {"keys": [bcss_key().jwk]}


def _bcss_token(platform: "Platform", persona: Persona, client_id: str, scope: str, auth_time: int, nonce: str | None) -> dict[str, Any]:
    now = platform.clock.now()
    claims = {
        BCSS_CLAIMS["niss"]: persona.niss, BCSS_CLAIMS["role"]: persona.role.value,
        BCSS_CLAIMS["organisation_cbe"]: persona.organisation_cbe, "name": persona.display_name, "amr": [BCSS_AUTHENTICATION],
        "iss": bcss_issuer(platform.settings.public_url), "aud": ACCESS_TOKEN_AUDIENCE, "sub": persona.niss,
        "client_id": client_id, "scope": scope, "iat": int(now.timestamp()), "auth_time": auth_time,
        "exp": int((now + TOKEN_LIFETIME).timestamp()), "jti": secrets.token_urlsafe(18),
    }
    key = serialization.load_pem_private_key(bcss_key().private_pem, password=None)
    token = jwt.encode(claims, key, algorithm=SIGNING_ALGORITHM, headers={"kid": bcss_key().jwk["kid"], "typ": "at+jwt"})  # type: ignore[arg-type]
    return {"access_token": token, "token_type": "Bearer", "expires_in": int(TOKEN_LIFETIME.total_seconds()), "scope": scope}


def _ehealth_token(platform: "Platform", persona: Persona, client_id: str, scope: str, auth_time: int, nonce: str | None) -> dict[str, Any]:
    claims = Claims(persona.niss, persona.role, organisation_cbe=persona.organisation_cbe, display_name=persona.display_name,
                    authentication="otp").to_jwt()
    grant = TokenGrant(subject=persona.niss, client_id=client_id, scope=scope, claims=claims, nonce=nonce, auth_time=auth_time)
    return token_response(platform, issuer_for(platform.settings.public_url), grant)


@dataclass(frozen=True)
class _Realm:
    name: str  # bcss | ehealth
    base: str  # the path of its auth, login and token endpoints, under /ehealth
    client: PublicClient
    mint: Callable[..., dict[str, Any]]

    def personas(self, platform: "Platform") -> list[Persona]:
        sandbox = rtw_state(platform).sandbox
        return [p for key, p in rtw_personas(sandbox).items() if sandbox.staff[key].identity_provider == self.name]


BCSS = _Realm("bcss", BCSS_OIDC, BCSS_CLIENT, _bcss_token)
EHEALTH = _Realm("ehealth", EHEALTH_RTW, EHEALTH_CLIENT, _ehealth_token)


def _page(platform: "Platform", realm: _Realm, action: str, hidden: dict[str, str], status: int = 200,
          error: str | None = None) -> HTMLResponse:
    page = LoginPage(realm.client, action, hidden, realm.personas(platform), platform.clock.now(), error, None)
    return HTMLResponse(page.render(), status_code=status, headers={**NO_STORE, "X-Frame-Options": "DENY"})


def _error_page(message: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error</title></head>"
                        f"<body><p class=\"error\" role=\"alert\">{escape(message)}</p></body></html>", status_code=400,
                        headers=NO_STORE)


def _request(realm: _Realm, params: Mapping[str, str]) -> dict[str, str]:
    """The checked authorization request's values; a page says what is wrong (never a redirect to an unchecked URI)."""
    if params.get("client_id") != realm.client.client_id:
        raise OAuthError("invalid_client", f"Unknown client_id; this realm's client is {realm.client.client_id}.")
    if not realm.client.allows_redirect(params.get("redirect_uri") or ""):
        raise OAuthError("invalid_request", "redirect_uri must be a loopback http URI (http://127.0.0.1:{port}/...).")
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "Only response_type=code is supported.")
    if params.get("code_challenge_method") != "S256" or not valid_challenge(params.get("code_challenge") or ""):
        raise OAuthError("invalid_request", "PKCE is required: code_challenge (S256) of 43 characters.")
    scope = " ".join(dict.fromkeys((params.get("scope") or "return-to-work").split()))
    if not set(scope.split()) <= SCOPES:
        raise OAuthError("invalid_scope", f"Scopes offered: {', '.join(sorted(SCOPES))}.")
    values = {k: params[k] for k in ("client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method",
                                     "state", "nonce") if params.get(k)}
    values["scope"] = scope
    return values


def _routes(api: APIRouter, platform: "Platform", realm: _Realm) -> None:
    login_path = realm.base + "/login"

    @api.get(realm.base + "/auth", summary=f"{realm.name}: sign-in page (return to work)", response_model=None)
    def authorize(request: Request) -> Response:
        try:
            hidden = _request(realm, dict(request.query_params))
        except OAuthError as error:
            return _error_page(error.description)
        return _page(platform, realm, str(request.base_url).rstrip("/") + PREFIX + login_path, hidden)

    @api.post(login_path, summary=f"{realm.name}: sign-in form (return to work)", response_model=None)
    async def login(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            hidden = _request(realm, form)
        except OAuthError as error:
            return _error_page(error.description)
        action = str(request.base_url).rstrip("/") + PREFIX + login_path
        persona = next((p for p in realm.personas(platform) if p.key == form.get("persona")), None)
        if persona is None:
            return _page(platform, realm, action, hidden, 400, "Choose one of the personas listed.")
        if not verify_sandbox_code(persona.key, form.get("otp") or "", platform.clock.now()):
            return _page(platform, realm, action, hidden, 400, "The sandbox code is wrong or expired.")
        code = issue_code(platform, client_id=realm.client.client_id, redirect_uri=hidden["redirect_uri"],
                          code_challenge=hidden["code_challenge"], scope=hidden["scope"], nonce=hidden.get("nonce"),
                          subject=persona.niss, claims={"persona": persona.key})
        query = urlencode({k: v for k, v in (("code", code), ("state", hidden.get("state"))) if v})
        return RedirectResponse(f"{hidden['redirect_uri']}?{query}", status_code=303)

    @api.post(realm.base + "/token", summary=f"{realm.name}: token endpoint (return to work)")
    async def token(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            if form.get("grant_type") != "authorization_code":
                raise OAuthError("unsupported_grant_type", "Only authorization_code is supported here.")
            if form.get("client_id") != realm.client.client_id:
                raise OAuthError("invalid_client", f"Unknown client_id; this realm's client is {realm.client.client_id}.")
            redeemed = redeem_code(platform, code=form.get("code") or "", client_id=realm.client.client_id,
                                   redirect_uri=form.get("redirect_uri") or "", code_verifier=form.get("code_verifier"))
            persona = next((p for p in realm.personas(platform) if p.key == redeemed.claims.get("persona")), None)
            if persona is None:
                raise OAuthError("invalid_grant", "The code was not issued by this realm.")
            body = realm.mint(platform, persona, realm.client.client_id, redeemed.scope, redeemed.auth_time, redeemed.nonce)
        except OAuthError as error:
            return error.response()
        return JSONResponse(body, headers=NO_STORE)


def router(platform: "Platform") -> APIRouter:
    """Both realms' routes, to mount under ``/ehealth``."""
    api = APIRouter(tags=["return to work: sign-in (eHealth and the crossroads bank's IdP, sandbox)"])

    @api.get(BCSS_REALM + "/.well-known/openid-configuration", summary="crossroads bank IdP: discovery")
    def discovery(request: Request) -> dict[str, Any]:
        here = str(request.base_url).rstrip("/") + PREFIX + BCSS_OIDC
        return {
            "issuer": bcss_issuer(platform.settings.public_url),
            "authorization_endpoint": here + "/auth", "token_endpoint": here + "/token", "jwks_uri": here + "/certs",
            "grant_types_supported": ["authorization_code"], "response_types_supported": ["code"],
            "scopes_supported": sorted(SCOPES), "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"], "id_token_signing_alg_values_supported": [SIGNING_ALGORITHM],
            "subject_types_supported": ["public"], "claims_supported": sorted(BCSS_CLAIMS.values()),
        }

    @api.get(BCSS_OIDC + "/certs", summary="crossroads bank IdP: signing keys (JWKS)")
    def certs() -> dict[str, Any]:
        return bcss_jwks()

    _routes(api, platform, BCSS)
    _routes(api, platform, EHEALTH)
    from gateway.ehealth.rtw import sts as bcss_sts  # the crossroads bank's STS, for its users' SOAP calls

    api.include_router(bcss_sts.router(platform))
    return api
