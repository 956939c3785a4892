"""The two commands as a vendor runs them: `care-gateway serve` answers its
home page at /, `care-gateway sandbox serve` its console at /, and a
platform started with CARE_GATEWAY_SANDBOX_ACTIONS=off has no console."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

from tests.web.serving import free_port


@contextmanager
def serving(command: list[str], cwd: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gateway", *command, "--port", str(port)], cwd=cwd,
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(base + "/health", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stdout.read() if proc.stdout else "the server did not start")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(20)


def test_care_gateway_serve_answers_its_home_page(tmp_path) -> None:
    env = {"CARE_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.sqlite3'}"}
    with serving(["serve"], tmp_path, env) as base:
        page = httpx.get(base + "/", timeout=30)
        assert page.status_code == 200 and "<h1>care-gateway</h1>" in page.text
        assert f'<a href="{base}/fhir" id="fhir-base">' in page.text
        facts = httpx.get(base + "/", headers={"Accept": "application/json"}, timeout=30).json()
        assert facts["platform"]["console"] == base + "/sandbox/console/"
        assert httpx.get(facts["platform"]["console"], timeout=30).status_code == 200


def test_care_gateway_sandbox_serve_answers_its_console(tmp_path) -> None:
    env = {"CARE_GATEWAY_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'platform.sqlite3'}"}
    with serving(["sandbox", "serve"], tmp_path, env) as base:
        page = httpx.get(base + "/", timeout=30)
        assert page.status_code == 200 and "<h1>Sandbox console</h1>" in page.text
        assert f"<code>{base}/ehealth</code>" in page.text


def test_a_platform_without_sandbox_actions_has_no_console(tmp_path) -> None:
    env = {"CARE_GATEWAY_SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'platform.sqlite3'}",
           "CARE_GATEWAY_SANDBOX_ACTIONS": "off"}
    with serving(["sandbox", "serve"], tmp_path, env) as base:
        assert httpx.get(base + "/", timeout=30).status_code == 404
        assert httpx.get(base + "/sandbox/console/", timeout=30).status_code == 404
