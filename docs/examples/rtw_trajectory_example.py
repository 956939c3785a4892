"""The return-to-work trajectory end to end over the FHIR face, as vendors'
software calls it (docs/return-to-work.md, "Part 2: the trajectory").

Builds the embedded gateway with its simulated platform in a temporary
folder and talks to it over HTTP in process, each party with a token of the
IdP where it signs in:

1. the insurer's coordinator opens the dossier, the advising physician fills
   the registration form;
2. the VDAB counsellor (crossroads bank's IdP) files a training request on
   it: a ServiceRequest (RP-F3), on hold;
3. the coordinator completes the validation Task: the request goes to INAMI
   (RP-F4);
4. INAMI's expert completes the decision Task (RP-F5); the counsellor does
   not see it yet;
5. the weekly run publishes it (twice: the second run changes nothing);
6. VDAB's list manager reads the list of decisions of the week (RP-F7);
7. the advising physician sends medical data to INAMI's inspector, which
   INAMI's expert may not read (RP-F8, RP-A6);
8. INAMI reads the month's statistics, the small cells suppressed (RP-R3).

Run: python docs/examples/rtw_trajectory_example.py
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.config import Settings
from gateway.domain.clock import FixedClock
from gateway.domain.database import Database
from gateway.domain.rtw import model as rtw_tables  # noqa: F401 - the return-to-work tables, for create_schema
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_access_token
from gateway.wiring import build_gateway

SSIN = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
BASE = "https://care-gateway.be/fhir"
PARTY = f"{BASE}/NamingSystem/rtw-party"


def main() -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="rtw-trajectory-"))
    clock = FixedClock(datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc))  # ISO week 2026-W25
    db = Database(f"sqlite:///{folder / 'gateway.sqlite3'}")
    db.create_schema()
    gw = build_gateway(Settings(database_url=db.url, sandbox_database_url=f"sqlite:///{folder / 'platform.sqlite3'}",
                                public_url="http://testserver"), clock=clock, db=db)
    http = TestClient(create_app(gw), follow_redirects=False)
    tokens: dict[str, str] = {}

    def as_(key: str) -> dict[str, str]:
        if key not in tokens:
            tokens[key] = rtw_access_token("http://testserver", key, http=http)
        return {"Authorization": f"Bearer {tokens[key]}", "Content-Type": "application/fhir+json"}

    insured = rtw_state(gw.platform).sandbox.cast.insured
    # 1. the dossier and its form
    dossier = http.post("/fhir/EpisodeOfCare", headers=as_("oa-rtw-coordinator"), json={
        "resourceType": "EpisodeOfCare", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-rtw-dossier"]},
        "status": "active", "type": [{"coding": [{"system": f"{BASE}/CodeSystem/rtw-episode-type", "code": "rtw-dossier"}]}],
        "patient": {"identifier": {"system": SSIN, "value": insured}}}).json()
    form = http.post("/fhir/QuestionnaireResponse", headers=as_("oa-physician"), json={
        "resourceType": "QuestionnaireResponse", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-rtw-form"]},
        "questionnaire": f"{BASE}/Questionnaire/rtw-registration-form", "status": "completed",
        "subject": {"reference": f"EpisodeOfCare/{dossier['id']}"},
        "item": [
            {"linkId": "routing", "answer": [{"valueCoding": {"system": f"{BASE}/CodeSystem/rtw-form-routing", "code": "insurer"}}]},
            {"linkId": "incapacity-start", "answer": [{"valueDate": "2025-03-03"}]},
            {"linkId": "expectations", "answer": [{"valueString": "A training as a logistics planner"}]},
            {"linkId": "advising-physician-name", "answer": [{"valueString": "Dr. Jan Claes"}]},
        ]}).json()
    # 2. the counsellor's request (RP-F3)
    filed = http.post("/fhir/ServiceRequest", headers=as_("reg-counsellor"), json={
        "resourceType": "ServiceRequest", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-rtw-request"]},
        "extension": [{"url": f"{BASE}/StructureDefinition/rtw-training", "extension": [
            {"url": "title", "valueString": "Logistics planner"}, {"url": "provider", "valueString": "Syntra"},
            {"url": "hours", "valuePositiveInt": 120}, {"url": "cost", "valueMoney": {"value": 2500.0, "currency": "EUR"}}]}],
        "status": "active", "intent": "order",
        "category": [{"coding": [{"system": f"{BASE}/CodeSystem/referral-programme", "code": "return-to-work"}]}],
        "code": {"coding": [{"system": f"{BASE}/CodeSystem/rtw-request-kind", "code": "training"}]},
        "subject": {"identifier": {"system": SSIN, "value": insured}},
        "supportingInfo": [{"reference": f"EpisodeOfCare/{dossier['id']}", "type": "EpisodeOfCare"},
                           {"reference": f"QuestionnaireResponse/{form['id']}", "type": "QuestionnaireResponse"}],
        "performer": [{"type": "Practitioner", "display": "Jan Smet"}],
        "note": [{"text": "Become a logistics planner"}]}).json()
    rid = filed["id"][len("rtw-"):]

    def task(step: str, **more: object) -> dict[str, object]:
        return {"resourceType": "Task", "id": f"rtw-{step}-{rid}", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-rtw-step"]},
                "status": "completed", "intent": "order", "code": {"coding": [{"system": f"{BASE}/CodeSystem/rtw-step", "code": step}]},
                "focus": {"reference": f"ServiceRequest/{filed['id']}"}, **more}

    # 3. the insurer validates (RP-F4); 4. INAMI decides (RP-F5)
    validated = http.put(f"/fhir/Task/rtw-validation-{rid}", headers=as_("oa-rtw-coordinator"), json=task("validation")).json()
    http.put(f"/fhir/Task/rtw-decision-{rid}", headers=as_("inami-expert"), json=task("decision", output=[
        {"type": {"text": "outcome"}, "valueCode": "approved"},
        {"type": {"text": "costs-granted"}, "valueMoney": {"value": 2000.0, "currency": "EUR"}}]))
    before = http.get(f"/fhir/ServiceRequest/{filed['id']}", headers=as_("reg-counsellor")).json()["status"]
    # 5. the weekly run (care-gateway rtw decision-run --week 2026-W25), twice
    runs = [gw.return_to_work.decisions.run("2026-W25").published for _ in range(2)]
    after = http.get(f"/fhir/ServiceRequest/{filed['id']}", headers=as_("reg-counsellor")).json()["status"]
    # 6. the list manager's list of decisions (RP-F7)
    listed = http.get("/fhir/Task", headers=as_("reg-list-manager"),
                      params={"code": f"{BASE}/CodeSystem/rtw-step|decision", "week": "2026-W25"}).json()
    # 7. medical data for INAMI's inspector (RP-F8, RP-A6)
    medical = http.post("/fhir/Communication", headers=as_("oa-physician"), json={
        "resourceType": "Communication", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-rtw-message"]},
        "status": "completed", "category": [{"coding": [{"system": f"{BASE}/CodeSystem/rtw-message-kind", "code": "medical"}]}],
        "about": [{"reference": f"EpisodeOfCare/{dossier['id']}"}],
        "recipient": [{"identifier": {"system": PARTY, "value": "inami"}}],
        "payload": [{"contentString": "Chronic low back pain; no lifting"}]}).json()
    inspector = http.get(f"/fhir/Communication/{medical['id']}", headers=as_("inami-inspector")).status_code
    expert = http.get(f"/fhir/Communication/{medical['id']}", headers=as_("inami-expert")).status_code
    # 8. the statistics (RP-R3)
    report = http.get("/fhir/MeasureReport", headers=as_("inami-expert"), params={"period": "2026-06"}).json()
    requests = next(g for g in report["entry"][0]["resource"]["group"] if g["code"]["coding"][0]["code"] == "requests")
    result = {
        "request": filed["status"], "validated": validated["businessStatus"]["coding"][0]["code"],
        "before_run": before, "runs_published": runs, "after_run": after,
        "decisions_listed": [e["resource"]["output"][0]["valueCode"] for e in listed.get("entry", [])],
        "medical_inspector": inspector, "medical_expert": expert,
        "requests_count": requests["population"][0].get("count", "suppressed"),
    }
    for key, value in result.items():
        print(f"{key:>18}: {value}")
    return result


if __name__ == "__main__":
    main()
