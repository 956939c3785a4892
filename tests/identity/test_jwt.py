"""JwtVerifier: every refusal has its own stable code; the claims mapping
of an issuer decides which claim carries which fact."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from gateway.ehealth.oauth_keys import sandbox_jwks
from gateway.identity.claims import ClaimsMapping
from gateway.identity.errors import TokenRejected
from gateway.identity.jwk import jwk_thumbprint
from gateway.identity.jwt import NO_PERSON_NISS, JwtVerifier
from gateway.domain.principal import Role

ISSUER = "https://idp.example/ehealth/auth/realms/M2M"
AUDIENCE = "care-gateway"


@pytest.fixture
def oauth(gw):  # type: ignore[no-untyped-def]
    return gw.platform.pki.platform("oauth")


@pytest.fixture
def verifier(gw):  # type: ignore[no-untyped-def]
    return JwtVerifier(ISSUER, AUDIENCE, sandbox_jwks(gw.platform.pki), gw.clock)


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
    rejected(verifier, sign(gw.platform.pki.platform("sts"), claims(gw), kid=jwk_thumbprint(oauth.certificate.public_key())),
             "bad-signature")
    # a payload changed after signing
    header, _, signature = sign(oauth, claims(gw)).split(".")
    forged = b64(json.dumps(claims(gw, role="psi-coordinator", organisation_nihii="98132227000")).encode())
    rejected(verifier, f"{header}.{forged}.{signature}", "bad-signature")


def test_unknown_or_missing_kid(gw, oauth, verifier):
    rejected(verifier, sign(gw.platform.pki.platform("sts"), claims(gw)), "unknown-kid")
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
    sts = gw.platform.pki.platform("sts")
    sets = [sandbox_jwks(gw.platform.pki)]
    verifier = JwtVerifier(ISSUER, AUDIENCE, lambda: sets[-1], gw.clock)
    assert verifier.verify(sign(oauth, claims(gw))).role is Role.PATIENT
    rejected(verifier, sign(sts, claims(gw)), "unknown-kid")
    sets.append({"keys": [*sandbox_jwks(gw.platform.pki)["keys"], {**jwt.algorithms.RSAAlgorithm.to_jwk(sts.certificate.public_key(), as_dict=True),
                                                          "kid": jwk_thumbprint(sts.certificate.public_key())}]})
    assert verifier.verify(sign(sts, claims(gw))).role is Role.PATIENT


def test_a_claims_mapping_reads_each_fact_from_the_issuers_own_claim(gw, oauth):
    """Another IdP names the SSIN ``sub`` and the role ``profile``: the mapping
    reads them there, and a stray ``ssin`` claim of that IdP is not believed."""
    mapping = ClaimsMapping.from_names({"niss": "sub", "role": "profile", "display_name": "full_name"})
    verifier = JwtVerifier(ISSUER, AUDIENCE, sandbox_jwks(gw.platform.pki), gw.clock, claims=mapping)
    token = sign(oauth, claims(gw, sub="75123152609", ssin="85073003328", role=None, profile="provider",
                               full_name="Dr Example", quality="doctor"))
    result = verifier.verify(token)
    assert (result.niss, result.role, result.display_name, result.quality) == ("75123152609", Role.PROVIDER, "Dr Example", "doctor")
    rejected(verifier, sign(oauth, claims(gw, sub="75123152609", role="provider")), "invalid-claims")  # no 'profile'
    with pytest.raises(ValueError, match="unknown claims mapping field"):
        ClaimsMapping.from_names({"ssin": "sub"})


def test_only_asymmetric_algorithms_can_be_configured(gw):
    with pytest.raises(ValueError, match="asymmetric"):
        JwtVerifier(ISSUER, AUDIENCE, {"keys": []}, gw.clock, algorithms=("RS256", "HS256"))
