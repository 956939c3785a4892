"""Going live, rehearsed: the simulated platform runs as its own process
(`care-gateway sandbox serve`), and a gateway process trusts it by settings
alone (`care-gateway sandbox trust` writes them, as a vendor would receive
certificates for eHealth's acceptance environment). Everything crosses real
HTTP between two processes.

- a provider's STS token from the platform reaches the gateway's SOAP face;
- the same token exchanged at the platform's IdP reaches the FHIR face;
- the access policy's facts come from the platform's services over the wire
  (the platform's access log shows the gateway's attribute-authority calls);
- the gateway serves no simulation (/ehealth answers 404) and its database
  holds none of the simulation's tables, nor any plaintext NISS (IC-R10).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from lxml import etree
from sqlalchemy import create_engine, inspect

from gateway.domain.clock import SystemClock
from gateway.ehealth.pki import load_pki
from gateway.ehealth.sandbox.personas import personas as make_personas
from gateway.ehealth.sandbox.registries import generate_registries
from gateway.ehealth.sandbox_tokens import persona_access_token
from gateway.ehealth.sts_client import persona_token
from gateway.identity.signing import sign_with_saml
from gateway.identity.xml import parse_untrusted
from gateway.soap11.envelope import envelope_bytes
from tests.plaintext_niss import scan

IC = "urn:be:care-gateway:integratedcare:v1"
SIMULATION_TABLES = {"register_mutation", "therlink_link", "hub_patient_consent", "oauth_authorization_code",
                     "oauth_used_assertion"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """One `care-gateway` command serving HTTP, its output kept in a file."""

    def __init__(self, args: list[str], cwd: Path, log: Path, env: dict[str, str], health: str) -> None:
        self.log = log
        self.handle = log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "gateway", *args], cwd=cwd, env=env,
                                     stdout=self.handle, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"{args[0:2]} exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(health, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{args[0:2]} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.handle.close()


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> Iterator[dict[str, object]]:  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("going-live")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARE_GATEWAY_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    platform_port, gateway_port = free_port(), free_port()
    platform_url = f"http://127.0.0.1:{platform_port}"
    platform = Process(["sandbox", "serve", "--port", str(platform_port),
                        "--sandbox-database", f"sqlite:///{work / 'platform.sqlite3'}"],
                       work, work / "platform.log", env, platform_url + "/health")
    try:
        subprocess.run([sys.executable, "-m", "gateway", "sandbox", "trust", "--platform-url", platform_url,
                        "--out", str(work / "trust")], cwd=work, env=env, check=True, capture_output=True)
        gateway_db = work / "gateway.sqlite3"
        gateway_env = {**env, "CARE_GATEWAY_SETTINGS": str(work / "trust" / "care-gateway.toml")}
        gateway = Process(["serve", "--port", str(gateway_port), "--database", f"sqlite:///{gateway_db}"],
                          work, work / "gateway.log", gateway_env, f"http://127.0.0.1:{gateway_port}/health")
        try:
            yield {"platform": platform_url, "gateway": f"http://127.0.0.1:{gateway_port}", "db": gateway_db,
                   "platform_log": work / "platform.log"}
        finally:
            gateway.stop()
    finally:
        platform.stop()


@pytest.fixture(scope="module")
def cast():  # type: ignore[no-untyped-def]
    return make_personas(generate_registries(2026))


def soap_consult(base: str, token: bytes, persona_key: str, patient_niss: str) -> httpx.Response:
    payload = etree.Element(f"{{{IC}}}GetPatientInclusionsRequest", nsmap={"ic": IC})
    etree.SubElement(payload, f"{{{IC}}}PatientSsin").text = patient_niss
    credential = load_pki().persona(persona_key)
    envelope = sign_with_saml(parse_untrusted(envelope_bytes(payload)), token, credential.private_key,
                              credential.certificate, clock=SystemClock())
    return httpx.post(base + "/soap/IntegratedCare/v1", content=etree.tostring(envelope), timeout=30,
                      headers={"Content-Type": "text/xml; charset=utf-8",
                               "SOAPAction": '"urn:be:care-gateway:integratedcare:v1:GetPatientInclusions"'})


def test_a_provider_token_from_the_platform_reaches_both_faces_of_a_gateway_trusting_it_by_settings(two_processes, cast):
    platform, gateway = str(two_processes["platform"]), str(two_processes["gateway"])
    gp, patient = cast["gp"], cast["patient"]
    token = persona_token(platform, load_pki(), gp)
    answer = soap_consult(gateway, token, "gp", patient.niss)
    assert answer.status_code == 200, answer.text
    assert b"GetPatientInclusionsResponse" in answer.content

    access = persona_access_token(platform, load_pki(), gp)
    fhir = httpx.get(f"{gateway}/fhir/EpisodeOfCare", params={"patient-identifier": f"https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin|{patient.niss}"},
                     headers={"Authorization": f"Bearer {access}", "Accept": "application/fhir+json"}, timeout=30)
    assert fhir.status_code == 200, fhir.text
    assert fhir.json()["resourceType"] == "Bundle"

    # IC-A1: the link was asked of the platform's attribute authority, over the wire, by the gateway
    log = Path(str(two_processes["platform_log"])).read_text()
    assert "POST /ehealth/IAM/AttributeAuthority/v1" in log


def test_IC_A1_a_provider_without_a_link_is_refused_on_the_platforms_word(two_processes, cast):
    platform, gateway = str(two_processes["platform"]), str(two_processes["gateway"])
    token = persona_token(platform, load_pki(), cast["gp-no-link"])
    answer = soap_consult(gateway, token, "gp-no-link", cast["patient"].niss)
    assert answer.status_code == 500 and b"IC-A1" in answer.content


def test_the_gateway_serves_no_simulation_and_stores_none_of_it(two_processes):
    gateway = str(two_processes["gateway"])
    assert httpx.get(gateway + "/ehealth/IAM/SecurityTokenService/v1?wsdl", timeout=10).status_code == 404
    assert httpx.get(gateway + "/ehealth/auth/realms/M2M/.well-known/openid-configuration", timeout=10).status_code == 404
    engine = create_engine(f"sqlite:///{two_processes['db']}")
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables and not tables & SIMULATION_TABLES
    assert scan([Path(str(two_processes["db"]))]) == []  # IC-R10


def test_an_assertion_of_another_sts_is_refused_by_the_gateway_trusting_this_platform(two_processes, cast):
    """The trust is the settings': an STS and CA the settings do not name
    (generated here, as a forger would) are not trusted."""
    from datetime import datetime, timedelta, timezone

    from gateway.identity.claims import ATTR_DOCTOR_BOOLEAN, ATTR_DOCTOR_NIHII, ATTR_PERSON_SSIN, CERTIFIED_NS, IDENTIFICATION_NS
    from gateway.identity.saml import AM_X509_PKI, STS_ISSUER, build_assertion, sign_assertion
    from tests.identity.foreign import ForeignPki

    pki, gp, now = ForeignPki.generate(), cast["gp"], datetime.now(timezone.utc)
    unsigned = build_assertion(
        issuer=STS_ISSUER, subject_niss=gp.niss, subject_cert=pki.caller.certificate,
        attributes=[(IDENTIFICATION_NS, ATTR_PERSON_SSIN, [gp.niss]), (CERTIFIED_NS, ATTR_DOCTOR_BOOLEAN, ["true"]),
                    (CERTIFIED_NS, ATTR_DOCTOR_NIHII, [gp.nihii])],
        authentication_method=AM_X509_PKI, not_before=now, not_on_or_after=now + timedelta(hours=1), issue_instant=now)
    forged = etree.tostring(sign_assertion(unsigned, pki.sts.key, pki.sts.certificate))
    payload = etree.Element(f"{{{IC}}}GetPatientInclusionsRequest", nsmap={"ic": IC})
    etree.SubElement(payload, f"{{{IC}}}PatientSsin").text = cast["patient"].niss
    envelope = sign_with_saml(parse_untrusted(envelope_bytes(payload)), forged, pki.caller.key, pki.caller.certificate,
                              clock=SystemClock())
    answer = httpx.post(str(two_processes["gateway"]) + "/soap/IntegratedCare/v1", content=etree.tostring(envelope),
                        headers={"Content-Type": "text/xml; charset=utf-8",
                                 "SOAPAction": '"urn:be:care-gateway:integratedcare:v1:GetPatientInclusions"'}, timeout=30)
    assert answer.status_code == 500 and b"untrusted" in answer.content, answer.text
