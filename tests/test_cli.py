"""The command line: --help everywhere, and `serve` answering over real HTTP
on its embedded default (SQLite with the sandbox data)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from gateway.cli import build_parser, main

COMMANDS = [
    [], ["serve"], ["db"], ["db", "upgrade"], ["db", "current"], ["sandbox"], ["sandbox", "personas"],
    ["sandbox", "mutate"], ["register"], ["register", "sync"], ["audit"], ["audit", "verify"], ["purge"], ["mappings"], ["mappings", "docs"], ["sandbox", "credentials"], ["sandbox", "serve"], ["sandbox", "trust"],
]


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "care-gateway")
def test_every_command_has_help(words, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*words, "--help"])
    assert exit_.value.code == 0
    assert "usage: care-gateway" in capsys.readouterr().out


def test_personas_json_lists_every_role(capsys):
    assert main(["sandbox", "personas", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    roles = {p["role"] for p in data}
    assert {"patient", "provider", "pharmacist", "psi-administrative", "psi-coordinator"} <= roles


def test_mutate_then_sync_closes_inclusions(gw, personas, capsys, monkeypatch):
    from tests.conftest import declaration

    inc = gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    monkeypatch.setenv("CARE_GATEWAY_DATABASE_URL", gw.db.url)
    monkeypatch.setenv("CARE_GATEWAY_SANDBOX_DATABASE_URL", gw.platform.db.url)  # the platform the gateway hosts
    assert main(["sandbox", "mutate", "death", personas["patient"].niss, "--date", "2026-06-01"]) == 0
    assert main(["register", "sync"]) == 0
    out = capsys.readouterr().out
    assert "1 inclusion(s) closed (IC-R4)" in out
    assert gw.inclusions.get(personas["gp"].principal(), inc.id).closed_reason == "death"
    assert main(["sandbox", "mutate", "death", "12345678901"]) == 1
    assert "error:" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_health_over_http(tmp_path):
    port = free_port()
    env = {**os.environ, "CARE_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'served.sqlite3'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stdout.read() if proc.stdout else "server did not start")
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["status"] == "ok" and response.json()["dialect"] == "sqlite"
        spec = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        assert "/health" in spec["paths"]
    finally:
        proc.terminate()
        proc.wait(20)


def test_sandbox_actions_can_be_switched_off(database, clock, tmp_path):
    """Where data are not sandbox data, the unauthenticated sandbox actions
    (inject a death, the JSON mutation feed) are not served at all."""
    from fastapi.testclient import TestClient

    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.ehealth.platform import PlatformSettings, build_platform
    from gateway.wiring import build_gateway

    for enabled, expected in ((True, 200), (False, 404)):
        platform = build_platform(PlatformSettings(database_url=f"sqlite:///{tmp_path}/platform-{enabled}.sqlite3",
                                                   sandbox_actions=enabled), clock=clock)
        gw = build_gateway(Settings(database_url=database.url, sandbox_actions=enabled), clock=clock, db=database,
                           platform=platform)
        client = TestClient(create_app(gw))
        assert client.get("/ehealth/consultRN/v1/mutations").status_code == expected
        injected = client.post("/sandbox/register/mutations", json={"kind": "death", "niss": "85073003328"})
        assert (injected.status_code == 404) is (not enabled)
    assert Settings.from_env({"CARE_GATEWAY_SANDBOX_ACTIONS": "off"}).sandbox_actions is False
    assert Settings.from_env({}).sandbox_actions is True


def test_organisation_credentials_and_trust_files_are_written(tmp_path, capsys):
    """An insurer's or a hospital's vendor gets its organisation's key and
    certificate without digging in the package; `sandbox trust` writes what
    a gateway needs to trust a separate simulated platform."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12

    from gateway.config import Settings
    from gateway.trust import TrustSettings

    nihii = "71514833000"  # the sandbox hospital
    assert main(["sandbox", "credentials", f"org-{nihii}", "--out", str(tmp_path / "org")]) == 0
    cert = x509.load_pem_x509_certificate((tmp_path / "org" / f"org-{nihii}.cert.pem").read_bytes())
    assert nihii in cert.subject.rfc4514_string()
    key, p12_cert, _ = pkcs12.load_key_and_certificates((tmp_path / "org" / f"org-{nihii}.p12").read_bytes(), b"sandbox")
    assert key is not None and p12_cert == cert
    assert main(["sandbox", "credentials", "org-12345678901", "--out", str(tmp_path / "x")]) == 2
    assert "no organisation" in capsys.readouterr().err

    assert main(["sandbox", "trust", "--platform-url", "http://127.0.0.1:8100", "--out", str(tmp_path / "trust")]) == 0
    settings_file = tmp_path / "trust" / "care-gateway.toml"
    trust = TrustSettings.load({"CARE_GATEWAY_SETTINGS": str(settings_file)})
    assert trust.missing() == []
    assert trust.own_credential().certificate == cert
    assert trust.oidc[0].issuer == "http://127.0.0.1:8100/ehealth/auth/realms/M2M"
    assert Settings.from_env({"CARE_GATEWAY_SETTINGS": str(settings_file)}).platform == "http://127.0.0.1:8100/ehealth"


def test_RP_S1_a_return_to_work_persona_s_credentials_are_written(tmp_path, capsys):
    """A regional counsellor's vendor gets the key and certificate its user
    signs STS requests with at the crossroads bank (RP-S1), as the console's
    download gives them."""
    from cryptography import x509

    from gateway.ehealth.pki import load_pki

    assert main(["sandbox", "credentials", "reg-counsellor", "--out", str(tmp_path / "reg")]) == 0
    cert = x509.load_pem_x509_certificate((tmp_path / "reg" / "reg-counsellor.cert.pem").read_bytes())
    assert cert == load_pki().persona("reg-counsellor").certificate
    assert "keystore password: sandbox" in capsys.readouterr().out
