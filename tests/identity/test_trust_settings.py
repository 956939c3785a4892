"""TrustSettings: read from the [trust] section of the settings file and
from the environment, every absent setting named in a sentence, and the
verifiers and credential built from them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from gateway.identity.claims import ClaimsMapping
from gateway.trust import SETTINGS_ENV, TrustSettings, TrustSettingsError
from tests.identity.foreign import ForeignPki, crl

EVERYTHING = {
    "CARE_GATEWAY_OIDC_ISSUER": "https://idp.example/realms/care",
    "CARE_GATEWAY_OIDC_JWKS_URL": "https://idp.example/realms/care/jwks",
    "CARE_GATEWAY_OIDC_AUDIENCE": "care-gateway, care-gateway-acc",
    "CARE_GATEWAY_STS_CERTIFICATES": "sts.pem",
    "CARE_GATEWAY_STS_ISSUERS": "urn:be:fgov:ehealth:sts:1_0",
    "CARE_GATEWAY_CA_CERTIFICATES": "root.pem",
    "CARE_GATEWAY_KEY": "gateway.key.pem",
    "CARE_GATEWAY_CERTIFICATE": "gateway.cert.pem",
    "CARE_GATEWAY_PLATFORM_CERTIFICATES": "sts.pem",
}


@pytest.fixture(scope="module")
def pki() -> ForeignPki:
    return ForeignPki.generate()


@pytest.fixture
def files(tmp_path: Path, pki: ForeignPki) -> Path:
    """The foreign platform's public material (and the gateway's credential) as files."""
    (tmp_path / "pki").mkdir()
    for name, data in {"root.pem": pki.root.cert_pem, "issuing.pem": pki.intermediate.cert_pem, "sts.pem": pki.sts.cert_pem,
                       "gateway.key.pem": pki.other_caller.key_pem, "gateway.cert.pem": pki.other_caller.cert_pem,
                       "issuing.crl": crl(pki.intermediate, [pki.caller.certificate]).public_bytes(serialization.Encoding.DER),
                       }.items():
        (tmp_path / "pki" / name).write_bytes(data)
    return tmp_path


SETTINGS_FILE = """
[trust]
sts_certificates = ["pki/sts.pem"]
sts_issuers = ["urn:foreign:sts"]
ca_certificates = ["pki/root.pem"]
ca_intermediates = ["pki/issuing.pem"]
crls = ["pki/issuing.crl"]
key = "pki/gateway.key.pem"
certificate = "pki/gateway.cert.pem"
platform_certificates = ["pki/sts.pem"]
jwks_refresh_seconds = 600

[[trust.oidc]]
name = "ehealth"
issuer = "https://idp.ehealth.example/realms/care"
discovery_url = "https://idp.ehealth.example/realms/care/.well-known/openid-configuration"
audiences = ["care-gateway"]

[[trust.oidc]]
name = "ksz"
issuer = "https://iam.ksz.example/oidc"
jwks_url = "https://iam.ksz.example/oidc/jwks"
audiences = ["care-gateway"]
[trust.oidc.claims]
niss = "national_number"
role = "care_role"
"""


def write(files: Path, text: str = SETTINGS_FILE) -> Path:
    path = files / "settings.toml"
    path.write_text(text)
    return path


def test_a_settings_file_names_the_whole_trust(files, pki):
    settings = TrustSettings.load({SETTINGS_ENV: str(write(files))})
    assert settings.missing() == []
    settings.check()
    assert [i.name for i in settings.oidc] == ["ehealth", "ksz"]
    assert settings.oidc[1].claims == ClaimsMapping(niss="national_number", role="care_role")
    assert settings.cache.jwks_refresh == timedelta(minutes=10)
    assert settings.sts.certificates == (files / "pki" / "sts.pem",)  # relative to the settings file
    trust = settings.message_trust()
    assert trust.sts_certificates == (pki.sts.certificate,) and trust.sts_issuers == ("urn:foreign:sts",)
    assert trust.certificates.roots == (pki.root.certificate,) and len(trust.certificates.crls) == 1
    assert settings.own_credential().certificate == pki.other_caller.certificate
    assert settings.platform_signers() == (pki.sts.certificate,)


def test_the_environment_overrides_the_file(files, pki, tmp_path, monkeypatch):
    monkeypatch.chdir(files)
    env = {SETTINGS_ENV: str(write(files)), "CARE_GATEWAY_OIDC_JWKS_URL": "https://idp.ehealth.example/jwks",
           "CARE_GATEWAY_OIDC_AUDIENCE": "a, b", "CARE_GATEWAY_STS_ISSUERS": "urn:one,urn:two",
           "CARE_GATEWAY_JWKS_MIN_REFETCH_SECONDS": "5"}
    settings = TrustSettings.load(env)
    first = settings.oidc[0]
    assert (first.name, first.jwks_url, first.discovery_url, first.audiences) == (
        "ehealth", "https://idp.ehealth.example/jwks", None, ("a", "b"))
    assert settings.oidc[1].name == "ksz"  # further issuers stay as the file says
    assert settings.sts.issuers == ("urn:one", "urn:two")
    assert settings.cache.jwks_min_refetch == timedelta(seconds=5)


def test_the_environment_alone_is_enough(files, monkeypatch):
    monkeypatch.chdir(files / "pki")
    settings = TrustSettings.load(EVERYTHING)
    assert settings.missing() == []
    assert settings.oidc[0].name == "default" and settings.oidc[0].audiences == ("care-gateway", "care-gateway-acc")
    assert settings.sts.certificates == (Path("sts.pem"),)
    settings.message_trust()  # the files are read relative to the working directory


def test_missing_names_every_absent_setting_in_a_sentence():
    """Blaze's model: the gateway says which trust setting is missing, not that something is."""
    problems = TrustSettings.load({}).missing()
    assert len(problems) == 6
    for variable in ("CARE_GATEWAY_OIDC_ISSUER", "CARE_GATEWAY_STS_CERTIFICATES", "CARE_GATEWAY_STS_ISSUERS",
                     "CARE_GATEWAY_CA_CERTIFICATES", "CARE_GATEWAY_KEY", "CARE_GATEWAY_PLATFORM_CERTIFICATES"):
        assert sum(variable in p for p in problems) == 1, variable
    assert all(p.endswith(".") and p[0].isupper() for p in problems)
    with pytest.raises(TrustSettingsError) as caught:
        TrustSettings.load({}).check()
    assert caught.value.problems == problems


@pytest.mark.parametrize("absent, named", [
    ("CARE_GATEWAY_OIDC_AUDIENCE", "CARE_GATEWAY_OIDC_AUDIENCE"),
    ("CARE_GATEWAY_OIDC_JWKS_URL", "CARE_GATEWAY_OIDC_DISCOVERY_URL or CARE_GATEWAY_OIDC_JWKS_URL"),
    ("CARE_GATEWAY_OIDC_ISSUER", "CARE_GATEWAY_OIDC_ISSUER"),
    ("CARE_GATEWAY_STS_ISSUERS", "CARE_GATEWAY_STS_ISSUERS"),
    ("CARE_GATEWAY_CA_CERTIFICATES", "CARE_GATEWAY_CA_CERTIFICATES"),
    ("CARE_GATEWAY_CERTIFICATE", "CARE_GATEWAY_CERTIFICATE"),
])
def test_one_missing_setting_is_the_one_named(absent, named):
    env = {k: v for k, v in EVERYTHING.items() if k != absent}
    problems = TrustSettings.load(env).missing()
    assert len(problems) == 1 and named in problems[0], problems


def test_an_issuer_in_the_file_without_its_audience_is_named(files):
    text = SETTINGS_FILE.replace('audiences = ["care-gateway"]\n\n[[trust.oidc]]', '\n[[trust.oidc]]')
    problems = TrustSettings.from_file(write(files, text)).missing()
    assert problems == ["OpenID Connect issuer 'ehealth' accepts no audience: set its audiences "
                        "(CARE_GATEWAY_OIDC_AUDIENCE), the aud value its access tokens carry for this gateway."]


@pytest.mark.parametrize("change, message", [
    (("sts_issuers", "sts_issuer"), "Unknown setting(s) sts_issuer"),
    (('jwks_url = "https://iam.ksz.example/oidc/jwks"', 'jwks_url = "https://iam.ksz.example/oidc/jwks"\n'
                                                         'discovery_url = "https://iam.ksz.example/.well-known"'),
     "sets both jwks_url and discovery_url"),
    (('niss = "national_number"', 'ssin = "national_number"'), "unknown claims mapping field(s) ssin"),
    (("jwks_refresh_seconds = 600", "jwks_refresh_seconds = -1"), "must be a positive number of seconds"),
])
def test_a_wrong_settings_file_is_refused_with_the_key_named(files, change, message):
    with pytest.raises(TrustSettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TrustSettings.from_file(write(files, SETTINGS_FILE.replace(*change)))


def test_unreadable_material_is_named_by_its_file(files):
    settings = TrustSettings.from_file(write(files, SETTINGS_FILE.replace("pki/root.pem", "pki/nowhere.pem")))
    with pytest.raises(TrustSettingsError, match="nowhere.pem cannot be read"):
        settings.message_trust()
    settings = TrustSettings.from_file(write(files, SETTINGS_FILE.replace("pki/root.pem", "pki/gateway.key.pem")))
    with pytest.raises(TrustSettingsError, match="holds no certificate"):
        settings.certificate_store()
    with pytest.raises(TrustSettingsError, match="cannot be read"):
        TrustSettings.load({SETTINGS_ENV: str(files / "absent.toml")})


def test_the_gateways_credential_from_pkcs12_and_a_key_that_is_not_the_certificates(files, pki):
    bundle = pkcs12.serialize_key_and_certificates(b"gateway", pki.other_caller.key, pki.other_caller.certificate,
                                                   [pki.intermediate.certificate],
                                                   serialization.BestAvailableEncryption(b"s3cret"))
    (files / "gateway.p12").write_bytes(bundle)
    env = {**EVERYTHING, "CARE_GATEWAY_PKCS12": str(files / "gateway.p12"), "CARE_GATEWAY_KEY_PASSWORD": "s3cret"}
    env.pop("CARE_GATEWAY_KEY"), env.pop("CARE_GATEWAY_CERTIFICATE")
    own = TrustSettings.load(env).own_credential()
    assert own.certificate == pki.other_caller.certificate and own.chain == (pki.intermediate.certificate,)
    with pytest.raises(TrustSettingsError, match="CARE_GATEWAY_KEY_PASSWORD"):
        TrustSettings.load({**env, "CARE_GATEWAY_KEY_PASSWORD": "wrong"}).own_credential()
    mismatched = SETTINGS_FILE.replace("pki/gateway.cert.pem", "pki/sts.pem")
    with pytest.raises(TrustSettingsError, match="not the key of its certificate"):
        TrustSettings.from_file(write(files, mismatched)).own_credential()


def test_both_key_urls_in_the_environment_are_refused():
    with pytest.raises(TrustSettingsError, match="set only one"):
        TrustSettings.load({**EVERYTHING, "CARE_GATEWAY_OIDC_DISCOVERY_URL": "https://idp.example/.well-known"})
