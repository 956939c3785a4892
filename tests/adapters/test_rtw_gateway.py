"""Return to work through the gateway as wired: tokens of both identity
providers checked by the configured trust (RP-S1), the access rules over
the sources reached on the wire with the gateway's own token, TRIO asked
with a blinded pseudonym (RP-F9), and the gateway's database free of the
sources' answers and of plaintext NISS (IC-R10, checked at session end)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.domain.errors import AccessDenied
from gateway.ehealth.platform import create_platform_app
from gateway.ehealth.rtw.signin import bcss_issuer
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_access_token
from gateway.identity.errors import TokenRejected


@pytest.fixture
def idp(platform) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_platform_app(platform), follow_redirects=False)


def principal(gw, idp: TestClient, key: str, realm: str | None = None):  # type: ignore[no-untyped-def]
    return gw.tokens.principal(rtw_access_token("http://testserver", key, realm=realm, http=idp))


def test_rp_s1_both_identity_providers_are_trusted_by_configuration(gw, idp: TestClient, platform) -> None:  # type: ignore[no-untyped-def]
    regional = principal(gw, idp, "reg-counsellor")
    assert regional.extra["iss"] == bcss_issuer(platform.settings.public_url)
    assert regional.role.value == "reg-counsellor" and regional.organisation_cbe
    insurer = principal(gw, idp, "oa-physician")
    assert insurer.extra["iss"] != regional.extra["iss"] and insurer.role.value == "oa-physician"


def test_rp_s1_a_token_of_an_untrusted_issuer_is_refused(gw) -> None:  # type: ignore[no-untyped-def]
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"iss": "https://elsewhere.test", "aud": "care-gateway", "exp": 4102444800}, key, algorithm="RS256",
                        headers={"kid": "x"})
    with pytest.raises(TokenRejected):
        gw.tokens.principal(forged)


def test_rp_a1_to_a5_over_the_wire(gw, idp: TestClient, platform) -> None:  # type: ignore[no-untyped-def]
    rtw = gw.return_to_work
    cast = rtw_state(platform).sandbox.cast
    dossier, created = rtw.dossiers.open(principal(gw, idp, "oa-rtw-coordinator"), cast.insured)
    assert created and dossier.insurer and dossier.last_name and len(dossier.employers) == 2
    assert dossier.trio_dossier is True  # RP-F9: told to an insurer user
    seen = rtw.dossiers.read(principal(gw, idp, "reg-counsellor"), dossier.id)
    assert seen.registrations[0].region == "flanders" and seen.trio_dossier is None
    with pytest.raises(AccessDenied) as denied:
        rtw.dossiers.read(principal(gw, idp, "reg-counsellor-forem"), dossier.id)
    assert denied.value.rule == "RP-A2"
    with pytest.raises(AccessDenied) as denied:
        rtw.dossiers.open(principal(gw, idp, "inami-expert"), cast.deceased)
    assert denied.value.rule == "RP-A5"
    received = rtw_state(platform).trio_received
    assert received and all(cast.insured not in value for r in received for value in r.values())
