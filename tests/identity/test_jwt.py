"""JwtVerifier: every refusal has its own stable code; and the bearer
dependency that the FHIR face uses answers 401 the RFC 6750 way."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from gateway.ehealth.oauth_keys import issuer_for, sandbox_jwks
from gateway.identity.errors import TokenRejected
from gateway.identity.jwk import jwk_thumbprint
from gateway.identity.jwt import NO_PERSON_NISS, JwtVerifier, bearer_principal
from gateway.identity.principal import Principal, Role

ISSUER = "https://idp.example/ehealth/auth/realms/M2M"
AUDIENCE = "care-gateway"


@pytest.fixture
def oauth(gw):  # type: ignore[no-untyped-def]
    return gw.pki.platform("oauth")


@pytest.fixture
def verifier(gw):  # type: ignore[no-untyped-def]
    return JwtVerifier(ISSUER, AUDIENCE, sandbox_jwks(gw.pki), gw.clock)


def claims(gw, **overrides: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    now = int(gw.clock.now().timestamp())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "85073003328", "iat": now, "exp": now + 900, "jti": "j1",
            "ssin": "85073003328", "role": "patient", "amr": ["otp"], "scope": "openid"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def sign(credential, payload: dict[str, Any], **headers: Any) -> str:  # type: ignore[no-untyped-def]
    kid = headers.pop("kid", jwk_thumbprint(credential.certificate.public_key()))
    return jwt.encode(payload, credential.private_key, algorithm="RS256", headers={"kid": kid, **headers})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rejected(verifier: JwtVerifier, token: str, code: str) -> TokenRejected:
    with pytest.raises(TokenRejected) as caught:
        verifier.verify(token)
    assert caught.value.code == code, caught.value
    return caught.value


def test_a_valid_token_gives_its_claims(gw, oauth, verifier):
    result = verifier.verify(sign(oauth, claims(gw)))
    assert result.niss == "85073003328" and result.role is Role.PATIENT and result.authentication == "otp"
    assert result.extra == {"sub": "85073003328", "scope": "openid", "jti": "j1"}


def test_an_organisation_token_names_no_person(gw, oauth, verifier):
    result = verifier.verify(sign(oauth, claims(gw, ssin=None, role="insurer", organisation_nihii="90010060000",
                                                 sub="cbe-0820563481", client_id="cbe-0820563481")))
    assert result.niss == NO_PERSON_NISS and result.role is Role.INSURER and result.organisation_nihii == "90010060000"
    assert result.extra["client_id"] == "cbe-0820563481"


def test_a_person_role_without_ssin_is_refused(gw, oauth, verifier):
    rejected(verifier, sign(oauth, claims(gw, ssin=None, role="psi-coordinator")), "invalid-claims")
    rejected(verifier, sign(oauth, claims(gw, role="superuser")), "invalid-claims")


def test_bad_signature(gw, oauth, verifier):
    # signed by another key under the IdP's kid
    rejected(verifier, sign(gw.pki.platform("sts"), claims(gw), kid=jwk_thumbprint(oauth.certificate.public_key())),
             "bad-signature")
    # a payload changed after signing
    header, _, signature = sign(oauth, claims(gw)).split(".")
    forged = b64(json.dumps(claims(gw, role="psi-coordinator", organisation_nihii="98132227000")).encode())
    rejected(verifier, f"{header}.{forged}.{signature}", "bad-signature")


def test_unknown_or_missing_kid(gw, oauth, verifier):
    rejected(verifier, sign(gw.pki.platform("sts"), claims(gw)), "unknown-kid")
    token = jwt.encode(claims(gw), oauth.private_key, algorithm="RS256")  # no kid at all
    rejected(verifier, token, "unknown-kid")


def test_alg_none_and_hs256_are_refused(gw, oauth, verifier):
    kid = jwk_thumbprint(oauth.certificate.public_key())
    body = b64(json.dumps(claims(gw)).encode())
    rejected(verifier, f"{b64(json.dumps({'alg': 'none', 'kid': kid}).encode())}.{body}.", "alg-not-allowed")
    # the classic confusion: HMAC keyed with the (public) RSA key
    head = b64(json.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}).encode())
    mac = hmac.new(oauth.cert_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    rejected(verifier, f"{head}.{body}.{b64(mac)}", "alg-not-allowed")
    rejected(verifier, "not-a-jwt", "malformed")


def test_wrong_issuer_and_wrong_audience(gw, oauth, verifier):
    rejected(verifier, sign(oauth, claims(gw, iss="https://other.example/realms/M2M")), "wrong-issuer")
    rejected(verifier, sign(oauth, claims(gw, aud="another-service")), "wrong-audience")
    rejected(verifier, sign(oauth, claims(gw, aud=None)), "wrong-audience")
    assert verifier.verify(sign(oauth, claims(gw, aud=["another-service", AUDIENCE]))).role is Role.PATIENT


def test_expired_with_leeway(gw, oauth, verifier):
    token = sign(oauth, claims(gw))
    gw.clock.advance(timedelta(seconds=900 + 29))
    assert verifier.verify(token).role is Role.PATIENT  # within the 30 s leeway
    gw.clock.advance(timedelta(seconds=2))
    rejected(verifier, token, "expired")
    rejected(verifier, sign(oauth, claims(gw, exp=None)), "missing-claim")


def test_not_yet_valid(gw, oauth, verifier):
    now = int(gw.clock.now().timestamp())
    rejected(verifier, sign(oauth, claims(gw, nbf=now + 120)), "not-yet-valid")
    rejected(verifier, sign(oauth, claims(gw, iat=now + 120)), "not-yet-valid")


def test_a_callable_jwks_is_asked_again_so_rotation_needs_no_restart(gw, oauth):
    sts = gw.pki.platform("sts")
    sets = [sandbox_jwks(gw.pki)]
    verifier = JwtVerifier(ISSUER, AUDIENCE, lambda: sets[-1], gw.clock)
    assert verifier.verify(sign(oauth, claims(gw))).role is Role.PATIENT
    rejected(verifier, sign(sts, claims(gw)), "unknown-kid")
    sets.append({"keys": [*sandbox_jwks(gw.pki)["keys"], {**jwt.algorithms.RSAAlgorithm.to_jwk(sts.certificate.public_key(), as_dict=True),
                                                          "kid": jwk_thumbprint(sts.certificate.public_key())}]})
    assert verifier.verify(sign(sts, claims(gw))).role is Role.PATIENT


# ------------------------------------------------------------ bearer_principal


class Client:
    """In-process HTTP to a small app guarded by ``bearer_principal`` (base URL http://testserver)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver") as http:
                return await http.get(path, headers=headers)

        return asyncio.run(call())


@pytest.fixture
def client(gw) -> Client:  # type: ignore[no-untyped-def]
    app = FastAPI()

    @app.get("/whoami")
    def whoami(principal: Principal = Depends(bearer_principal(gw))) -> dict[str, Any]:
        return {"niss": principal.niss, "role": principal.role.value, "organisation": principal.organisation_nihii}

    return Client(app)


def test_bearer_principal_gives_the_principal_of_a_sandbox_token(gw, oauth, client):
    token = sign(oauth, claims(gw, iss=issuer_for("http://testserver/"), role="psi-coordinator",
                               organisation_nihii="98132227000"))
    response = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {"niss": "85073003328", "role": "psi-coordinator", "organisation": "98132227000"}


def test_bearer_principal_answers_401_with_a_bearer_challenge(gw, oauth, client):
    response = client.get("/whoami")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="care-gateway"'  # no token: no error code (RFC 6750 §3.1)
    response = client.get("/whoami", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401 and 'error="invalid_request"' in response.headers["www-authenticate"]
    wrong_issuer = sign(oauth, claims(gw))  # issued for https://idp.example, presented to http://testserver
    response = client.get("/whoami", headers={"Authorization": f"Bearer {wrong_issuer}"})
    challenge = response.headers["www-authenticate"]
    assert response.status_code == 401
    assert challenge.startswith('Bearer realm="care-gateway", error="invalid_token", error_description="')
    assert "issued by" in challenge and '"https' not in challenge  # quotes inside the description are neutralised
