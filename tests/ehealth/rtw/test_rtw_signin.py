"""RP-S1 on the simulated platform: regional users sign in through the
crossroads bank's IdP (its own realm, issuer, keys and claims), insurer,
prevention and INAMI users through eHealth's."""

from __future__ import annotations

import jwt
import pytest
from fastapi.testclient import TestClient

from gateway.ehealth.oauth_keys import issuer_for, sandbox_jwks
from gateway.ehealth.platform import create_platform_app
from gateway.ehealth.rtw.signin import BCSS_CLAIMS, BCSS_REALM, bcss_issuer, bcss_jwks
from gateway.ehealth.rtw.tokens import rtw_access_token, rtw_persona
from gateway.ehealth.sandbox_tokens import TokenError


@pytest.fixture
def client(platform) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_platform_app(platform), follow_redirects=False)


def test_rp_s1_the_crossroads_bank_idp_is_a_provider_of_its_own(client: TestClient, platform) -> None:  # type: ignore[no-untyped-def]
    document = client.get(f"/ehealth{BCSS_REALM}/.well-known/openid-configuration").json()
    assert document["issuer"] == bcss_issuer(platform.settings.public_url) != issuer_for(platform.settings.public_url)
    keys = client.get(document["jwks_uri"].removeprefix("http://testserver")).json()["keys"]
    assert {k["kid"] for k in keys}.isdisjoint({k["kid"] for k in sandbox_jwks(platform.pki)["keys"]})


def test_rp_s1_regional_token_from_the_crossroads_bank(client: TestClient, platform) -> None:  # type: ignore[no-untyped-def]
    persona = rtw_persona("reg-counsellor")
    token = rtw_access_token("http://testserver", persona, http=client)
    key = jwt.PyJWK(bcss_jwks()["keys"][0]).key
    payload = jwt.decode(token, key, algorithms=["RS256"], audience="care-gateway", issuer=bcss_issuer(platform.settings.public_url),
                         options={"verify_exp": False, "verify_iat": False})  # the test clock is not the wall clock
    assert payload[BCSS_CLAIMS["niss"]] == persona.niss and payload[BCSS_CLAIMS["role"]] == "reg-counsellor"
    assert payload[BCSS_CLAIMS["organisation_cbe"]] == persona.organisation_cbe
    assert "ssin" not in payload and "role" not in payload  # its own claims, not eHealth's


def test_rp_s1_insurer_token_from_ehealth(client: TestClient, platform) -> None:  # type: ignore[no-untyped-def]
    persona = rtw_persona("oa-physician")
    token = rtw_access_token("http://testserver", persona, http=client)
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == issuer_for(platform.settings.public_url)
    assert jwt.decode(token, options={"verify_signature": False})["organisation_cbe"] == persona.organisation_cbe


@pytest.mark.parametrize("key, realm", [("reg-counsellor", "ehealth"), ("oa-physician", "bcss")])
def test_rp_s1_each_idp_signs_in_its_own_users_only(client: TestClient, key: str, realm: str) -> None:
    with pytest.raises(TokenError):
        rtw_access_token("http://testserver", key, realm=realm, http=client)


def test_sources_refuse_calls_without_a_machine_token(client: TestClient) -> None:
    answer = client.post("/ehealth/CIN/MemberData/v1/affiliation", json={"ssin": "85073003328"})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"


def test_rp_s1_sandbox_trust_names_both_identity_providers(platform, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gateway.ehealth.platform import write_trust_files
    from gateway.trust import TrustSettings

    write_trust_files(platform, tmp_path)
    monkeypatch.setenv("CARE_GATEWAY_SETTINGS", str(tmp_path / "care-gateway.toml"))
    issuers = {o.name: o for o in TrustSettings.load().oidc}
    assert issuers["bcss"].issuer == bcss_issuer(platform.settings.public_url)
    assert issuers["bcss"].claims.role == BCSS_CLAIMS["role"] and issuers["sandbox"].claims.role == "role"
