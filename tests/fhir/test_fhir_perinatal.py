"""The perinatal programme through FHIR, over real HTTP with real tokens:
the follow-up (EpisodeOfCare), her consent (Consent) and its withdrawal
(PN-2), the screening (Questionnaire, QuestionnaireResponse) and its derived
profile (RiskAssessment, PN-1), the referral to support (ServiceRequest,
RF-3). Every resource returned is valid against R4 and its profile."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.conformance.fhir.validator import FhirValidator
from gateway.domain.care_teams import CareTeamSpec, MemberSpec
from tests.fhir.fhir_asserts import issue
from tests.fhir.perinatal_fhir import EPISODES, Fhir, episode, referral, screening, withdrawal

DECLARED = date(2024, 8, 20)
CLEAR = {d: "no-concern" for d in ("social-isolation", "financial", "housing", "mental-health", "violence", "substance-use",
                                   "language-literacy", "pregnancy-history")}
CONCERNS = {**CLEAR, "housing": "concern", "mental-health": "concern"}


def valid(resource: dict) -> dict:
    result = FhirValidator.default().validate(resource)
    assert result.valid, result.findings()
    return resource


@pytest.fixture(scope="module")
def as_(live, fhir_token):  # type: ignore[no-untyped-def]
    return lambda key: Fhir(live.base_url, fhir_token(key))


@pytest.fixture(scope="module")
def team(live, personas):  # type: ignore[no-untyped-def]
    return live.gw.care_teams.create(personas["gp"].principal(), CareTeamSpec(
        kind="clinical-group", patient_niss=personas["patient-2"].niss,
        members=(MemberSpec("practitioner", nihii=personas["gp"].nihii, role="gp"),
                 MemberSpec("practitioner", nihii=personas["nurse"].nihii, role="midwife"))))


def open_episode(as_, personas, team) -> dict:  # type: ignore[no-untyped-def]
    answer = as_("nurse").post("EpisodeOfCare", episode(personas["patient-2"].niss, team.id, DECLARED, DECLARED))
    assert answer.status_code == 201, answer.text
    return valid(answer.json())


def test_PN_1_PN_2_RF_3_the_follow_up_on_fhir(as_, personas, team, registries):
    nurse, gp = as_("nurse"), as_("gp")
    ep = open_episode(as_, personas, team)
    assert ep["id"].startswith("pn-") and ep["status"] == "active"
    found = gp.get("EpisodeOfCare", type=EPISODES, **{"patient-identifier": personas["patient-2"].niss}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [ep["id"]]
    # the child, once born: the follow-up ends on the third birthday
    child = next(p.niss for p in registries.people if p.birth_date == date(2025, 4, 1))
    body = {**ep, "extension": ep["extension"] + [{"url": "https://care-gateway.be/fhir/StructureDefinition/perinatal-child",
                                                   "valueIdentifier": {"value": child}}]}
    linked = gp.put(f"EpisodeOfCare/{ep['id']}", body)
    assert linked.status_code == 200, linked.text
    assert valid(linked.json())["period"]["end"] == "2028-04-01"
    # the published screening, filled, and its derived profile
    assert nurse.get("Questionnaire/perinatal-screening").json()["version"] == "1.0.0"
    filled = nurse.post("QuestionnaireResponse", screening(ep["id"], CONCERNS))
    assert filled.status_code == 201, filled.text
    qr = valid(filled.json())
    assert qr["questionnaire"].endswith("|1.0.0")
    profile = valid(gp.get(f"RiskAssessment/{qr['id']}").json())
    needs = {p["id"]: p["qualitativeRisk"]["coding"][0]["code"] for p in profile["prediction"]}
    assert [d for d, n in needs.items() if n == "action"] == ["housing", "mental-health"]
    assert profile["method"]["coding"][0]["code"] == "1"
    listed = gp.get("QuestionnaireResponse", subject=f"EpisodeOfCare/{ep['id']}").json()
    assert [e["resource"]["id"] for e in listed["entry"]] == [qr["id"]]
    # RF-3: a referral to support from a vulnerability
    org = personas["psi-admin"].organisation_nihii
    made = nurse.post("ServiceRequest", referral(personas["patient-2"].niss, ep["id"], qr["id"], "housing", org))
    assert made.status_code == 201, made.text
    assert made.json()["category"][0]["coding"][0]["code"] == "perinatal"
    read_back = valid(gp.get(f"ServiceRequest/{made.json()['id']}").json())  # RF-3: what it rests on, on every read
    for answer in (made.json(), read_back):
        assert answer["supportingInfo"] == [{"reference": f"EpisodeOfCare/{ep['id']}"}, {"reference": f"QuestionnaireResponse/{qr['id']}"}]
        assert answer["reasonCode"][0]["coding"][0]["code"] == "housing"
        assert answer["reasonCode"][0]["text"] == "perinatal vulnerability: housing"
    refused = nurse.post("ServiceRequest", referral(personas["patient-2"].niss, ep["id"], qr["id"], "violence", org))
    assert refused.status_code == 422 and issue(refused.json())["rule"] == "RF-3"
    # PN-1: outside the care team, nothing
    stranger = as_("gp-no-link").post("QuestionnaireResponse", screening(ep["id"], CLEAR))
    assert stranger.status_code == 403 and issue(stranger.json())["rule"] == "PN-1"
    # PN-2: she withdraws; everyone but her is refused from then on, what was done stays
    her = as_("patient-2")
    consent = valid(her.get(f"Consent/{ep['id']}").json())
    assert consent["status"] == "active"
    withdrawn = her.put(f"Consent/{ep['id']}", withdrawal(consent))
    assert withdrawn.status_code == 200, withdrawn.text
    assert valid(withdrawn.json())["status"] == "inactive"
    for who in (nurse, gp):
        for answer in (who.post("QuestionnaireResponse", screening(ep["id"], CLEAR)), who.get(f"EpisodeOfCare/{ep['id']}"),
                       who.get(f"QuestionnaireResponse/{qr['id']}"), who.get(f"RiskAssessment/{qr['id']}"),
                       who.get(f"ServiceRequest/{made.json()['id']}"),
                       who.post("ServiceRequest", referral(personas["patient-2"].niss, ep["id"], qr["id"], "housing", org))):
            assert answer.status_code == 403, answer.text
            assert issue(answer.json())["rule"] == "PN-2"
    assert her.get(f"QuestionnaireResponse/{qr['id']}").status_code == 200
    assert her.get(f"ServiceRequest/{made.json()['id']}").status_code == 200
    log = her.get("AuditEvent").json()
    assert any("PN-2" in str(e["resource"]) for e in log.get("entry", []))


def test_PN_2_no_follow_up_without_her_consent(as_, personas, team):
    answer = as_("nurse").post("EpisodeOfCare", episode(personas["patient-2"].niss, team.id, DECLARED, None))
    assert answer.status_code == 422 and issue(answer.json())["rule"] == "PN-2"


def test_capability_lists_the_perinatal_profiles(live):
    import httpx

    statement = httpx.get(f"{live.base_url}/fhir/metadata").json()
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert "https://care-gateway.be/fhir/StructureDefinition/be-cg-perinatal-episode" in types["EpisodeOfCare"]["supportedProfile"]
    assert types["RiskAssessment"]["profile"].endswith("be-cg-perinatal-profile")


def test_PN_3_the_privacy_statement_and_terms_of_use_as_documents(as_):
    import base64

    from gateway.domain.perinatal import privacy

    her = as_("patient-2")
    for name in (privacy.STATEMENT, privacy.TERMS):
        document = valid(her.get(f"DocumentReference/{name}").json())
        text = base64.b64decode(document["content"][0]["attachment"]["data"]).decode("utf-8")
        assert text == privacy.document(name)
    assert "## Means of appeal" in privacy.document(privacy.STATEMENT)
    listed = her.get("DocumentReference").json()
    assert sorted(e["resource"]["id"] for e in listed["entry"]) == sorted((privacy.STATEMENT, privacy.TERMS))
