"""The sandbox IdP over real HTTP: discovery, JWKS, client_credentials with
private_key_jwt, authorization code + PKCE through the login page, token
exchange of an STS assertion, and what the tokens let the domain do."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from gateway.domain.errors import DomainError
from gateway.domain.ports import OrganisationKind
from gateway.ehealth.oauth_login import sandbox_code
from gateway.ehealth.pki import Credential
from gateway.ehealth.sandbox.personas import Persona
from gateway.ehealth.sandbox.registries import SandboxRegistries
from gateway.identity.jwk import jwk_thumbprint
from gateway.identity.jwt import JwtVerifier
from gateway.domain.principal import Principal, Role
from tests.conftest import declaration

REALM = "/ehealth/auth/realms/M2M"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REDIRECT = "http://127.0.0.1:8765/callback"


# ------------------------------------------------------------------ helpers


def discovery(live) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = httpx.get(live.url(REALM + "/.well-known/openid-configuration"))
    assert response.status_code == 200
    return response.json()


def verifier_for(live) -> JwtVerifier:  # type: ignore[no-untyped-def]
    """A resource server's verifier, with the JWKS fetched over HTTP like a vendor would."""
    meta = discovery(live)
    jwks = httpx.get(meta["jwks_uri"]).json()
    return JwtVerifier(meta["issuer"], "care-gateway", jwks, live.clock)


def organisation(registries: SandboxRegistries, kind: OrganisationKind, index: int = 0):  # type: ignore[no-untyped-def]
    return registries.organisations_of(kind)[index]


def assertion(live, credential: Credential, client_id: str, **overrides: Any) -> str:  # type: ignore[no-untyped-def]
    """A private_key_jwt client assertion, signed with ``credential``'s key."""
    now = int(live.clock.now().timestamp())
    headers = {"kid": overrides.pop("kid", jwk_thumbprint(credential.certificate.public_key()))}
    claims = {"iss": client_id, "sub": client_id, "aud": discovery(live)["token_endpoint"], "iat": now,
              "exp": now + 60, "jti": secrets.token_urlsafe(16)}
    claims.update(overrides)
    return jwt.encode(claims, credential.private_key, algorithm="RS256", headers=headers)


def client_credentials(live, client_assertion: str, **extra: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(discovery(live)["token_endpoint"], data={
        "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER, "client_assertion": client_assertion, **extra,
    })


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def auth_params(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid integrated-care",
            "state": "st-" + secrets.token_hex(4), "nonce": "n-" + secrets.token_hex(4), "code_challenge": challenge,
            "code_challenge_method": "S256", **extra}


def login_form(page: str) -> tuple[str, dict[str, str]]:
    """The login form's action and hidden fields, read from the HTML."""
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    hidden = {unescape(n): unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}
    return action, hidden


def shown_code(page: str, persona: str) -> str:
    row = re.search(rf'<tr data-persona="{re.escape(persona)}">.*?<code class="sandbox-code">(\d{{6}})</code>', page)
    assert row, f"{persona} is not offered on the login page"
    return row.group(1)


def sign_in(live, client_id: str, persona: str, challenge: str, *, otp: str | None = None,  # type: ignore[no-untyped-def]
            **extra: str) -> httpx.Response:
    """GET the login page, POST the persona and the code it shows; the response (a 303 on success)."""
    params = auth_params(client_id, challenge, **extra)
    page = httpx.get(discovery(live)["authorization_endpoint"], params=params)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    action, hidden = login_form(page.text)
    assert hidden["code_challenge"] == challenge and hidden["state"] == params["state"]
    return httpx.post(action, data={**hidden, "persona": persona, "otp": otp or shown_code(page.text, persona),
                                    "action": "login"})


def code_from(response: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    return query["code"][0], query


def redeem(live, client_id: str, code: str, verifier: str, redirect_uri: str = REDIRECT) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.post(discovery(live)["token_endpoint"], data={
        "grant_type": "authorization_code", "client_id": client_id, "code": code, "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    })


def token_for(live, client_id: str, persona: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    verifier, challenge = pkce()
    code, _ = code_from(sign_in(live, client_id, persona, challenge))
    response = redeem(live, client_id, code, verifier)
    assert response.status_code == 200, response.text
    return response.json()


def recent(patient: Persona, psi: str, live) -> Any:  # type: ignore[no-untyped-def]
    """A declaration dated a month before the live clock's day (the live clock is the wall clock)."""
    day = live.clock.today() - timedelta(days=30)
    return declaration(patient, psi, start_date=day, consent_date=day)


def refused(response: httpx.Response, status: int, error: str, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert words.lower() in body["error_description"].lower(), body
    assert response.headers["cache-control"] == "no-store"


# ------------------------------------------------------- discovery and keys


def test_discovery_names_the_configured_issuer_and_the_endpoints_under_the_request_base_url(live):
    meta = discovery(live)
    issuer = live.base_url + REALM
    assert meta["issuer"] == issuer
    assert meta["token_endpoint"] == issuer + "/protocol/openid-connect/token"
    assert meta["authorization_endpoint"] == issuer + "/protocol/openid-connect/auth"
    assert meta["jwks_uri"] == issuer + "/protocol/openid-connect/certs"
    assert meta["userinfo_endpoint"] == issuer + "/protocol/openid-connect/userinfo"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt", "none"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"}
    # reached under another host name, the endpoints follow it but the issuer
    # stays the configured one: relying parties trust the issuer, not a Host header
    other = httpx.get(f"http://localhost:{live.port}{REALM}/.well-known/openid-configuration").json()
    assert other["issuer"] == issuer
    assert other["token_endpoint"] == f"http://localhost:{live.port}{REALM}/protocol/openid-connect/token"


def test_jwks_publishes_the_oauth_key_with_its_thumbprint_as_kid(live):
    jwks = httpx.get(discovery(live)["jwks_uri"]).json()
    (key,) = jwks["keys"]
    oauth = live.gw.platform.pki.platform("oauth").certificate
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert key["kid"] == jwk_thumbprint(oauth.public_key())
    assert base64.b64decode(key["x5c"][0]) == live.gw.platform.pki.platform("oauth").cert_der()
    assert jwt.PyJWK(key).key.public_numbers() == oauth.public_key().public_numbers()
    assert "d" not in key  # public half only


# --------------------------------------------------------- client credentials


def test_client_credentials_for_an_insurer_with_its_sandbox_key(live, registries):
    insurer = registries.insurer("100")
    client_id = f"cbe-{insurer.cbe}"
    response = client_credentials(live, assertion(live, live.gw.platform.pki.organisation(insurer.nihii), client_id))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["scope"] == "integrated-care"
    assert "id_token" not in body and "refresh_token" not in body
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["typ"] == "at+jwt"
    payload = verifier_for(live).verify_payload(body["access_token"])
    assert payload["sub"] == client_id and payload["client_id"] == client_id
    assert payload["role"] == "insurer"
    assert payload["organisation_nihii"] == insurer.nihii and payload["organisation_cbe"] == insurer.cbe
    assert "ssin" not in payload  # an organisation names no person
    assert payload["aud"] == "care-gateway" and payload["exp"] - payload["iat"] == 900
    assert payload["iat"] == int(live.clock.now().timestamp())


def test_IC_R7_insurer_token_receives_its_own_members_export_only(live, registries):
    insurer = registries.insurer("100")
    client_id = f"cbe-{insurer.cbe}"
    token = client_credentials(live, assertion(live, live.gw.platform.pki.organisation(insurer.nihii), client_id)).json()
    principal = verifier_for(live).verify(token["access_token"]).principal()
    assert principal.role is Role.INSURER and principal.organisation_nihii == insurer.nihii
    assert principal.extra["client_id"] == client_id
    live.gw.exports.for_insurer(principal, "100")
    with pytest.raises(DomainError) as denied:
        live.gw.exports.for_insurer(principal, "200")
    assert denied.value.rule == "IC-R7"


def test_IC_A9_a_psi_acting_as_itself_gets_role_organisation_and_no_patient_list(live, registries):
    psi = organisation(registries, OrganisationKind.PSI)
    client_id = f"cbe-{psi.cbe}"
    token = client_credentials(live, assertion(live, live.gw.platform.pki.organisation(psi.nihii), client_id)).json()
    principal = verifier_for(live).verify(token["access_token"]).principal()
    assert principal.role is Role.ORGANISATION and principal.organisation_nihii == psi.nihii
    with pytest.raises(DomainError) as denied:
        live.gw.inclusions.list_patients(principal)
    assert denied.value.rule == "IC-A9"


def test_client_credentials_refuses_another_organisations_key(live, registries):
    insurer, other = registries.insurer("100"), registries.insurer("200")
    client_id = f"cbe-{insurer.cbe}"
    forged = assertion(live, live.gw.platform.pki.organisation(other.nihii), client_id,
                       kid=jwk_thumbprint(live.gw.platform.pki.organisation(insurer.nihii).certificate.public_key()))
    refused(client_credentials(live, forged), 401, "invalid_client", "signature does not verify")
    # and with the other key's own kid: unknown to this client
    refused(client_credentials(live, assertion(live, live.gw.platform.pki.organisation(other.nihii), client_id)),
            401, "invalid_client", "unknown key id")


def test_client_credentials_refuses_an_expired_assertion(live, registries):
    insurer = registries.insurer("100")
    now = int(live.clock.now().timestamp())
    stale = assertion(live, live.gw.platform.pki.organisation(insurer.nihii), f"cbe-{insurer.cbe}", iat=now - 600, exp=now - 120)
    refused(client_credentials(live, stale), 401, "invalid_client", "expired")


def test_client_credentials_refuses_a_long_lived_assertion(live, registries):
    insurer = registries.insurer("100")
    now = int(live.clock.now().timestamp())
    long_lived = assertion(live, live.gw.platform.pki.organisation(insurer.nihii), f"cbe-{insurer.cbe}", exp=now + 3600)
    refused(client_credentials(live, long_lived), 401, "invalid_client", "too long")


def test_client_credentials_refuses_a_replayed_jti(live, registries):
    insurer = registries.insurer("100")
    signed = assertion(live, live.gw.platform.pki.organisation(insurer.nihii), f"cbe-{insurer.cbe}")
    assert client_credentials(live, signed).status_code == 200
    refused(client_credentials(live, signed), 401, "invalid_client", "already used")
    # the same jti in a freshly signed assertion is a replay too
    jti = jwt.decode(signed, options={"verify_signature": False})["jti"]
    again = assertion(live, live.gw.platform.pki.organisation(insurer.nihii), f"cbe-{insurer.cbe}", jti=jti)
    refused(client_credentials(live, again), 401, "invalid_client", "already used")


def test_client_credentials_refuses_an_unknown_client(live, registries):
    insurer = registries.insurer("100")
    refused(client_credentials(live, assertion(live, live.gw.platform.pki.organisation(insurer.nihii), "cbe-0403019261")),
            401, "invalid_client", "unknown client")


def test_client_credentials_refuses_alg_none_and_hs256(live, registries):
    insurer = registries.insurer("100")
    client_id = f"cbe-{insurer.cbe}"
    now = int(live.clock.now().timestamp())
    claims = {"iss": client_id, "sub": client_id, "aud": discovery(live)["token_endpoint"], "iat": now, "exp": now + 60,
              "jti": secrets.token_urlsafe(16)}

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    refused(client_credentials(live, unsigned), 401, "invalid_client", "'none' is refused")
    hs = jwt.encode(claims, "a shared secret of at least thirty-two bytes", algorithm="HS256")
    refused(client_credentials(live, hs), 401, "invalid_client", "'HS256' is refused")


def test_client_credentials_refuses_a_wrong_audience_and_a_missing_assertion(live, registries):
    insurer = registries.insurer("100")
    other_aud = assertion(live, live.gw.platform.pki.organisation(insurer.nihii), f"cbe-{insurer.cbe}", aud="https://elsewhere/token")
    refused(client_credentials(live, other_aud), 401, "invalid_client", "audience")
    response = httpx.post(discovery(live)["token_endpoint"], data={"grant_type": "client_credentials", "client_id": f"cbe-{insurer.cbe}",
                                                                   "client_secret": "guess"})
    refused(response, 401, "invalid_client", "private_key_jwt")
    response = httpx.post(discovery(live)["token_endpoint"], data={"grant_type": "client_credentials",
                                                                   "client_id": "sandbox-practice-app"})
    refused(response, 400, "unauthorized_client", "public clients")
    response = httpx.post(discovery(live)["token_endpoint"], data={"grant_type": "password"})
    refused(response, 400, "unsupported_grant_type", "password")


# ------------------------------------------------ authorization code + PKCE


def test_patient_signs_in_with_pkce_and_gets_tokens(live, personas):
    patient = personas["patient"]
    verifier, challenge = pkce()
    response = sign_in(live, "sandbox-citizen-app", "patient", challenge)
    code, query = code_from(response)
    assert query["iss"] == [live.base_url + REALM]
    token = redeem(live, "sandbox-citizen-app", code, verifier)
    assert token.status_code == 200, token.text
    body = token.json()
    payload = verifier_for(live).verify_payload(body["access_token"])
    assert payload["ssin"] == patient.niss and payload["sub"] == patient.niss and payload["role"] == "patient"
    assert payload["amr"] == ["otp"] and payload["client_id"] == "sandbox-citizen-app"
    assert payload["name"] == patient.display_name
    assert payload["scope"] == "openid integrated-care"
    meta = discovery(live)
    id_token = jwt.decode(body["id_token"], jwt.PyJWK(httpx.get(meta["jwks_uri"]).json()["keys"][0]).key,
                          algorithms=["RS256"], audience="sandbox-citizen-app", issuer=meta["issuer"],
                          options={"verify_exp": False, "verify_iat": False})
    assert id_token["sub"] == patient.niss and id_token["nonce"].startswith("n-")
    info = httpx.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200 and info.json()["ssin"] == patient.niss and info.json()["sub"] == patient.niss


def test_psi_coordinator_token_carries_their_confirmed_psi(live, personas, registries):
    coordinator = personas["psi-coordinator"]
    payload = verifier_for(live).verify_payload(token_for(live, "sandbox-practice-app", "psi-coordinator")["access_token"])
    assert payload["role"] == "psi-coordinator" and payload["ssin"] == coordinator.niss
    assert payload["organisation_nihii"] == registries.cast.psi_a
    assert payload["organisation_cbe"] == registries.organisation(registries.cast.psi_a).cbe


def test_IC_F4_psi_coordinator_token_lists_the_patients_of_their_psi(live, personas, registries):
    live.gw.inclusions.declare(personas["gp"].principal(), recent(personas["patient-2"], registries.cast.psi_a, live))
    token = token_for(live, "sandbox-practice-app", "psi-coordinator")["access_token"]
    principal = verifier_for(live).verify(token).principal()
    assert principal.role is Role.PSI_COORDINATOR and principal.authentication == "otp"
    page = live.gw.inclusions.list_patients(principal)
    assert personas["patient-2"].niss in {item.patient.niss for item in page.items}
    assert all(item.inclusion.psi_nihii == registries.cast.psi_a for item in page.items)


def test_IC_A4_patient_token_consults_their_own_inclusions(live, personas, registries):
    patient = personas["patient"]
    live.gw.inclusions.declare(personas["gp"].principal(), recent(patient, registries.cast.psi_b, live))
    principal: Principal = verifier_for(live).verify(token_for(live, "sandbox-citizen-app", "patient")["access_token"]).principal()
    seen = live.gw.inclusions.consult(principal, patient.niss)
    assert [i.psi_nihii for i in seen.inclusions] == [registries.cast.psi_b]
    with pytest.raises(DomainError):  # and nobody else's
        live.gw.inclusions.consult(principal, personas["patient-2"].niss)


def test_a_wrong_verifier_is_refused_and_spends_the_code(live):
    verifier, challenge = pkce()
    code, _ = code_from(sign_in(live, "sandbox-citizen-app", "patient", challenge))
    refused(redeem(live, "sandbox-citizen-app", code, pkce()[0]), 400, "invalid_grant", "does not match")
    refused(redeem(live, "sandbox-citizen-app", code, verifier), 400, "invalid_grant", "already used")


def test_a_code_is_single_use(live):
    verifier, challenge = pkce()
    code, _ = code_from(sign_in(live, "sandbox-citizen-app", "patient-2", challenge))
    assert redeem(live, "sandbox-citizen-app", code, verifier).status_code == 200
    refused(redeem(live, "sandbox-citizen-app", code, verifier), 400, "invalid_grant", "already used")


def test_a_code_expires_after_60_seconds(live):
    verifier, challenge = pkce()
    code, _ = code_from(sign_in(live, "sandbox-citizen-app", "patient", challenge))
    live.clock.advance(timedelta(seconds=61))
    refused(redeem(live, "sandbox-citizen-app", code, verifier), 400, "invalid_grant", "expired")


def test_a_code_is_bound_to_its_client_and_redirect_uri(live):
    verifier, challenge = pkce()
    code, _ = code_from(sign_in(live, "sandbox-portal", "patient", challenge))
    refused(redeem(live, "sandbox-citizen-app", code, verifier), 400, "invalid_grant", "another client")
    verifier, challenge = pkce()
    code, _ = code_from(sign_in(live, "sandbox-portal", "patient", challenge))
    refused(redeem(live, "sandbox-portal", code, verifier, "http://127.0.0.1:9999/other"), 400, "invalid_grant", "redirect_uri")


def test_a_wrong_second_factor_is_refused_on_the_page(live):
    _, challenge = pkce()
    params = auth_params("sandbox-practice-app", challenge)
    page = httpx.get(discovery(live)["authorization_endpoint"], params=params).text
    action, hidden = login_form(page)
    right = shown_code(page, "psi-coordinator")
    for wrong in (f"{(int(right) + 1) % 1_000_000:06d}", shown_code(page, "psi-admin")):
        response = httpx.post(action, data={**hidden, "persona": "psi-coordinator", "otp": wrong, "action": "login"})
        assert response.status_code == 400 and "location" not in response.headers
        assert "sandbox code is wrong" in response.text


def test_the_sandbox_code_follows_the_30_second_step(live):
    now = live.clock.now()
    step_start = now.replace(second=now.second - now.second % 30)
    assert sandbox_code("patient", step_start) == sandbox_code("patient", step_start + timedelta(seconds=29))
    assert sandbox_code("patient", step_start) != sandbox_code("patient", step_start + timedelta(seconds=30))
    assert sandbox_code("patient", now) != sandbox_code("patient-2", now)
    # the code of two steps ago no longer signs in
    _, challenge = pkce()
    old = sandbox_code("patient", now - timedelta(seconds=60))
    if old != sandbox_code("patient", now) and old != sandbox_code("patient", now - timedelta(seconds=30)):
        refused_page = sign_in(live, "sandbox-citizen-app", "patient", challenge, otp=old)
        assert refused_page.status_code == 400


def test_a_persona_outside_the_apps_roles_is_not_offered(live):
    _, challenge = pkce()
    page = httpx.get(discovery(live)["authorization_endpoint"], params=auth_params("sandbox-citizen-app", challenge)).text
    assert 'data-persona="patient"' in page and 'data-persona="psi-coordinator"' not in page
    assert 'data-persona="deceased-patient"' not in page and 'data-persona="insurer"' not in page
    action, hidden = login_form(page)
    response = httpx.post(action, data={**hidden, "persona": "psi-coordinator", "otp": sandbox_code("psi-coordinator", live.clock.now()),
                                        "action": "login"})
    assert response.status_code == 400 and "location" not in response.headers


def test_plain_pkce_and_missing_challenge_go_back_as_errors(live):
    endpoint = discovery(live)["authorization_endpoint"]
    verifier, _ = pkce()
    for params in (auth_params("sandbox-citizen-app", verifier, code_challenge_method="plain"),
                   {k: v for k, v in auth_params("sandbox-citizen-app", "x" * 43).items() if not k.startswith("code_")}):
        response = httpx.get(endpoint, params=params)
        assert response.status_code == 302
        location = urlsplit(response.headers["location"])
        query = parse_qs(location.query)
        assert f"http://{location.netloc}{location.path}" == REDIRECT
        assert query["error"] == ["invalid_request"] and query["state"] == [params["state"]]


def test_unregistered_redirect_uri_or_client_is_said_on_the_page_not_redirected(live):
    endpoint = discovery(live)["authorization_endpoint"]
    _, challenge = pkce()
    for params in (auth_params("sandbox-citizen-app", challenge, redirect_uri="https://evil.example/cb"),
                   auth_params("no-such-app", challenge)):
        response = httpx.get(endpoint, params=params)
        assert response.status_code == 400 and "location" not in response.headers
        assert "text/html" in response.headers["content-type"]


def test_cancel_returns_access_denied(live):
    _, challenge = pkce()
    page = httpx.get(discovery(live)["authorization_endpoint"], params=auth_params("sandbox-citizen-app", challenge)).text
    action, hidden = login_form(page)
    response = httpx.post(action, data={**hidden, "action": "cancel"})
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["access_denied"]


def test_userinfo_needs_a_valid_token_with_openid(live, registries):
    meta = discovery(live)
    response = httpx.get(meta["userinfo_endpoint"])
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    response = httpx.get(meta["userinfo_endpoint"], headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]
    insurer = registries.insurer("100")
    m2m = client_credentials(live, assertion(live, live.gw.platform.pki.organisation(insurer.nihii), f"cbe-{insurer.cbe}")).json()
    response = httpx.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {m2m['access_token']}"})
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"


# ------------------------------------------------------------ token exchange

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
SAML1 = "urn:ietf:params:oauth:token-type:saml1"


def sts_token(live, persona: Persona, **options: Any) -> bytes:  # type: ignore[no-untyped-def]
    from gateway.ehealth.sts_client import persona_token

    return persona_token(live.base_url, live.platform, persona, **options)


def exchange(live, saml: bytes, client_assertion: str | None, **extra: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    data = {"grant_type": TOKEN_EXCHANGE, "subject_token_type": SAML1,
            "subject_token": base64.urlsafe_b64encode(saml).rstrip(b"=").decode(), **extra}
    if client_assertion is not None:
        data.update(client_assertion_type=JWT_BEARER, client_assertion=client_assertion)
    return httpx.post(discovery(live)["token_endpoint"], data=data)


def test_IC_A1_an_exchanged_sts_token_of_the_gp_consults_a_linked_patient(live, personas):
    gp = personas["gp"]
    saml = sts_token(live, gp, lifetime=timedelta(minutes=5))
    proof = assertion(live, live.gw.platform.pki.persona("gp"), f"ssin-{gp.niss}")
    response = exchange(live, saml, proof)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert body["token_type"] == "Bearer" and body["expires_in"] <= 300  # capped by the assertion's NotOnOrAfter
    payload = verifier_for(live).verify_payload(body["access_token"])
    assert payload["role"] == "provider" and payload["quality"] == "doctor" and payload["nihii"] == gp.nihii
    assert payload["ssin"] == gp.niss and payload["sub"] == gp.niss and payload["client_id"] == f"ssin-{gp.niss}"
    assert payload["amr"] == ["sts-holder-of-key"]
    principal = verifier_for(live).verify(body["access_token"]).principal()
    live.gw.inclusions.consult(principal, personas["patient"].niss)  # allowed: active therapeutic link


def test_token_exchange_demands_proof_of_the_holder_key(live, personas):
    gp, nurse = personas["gp"], personas["nurse"]
    saml = sts_token(live, gp)
    refused(exchange(live, saml, None), 401, "invalid_client", "private_key_jwt")
    # the nurse's key under the gp's client id: a stolen assertion is not enough
    stolen = assertion(live, live.gw.platform.pki.persona("nurse"), f"ssin-{gp.niss}",
                       kid=jwk_thumbprint(live.gw.platform.pki.persona("gp").certificate.public_key()))
    refused(exchange(live, saml, stolen), 401, "invalid_client", "signature does not verify")
    refused(exchange(live, saml, assertion(live, live.gw.platform.pki.persona("nurse"), f"ssin-{nurse.niss}")),
            401, "invalid_client", "unknown client")


def test_token_exchange_refuses_other_token_types_and_altered_or_expired_assertions(live, personas):
    gp = personas["gp"]
    saml = sts_token(live, gp, lifetime=timedelta(minutes=5))

    def proof() -> str:
        return assertion(live, live.gw.platform.pki.persona("gp"), f"ssin-{gp.niss}")

    refused(exchange(live, saml, proof(), subject_token_type="urn:ietf:params:oauth:token-type:saml2"),
            400, "invalid_request", "saml1")
    refused(exchange(live, saml, proof(), subject_token_type="urn:ietf:params:oauth:token-type:jwt"),
            400, "invalid_request", "saml1")
    altered = saml.replace(gp.nihii.encode(), personas["gp-no-link"].nihii.encode())
    assert altered != saml
    refused(exchange(live, altered, proof()), 400, "invalid_request", "SAML assertion is refused")
    refused(exchange(live, b"<!DOCTYPE x [<!ENTITY a 'a'>]><x>&a;</x>", proof()), 400, "invalid_request", "DOCTYPE")
    live.clock.advance(timedelta(minutes=7))
    refused(exchange(live, saml, proof()), 400, "invalid_request", "expired")
