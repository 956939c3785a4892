"""OpenID Connect trust: a foreign identity provider's keys fetched over
HTTP (JWKS or discovery), cached, refreshed on the clock, refetched once for
an unknown ``kid`` but not on every bad token; and the multi-issuer
verifier that accepts each configured issuer's tokens by its own rules and
nothing signed by the sandbox IdP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from gateway.domain.clock import FixedClock
from gateway.ehealth.pki import SHIPPED
from gateway.identity.claims import ClaimsMapping
from gateway.identity.errors import TokenRejected
from gateway.identity.jwk import jwk_thumbprint
from gateway.identity.oidc import JwksSource, TokenVerifier, TrustedIssuer
from gateway.domain.principal import Role
from tests.identity.foreign import NOW, ForeignIdp

PATIENT = {"sub": "85073003328", "ssin": "85073003328", "role": "patient", "amr": ["eid"]}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def idp() -> ForeignIdp:
    return ForeignIdp()


def keys(idp: ForeignIdp, clock: FixedClock, *, discovery: bool = False, **kw) -> JwksSource:  # type: ignore[no-untyped-def]
    where = {"discovery_url": idp.discovery_url} if discovery else {"jwks_url": idp.jwks_url}
    return JwksSource(idp.client(), clock, issuer=idp.issuer, **where, **kw)


def verifier_for(*idps: ForeignIdp, clock: FixedClock, **kw) -> TokenVerifier:  # type: ignore[no-untyped-def]
    return TokenVerifier([TrustedIssuer(f"idp{i}", idp.issuer, ("care-gateway",), keys(idp, clock, **kw))
                          for i, idp in enumerate(idps)], clock)


def refused(verifier: TokenVerifier, token: str, code: str) -> TokenRejected:
    with pytest.raises(TokenRejected) as caught:
        verifier.verify(token)
    assert caught.value.code == code, caught.value
    return caught.value


def sandbox_idp_key():  # type: ignore[no-untyped-def]
    """The simulated IdP's signing key, read from the shipped files (tests only)."""
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key((SHIPPED / "oauth.key.pem").read_bytes(), password=None)


# ------------------------------------------------------------ keys over HTTP


def test_keys_come_from_the_jwks_url_and_are_cached(idp, clock):
    verifier = verifier_for(idp, clock=clock)
    for _ in range(3):
        assert verifier.verify(idp.token(PATIENT)).role is Role.PATIENT
    assert idp.requests == [idp.jwks_url]


def test_keys_come_from_the_discovery_documents_jwks_uri(idp, clock):
    verifier = verifier_for(idp, clock=clock, discovery=True)
    assert verifier.verify(idp.token(PATIENT)).niss == "85073003328"
    assert idp.requests == [idp.discovery_url, idp.jwks_url]


def test_a_discovery_document_of_another_issuer_is_not_believed(idp, clock):
    source = JwksSource(idp.client(), clock, discovery_url=idp.discovery_url, issuer="https://someone.else.example")
    with pytest.raises(TokenRejected) as caught:
        source.key("any")
    assert caught.value.code == "jwks-unavailable"


def test_keys_are_refreshed_on_the_clock(idp, clock):
    verifier = verifier_for(idp, clock=clock, refresh=timedelta(hours=1))
    verifier.verify(idp.token(PATIENT))
    clock.advance(timedelta(minutes=59))
    verifier.verify(idp.token(PATIENT, now=clock.now()))
    assert len(idp.requests) == 1
    clock.advance(timedelta(minutes=2))
    verifier.verify(idp.token(PATIENT, now=clock.now()))
    assert len(idp.requests) == 2


def test_a_rotated_key_is_fetched_once_when_its_kid_first_comes(idp, clock):
    verifier = verifier_for(idp, clock=clock)
    verifier.verify(idp.token(PATIENT))
    idp.rotate()
    clock.advance(timedelta(minutes=2))  # past the minimum interval between fetches
    assert verifier.verify(idp.token(PATIENT, now=clock.now())).role is Role.PATIENT
    assert idp.requests == [idp.jwks_url, idp.jwks_url]
    verifier.verify(idp.token(PATIENT, now=clock.now()))  # now known: no new fetch
    assert len(idp.requests) == 2


def test_a_flood_of_unknown_kids_fetches_the_keys_once_per_interval(idp, clock):
    verifier = verifier_for(idp, clock=clock, min_refetch=timedelta(minutes=1))
    verifier.verify(idp.token(PATIENT))
    clock.advance(timedelta(minutes=5))
    for n in range(20):
        refused(verifier, idp.token(PATIENT, kid=f"made-up-{n}", now=clock.now()), "unknown-kid")
    assert len(idp.requests) == 2  # the first fetch, and one refetch for the first unknown kid
    clock.advance(timedelta(minutes=1))
    refused(verifier, idp.token(PATIENT, kid="made-up-again", now=clock.now()), "unknown-kid")
    assert len(idp.requests) == 3


def test_an_outage_keeps_the_known_keys_and_no_keys_at_all_refuses(idp, clock):
    verifier = verifier_for(idp, clock=clock, refresh=timedelta(minutes=10))
    verifier.verify(idp.token(PATIENT))
    idp.down = True
    clock.advance(timedelta(minutes=11))  # refresh due, the provider answers 503
    assert verifier.verify(idp.token(PATIENT, now=clock.now())).role is Role.PATIENT
    unreachable = ForeignIdp(down=True)
    refusal = refused(verifier_for(unreachable, clock=clock), unreachable.token(PATIENT, now=clock.now()), "jwks-unavailable")
    assert "try again later" in refusal.message.lower()


# ------------------------------------------------------------ issuers


def test_RP_S1_each_configured_issuer_is_trusted_by_its_own_keys_and_audience(clock):
    """Two identity providers (eHealth's and the crossroads bank's, RP-S1):
    each token is checked with the keys of the issuer it names."""
    ehealth, ksz = ForeignIdp("https://idp.ehealth.example/realms/m2m"), ForeignIdp("https://iam.ksz.example/oidc")
    verifier = verifier_for(ehealth, ksz, clock=clock)
    assert verifier.verify(ehealth.token(PATIENT)).niss == "85073003328"
    assert verifier.verify(ksz.token({**PATIENT, "role": "provider", "quality": "nurse"})).role is Role.PROVIDER
    # the crossroads bank's key under the eHealth issuer's name
    forged = jwt.encode({"iss": ehealth.issuer, "aud": "care-gateway", "exp": int(NOW.timestamp()) + 600, **PATIENT},
                        ksz.keys[0], algorithm="RS256", headers={"kid": jwk_thumbprint(ksz.keys[0].public_key())})
    refused(verifier, forged, "unknown-kid")
    refused(verifier, ehealth.token({**PATIENT, "aud": "another-service"}), "wrong-audience")
    refusal = refused(verifier, ForeignIdp("https://rogue.example").token(PATIENT), "wrong-issuer")
    assert ehealth.issuer in refusal.message and ksz.issuer in refusal.message


def test_tokens_signed_by_the_sandbox_idp_are_refused_where_the_sandbox_is_not_trusted(idp, clock):
    verifier = verifier_for(idp, clock=clock)
    sandbox_key = sandbox_idp_key()
    sandbox_kid = jwk_thumbprint(sandbox_key.public_key())
    # the sandbox IdP's own tokens: its issuer is not configured here
    sandbox_issuer = "http://127.0.0.1:8000/ehealth/auth/realms/M2M"
    token = jwt.encode({"iss": sandbox_issuer, "aud": "care-gateway", "exp": int(NOW.timestamp()) + 600, **PATIENT},
                       sandbox_key, algorithm="RS256", headers={"kid": sandbox_kid})
    refused(verifier, token, "wrong-issuer")
    # the sandbox key passing itself off as the foreign issuer: not among that issuer's keys
    refused(verifier, idp.token(PATIENT, key=sandbox_key), "unknown-kid")
    # nor under the foreign key's kid
    refused(verifier, idp.token(PATIENT, key=sandbox_key, kid=jwk_thumbprint(idp.keys[0].public_key())), "bad-signature")


def test_an_issuers_claims_mapping_makes_its_principal(idp, clock):
    mapping = ClaimsMapping.from_names({"niss": "national_number", "role": "care_role"})
    verifier = TokenVerifier([TrustedIssuer("regional", idp.issuer, ("care-gateway",),
                                            keys(idp, clock), mapping)], clock)
    principal = verifier.principal(idp.token({"national_number": "75123152609", "care_role": "provider",
                                              "quality": "nurse", "nihii": "12345678901"}))
    assert (principal.niss, principal.role, principal.quality) == ("75123152609", Role.PROVIDER, "nurse")


def test_an_issuer_cannot_be_configured_twice(idp, clock):
    with pytest.raises(ValueError, match="twice"):
        TokenVerifier([TrustedIssuer("a", idp.issuer, ("x",), keys(idp, clock)),
                       TrustedIssuer("b", idp.issuer, ("y",), keys(idp, clock))], clock)


def test_times_are_the_injected_clocks(idp, clock):
    verifier = verifier_for(idp, clock=clock)
    token = idp.token(PATIENT)  # valid for 600 s from NOW
    clock.advance(timedelta(seconds=600 + 31))
    refused(verifier, token, "expired")
    later = FixedClock(datetime(2030, 1, 1, tzinfo=timezone.utc))
    refused(verifier_for(idp, clock=later), idp.token(PATIENT), "expired")
