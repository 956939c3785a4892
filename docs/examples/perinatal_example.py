"""The perinatal programme through the FHIR face, as a vendor's software
calls it (docs/perinatal.md, "A runnable example").

Builds the embedded gateway with its simulated platform in a temporary
folder and talks to it over HTTP in process, with access tokens of the
sandbox IdP: the GP makes the woman's perinatal care team (CareTeam, GP and
midwife), the midwife opens her follow-up with the day she consented
(EpisodeOfCare, PN-2), fills the screening (QuestionnaireResponse, PN-1),
reads the derived vulnerability profile (RiskAssessment) and refers her to
a housing support service (ServiceRequest, RF-3); the woman then withdraws
her consent (Consent, status inactive) and the midwife's next screening is
refused with the rule PN-2, while the woman still reads hers.

Run: python docs/examples/perinatal_example.py
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
from gateway.ehealth.sandbox.personas import personas
from gateway.ehealth.sandbox_tokens import persona_access_token
from gateway.wiring import build_gateway

BASE = "https://care-gateway.be/fhir"
SSIN = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
NIHDI = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/nihdi"
DOMAINS = ("social-isolation", "financial", "housing", "mental-health", "violence", "substance-use", "language-literacy",
           "pregnancy-history")


def main() -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="perinatal-"))
    clock = FixedClock(datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc))
    db = Database(f"sqlite:///{folder / 'gateway.sqlite3'}")
    db.create_schema()
    gw = build_gateway(Settings(database_url=db.url, sandbox_database_url=f"sqlite:///{folder / 'platform.sqlite3'}",
                                public_url="http://testserver"), clock=clock, db=db)
    http = TestClient(create_app(gw), follow_redirects=False)  # the gateway and its embedded platform, over HTTP
    cast = personas(gw.platform.registries)  # the sandbox personas: patient-2 is the pregnant woman

    def as_(key: str) -> dict[str, str]:
        token = persona_access_token("http://testserver", gw.platform.pki, cast[key], clock=clock, http=http)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}

    woman = cast["patient-2"].niss
    team = http.post("/fhir/CareTeam", headers=as_("gp"), json={
        "resourceType": "CareTeam", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-care-team"]}, "status": "active",
        "name": "Perinatal care team", "category": [{"coding": [{"system": f"{BASE}/CodeSystem/care-team-kind", "code": "clinical-group"}]}],
        "subject": {"identifier": {"system": SSIN, "value": woman}},
        "participant": [{"role": [{"text": "gp"}], "member": {"identifier": {"system": NIHDI, "value": cast["gp"].nihii}}},
                        {"role": [{"text": "midwife"}], "member": {"identifier": {"system": NIHDI, "value": cast["nurse"].nihii}}}]})
    opened = http.post("/fhir/EpisodeOfCare", headers=as_("nurse"), json={
        "resourceType": "EpisodeOfCare", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-perinatal-episode"]},
        "extension": [{"url": f"{BASE}/StructureDefinition/perinatal-consent-given", "valueDate": "2026-03-02"}],
        "status": "active", "type": [{"coding": [{"system": f"{BASE}/CodeSystem/perinatal-episode-type", "code": "perinatal-follow-up"}]}],
        "patient": {"identifier": {"system": SSIN, "value": woman}}, "period": {"start": "2026-03-02"},
        "team": [{"reference": f"CareTeam/{team.json()['id']}"}]})
    episode = opened.json()["id"]
    answers = {d: "concern" if d in ("housing", "social-isolation") else "no-concern" for d in DOMAINS}
    screened = http.post("/fhir/QuestionnaireResponse", headers=as_("nurse"), json={
        "resourceType": "QuestionnaireResponse", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-perinatal-screening"]},
        "questionnaire": f"{BASE}/Questionnaire/perinatal-screening", "status": "completed",
        "subject": {"reference": f"EpisodeOfCare/{episode}"},
        "item": [{"linkId": d, "answer": [{"valueCoding": {"system": f"{BASE}/CodeSystem/perinatal-screening-answer", "code": a}}]}
                 for d, a in answers.items()]})
    screening = screened.json()["id"]
    profile = http.get(f"/fhir/RiskAssessment/{screening}", headers=as_("nurse")).json()
    referred = http.post("/fhir/ServiceRequest", headers=as_("nurse"), json={
        "resourceType": "ServiceRequest", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-referral"]},
        "status": "active", "intent": "order", "authoredOn": "2026-06-15T12:00:00Z", "requester": {"display": "me"},
        "category": [{"coding": [{"system": f"{BASE}/CodeSystem/referral-programme", "code": "perinatal"}]}, {"text": "perinatal-support"}],
        "code": {"text": "housing support service"}, "subject": {"identifier": {"system": SSIN, "value": woman}},
        "reasonCode": [{"coding": [{"system": f"{BASE}/CodeSystem/perinatal-vulnerability-domain", "code": "housing"}]}],
        "supportingInfo": [{"reference": f"EpisodeOfCare/{episode}"}, {"reference": f"QuestionnaireResponse/{screening}"}],
        "performer": [{"identifier": {"system": NIHDI, "value": cast["psi-admin"].organisation_nihii}}]})
    consent = http.get(f"/fhir/Consent/{episode}", headers=as_("patient-2")).json()
    withdrawn = http.put(f"/fhir/Consent/{episode}", headers=as_("patient-2"), json={**consent, "status": "inactive"})
    refused = http.post("/fhir/QuestionnaireResponse", headers=as_("nurse"), json={
        "resourceType": "QuestionnaireResponse", "questionnaire": f"{BASE}/Questionnaire/perinatal-screening", "status": "completed",
        "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-perinatal-screening"]},
        "subject": {"reference": f"EpisodeOfCare/{episode}"},
        "item": [{"linkId": d, "answer": [{"valueCoding": {"system": f"{BASE}/CodeSystem/perinatal-screening-answer", "code": "no-concern"}}]}
                 for d in DOMAINS]})
    rule = next(c["code"] for c in refused.json()["issue"][0]["details"]["coding"] if c["system"].endswith("/rule"))
    hers = http.get(f"/fhir/QuestionnaireResponse/{screening}", headers=as_("patient-2"))
    result = {
        "care_team": team.status_code, "opened": opened.status_code, "episode": episode, "screened": screened.status_code,
        "needs_action": [p["id"] for p in profile["prediction"] if p["qualitativeRisk"]["coding"][0]["code"] == "action"],
        "referred": referred.status_code, "consent": withdrawn.json()["status"],
        "midwife_after_withdrawal": f"{refused.status_code} {rule}", "woman_reads_hers": hers.status_code,
    }
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    return result


if __name__ == "__main__":
    main()
