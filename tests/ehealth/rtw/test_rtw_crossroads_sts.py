"""The crossroads bank's STS in the gateway's trust, by configuration only
(RP-S1): `care-gateway sandbox trust` and the embedded default both name it
beside eHealth's STS, each Issuer paired with its own certificate and the
crossroads bank's attribute names; the settings refuse an Issuer claimed
for two STSs and an STS table without its certificate."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.ehealth.platform import write_trust_files
from gateway.ehealth.rtw.sts import BCSS_STS_ATTRIBUTES, BCSS_STS_ISSUER, bcss_sts_credential
from gateway.identity.saml import STS_ISSUER
from gateway.trust import TrustSettings, TrustSettingsError


def test_rp_s1_sandbox_trust_pairs_each_sts_issuer_with_its_own_certificate(platform, tmp_path) -> None:  # type: ignore[no-untyped-def]
    write_trust_files(platform, tmp_path)
    settings = TrustSettings.load({"CARE_GATEWAY_SETTINGS": str(tmp_path / "care-gateway.toml")})
    assert settings.missing() == []
    assert [(s.name, s.issuers) for s in settings.trusted_sts()] == [("ehealth", (STS_ISSUER,)), ("bcss", (BCSS_STS_ISSUER,))]
    bcss = settings.other_sts[0]
    assert bcss.attributes is not None and bcss.attributes.role == BCSS_STS_ATTRIBUTES["role"]
    trust = settings.message_trust()
    assert trust.sts_for(BCSS_STS_ISSUER).certificates == (bcss_sts_credential(platform.pki).certificate,)  # type: ignore[union-attr]
    assert trust.sts_for(STS_ISSUER).certificates == (platform.pki.platform("sts").certificate,)  # type: ignore[union-attr]


def test_rp_s1_the_embedded_default_trusts_the_crossroads_sts_as_a_vendor_would(gw) -> None:  # type: ignore[no-untyped-def]
    trust = gw.trust.message_trust()
    assert trust.sts_for(BCSS_STS_ISSUER).name == "bcss"  # type: ignore[union-attr]
    assert trust.sts_for(BCSS_STS_ISSUER).certificates != trust.sts_for(STS_ISSUER).certificates  # type: ignore[union-attr]
    sign_in = gw.return_to_work.policy.sign_in
    assert BCSS_STS_ISSUER in sign_in.regional_issuers and STS_ISSUER in sign_in.ehealth_issuers
    assert BCSS_STS_ISSUER not in sign_in.ehealth_issuers and STS_ISSUER not in sign_in.regional_issuers


def _settings(tmp_path: Path, text: str) -> TrustSettings:
    (tmp_path / "sts.pem").write_text("unused")
    path = tmp_path / "care-gateway.toml"
    path.write_text(text)
    return TrustSettings.load({"CARE_GATEWAY_SETTINGS": str(path)})


def test_an_issuer_accepted_for_two_stss_is_refused_by_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(tmp_path, f"""[trust]
sts_certificates = ["sts.pem"]
sts_issuers = ["{STS_ISSUER}"]

[[trust.sts]]
name = "bcss"
issuers = ["{STS_ISSUER}"]
certificates = ["sts.pem"]
""")
    assert any(STS_ISSUER in p and "ehealth, bcss" in p for p in settings.missing())


def test_an_sts_table_needs_its_certificates_and_issuers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TrustSettingsError) as error:
        _settings(tmp_path, f"""[trust]
[[trust.sts]]
name = "bcss"
issuers = ["{BCSS_STS_ISSUER}"]
""")
    assert "STS 'bcss'" in str(error.value) and "certificates" in str(error.value)
    with pytest.raises(TrustSettingsError) as error:
        _settings(tmp_path, """[trust]
[[trust.sts]]
name = "bcss"
issuers = ["urn:x"]
certificates = ["sts.pem"]
[trust.sts.attributes]
cbe = "urn:x:cbe"
""")
    assert "unknown claims mapping field" in str(error.value)
