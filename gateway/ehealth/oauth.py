"""The simulated eHealth IAM (OAuth2 / OpenID Connect), Keycloak-shaped like
the real one, at ``/ehealth/auth/realms/M2M/...``.

- discovery and JWKS;
- token endpoint: ``client_credentials`` (organisations, ``private_key_jwt``),
  ``authorization_code`` (public sandbox apps, PKCE S256), token exchange of
  an STS SAML 1.1 assertion (RFC 8693, holder-of-key proven by the client
  assertion);
- authorization endpoint: the sandbox login page (persona + sandbox code);
- userinfo.

The issuer is computed from the request's base URL, so the same sandbox
answers on any host name it is reached by. See ``docs/oauth.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from gateway.ehealth.oauth_assertions import authenticate_client, has_client_assertion
from gateway.ehealth.oauth_clients import SANDBOX_CLIENTS, ClientKey, PublicClient, organisation_client
from gateway.ehealth.oauth_codes import issue_code, redeem_code, valid_challenge
from gateway.ehealth.oauth_errors import NO_STORE, OAuthError
from gateway.ehealth.oauth_exchange import TOKEN_EXCHANGE, exchange_saml
from gateway.ehealth.oauth_keys import ACCESS_TOKEN_AUDIENCE, OIDC, REALM, SIGNING_ALGORITHM, issuer_for, sandbox_jwks
from gateway.ehealth.oauth_login import LoginPage, LoginRefused, identity_claims, idp_personas, verify_sandbox_code
from gateway.ehealth.oauth_tokens import TokenGrant, token_response
from gateway.identity.errors import TokenRejected
from gateway.identity.bearer import BearerMissing, bearer_challenge, read_bearer
from gateway.identity.jwt import JwtVerifier

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

CLIENT_CREDENTIALS = "client_credentials"
AUTHORIZATION_CODE = "authorization_code"
SCOPES = ("openid", "profile", "integrated-care")
DEFAULT_SCOPE = "integrated-care"
MACHINE_SCOPES = frozenset({"integrated-care"})
LOGIN_ACTION = REALM + "/login-actions/authenticate"
USERINFO_CLAIMS = ("sub", "ssin", "role", "quality", "nihii", "organisation_nihii", "organisation_cbe", "name", "amr")


def router(platform: "Platform") -> APIRouter:
    """The IdP's routes, to mount under ``/ehealth``."""
    api = APIRouter(tags=["ehealth: OAuth2 / OpenID Connect (sandbox IdP)"])

    @api.get(REALM + "/.well-known/openid-configuration", summary="OpenID Connect discovery")
    def discovery(request: Request) -> dict[str, Any]:
        here = _realm_here(request)
        return {
            "issuer": _issuer(platform),
            "authorization_endpoint": here + "/protocol/openid-connect/auth",
            "token_endpoint": here + "/protocol/openid-connect/token",
            "userinfo_endpoint": here + "/protocol/openid-connect/userinfo",
            "jwks_uri": here + "/protocol/openid-connect/certs",
            "grant_types_supported": [AUTHORIZATION_CODE, CLIENT_CREDENTIALS, TOKEN_EXCHANGE],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "subject_types_supported": ["public"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
            "token_endpoint_auth_signing_alg_values_supported": [SIGNING_ALGORITHM],
            "id_token_signing_alg_values_supported": [SIGNING_ALGORITHM],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "claims_supported": list(USERINFO_CLAIMS) + ["client_id", "scope"],
        }

    @api.get(OIDC + "/certs", summary="The IdP's signing keys (JWKS)")
    def certs() -> dict[str, Any]:
        return sandbox_jwks(platform.pki)

    @api.post(OIDC + "/token", summary="Token endpoint")
    async def token(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            body = _token(platform, request, form)
        except OAuthError as error:
            return error.response()
        return JSONResponse(body, headers=NO_STORE)

    @api.get(OIDC + "/auth", summary="Authorization endpoint (sandbox login page)", response_model=None)
    def authorize(request: Request) -> Response:
        return _authorize(platform, request, dict(request.query_params))

    @api.post(LOGIN_ACTION, summary="Sandbox login form", response_model=None, name="oauth_login")
    async def login(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        return _login(platform, request, form)

    @api.get(OIDC + "/userinfo", summary="OpenID Connect userinfo", response_model=None)
    def userinfo(request: Request) -> Response:
        return _userinfo(platform, request)

    @api.post(OIDC + "/userinfo", summary="OpenID Connect userinfo (POST)", response_model=None)
    def userinfo_post(request: Request) -> Response:
        return _userinfo(platform, request)

    return api


def _issuer(platform: "Platform") -> str:
    """The configured issuer (from the platform's public URL), never a
    request's ``Host``: relying parties are configured with it."""
    return issuer_for(platform.settings.public_url)


def _realm_here(request: Request) -> str:
    """The realm's URL as this request reached it: where the endpoints are."""
    return issuer_for(str(request.base_url))


# ------------------------------------------------------------------ token


def _token(platform: "Platform", request: Request, form: Mapping[str, str]) -> dict[str, Any]:
    issuer = _issuer(platform)
    audiences = (issuer + "/protocol/openid-connect/token", issuer, _realm_here(request) + "/protocol/openid-connect/token")
    grant_type = form.get("grant_type")
    if grant_type == CLIENT_CREDENTIALS:
        return token_response(platform, issuer, _client_credentials(platform, form, audiences))
    if grant_type == AUTHORIZATION_CODE:
        return token_response(platform, issuer, _authorization_code(platform, form))
    if grant_type == TOKEN_EXCHANGE:
        grant = exchange_saml(platform, form, audiences=audiences, scope=_scope(form.get("scope"), MACHINE_SCOPES))
        return token_response(platform, issuer, grant, exchanged=True)
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported here; see the discovery document.")


def _scope(requested: str | None, allowed: frozenset[str] | tuple[str, ...]) -> str:
    wanted = (requested or DEFAULT_SCOPE).split()
    refused = [s for s in wanted if s not in allowed]
    if refused:
        raise OAuthError("invalid_scope", f"Scope(s) not available for this grant: {' '.join(refused)}.")
    return " ".join(dict.fromkeys(wanted))


def _client_credentials(platform: "Platform", form: Mapping[str, str], audiences: tuple[str, ...]) -> TokenGrant:
    """An organisation, authenticated by its sandbox certificate's key, acting as itself."""
    def resolve(client_id: str) -> ClientKey | None:
        found = organisation_client(platform.registries, platform.pki, client_id)
        return found.key if found else None

    if form.get("client_id") in SANDBOX_CLIENTS and not has_client_assertion(form):
        raise OAuthError("unauthorized_client", "Public clients may not use client_credentials; use the authorization code flow.")
    client = authenticate_client(platform, form, audiences=audiences, resolve=resolve)
    organisation = organisation_client(platform.registries, platform.pki, client.client_id)
    assert organisation is not None  # resolved just above
    now = platform.clock.now()
    if not organisation.not_before <= now <= organisation.not_after:
        raise OAuthError("invalid_client", "The organisation's certificate is not valid today.")
    return TokenGrant(subject=client.client_id, client_id=client.client_id,
                      scope=_scope(form.get("scope"), MACHINE_SCOPES), claims=organisation.claims())


def _authorization_code(platform: "Platform", form: Mapping[str, str]) -> TokenGrant:
    """A public sandbox app redeems the code of a sign-in, with its PKCE verifier."""
    client = _public_client(form.get("client_id"))
    for name in ("code", "redirect_uri"):
        if not form.get(name):
            raise OAuthError("invalid_request", f"{name} is required.")
    redeemed = redeem_code(platform, code=form["code"], client_id=client.client_id, redirect_uri=form["redirect_uri"],
                           code_verifier=form.get("code_verifier"))
    return TokenGrant(subject=redeemed.subject, client_id=client.client_id, scope=redeemed.scope, claims=redeemed.claims,
                      nonce=redeemed.nonce, auth_time=redeemed.auth_time)


def _public_client(client_id: str | None) -> PublicClient:
    client = SANDBOX_CLIENTS.get(client_id or "")
    if client is None:
        raise OAuthError("invalid_client", f"Unknown client_id {client_id!r}; the sandbox's public clients are "
                                           f"{', '.join(SANDBOX_CLIENTS)}.")
    return client


# ---------------------------------------------------------- authorization

_PAGE_HEADERS = {
    **NO_STORE,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


@dataclass(frozen=True)
class _AuthRequest:
    client: PublicClient
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str

    def hidden(self) -> dict[str, str]:
        values = {"client_id": self.client.client_id, "redirect_uri": self.redirect_uri, "scope": self.scope,
                  "response_type": "code", "code_challenge": self.code_challenge, "code_challenge_method": "S256"}
        values.update({k: v for k, v in (("state", self.state), ("nonce", self.nonce)) if v})
        return values


class _Stop(Exception):
    """Ends the authorization request with this response (an error page or an error redirect)."""

    def __init__(self, response: Response) -> None:
        super().__init__("authorization request refused")
        self.response = response


def _with_query(uri: str, **params: str | None) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def _error_page(status: int, message: str) -> HTMLResponse:
    page = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error (sandbox)</title></head>"
            f"<body><h1>Sign-in error</h1><p class=\"error\" role=\"alert\">{escape(message)}</p></body></html>")
    return HTMLResponse(page, status_code=status, headers=_PAGE_HEADERS)


def _auth_request(platform: "Platform", request: Request, params: Mapping[str, str]) -> _AuthRequest:
    """Check an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3).

    A bad client or redirect URI is said on the page (never redirect to an
    unchecked URI, §4.1.2.1); anything else goes back to the client.
    """
    client = SANDBOX_CLIENTS.get(params.get("client_id") or "")
    if client is None:
        raise _Stop(_error_page(400, f"Unknown client_id; the sandbox's public clients are {', '.join(SANDBOX_CLIENTS)}."))
    redirect_uri = params.get("redirect_uri") or ""
    if not client.allows_redirect(redirect_uri):
        raise _Stop(_error_page(400, "redirect_uri is not registered for this client: the sandbox allows "
                                     "http://127.0.0.1:{port}/... and http://localhost:{port}/... only."))
    state = params.get("state")

    def fail(error: str, description: str) -> _Stop:
        return _Stop(RedirectResponse(_with_query(redirect_uri, error=error, error_description=description, state=state,
                                                  iss=_issuer(platform)), status_code=302))

    if params.get("response_type") != "code":
        raise fail("unsupported_response_type", "Only response_type=code is supported.")
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if not challenge:
        raise fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256.")
    if method != "S256":
        raise fail("invalid_request", f"code_challenge_method {method or 'plain'!r} is refused; use S256.")
    if not valid_challenge(challenge):
        raise fail("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters).")
    try:
        scope = _scope(params.get("scope"), SCOPES)
    except OAuthError as error:
        raise fail(error.error, error.description) from None
    nonce = params.get("nonce")
    if nonce is not None and len(nonce) > 200:
        raise fail("invalid_request", "nonce is too long (200 characters at most).")
    return _AuthRequest(client, redirect_uri, scope, state, nonce, challenge)


def _login_page(platform: "Platform", request: Request, auth: _AuthRequest, *, status: int = 200, error: str | None = None,
                selected: str | None = None) -> HTMLResponse:
    page = LoginPage(auth.client, str(request.url_for("oauth_login")), auth.hidden(), idp_personas(platform, auth.client),
                     platform.clock.now(), error, selected)
    return HTMLResponse(page.render(), status_code=status, headers=_PAGE_HEADERS)


def _authorize(platform: "Platform", request: Request, params: Mapping[str, str]) -> Response:
    try:
        auth = _auth_request(platform, request, params)
    except _Stop as stop:
        return stop.response
    return _login_page(platform, request, auth)


def _login(platform: "Platform", request: Request, form: Mapping[str, str]) -> Response:
    try:
        auth = _auth_request(platform, request, form)
    except _Stop as stop:
        return stop.response
    issuer = _issuer(platform)
    if form.get("action") == "cancel":
        return RedirectResponse(_with_query(auth.redirect_uri, error="access_denied", error_description="The user cancelled.",
                                            state=auth.state, iss=issuer), status_code=303)
    key = form.get("persona") or ""
    persona = next((p for p in idp_personas(platform, auth.client) if p.key == key), None)
    if persona is None:
        return _login_page(platform, request, auth, status=400, error="Choose one of the personas listed for this app.")
    if not verify_sandbox_code(persona.key, form.get("otp") or "", platform.clock.now()):
        return _login_page(platform, request, auth, status=400, selected=persona.key,
                           error="The sandbox code is wrong or expired; type the code shown for this persona.")
    try:
        claims = identity_claims(platform, persona)
    except LoginRefused as refused:
        return _login_page(platform, request, auth, status=403, selected=persona.key, error=str(refused))
    code = issue_code(platform, client_id=auth.client.client_id, redirect_uri=auth.redirect_uri, code_challenge=auth.code_challenge,
                      scope=auth.scope, nonce=auth.nonce, subject=claims.niss, claims=claims.to_jwt())
    return RedirectResponse(_with_query(auth.redirect_uri, code=code, state=auth.state, iss=issuer), status_code=303)


# ---------------------------------------------------------------- userinfo


def _userinfo(platform: "Platform", request: Request) -> Response:
    """The signed-in user's claims, for an access token with the ``openid`` scope."""
    try:
        token = read_bearer(request.headers.get("authorization"))
    except BearerMissing as missing:
        body = {"error_description": missing.message, **({"error": missing.error} if missing.error else {})}  # RFC 6750 §3.1
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": bearer_challenge(missing.error), **NO_STORE})
    verifier = JwtVerifier(_issuer(platform), ACCESS_TOKEN_AUDIENCE, lambda: sandbox_jwks(platform.pki), platform.clock)
    try:
        payload = verifier.verify_payload(token)
    except TokenRejected as rejected:
        return JSONResponse({"error": "invalid_token", "error_description": rejected.message}, status_code=401,
                            headers={"WWW-Authenticate": bearer_challenge("invalid_token", rejected.message), **NO_STORE})
    if "openid" not in str(payload.get("scope", "")).split():
        message = "userinfo needs an access token with the openid scope."
        return JSONResponse({"error": "insufficient_scope", "error_description": message}, status_code=403,
                            headers={"WWW-Authenticate": bearer_challenge("insufficient_scope", message), **NO_STORE})
    return JSONResponse({k: v for k, v in payload.items() if k in USERINFO_CLAIMS}, headers=NO_STORE)
