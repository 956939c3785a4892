"""IC-R7 as FHIR Bulk Data, over real HTTP with the insurers' own tokens
(client credentials at the sandbox IdP): a client runs the whole flow
(kick-off with Prefer: respond-async, poll the status URL, download every
file of the manifest, delete), each NDJSON line is a valid R4 resource of
the insurer's own members only, the research group carries only who
agreed and nothing restricted (DS-3) or objected to (DS-4), another
insurer reads none of it, and every act is audited (IC-R8)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.conformance.fhir.validator import FhirValidator
from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.domain.model import AuditRecord
from gateway.domain.principal import Principal, Role, system_principal
from gateway.ehealth.sandbox.personas import Persona
from gateway.ehealth.sandbox_tokens import persona_access_token
from tests.conftest import declaration

ACCEPT = {"Accept": "application/fhir+json", "Prefer": "respond-async"}


class BulkClient:
    """What a Bulk Data client does, step by step (as HAPI's or Blaze's clients do)."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.auth = base, {"Authorization": f"Bearer {token}"}

    def kick_off(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{self.base}/fhir/{path}", params=params, headers={**ACCEPT, **self.auth}, timeout=30)

    def poll(self, status_url: str, progress: list[str]) -> dict[str, Any]:
        for _ in range(600):  # a bounded wait, each poll answered at once
            answer = httpx.get(status_url, headers={"Accept": "application/json", **self.auth}, timeout=30)
            if answer.status_code == 200:
                return answer.json()
            assert answer.status_code == 202, answer.text
            progress.append(answer.headers["X-Progress"])
            assert int(answer.headers["Retry-After"]) >= 1
            time.sleep(0.1)
        raise AssertionError(f"the export never completed: {progress[-3:]}")

    def download(self, url: str) -> list[dict[str, Any]]:
        answer = httpx.get(url, headers={"Accept": "application/fhir+ndjson", **self.auth}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/fhir+ndjson")
        return [json.loads(line) for line in answer.text.splitlines() if line]

    def delete(self, status_url: str) -> httpx.Response:
        return httpx.delete(status_url, headers=self.auth, timeout=30)

    def export(self, path: str, **params: str) -> tuple[str, dict[str, Any], dict[str, list[dict[str, Any]]]]:
        kicked = self.kick_off(path, **params)
        assert kicked.status_code == 202, kicked.text
        status_url = kicked.headers["Content-Location"]
        manifest = self.poll(status_url, [])
        files: dict[str, list[dict[str, Any]]] = {}
        for output in manifest["output"]:
            files.setdefault(output["type"], []).extend(lines := self.download(output["url"]))
            assert len(lines) == output["count"]
        return status_url, manifest, files


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    result = FhirValidator.default().validate(resource)
    assert result.errors == [], result.findings()
    return resource


def patient_of(resource: dict[str, Any]) -> str:
    ident = resource["patient"]["identifier"]
    assert ident["system"] == SSIN_SYSTEM
    return ident["value"]


@pytest.fixture(scope="module")
def members(live, personas, registries):  # type: ignore[no-untyped-def]
    """Insurer 100's members A (agreed), B (refused), C (agreed, one inclusion restricted), D (agreed, objects to research),
    and E, a member of insurer 200."""
    today = live.clock.today()
    alive = [p.niss for p in registries.patients() if p.death_date is None and p.niss not in (
        personas["patient"].niss, personas["patient-2"].niss)]
    of = {n: live.gw.ctx.facts.insurer_of(n, today) for n in alive}
    a, b, c, d = [personas["patient"].niss] + [n for n in alive if of[n] == "100"][:3]
    e = next(n for n in alive if of[n] == "200")
    gp, psi_a = personas["gp"].principal(), personas["psi-admin"].organisation_nihii
    psi_b = personas["psi-admin-other"].organisation_nihii
    start = today - timedelta(days=60)
    inc = {}
    for niss, decision in ((a, "agree"), (b, "refuse"), (c, "agree"), (d, "agree"), (e, "agree")):
        inc[niss] = live.gw.inclusions.declare(gp, declaration(niss, psi_a, start_date=start, consent_decision=decision,
                                                               consent_date=start))
    restricted = live.gw.inclusions.declare(gp, declaration(c, psi_b, status="information", start_date=start, consent_date=start))
    live.gw.rights.file(Principal(c, Role.PATIENT), "restriction", target_type="inclusion", target_id=restricted.id)
    live.gw.rights.file(Principal(d, Role.PATIENT), "objection", processing="research")
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "restricted": restricted.id, "inclusions": inc}


@pytest.fixture(scope="module")
def insurer(live, fhir_token) -> BulkClient:  # type: ignore[no-untyped-def]
    return BulkClient(live.base_url, fhir_token("insurer"))


@pytest.fixture(scope="module")
def other_insurer(live, registries) -> BulkClient:  # type: ignore[no-untyped-def]
    org = registries.insurer("200")
    persona = Persona("insurer-200", Role.INSURER, "00000000000", org.name, None, None, org.nihii, org.cbe, "insurer 200", ())
    return BulkClient(live.base_url, persona_access_token(live.base_url, live.gw.platform.pki, persona, clock=live.clock))


def test_IC_R7_a_bulk_client_exports_the_insurers_own_members_only(live, insurer, other_insurer, members):
    status_url, manifest, files = insurer.export("Group/insurer-100/$export", _type="EpisodeOfCare,Consent")
    assert manifest["requiresAccessToken"] is True and manifest["request"].endswith("_type=EpisodeOfCare%2CConsent")
    assert {o["type"] for o in manifest["output"]} == {"EpisodeOfCare", "Consent"}
    for resources in files.values():
        for resource in resources:
            valid(resource)
    mine = {members[k] for k in "ABCD"}
    exported = {patient_of(r) for r in files["EpisodeOfCare"]}
    assert exported == mine  # every member, and only members (E is insurer 200's)
    assert {patient_of(r) for r in files["Consent"]} == mine
    marked = [r for r in files["EpisodeOfCare"] if r.get("meta", {}).get("security")]
    assert [r["id"] for r in marked] == [members["restricted"]]  # billing, a legal obligation, carries it, marked (DS-3)

    for url in [o["url"] for o in manifest["output"]]:  # another insurer: as if nothing were there
        assert httpx.get(url, headers=other_insurer.auth, timeout=30).status_code == 404
    assert httpx.get(status_url, headers=other_insurer.auth, timeout=30).status_code == 404
    assert other_insurer.delete(status_url).status_code == 404
    assert httpx.get(manifest["output"][0]["url"], timeout=30).status_code == 401  # requiresAccessToken

    assert insurer.delete(status_url).status_code == 202
    assert httpx.get(status_url, headers=insurer.auth, timeout=30).status_code == 404
    assert httpx.get(manifest["output"][0]["url"], headers=insurer.auth, timeout=30).status_code == 404

    _, _, theirs = other_insurer.export("$export")  # the system-level form: the caller's own members
    assert {patient_of(r) for r in theirs["EpisodeOfCare"]} == {members["E"]}
    with live.gw.db.transaction() as session:
        acts = session.execute(select(AuditRecord.action, AuditRecord.rule, AuditRecord.outcome, AuditRecord.actor_organisation)
                               .where(AuditRecord.action.like("export.%"))).all()
    done = {(a, o) for a, _, o, _ in acts}
    assert {("export.kick-off", "allowed"), ("export.complete", "allowed"), ("export.download", "allowed"),
            ("export.delete", "allowed"), ("export.download", "denied")} <= done
    assert all(rule == "IC-R7" for action, rule, _, _ in acts if action in ("export.kick-off", "export.complete"))


def test_IC_R7_DS_3_DS_4_the_research_group_carries_who_agreed_and_nothing_restricted(insurer, members):
    status_url, manifest, files = insurer.export("Group/insurer-100-research/$export")
    for resources in files.values():
        for resource in resources:
            assert valid(resource)["meta"]["tag"][0]["code"] == "research"
    episodes = files["EpisodeOfCare"]
    assert {patient_of(r) for r in episodes} == {members["A"], members["C"]}  # B refused, D objects (DS-4)
    assert members["restricted"] not in {r["id"] for r in episodes}  # DS-3: a restricted record is absent
    assert {patient_of(r) for r in files["Consent"]} == {members["A"], members["C"]}
    assert all(r["provision"]["type"] == "permit" for r in files["Consent"])
    insurer.delete(status_url)


def test_IC_R7_since_and_type_narrow_the_export(live, insurer, personas, members):
    later = (live.clock.now() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert insurer.kick_off("Group/insurer-100/$export", _since=later).status_code == 422  # nothing changed after it yet
    mark = live.clock.now()
    live.clock.advance(timedelta(minutes=5))
    closed = members["inclusions"][members["B"]]
    live.gw.inclusions.close(system_principal("register feed"), closed.id, live.clock.today())
    since = (mark + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    status_url, manifest, files = insurer.export("Group/insurer-100/$export", _type="EpisodeOfCare", _since=since)
    assert set(files) == {"EpisodeOfCare"} and [r["id"] for r in files["EpisodeOfCare"]] == [closed.id]
    assert files["EpisodeOfCare"][0]["period"]["end"] == live.clock.today().isoformat()
    insurer.delete(status_url)


def test_IC_R7_progress_is_in_the_status_and_only_insurers_export(live, insurer, personas, fhir_token, members):
    job = live.gw.bulk_exports.kick_off(personas["insurer"].principal(), insurer_code="100")  # accepted, not started
    answer = httpx.get(f"{live.base_url}/fhir/$export-status/{job.id}", headers=insurer.auth, timeout=30)
    assert answer.status_code == 202 and answer.headers["X-Progress"].startswith("accepted")
    busy = insurer.kick_off("Group/insurer-100/$export")
    assert busy.status_code == 429 and "Retry-After" in busy.headers  # one export per insurer at a time
    assert insurer.delete(f"{live.base_url}/fhir/$export-status/{job.id}").status_code == 202
    assert insurer.kick_off("Group/insurer-200/$export").status_code == 403  # another insurer's members (IC-R7)
    gp = BulkClient(live.base_url, fhir_token("gp"))
    refused = gp.kick_off("Group/insurer-100/$export")
    assert refused.status_code == 403 and "IC-R7" in refused.text
    no_async = httpx.get(f"{live.base_url}/fhir/Group/insurer-100/$export", headers=insurer.auth, timeout=30)
    assert no_async.status_code == 400 and "respond-async" in no_async.text
    assert insurer.kick_off("Group/insurer-100/$export", _type="Patient").status_code == 400
    assert insurer.kick_off("Group/nobody/$export").status_code == 404
