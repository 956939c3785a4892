"""Return to work through the FHIR face, as a vendor's software calls it
(docs/return-to-work.md, "The faces").

Builds the embedded gateway with its simulated platform in a temporary
folder and talks to it over HTTP in process: an insurer's coordinator
(eHealth's IdP) opens the dossier of the sandbox's insured person
(EpisodeOfCare, profile be-cg-rtw-dossier), the advising physician fills a
registration form (QuestionnaireResponse, profile be-cg-rtw-form), a VDAB
counsellor (the crossroads bank's IdP) reads it without the incapacity
start date (RP-M1), and a counsellor of Forem is refused the dossier with
the rule RP-A2.

Run: python docs/examples/rtw_faces_example.py
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


def main() -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="rtw-faces-"))
    clock = FixedClock(datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc))
    db = Database(f"sqlite:///{folder / 'gateway.sqlite3'}")
    db.create_schema()
    gw = build_gateway(Settings(database_url=db.url, sandbox_database_url=f"sqlite:///{folder / 'platform.sqlite3'}",
                                public_url="http://testserver"), clock=clock, db=db)
    http = TestClient(create_app(gw), follow_redirects=False)  # the gateway and its embedded platform, over HTTP

    def as_(key: str) -> dict[str, str]:
        token = rtw_access_token("http://testserver", key, http=http)  # the IdP where that partner signs in
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}

    insured = rtw_state(gw.platform).sandbox.cast.insured
    opened = http.post("/fhir/EpisodeOfCare", headers=as_("oa-rtw-coordinator"), json={
        "resourceType": "EpisodeOfCare", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-rtw-dossier"]},
        "status": "active", "type": [{"coding": [{"system": f"{BASE}/CodeSystem/rtw-episode-type", "code": "rtw-dossier"}]}],
        "patient": {"identifier": {"system": SSIN, "value": insured}}})
    dossier = opened.json()
    filled = http.post("/fhir/QuestionnaireResponse", headers=as_("oa-physician"), json={
        "resourceType": "QuestionnaireResponse", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-rtw-form"]},
        "questionnaire": f"{BASE}/Questionnaire/rtw-registration-form", "status": "completed",
        "subject": {"reference": f"EpisodeOfCare/{dossier['id']}"},
        "item": [
            {"linkId": "routing", "answer": [{"valueCoding": {"system": f"{BASE}/CodeSystem/rtw-form-routing", "code": "insurer"}}]},
            {"linkId": "incapacity-start", "answer": [{"valueDate": "2025-03-03"}]},
            {"linkId": "expectations", "answer": [{"valueString": "A training as a logistics planner"}]},
            {"linkId": "advising-physician-name", "answer": [{"valueString": "Dr. Jan Claes"}]},
        ]})
    form_id = filled.json()["id"]
    as_counsellor = http.get(f"/fhir/QuestionnaireResponse/{form_id}", headers=as_("reg-counsellor")).json()
    refused = http.get(f"/fhir/EpisodeOfCare/{dossier['id']}", headers=as_("reg-counsellor-forem"))
    rule = next(c["code"] for c in refused.json()["issue"][0]["details"]["coding"] if c["system"].endswith("/rule"))
    result = {
        "opened": opened.status_code, "dossier": dossier["id"],
        "partners": [p["role"][0]["coding"][0]["code"] for p in dossier["contained"][0]["participant"]],
        "form": filled.status_code,
        "counsellor_items": [i["linkId"] for i in as_counsellor["item"]],
        "forem_counsellor": f"{refused.status_code} {rule}",
    }
    for key, value in result.items():
        print(f"{key:>18}: {value}")
    return result


if __name__ == "__main__":
    main()
