"""The FHIR face's bearer dependency: it takes a token verifier (whatever
the trust settings built) and answers 401 the RFC 6750 way."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from gateway.ehealth.oauth_keys import sandbox_jwks
from gateway.fhir.auth import bearer_principal
from gateway.identity.jwk import jwk_thumbprint
from gateway.identity.jwt import JwtVerifier
from gateway.domain.principal import Principal

ISSUER = "https://idp.example/ehealth/auth/realms/M2M"


class Client:
    """In-process HTTP to a small app guarded by ``bearer_principal``."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver") as http:
                return await http.get(path, headers=headers)

        return asyncio.run(call())


@pytest.fixture
def oauth(gw):  # type: ignore[no-untyped-def]
    return gw.platform.pki.platform("oauth")


@pytest.fixture
def client(gw) -> Client:  # type: ignore[no-untyped-def]
    verifier = JwtVerifier(ISSUER, "care-gateway", sandbox_jwks(gw.platform.pki), gw.clock)
    app = FastAPI()

    @app.get("/whoami")
    def whoami(principal: Principal = Depends(bearer_principal(verifier))) -> dict[str, Any]:
        return {"niss": principal.niss, "role": principal.role.value, "organisation": principal.organisation_nihii}

    return Client(app)


def token(gw, oauth, **claims: Any) -> str:  # type: ignore[no-untyped-def]
    now = int(gw.clock.now().timestamp())
    body = {"iss": ISSUER, "aud": "care-gateway", "iat": now, "exp": now + 900, "ssin": "85073003328",
            "role": "psi-coordinator", "organisation_nihii": "98132227000", **claims}
    return jwt.encode(body, oauth.private_key, algorithm="RS256",
                      headers={"kid": jwk_thumbprint(oauth.certificate.public_key())})


def test_bearer_principal_gives_the_principal_of_a_valid_token(gw, oauth, client):
    response = client.get("/whoami", headers={"Authorization": f"Bearer {token(gw, oauth)}"})
    assert response.status_code == 200
    assert response.json() == {"niss": "85073003328", "role": "psi-coordinator", "organisation": "98132227000"}


def test_bearer_principal_answers_401_with_a_bearer_challenge(gw, oauth, client):
    response = client.get("/whoami")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="care-gateway"'  # no token: no error code (RFC 6750 §3.1)
    response = client.get("/whoami", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401 and 'error="invalid_request"' in response.headers["www-authenticate"]
    wrong_issuer = token(gw, oauth, iss="https://other.example/realms/M2M")
    response = client.get("/whoami", headers={"Authorization": f"Bearer {wrong_issuer}"})
    challenge = response.headers["www-authenticate"]
    assert response.status_code == 401
    assert challenge.startswith('Bearer realm="care-gateway", error="invalid_token", error_description="')
    assert "issued by" in challenge and '"https' not in challenge  # quotes inside the description are neutralised
