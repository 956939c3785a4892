"""Several gateway instances on one PostgreSQL database, as behind a load
balancer: two `care-gateway serve --workers 2` (four processes) with one
public URL, one simulated platform's database, and concurrent declarations,
reads and consent changes sent to both. No write is lost or doubled,
IC-R1 leaves exactly one principal inclusion per patient, every act has
exactly one audit record (IC-R8) and the sealed chain verifies.

PostgreSQL only (CI's second pass): SQLite is the embedded, one-host default.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
from sqlalchemy import func, select

from gateway.config import SANDBOX_PSEUDONYM_SECRET
from gateway.domain import audit
from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.domain.model import AuditRecord, ConsentDecision, Inclusion
from gateway.domain.pseudonyms import PseudonymService
from gateway.ehealth.pki import load_pki
from gateway.ehealth.sandbox_tokens import persona_access_token
from tests.web.serving import free_port

pytestmark = pytest.mark.skipif(
    not (os.environ.get("CARE_GATEWAY_TEST_DATABASE_URL") or "").startswith("postgres"),
    reason="several instances share a PostgreSQL server (CI's second pass sets CARE_GATEWAY_TEST_DATABASE_URL)",
)

INCLUSION = "https://care-gateway.be/fhir/StructureDefinition/be-cg-inclusion"
STATUS_CS = "https://care-gateway.be/fhir/CodeSystem/inclusion-status"
CONSENT_EXT = "https://care-gateway.be/fhir/StructureDefinition/research-consent"


class Instance:
    """One `care-gateway serve --workers 2`, stopped by its own process id."""

    def __init__(self, port: int, cwd: Path, env: dict[str, str]) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log = (cwd / f"instance-{port}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--log-level", "WARNING", "serve", "--port", str(port), "--workers", "2"],
            cwd=cwd, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, deadline: float) -> None:
        while True:
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.flush()
                raise AssertionError(f"{self.base} did not start: {Path(self.log.name).read_text()[-3000:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


def episode(patient: str, psi: str, status: str, start: date) -> dict[str, Any]:
    return {
        "resourceType": "EpisodeOfCare", "meta": {"profile": [INCLUSION]}, "status": "active",
        "type": [{"coding": [{"system": STATUS_CS, "code": status}]}],
        "patient": {"identifier": {"system": SSIN_SYSTEM, "value": patient}},
        "managingOrganization": {"identifier": {"system": NIHDI_SYSTEM, "value": psi}},
        "period": {"start": start.isoformat()},
        "extension": [{"url": CONSENT_EXT, "extension": [
            {"url": "decision", "valueCode": "permit"}, {"url": "date", "valueDate": start.isoformat()}]}],
    }


def consent(patient: str, decision: str, on: date) -> dict[str, Any]:
    return {
        "resourceType": "Consent", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentcategorycodes", "code": "research"}]}],
        "patient": {"identifier": {"system": SSIN_SYSTEM, "value": patient}},
        "dateTime": on.isoformat(),
        "policy": [{"uri": "https://care-gateway.be/fhir/policy/integrated-care-research"}],
        "provision": {"type": decision},
    }


def together(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls at the same instant, one thread each."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            answers[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - asserted below
            answers[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not [a for a in answers if not isinstance(a, httpx.Response)], answers
    return answers


def test_IC_R1_IC_R8_two_instances_of_two_workers_on_one_postgresql(database, personas, platform, tmp_path):
    port_a, port_b = free_port(), free_port()
    public = f"http://127.0.0.1:{port_a}"  # the address clients know (a load balancer's)
    env = {"CARE_GATEWAY_DATABASE_URL": database.url, "CARE_GATEWAY_PUBLIC_URL": public,
           "CARE_GATEWAY_SANDBOX_DATABASE_URL": platform.db.url}  # its tables made by the fixture, before either starts
    sent = 0  # acts asked of the gateways: each must leave exactly one audit record
    with ExitStack() as stack:
        a = Instance(port_a, tmp_path, env)
        stack.callback(a.stop)
        b = Instance(port_b, tmp_path, env)
        stack.callback(b.stop)
        deadline = time.monotonic() + 180
        a.wait(deadline)
        b.wait(deadline)
        bases = [a.base, b.base]

        pki = load_pki(2026)
        tokens = {key: persona_access_token(public, pki, personas[key]) for key in ("gp", "nurse", "patient")}
        clients = {key: httpx.Client(headers={"Authorization": f"Bearer {t}", "Content-Type": "application/fhir+json"},
                                     timeout=60) for key, t in tokens.items()}
        for client in clients.values():
            stack.callback(client.close)
        today = date.today()
        start = today - timedelta(days=30)
        psi_a, psi_b = personas["psi-admin"].organisation_nihii, personas["psi-admin-other"].organisation_nihii
        gp = personas["gp"]
        linked = [p.niss for p in platform.registries.patients() if p.death_date is None and p.niss != personas["patient"].niss
                  and platform.facts.has_therapeutic_link(gp.niss, p.niss, today)][:6]
        assert len(linked) == 6

        # IC-R1: two principal declarations of one patient at once, one per instance
        for niss in linked[:4]:
            answers = together([
                lambda niss=niss: clients["gp"].post(f"{a.base}/fhir/EpisodeOfCare", json=episode(niss, psi_a, "principal", start)),
                lambda niss=niss: clients["nurse"].post(f"{b.base}/fhir/EpisodeOfCare", json=episode(niss, psi_b, "principal", start)),
            ])
            sent += 2
            assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
            refusal = next(r for r in answers if r.status_code == 409).text
            assert "IC-R1" in refusal

        # declarations that do not collide: every one stored, once
        declares = [lambda i=i: clients["gp" if i % 2 else "nurse"].post(
            f"{bases[i % 2]}/fhir/EpisodeOfCare", json=episode(linked[i % 6], psi_a if i % 3 else psi_b, "information", start))
            for i in range(16)]
        answers = together(declares)
        sent += len(declares)
        assert [r.status_code for r in answers] == [201] * 16, [r.text for r in answers if r.status_code != 201]
        created = [r.json()["id"] for r in answers]

        # reads through both instances meanwhile
        answers = together([lambda i=i: clients["gp"].get(f"{bases[i % 2]}/fhir/EpisodeOfCare/{created[i]}") for i in range(16)])
        sent += 16
        assert [r.status_code for r in answers] == [200] * 16
        assert [r.json()["id"] for r in answers] == created

        # consent changes of one patient at once, half through each instance
        patient = personas["patient"].niss
        first = clients["gp"].post(f"{a.base}/fhir/EpisodeOfCare", json=episode(patient, psi_a, "information", start))
        sent += 1
        assert first.status_code == 201, first.text
        answers = together([lambda i=i: clients["patient"].post(
            f"{bases[i % 2]}/fhir/Consent", json=consent(patient, "deny" if i % 2 else "permit", today)) for i in range(6)])
        sent += 6
        assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers if r.status_code != 201]
        history = clients["patient"].get(f"{b.base}/fhir/Consent", params={"patient-identifier": f"{SSIN_SYSTEM}|{patient}"})
        sent += 1
        assert history.status_code == 200
        statuses = [e["resource"]["status"] for e in history.json()["entry"] if e["search"]["mode"] == "match"]
        assert statuses.count("active") == 1, statuses

    pseudonym = PseudonymService.from_secret(SANDBOX_PSEUDONYM_SECRET).pseudonymise
    with database.transaction() as s:
        for niss in linked[:4]:  # IC-R1
            assert s.scalar(select(func.count()).select_from(Inclusion).where(
                Inclusion.patient_pseudonym == pseudonym(niss), Inclusion.status == "principal")) == 1
        assert s.scalar(select(func.count()).select_from(Inclusion)) == 4 + 16 + 1
        assert s.scalar(select(func.count()).select_from(ConsentDecision).where(
            ConsentDecision.patient_pseudonym == pseudonym(patient))) == 1 + 6
    with database.transaction() as s:  # what the instances' sealers had not reached when they stopped
        while audit.seal(s):
            pass
    with database.transaction() as s:
        report = audit.verify(s)
        assert s.scalar(select(func.count()).select_from(AuditRecord)) == sent  # nothing lost, nothing doubled
    assert report.intact and report.unsealed == 0 and report.records == sent, report.describe()
