"""The trajectory through FHIR, over real HTTP with real tokens of both
identity providers (the regional counsellor and list manager from the
crossroads bank's): the request is a ServiceRequest of profile
be-cg-rtw-request (RP-F3, RF-2), its validation and decision Tasks of
profile be-cg-rtw-step (RP-F4, RP-F5), the decisions list a search set of
decision Tasks (RP-F7). Every resource returned is valid against R4 and
its profile."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.identifiers import CBE_SYSTEM, SSIN_SYSTEM
from gateway.domain.rtw.requests import iso_week
from gateway.fhir.resources.rtw_dossier import PROFILE as DOSSIER
from gateway.fhir.resources.rtw_request import PROFILE as REQUEST, STEP_PROFILE, STEP_SYSTEM, TRAINING
from tests.fhir.test_fhir_rtw import as_, cast, token  # noqa: F401  (module fixtures: personas over HTTP)
from tests.fhir.test_fhir_rtw import dossier as dossier_body, form as form_body, refusal, valid

PROGRAMME = "https://care-gateway.be/fhir/CodeSystem/referral-programme"
KIND = "https://care-gateway.be/fhir/CodeSystem/rtw-request-kind"


def training(title: str, hours: int, euro: float, provider: str | None = None) -> dict[str, Any]:
    parts = [{"url": "title", "valueString": title}, {"url": "hours", "valuePositiveInt": hours},
             {"url": "cost", "valueMoney": {"value": euro, "currency": "EUR"}}]
    if provider:
        parts.insert(1, {"url": "provider", "valueString": provider})
    return {"url": TRAINING, "extension": parts}


def request_body(dossier_id: str, niss: str, *, kind: str = "training", form_id: str | None = None,
                 trainings: tuple[dict[str, Any], ...] | None = None) -> dict[str, Any]:
    info = [{"reference": f"EpisodeOfCare/{dossier_id}", "type": "EpisodeOfCare"}]
    if form_id:
        info.append({"reference": f"QuestionnaireResponse/{form_id}", "type": "QuestionnaireResponse"})
    return {"resourceType": "ServiceRequest", "meta": {"profile": [REQUEST]},
            "extension": list(trainings or (training("Logistics planner", 120, 2500.0, "Syntra"), training("Forklift licence", 16, 400.0))),
            "status": "active", "intent": "order",
            "category": [{"coding": [{"system": PROGRAMME, "code": "return-to-work"}]}],
            "code": {"coding": [{"system": KIND, "code": kind}]},
            "subject": {"identifier": {"system": SSIN_SYSTEM, "value": niss}},
            "supportingInfo": info, "performer": [{"type": "Practitioner", "display": "Jan Smet"}],
            "note": [{"text": "Become a logistics planner"}]}


@pytest.fixture(scope="module")
def dossier(as_, cast) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    created = as_("oa-rtw-coordinator").post("EpisodeOfCare", dossier_body(cast.insured))
    assert created.status_code in (200, 201), created.text
    return valid(created.json(), DOSSIER)


@pytest.fixture(scope="module")
def regional(as_, dossier, cast) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    filled = as_("oa-physician").post("QuestionnaireResponse", form_body(dossier["id"]))
    assert filled.status_code == 201, filled.text
    created = as_("reg-counsellor").post("ServiceRequest", request_body(dossier["id"], cast.insured))
    assert created.status_code == 201, created.text
    return valid(created.json(), REQUEST)


def test_rp_f3_rf_2_the_regional_counsellor_files_a_request_as_a_service_request(as_, regional, dossier) -> None:  # type: ignore[no-untyped-def]
    assert regional["id"].startswith("rtw-") and regional["status"] == "on-hold"
    titles = [next(p["valueString"] for p in e["extension"] if p["url"] == "title") for e in regional["extension"]]
    assert titles == ["Logistics planner", "Forklift licence"]
    assert {i["type"] for i in regional["supportingInfo"]} == {"EpisodeOfCare", "QuestionnaireResponse"}
    regional_cbe = regional["performer"][[p.get("type") for p in regional["performer"]].index("Organization")]
    assert regional_cbe["identifier"]["system"] == CBE_SYSTEM
    assert as_("oa-team").get(f"ServiceRequest/{regional['id']}").status_code == 200
    assert refusal(as_("prev-nurse").get(f"ServiceRequest/{regional['id']}"), 403)["rule"] == "RF-2"
    assert refusal(as_("reg-counsellor-forem").get(f"ServiceRequest/{regional['id']}"), 403)["rule"] == "RP-A2"
    found = as_("oa-team").get("ServiceRequest", dossier=f"EpisodeOfCare/{dossier['id']}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [regional["id"]]


def test_rp_f4_the_insurer_completes_the_validation_task(as_, regional, dossier, cast) -> None:  # type: ignore[no-untyped-def]
    rid = regional["id"][len("rtw-"):]
    task = valid(as_("oa-rtw-coordinator").get(f"Task/rtw-validation-{rid}").json(), STEP_PROFILE)
    assert task["status"] == "requested" and task["businessStatus"]["coding"][0]["code"] == "awaiting-validation"
    denied = as_("reg-counsellor").put(f"Task/rtw-validation-{rid}", {**task, "status": "completed"})
    assert refusal(denied, 403)["rule"] == "RP-F4"
    done = as_("oa-rtw-coordinator").put(f"Task/rtw-validation-{rid}", {**task, "status": "completed"})
    assert done.status_code == 200, done.text
    assert valid(done.json(), STEP_PROFILE)["businessStatus"]["coding"][0]["code"] == "submitted"
    steps = as_("reg-counsellor").get("Task", focus=f"ServiceRequest/{regional['id']}").json()
    assert sorted(e["resource"]["id"] for e in steps["entry"]) == [f"rtw-decision-{rid}", f"rtw-validation-{rid}"]
    own = as_("oa-rtw-coordinator").post("ServiceRequest", request_body(dossier["id"], cast.insured, kind="coaching"))
    assert own.status_code == 201, own.text
    assert own.json()["status"] == "active"  # straight to INAMI
    assert refusal(as_("oa-rtw-coordinator").get(f"Task/rtw-validation-{own.json()['id'][4:]}"), 404)["rule"] == "RP-F4"


def test_rp_f5_inami_completes_the_decision_task_the_weekly_run_publishes_it(live, as_, regional) -> None:  # type: ignore[no-untyped-def]
    rid = regional["id"][len("rtw-"):]
    task = as_("inami-expert").get(f"Task/rtw-decision-{rid}").json()
    decided = {**task, "status": "completed", "output": [
        {"type": {"text": "outcome"}, "valueCode": "approved"},
        {"type": {"text": "costs-granted"}, "valueMoney": {"value": 2000.0, "currency": "EUR"}}]}
    assert refusal(as_("oa-physician").put(f"Task/rtw-decision-{rid}", decided), 403)["rule"] == "RP-F5"
    done = as_("inami-inspector").put(f"Task/rtw-decision-{rid}", decided)
    assert done.status_code == 200, done.text
    assert valid(done.json(), STEP_PROFILE)["businessStatus"]["coding"][0]["code"] == "decided"
    hidden = as_("reg-counsellor").get(f"Task/rtw-decision-{rid}").json()
    assert hidden["status"] == "requested" and "output" not in hidden  # not yet published
    week = iso_week(live.clock.now())
    live.gw.return_to_work.decisions.run(week)
    shown = valid(as_("reg-counsellor").get(f"Task/rtw-decision-{rid}").json(), STEP_PROFILE)
    assert shown["status"] == "completed" and shown["businessStatus"]["coding"][0]["code"] == "approved"
    assert as_("reg-counsellor").get(f"ServiceRequest/{regional['id']}").json()["status"] == "completed"


def test_rp_f7_the_list_of_decisions_is_a_search_set_filtered_for_each_recipient(live, as_, regional) -> None:  # type: ignore[no-untyped-def]
    week = iso_week(live.clock.now())
    listed = as_("reg-list-manager").get("Task", code=f"{STEP_SYSTEM}|decision", week=week)
    assert listed.status_code == 200, listed.text
    lines = [valid(e["resource"], STEP_PROFILE) for e in listed.json()["entry"]]
    assert [line["focus"]["reference"] for line in lines] == [f"ServiceRequest/{regional['id']}"]
    assert listed.json().get("entry") and "note" not in lines[0]
    other = as_("reg-counsellor-forem").get("Task", code=f"{STEP_SYSTEM}|decision", week=week).json()
    assert not other.get("entry")
    assert refusal(as_("prev-admin").get("Task", code=f"{STEP_SYSTEM}|decision", week=week), 403)["rule"] == "RP-F7"


MESSAGE_PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-rtw-message"
PARTY = "https://care-gateway.be/fhir/NamingSystem/rtw-party"


def message(dossier_id: str, recipient: str, text: str, kind: str = "message") -> dict[str, Any]:
    return {"resourceType": "Communication", "meta": {"profile": [MESSAGE_PROFILE]}, "status": "completed",
            "category": [{"coding": [{"system": "https://care-gateway.be/fhir/CodeSystem/rtw-message-kind", "code": kind}]}],
            "about": [{"reference": f"EpisodeOfCare/{dossier_id}"}],
            "recipient": [{"identifier": {"system": PARTY, "value": recipient}}], "payload": [{"contentString": text}]}


def test_rp_f6_a_message_is_a_communication_seen_by_its_two_parties_only(as_, dossier) -> None:  # type: ignore[no-untyped-def]
    insurer = next(p["member"]["identifier"]["value"] for p in dossier["contained"][0]["participant"]
                   if p["role"][0]["coding"][0]["code"] == "insurer")
    sent = as_("reg-counsellor").post("Communication", message(dossier["id"], insurer, "Can we meet?"))
    assert sent.status_code == 201, sent.text
    valid(sent.json(), MESSAGE_PROFILE)
    assert as_("oa-team").get(f"Communication/{sent.json()['id']}").json()["payload"][0]["contentString"] == "Can we meet?"
    assert refusal(as_("prev-nurse").get(f"Communication/{sent.json()['id']}"), 403)["rule"] == "RP-F6"
    assert refusal(as_("inami-expert").get(f"Communication/{sent.json()['id']}"), 403)["rule"] == "RP-F6"
    seen = as_("inami-expert").get("Communication", about=f"EpisodeOfCare/{dossier['id']}").json()
    assert not seen.get("entry")


def test_rp_f8_medical_data_are_a_communication_to_inamis_inspector_only(as_, dossier) -> None:  # type: ignore[no-untyped-def]
    body = message(dossier["id"], "inami", "Chronic low back pain", kind="medical")
    assert refusal(as_("oa-team").post("Communication", body), 403)["rule"] == "RP-F8"
    sent = as_("oa-physician").post("Communication", body)
    assert sent.status_code == 201, sent.text
    mid = sent.json()["id"]
    assert as_("inami-inspector").get(f"Communication/{mid}").status_code == 200
    for key in ("inami-expert", "oa-rtw-coordinator", "reg-counsellor", "prev-physician"):
        assert refusal(as_(key).get(f"Communication/{mid}"), 403)["rule"] == "RP-A6", key


def hours(training: str, day: str, value: int) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "https://care-gateway.be/fhir/CodeSystem/rtw-statistic", "code": "hours"}]},
            "focus": [{"identifier": {"system": "https://care-gateway.be/fhir/NamingSystem/rtw-training", "value": training}}],
            "effectiveDateTime": day, "valueQuantity": {"value": value, "unit": "h", "system": "http://unitsofmeasure.org", "code": "h"}}


def test_rp_f7_the_regional_service_reports_hours_as_an_observation(live, as_, regional) -> None:  # type: ignore[no-untyped-def]
    training = regional["extension"][1]["id"]
    today = live.clock.today().isoformat()
    assert refusal(as_("oa-team").post("Observation", hours(training, today, 3)), 403)["rule"] == "RP-F7"
    reported = as_("reg-list-manager").post("Observation", hours(training, today, 3))
    assert reported.status_code == 201, reported.text
    valid(reported.json(), "http://hl7.org/fhir/StructureDefinition/Observation")
    assert reported.json()["basedOn"][0]["reference"] == f"ServiceRequest/{regional['id']}"


def test_rp_f7_the_hours_list_is_a_list_per_party(live, as_, regional) -> None:  # type: ignore[no-untyped-def]
    training = regional["extension"][0]["id"]
    today = live.clock.today()
    assert as_("reg-counsellor").post("Observation", hours(training, today.isoformat(), 7)).status_code == 201
    period = {"code": "https://care-gateway.be/fhir/CodeSystem/rtw-list|hours",
              "date": [f"ge{today.replace(day=1).isoformat()}", f"le{today.isoformat()}"]}
    for key in ("reg-list-manager", "oa-rtw-coordinator", "inami-expert"):
        found = as_(key).get("List", **period)
        assert found.status_code == 200, found.text
        listed = found.json()["entry"][0]["resource"]
        valid(listed, "http://hl7.org/fhir/StructureDefinition/List")
        entry = next(e for e in listed["entry"] if e["item"]["display"] == "Logistics planner")
        parts = {p["url"]: next(v for k, v in p.items() if k.startswith("value")) for p in entry["extension"][0]["extension"]}
        assert (entry["item"]["reference"], parts["training"], parts["performed"]) == (f"ServiceRequest/{regional['id']}", training, 7)
    assert "entry" not in as_("reg-counsellor-forem").get("List", **period).json()["entry"][0]["resource"]


def test_rp_r3_statistics_are_a_measure_report_with_the_small_cell_check(live, as_, regional) -> None:  # type: ignore[no-untyped-def]
    month = live.clock.today().strftime("%Y-%m")
    found = as_("inami-expert").get("MeasureReport", period=month, stratifier="kind")
    assert found.status_code == 200, found.text
    report = found.json()["entry"][0]["resource"]
    valid(report, "http://hl7.org/fhir/StructureDefinition/MeasureReport")
    requests = next(g for g in report["group"] if g["code"]["coding"][0]["code"] == "requests")
    assert "count" not in requests["population"][0]  # 2 requests < 5: suppressed
    assert requests["population"][0]["extension"][0]["valueCode"] == "masked"
    assert refusal(as_("oa-team").get("MeasureReport", period=month), 403)["rule"] == "RP-R3"


def test_rp_f9_the_trio_link_is_told_to_users_of_both_platforms_only(as_, dossier) -> None:  # type: ignore[no-untyped-def]
    trio = "https://care-gateway.be/fhir/StructureDefinition/rtw-trio-dossier"
    for key, told in (("oa-rtw-coordinator", True), ("prev-nurse", True), ("reg-counsellor", False), ("inami-expert", False)):
        seen = as_(key).get(f"EpisodeOfCare/{dossier['id']}").json()
        assert any(e["url"] == trio for e in seen.get("extension", [])) is told, key
