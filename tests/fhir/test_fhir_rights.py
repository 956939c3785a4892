"""The people's rights requests through FHIR, over real HTTP with tokens of
the sandbox IdP: a Task per request (profile be-cg-rights-request), filed by
the person, found and answered by those it concerns (DS-2); a restriction
takes effect at once and marks what is still shown (DS-3); an objection
stops the processing it names (DS-4). Every Task returned is valid against
R4 core and the profile."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from gateway.conformance.fhir.validator import FhirValidator
from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.fhir.resources.rights import KIND_SYSTEM, PROCESSING_SYSTEM, PROFILE
from tests.conftest import declaration

FHIR = "application/fhir+json"


class Fhir:
    """Plain FHIR REST calls as a persona."""

    def __init__(self, live: Any, token: str) -> None:
        self.base = f"{live.base_url}/fhir"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": FHIR}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.base}/{path}", params=params, headers=self.headers, timeout=30)

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.base}/{path}", json=body, headers={**self.headers, "Content-Type": FHIR}, timeout=30)

    def put(self, path: str, body: dict[str, Any], version: str | None) -> httpx.Response:
        headers = {**self.headers, "Content-Type": FHIR, **({"If-Match": f'W/"{version}"'} if version else {})}
        return httpx.put(f"{self.base}/{path}", json=body, headers=headers, timeout=30)

    def requests(self, **params: Any) -> list[dict[str, Any]]:
        answer = self.get("Task", code=f"{KIND_SYSTEM}|", **params)
        assert answer.status_code == 200, answer.text
        return [valid(e["resource"]) for e in answer.json().get("entry", []) if e["search"]["mode"] == "match"]


@pytest.fixture(scope="module")
def as_(live, fhir_token):  # type: ignore[no-untyped-def]
    return lambda key: Fhir(live, fhir_token(key))


def valid(resource: dict[str, Any], profile: str | None = PROFILE) -> dict[str, Any]:
    for checked in ({}, {"profile": profile}) if profile else ({},):
        result = FhirValidator.default().validate(resource, **checked)
        assert result.errors == [], result.findings()
    return resource


def task(kind: str, niss: str, *, focus: str | None = None, text: str | None = None, processing: str | None = None) -> dict[str, Any]:
    person = {"type": "Patient", "identifier": {"system": SSIN_SYSTEM, "value": niss}}
    body: dict[str, Any] = {"resourceType": "Task", "meta": {"profile": [PROFILE]}, "status": "requested", "intent": "order",
                            "code": {"coding": [{"system": KIND_SYSTEM, "code": kind}]}, "for": person, "requester": person,
                            "authoredOn": "2026-06-15T10:00:00Z"}
    if focus:
        body["focus"] = {"reference": focus}
    if text:
        body["description"] = text
    if processing:
        body["input"] = [{"type": {"text": "processing"},
                          "valueCodeableConcept": {"coding": [{"system": PROCESSING_SYSTEM, "code": processing}]}}]
    return body


def outcome_codes(answer: httpx.Response) -> set[str]:
    return {c["code"] for i in answer.json()["issue"] for c in i.get("details", {}).get("coding", [])}


def rules(answer: httpx.Response) -> set[str]:
    return {c["code"] for i in answer.json()["issue"] for c in i.get("details", {}).get("coding", [])
            if c.get("system", "").endswith("/CodeSystem/rule")}


@pytest.fixture(scope="module")
def inclusions(live, personas):  # type: ignore[no-untyped-def]
    """patient-2 in PSI A (declared by the gp) and, for information, in PSI B (declared by the pharmacist-no-link)."""
    patient = personas["patient-2"]
    day = live.clock.today()
    a = live.gw.inclusions.declare(personas["gp"].principal(), declaration(patient, personas["psi-admin"].organisation_nihii,
                                                                         start_date=day, consent_date=day))
    b = live.gw.inclusions.declare(personas["psi-admin-other"].principal(), declaration(
        patient, personas["psi-admin-other"].organisation_nihii, status="information", start_date=day, consent_date=day))
    return a, b


def research(live, personas) -> list[str]:  # type: ignore[no-untyped-def]
    insurer = live.gw.ctx.facts.insurer_of(personas["patient-2"].niss, live.clock.today())
    from gateway.domain.principal import system_principal

    return sorted(line.psi_nihii for line in live.gw.exports.for_insurer(system_principal(), insurer).research
                  if line.patient_niss == personas["patient-2"].niss)


def test_DS_2_a_correction_is_a_task_the_declarer_answers(as_, personas, inclusions):
    a, _ = inclusions
    patient = as_("patient-2")
    created = patient.post("Task", task("correction", personas["patient-2"].niss, focus=f"EpisodeOfCare/{a.id}",
                                        text="My inclusion started a week earlier."))
    assert created.status_code == 201, created.text
    filed = valid(created.json())
    assert filed["id"].startswith("rights-") and filed["status"] == "requested" and filed["focus"]["reference"] == f"EpisodeOfCare/{a.id}"
    assert created.headers["ETag"] == 'W/"1"'
    assert [t["id"] for t in as_("gp").requests()] == [filed["id"]]
    assert [t["id"] for t in as_("dpo").requests(status="requested")] == [filed["id"]]
    assert as_("psi-admin-other").requests() == [] and as_("nurse").requests() == []
    assert as_("nurse").get(f"Task/{filed['id']}").status_code == 404
    done = dict(filed, status="completed", output=[{"type": {"text": "answer"}, "valueString": "Start date corrected."}])
    answer = as_("gp").put(f"Task/{filed['id']}", done, "1")
    assert answer.status_code == 200, answer.text
    seen = valid(patient.get(f"Task/{filed['id']}").json())
    assert (seen["status"], seen["output"][0]["valueString"], seen["owner"]["display"]) == ("completed", "Start date corrected.",
                                                                                           "care provider")
    assert as_("dpo").put(f"Task/{filed['id']}", dict(filed, status="rejected", statusReason={"text": "late"}), "2").status_code == 409


def test_DS_2_only_the_person_files_and_only_handlers_answer(as_, personas, inclusions):
    someone_else = as_("patient").post("Task", task("correction", personas["patient-2"].niss, text="Not my data."))
    assert someone_else.status_code == 422 and "not-the-caller" in outcome_codes(someone_else)
    filed = as_("patient-2").post("Task", task("correction", personas["patient-2"].niss, text="Wrong spelling.")).json()
    refused = as_("patient-2").put(f"Task/{filed['id']}", dict(filed, status="completed"), "1")
    assert refused.status_code == 403 and "IC-A9" in rules(refused)
    assert as_("insurer").get("Task", code=f"{KIND_SYSTEM}|").status_code == 403
    no_reason = as_("dpo").put(f"Task/{filed['id']}", dict(filed, status="rejected"), "1")
    assert no_reason.status_code == 422  # the profile's cg-rights-1: a refusal says why
    stale = as_("dpo").put(f"Task/{filed['id']}", dict(filed, status="rejected", statusReason={"text": "No error found."}), "7")
    assert stale.status_code == 412
    rejected = as_("dpo").put(f"Task/{filed['id']}", dict(filed, status="rejected", statusReason={"text": "No error found."}), "1")
    assert rejected.status_code == 200 and valid(rejected.json())["statusReason"]["text"] == "No error found."
    assert [t["status"] for t in as_("patient-2").requests() if t["id"] == filed["id"]] == ["rejected"]


def test_DS_3_a_restriction_takes_effect_at_once_through_fhir(live, as_, personas, inclusions):
    a, b = inclusions
    niss = personas["patient-2"].niss
    assert research(live, personas) == sorted([a.psi_nihii, b.psi_nihii])
    def found_by(key: str) -> list[str]:
        answer = as_(key).get("EpisodeOfCare", **{"patient-identifier": f"{SSIN_SYSTEM}|{niss}"})
        assert answer.status_code == 200, answer.text
        return sorted(e["resource"]["id"] for e in answer.json().get("entry", []) if e["search"]["mode"] == "match")

    assert found_by("nurse") == sorted([a.id, b.id])  # a therapeutic relationship (IC-A1)
    created = as_("patient-2").post("Task", task("restriction", niss, focus=f"EpisodeOfCare/{a.id}", text="Not for research."))
    assert created.status_code == 201, created.text
    restriction = valid(created.json())
    assert restriction["businessStatus"]["text"] == "in force"
    assert research(live, personas) == [b.psi_nihii]  # absent from the next research export
    assert found_by("nurse") == [b.id]  # not one the law requires to see it
    assert as_("nurse").get(f"EpisodeOfCare/{a.id}").status_code == 404
    assert found_by("gp") == sorted([a.id, b.id])
    shown = as_("gp").get(f"EpisodeOfCare/{a.id}").json()  # the declarer still sees it, marked
    assert shown["meta"]["security"] == [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R",
                                          "display": "restricted"}]
    valid(shown, None)
    mine = as_("patient-2").get(f"EpisodeOfCare/{a.id}").json()
    assert mine["meta"]["security"][0]["code"] == "R"
    assert "security" not in as_("psi-admin-other").get(f"EpisodeOfCare/{b.id}").json()["meta"]
    withdrawn = as_("patient-2").put(f"Task/{restriction['id']}", dict(restriction, status="cancelled"), "1")
    assert withdrawn.status_code == 200 and withdrawn.json()["businessStatus"]["text"] == "not in force"
    assert research(live, personas) == sorted([a.psi_nihii, b.psi_nihii])
    assert "security" not in as_("gp").get(f"EpisodeOfCare/{a.id}").json()["meta"]
    assert found_by("nurse") == sorted([a.id, b.id])


def test_DS_4_an_objection_names_its_processing_and_stops_it(live, as_, personas, inclusions):
    niss = personas["patient-2"].niss
    billing = as_("patient-2").post("Task", task("objection", niss, processing="billing"))
    assert billing.status_code == 422 and "legal-obligation" in outcome_codes(billing) and "DS-4" in rules(billing)
    created = as_("patient-2").post("Task", task("objection", niss, processing="research", text="No research."))
    assert created.status_code == 201, created.text
    objection = valid(created.json())
    assert objection["input"][0]["valueCodeableConcept"]["coding"][0]["code"] == "research"
    assert research(live, personas) == []
    found = as_("dpo").requests(status="requested", **{"patient-identifier": f"{SSIN_SYSTEM}|{niss}"})
    assert objection["id"] in [t["id"] for t in found]
    changed = dict(objection, input=[{"type": {"text": "processing"},
                                      "valueCodeableConcept": {"coding": [{"system": PROCESSING_SYSTEM, "code": "billing"}]}}])
    assert as_("patient-2").put(f"Task/{objection['id']}", changed, "1").status_code == 422  # only the status changes
    done = as_("dpo").put(f"Task/{objection['id']}", dict(objection, status="completed"), "1")
    assert done.status_code == 200 and done.json()["businessStatus"]["text"] == "in force"
    assert research(live, personas) == []
    as_("patient-2").put(f"Task/{objection['id']}", done.json(), "2")
    assert as_("patient-2").put(f"Task/{objection['id']}", dict(done.json(), status="cancelled"), "2").status_code == 200
    assert len(research(live, personas)) == 2


def test_DS_2_the_capability_statement_names_both_task_profiles(live):
    statement = httpx.get(f"{live.base_url}/fhir/metadata").json()
    entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Task")
    assert PROFILE in entry["supportedProfile"] and entry["profile"].endswith("be-cg-referral-task")
    assert "code" in {p["name"] for p in entry["searchParam"]}
    assert json.dumps(entry).count("rights-") >= 1


# ------------------------------------------------------------- DS-5: Consent updated as FHIR implementers do


def test_DS_5_a_consent_is_updated_with_if_match_withdrawn_and_every_decision_is_in_its_history(live, as_, personas, inclusions):
    from gateway.domain.model import AuditRecord
    from sqlalchemy import select

    niss = personas["patient-2"].niss
    patient = as_("patient-2")
    found = patient.get("Consent", **{"patient-identifier": f"{SSIN_SYSTEM}|{niss}"}).json()["entry"]
    consent = valid(found[0]["resource"], None)
    assert (consent["status"], consent["provision"]["type"], consent["meta"]["versionId"]) == ("active", "permit", "1")
    assert len(research(live, personas)) == 2
    cid = consent["id"]

    assert patient.put(f"Consent/{cid}", dict(consent, provision={"type": "deny"}), None).status_code == 428
    denied = patient.put(f"Consent/{cid}", dict(consent, provision={"type": "deny"}), "1")
    assert denied.status_code == 200, denied.text
    assert (denied.json()["meta"]["versionId"], denied.json()["provision"]["type"], denied.headers["ETag"]) == ("2", "deny", 'W/"2"')
    assert research(live, personas) == []  # refused from now
    assert patient.put(f"Consent/{cid}", dict(consent, provision={"type": "permit"}), "1").status_code == 412  # read again first
    again = as_("gp").put(f"Consent/{cid}", dict(denied.json(), provision={"type": "permit"}), "2")  # IC-A5
    assert again.status_code == 200 and again.json()["meta"]["versionId"] == "3"
    assert len(research(live, personas)) == 2

    withdrawn = patient.put(f"Consent/{cid}", dict(again.json(), status="inactive"), "3")
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["meta"]["versionId"]) == ("inactive", "4")
    assert research(live, personas) == []  # DS-5: research stops; billing, a legal obligation, goes on
    assert patient.get(f"Consent/{cid}").json()["status"] == "inactive"

    history = patient.get(f"Consent/{cid}/_history").json()
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["4", "3", "2", "1"]
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "PUT", "PUT", "POST"]
    for entry in history["entry"]:
        valid(entry["resource"], None)
    first = patient.get(f"Consent/{cid}/_history/1").json()
    assert (first["provision"]["type"], first["status"]) == ("permit", "inactive")
    by_gp = patient.get(f"Consent/{cid}/_history/3").json()
    assert by_gp["extension"][0]["extension"][1]["valueCode"] == "provider"  # who recorded each decision (IC-R11)
    assert patient.get(f"Consent/{cid}/_history/9").status_code == 404
    with live.gw.db.transaction() as session:
        last = session.execute(select(AuditRecord).where(AuditRecord.action == "consent.withdraw")).scalars().all()
    assert [(r.rule, r.resource_id, r.outcome) for r in last] == [("DS-5", cid, "allowed")]

    capability = httpx.get(f"{live.base_url}/fhir/metadata").json()
    entry = next(r for r in capability["rest"][0]["resource"] if r["type"] == "Consent")
    assert {"update", "history-instance", "vread"} <= {i["code"] for i in entry["interaction"]}
