"""The FHIR face for referrals: the requester's ServiceRequest and the
performer's Task, driven by fhirpy with real tokens from the sandbox IdP.
RF-1 (who refers, what a referral names, who moves its status) and RF-4
(who sees it) hold through FHIR; every returned resource validates; broken
resources are refused with an OperationOutcome naming element and rule."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM
from tests.fhir.fhir_asserts import client_with, issue, refused, send, valid

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-referral"
TASK_PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-referral-task"
ROLE_PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-practitioner-role"
PROGRAMME = "https://care-gateway.be/fhir/CodeSystem/referral-programme"
REFERRAL_ID = "https://care-gateway.be/fhir/NamingSystem/referral"
HCPARTY = "https://www.ehealth.fgov.be/standards/fhir/core/CodeSystem/cd-hcparty"


def referral(live, patient: str, performer: str | None, *, programme: str = "general", status: str = "active",  # type: ignore[no-untyped-def]
             days: tuple[int, int] = (0, 90), service: str = "cardiology", requester: str | None = None) -> dict[str, Any]:
    today = live.clock.today()
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest", "meta": {"profile": [PROFILE]}, "status": status, "intent": "order",
        "category": [{"text": "specialist-referral"}, {"coding": [{"system": PROGRAMME, "code": programme}]}],
        "code": {"text": service}, "subject": {"identifier": {"system": SSIN_SYSTEM, "value": patient}},
        "occurrencePeriod": {"start": (today + timedelta(days=days[0])).isoformat(),
                             "end": (today + timedelta(days=days[1])).isoformat()},
        "authoredOn": live.clock.now().isoformat(), "reasonCode": [{"text": "exertional chest pain"}],
        "requester": {"identifier": {"system": NIHDI_SYSTEM, "value": requester}} if requester else {"display": "me"},
    }
    if performer:
        resource["performer"] = [{"identifier": {"system": NIHDI_SYSTEM, "value": performer}}]
        resource["performerType"] = {"text": "nurse"}
    return resource


def make(fhir_client, key: str, body: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    resource = fhir_client(key).resource("ServiceRequest", **body)
    resource.save()
    return valid(resource)


def task_status(fhir_client, key: str, referral_id: str, status: str, **headers: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The performer's (or anyone's) PUT of the Task with a new status."""
    current = dict(valid(fhir_client(key).reference("Task", f"task-{referral_id}").to_resource()))
    current["status"] = status
    resource = fhir_client(key).resource("Task", **current)
    resource.save()
    return valid(resource)


@pytest.fixture(scope="module")
def heart(live, fhir_client, personas) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The gp refers patient to cardiology, the nurse named as performer (RF-1)."""
    return make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, requester=personas["gp"].nihii))


# ------------------------------------------------------------------- RF-1


def test_RF_1_a_referral_names_patient_requester_service_reason_and_validity(live, fhir_client, fhir_token, personas, heart):
    gp, nurse, patient = personas["gp"], personas["nurse"], personas["patient"]
    today = live.clock.today()
    assert heart["status"] == "active" and heart["intent"] == "order"
    assert heart["identifier"] == [{"system": REFERRAL_ID, "value": heart["id"]}]
    assert heart["subject"] == {"identifier": {"system": SSIN_SYSTEM, "value": patient.niss}}
    assert heart["category"] == [{"coding": [{"system": PROGRAMME, "code": "general"}]}, {"text": "specialist-referral"}]
    assert (heart["code"], heart["reasonCode"]) == ({"text": "cardiology"}, [{"text": "exertional chest pain"}])
    assert heart["occurrencePeriod"] == {"start": today.isoformat(), "end": (today + timedelta(days=90)).isoformat()}
    assert heart["requester"] == {"reference": "#requester"}
    assert heart["contained"] == [{
        "resourceType": "PractitionerRole", "id": "requester", "meta": {"profile": [ROLE_PROFILE]},
        "practitioner": {"identifier": {"system": NIHDI_SYSTEM, "value": gp.nihii}},
        "code": [{"coding": [{"system": HCPARTY, "code": "persphysician"}]}],
    }]  # the caller, a physician
    assert heart["performer"] == [{"identifier": {"system": NIHDI_SYSTEM, "value": nurse.nihii}}]
    assert heart["performerType"] == {"text": "nurse"}
    assert datetime.fromisoformat(heart["authoredOn"]) == live.clock.now() and heart["meta"]["versionId"] == "1"
    assert valid(fhir_client("gp").reference("ServiceRequest", heart["id"]).to_resource()) == heart
    task = valid(fhir_client("nurse").reference("Task", f"task-{heart['id']}").to_resource())
    assert task["meta"]["profile"] == [TASK_PROFILE]
    assert (task["status"], task["intent"], task["focus"]) == ("requested", "order", {"reference": f"ServiceRequest/{heart['id']}"})
    assert task["owner"] == {"identifier": {"system": NIHDI_SYSTEM, "value": nurse.nihii}}
    assert task["for"] == heart["subject"] and task["restriction"] == {"period": heart["occurrencePeriod"]}
    assert task["requester"] == {"identifier": {"system": NIHDI_SYSTEM, "value": gp.nihii}}


def test_RF_1_create_answers_201_with_location_and_etag(live, fhir_token, personas):
    body = referral(live, personas["patient-2"].niss, None, service="dermatology")
    response = send(live.base_url, fhir_token("gp"), "POST", "ServiceRequest", body)
    assert response.status_code == 201, response.text
    created = valid(response.json())
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["location"] == f"{live.base_url}/fhir/ServiceRequest/{created['id']}/_history/1"
    assert "performer" not in created and "performerType" not in created


def test_RF_1_only_a_care_provider_refers(live, fhir_client, personas):
    body = referral(live, personas["patient"].niss, personas["nurse"].nihii)
    for key in ("psi-coordinator", "patient"):
        found = issue(refused(lambda: fhir_client(key).resource("ServiceRequest", **body).save(), 403))
        assert (found["rule"], found["error"], found["code"]) == ("RF-1", "referral-not-allowed", "forbidden"), key


def test_RF_1_the_requester_is_the_caller(live, fhir_client, personas):
    body = referral(live, personas["patient"].niss, personas["nurse"].nihii, requester=personas["gp-no-link"].nihii)
    found = issue(refused(lambda: fhir_client("gp").resource("ServiceRequest", **body).save(), 422))
    assert (found["rule"], found["error"], found["expression"]) == ("RF-1", "requester-not-caller", "ServiceRequest.requester")


def test_RF_1_the_performer_accepts_and_completes_through_the_task(live, fhir_client, personas):
    made = make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, service="physiotherapy"))
    found = issue(refused(lambda: task_status(fhir_client, "gp", made["id"], "accepted"), 403))  # not the requester's step
    assert (found["rule"], found["error"]) == ("RF-1", "not-the-right-party")
    accepted = task_status(fhir_client, "nurse", made["id"], "accepted")
    assert (accepted["status"], accepted["meta"]["versionId"]) == ("accepted", "2")
    request = valid(fhir_client("gp").reference("ServiceRequest", made["id"]).to_resource())
    assert (request["status"], request["meta"]["versionId"]) == ("active", "2")  # accepted shows on the Task only
    completed = task_status(fhir_client, "nurse", made["id"], "completed")
    assert completed["status"] == "completed"
    assert valid(fhir_client("gp").reference("ServiceRequest", made["id"]).to_resource())["status"] == "completed"
    revoke = {**request, "status": "revoked"}
    found = issue(refused(lambda: fhir_client("gp").resource("ServiceRequest", **revoke).save(), 422))
    assert (found["rule"], found["error"], found["expression"]) == ("RF-1", "invalid-transition", "ServiceRequest.status")
    assert "next: none (final)" in found["text"]


def test_RF_1_the_requester_revokes_and_the_task_is_cancelled(live, fhir_client, personas):
    made = make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, service="dietetics"))
    found = issue(refused(lambda: fhir_client("nurse").resource("ServiceRequest", **{**made, "status": "revoked"}).save(), 403))
    assert found["rule"] == "RF-1"  # the performer does not revoke
    revoked = fhir_client("gp").resource("ServiceRequest", **{**made, "status": "revoked"})
    revoked.save()
    assert valid(revoked)["status"] == "revoked"
    assert valid(fhir_client("nurse").reference("Task", f"task-{made['id']}").to_resource())["status"] == "cancelled"


def test_RF_1_a_draft_is_activated_by_the_requester(live, fhir_client, personas):
    made = make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, status="draft", service="podology"))
    assert made["status"] == "draft"
    assert valid(fhir_client("nurse").reference("Task", f"task-{made['id']}").to_resource())["status"] == "draft"
    active = fhir_client("gp").resource("ServiceRequest", **{**made, "status": "active"})
    active.save()
    assert valid(active)["status"] == "active"
    found = issue(refused(lambda: make(fhir_client, "gp", referral(live, personas["patient"].niss, None, status="completed")), 422))
    assert (found["rule"], found["error"], found["expression"]) == ("RF-1", "invalid-initial-status", "ServiceRequest.status")


def test_RF_1_only_the_status_of_a_referral_changes(live, fhir_client, personas, heart):
    current = dict(valid(fhir_client("gp").reference("ServiceRequest", heart["id"]).to_resource()))
    for element, changed in (("ServiceRequest.code", {"code": {"text": "neurology"}}),
                             ("ServiceRequest.occurrencePeriod.end", {"occurrencePeriod": {**current["occurrencePeriod"], "end": "2099-01-01"}}),
                             ("ServiceRequest.performer", {"performer": [{"identifier": {"system": NIHDI_SYSTEM,
                                                                                          "value": personas["gp-no-link"].nihii}}]}),
                             ("ServiceRequest.requester", {"contained": [{**current["contained"][0], "practitioner": {"identifier": {
                                 "system": NIHDI_SYSTEM, "value": personas["gp-no-link"].nihii}}}]})):
        found = issue(refused(lambda: fhir_client("gp").resource("ServiceRequest", **{**current, **changed}).save(), 422))
        assert (found["rule"], found["error"], found["expression"]) == ("RF-1", "immutable-element", element)
    same = fhir_client("gp").resource("ServiceRequest", **current)  # the same resource again: nothing moves
    same.save()
    assert valid(same)["meta"]["versionId"] == current["meta"]["versionId"]


def test_RF_1_an_expired_referral_cannot_be_accepted(live, fhir_client, personas):
    made = make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, days=(-60, -1), service="ENT"))
    body = {"resourceType": "Task", "meta": {"profile": [TASK_PROFILE]}, "status": "accepted", "intent": "order",
            "focus": {"reference": f"ServiceRequest/{made['id']}"}, "authoredOn": made["authoredOn"],
            "owner": {"identifier": {"system": NIHDI_SYSTEM, "value": personas["nurse"].nihii}}}
    found = issue(refused(lambda: fhir_client("nurse").resource("Task", **body).save(), 422))
    assert (found["rule"], found["error"], found["expression"]) == ("RF-1", "referral-expired", "Task.restriction.period.end")


def test_RF_1_a_task_posted_by_the_performer_moves_the_referral(live, fhir_token, fhir_client, personas):
    made = make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, service="wound care"))
    body = {"resourceType": "Task", "meta": {"profile": [TASK_PROFILE]}, "status": "accepted", "intent": "order",
            "focus": {"reference": f"{live.base_url}/fhir/ServiceRequest/{made['id']}"}, "authoredOn": made["authoredOn"],
            "owner": {"identifier": {"system": NIHDI_SYSTEM + "-professional", "value": personas["nurse"].nihii}}}
    response = send(live.base_url, fhir_token("nurse"), "POST", "Task", body)
    assert response.status_code == 201, response.text
    task = valid(response.json())
    assert (task["id"], task["status"]) == (f"task-{made['id']}", "accepted")
    assert response.headers["location"] == f"{live.base_url}/fhir/Task/task-{made['id']}/_history/2"
    again = send(live.base_url, fhir_token("nurse"), "POST", "Task", body)
    assert again.status_code == 200 and again.json()["meta"]["versionId"] == "2"  # already accepted: nothing moved
    stranger = {**body, "owner": {"identifier": {"system": NIHDI_SYSTEM, "value": personas["gp-no-link"].nihii}}, "status": "completed"}
    response = send(live.base_url, fhir_token("nurse"), "POST", "Task", stranger)
    assert response.status_code == 422
    assert (issue(response.json())["error"], issue(response.json())["expression"]) == ("owner-not-a-performer", "Task.owner")


def test_RF_1_task_updates_are_version_checked(live, fhir_client, fhir_token, personas):
    made = make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, service="speech therapy"))
    current = dict(valid(fhir_client("nurse").reference("Task", f"task-{made['id']}").to_resource()))
    nurse = fhir_token("nurse")
    accepted = client_with(live.base_url, nurse, If_Match='W/"1"').resource("Task", **{**current, "status": "accepted"})
    accepted.save()
    assert valid(accepted)["meta"]["versionId"] == "2"
    stale = client_with(live.base_url, nurse, If_Match='W/"1"').resource("Task", **{**current, "status": "completed"})
    found = issue(refused(stale.save, 412))
    assert (found["code"], found["error"], found["expression"]) == ("conflict", "version-conflict", "Task.meta.versionId")
    unchanged = client_with(live.base_url, nurse, If_Match='W/"1"').resource("Task", **{**current, "status": "accepted"})
    assert issue(refused(unchanged.save, 412))["error"] == "version-conflict"  # even when nothing would move
    other = {**current, "id": f"task-{made['id']}", "focus": {"reference": "ServiceRequest/another"}, "status": "completed"}
    found = issue(refused(lambda: fhir_client("nurse").resource("Task", **other).save(), 422))
    assert (found["error"], found["expression"]) == ("focus-mismatch", "Task.focus")
    assert valid(fhir_client("nurse").execute(f"Task/task-{made['id']}/_history/1", method="get"))["status"] == "requested"
    assert valid(fhir_client("nurse").execute(f"Task/task-{made['id']}/_history/2", method="get"))["status"] == "accepted"
    assert send(live.base_url, nurse, "GET", f"Task/task-{made['id']}/_history/3").status_code == 404
    history = send(live.base_url, nurse, "GET", f"Task/task-{made['id']}/_history").json()
    assert history["type"] == "history"
    assert [(e["resource"]["meta"]["versionId"], e["resource"]["status"]) for e in history["entry"]] == [("2", "accepted"), ("1", "requested")]
    stranger = send(live.base_url, fhir_token("gp-no-link"), "GET", f"Task/task-{made['id']}/_history")
    unknown = send(live.base_url, fhir_token("gp-no-link"), "GET", "Task/task-999999999/_history")
    assert stranger.status_code == 403 and issue(stranger.json())["rule"] == "RF-4"  # as a read of the Task (ids are random)
    assert unknown.status_code == 404 and issue(unknown.json())["error"] == "unknown-referral"


def test_RF_1_several_performers_each_move_their_own_task(live, fhir_client, fhir_token, personas):
    """One Task per named performer: the nurse's task-<id>, pharmacy A's task-<id>-2 (its pharmacist acts for it)."""
    body = referral(live, personas["patient"].niss, personas["nurse"].nihii, service="wound care")
    body["performer"].append({"identifier": {"system": NIHDI_SYSTEM, "value": personas["pharmacist"].organisation_nihii}})
    made = make(fhir_client, "gp", body)
    first, second = f"task-{made['id']}", f"task-{made['id']}-2"
    found = [valid(t) for t in fhir_client("gp").resources("Task").search(focus=f"ServiceRequest/{made['id']}").fetch_all()]
    assert [(t["id"], t["status"], t["owner"]["identifier"]["value"]) for t in found] == [
        (first, "requested", personas["nurse"].nihii), (second, "requested", personas["pharmacist"].organisation_nihii)]
    pharmacy = dict(found[1])
    no_reason = send(live.base_url, fhir_token("pharmacist"), "PUT", f"Task/{second}", {**pharmacy, "status": "rejected"})
    assert no_reason.status_code == 422
    assert (issue(no_reason.json())["error"], issue(no_reason.json())["rule"], issue(no_reason.json())["expression"]) == (
        "reason-required", "RF-1", "Task.statusReason")
    other = send(live.base_url, fhir_token("nurse"), "PUT", f"Task/{second}", {**pharmacy, "status": "accepted"})
    assert other.status_code == 403 and issue(other.json())["error"] == "not-the-right-party"  # not the nurse's Task
    rejected = send(live.base_url, fhir_token("pharmacist"), "PUT", f"Task/{second}",
                    {**pharmacy, "status": "rejected", "statusReason": {"text": "we do not dress wounds"}})
    assert rejected.status_code == 200, rejected.text
    assert (valid(rejected.json())["status"], rejected.json()["statusReason"]) == ("rejected", {"text": "we do not dress wounds"})
    for step in ("accepted", "in-progress", "completed"):
        assert task_status(fhir_client, "nurse", made["id"], step)["status"] == step
    request = valid(fhir_client("gp").reference("ServiceRequest", made["id"]).to_resource())
    assert (request["status"], request["meta"]["versionId"]) == ("completed", "5")  # every Task final, one completed


def test_RF_1_the_requester_holds_resumes_and_revokes_with_a_reason(live, fhir_client, fhir_token, personas):
    made = make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, service="home care"))
    held = fhir_client("gp").resource("ServiceRequest", **{**made, "status": "on-hold"})
    held.save()
    assert valid(held)["status"] == "on-hold"
    found = issue(refused(lambda: task_status(fhir_client, "nurse", made["id"], "accepted"), 422))
    assert (found["error"], found["rule"]) == ("referral-on-hold", "RF-1")
    why = "the patient was admitted to hospital"
    reason = [{"url": "http://hl7.org/fhir/StructureDefinition/request-statusReason", "valueCodeableConcept": {"text": why}}]
    revoked = fhir_client("gp").resource("ServiceRequest", **{**dict(valid(held)), "status": "revoked", "extension": reason})
    revoked.save()
    assert (valid(revoked)["status"], revoked["extension"]) == ("revoked", reason)
    cancelled = valid(fhir_client("nurse").reference("Task", f"task-{made['id']}").to_resource())
    assert (cancelled["status"], cancelled["statusReason"]) == ("cancelled", {"text": why})


def test_RF_1_an_expired_referral_shows_on_its_task(live, fhir_client, personas):
    made = make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, days=(-30, -1), service="podiatry"))
    shown = valid(fhir_client("nurse").reference("Task", f"task-{made['id']}").to_resource())
    assert shown["businessStatus"] == {"coding": [{"system": "https://care-gateway.be/fhir/CodeSystem/referral-business-status",
                                                   "code": "expired"}]}
    assert shown["status"] == "requested"
    assert valid(fhir_client("gp").reference("ServiceRequest", made["id"]).to_resource())["status"] == "active"


def test_RF_4_vread_and_history_answer_every_version_of_a_referral(live, fhir_client, fhir_token, personas):
    made = make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, service="nutrition"))
    task_status(fhir_client, "nurse", made["id"], "accepted")
    fhir_client("gp").resource("ServiceRequest", **{**dict(valid(fhir_client("gp").reference("ServiceRequest", made["id"]).to_resource())),
                                                    "status": "on-hold"}).save()
    first = valid(fhir_client("nurse").execute(f"ServiceRequest/{made['id']}/_history/1", method="get"))
    assert (first["meta"]["versionId"], first["status"]) == ("1", "active")
    assert valid(fhir_client("nurse").execute(f"Task/task-{made['id']}/_history/2", method="get"))["status"] == "accepted"
    bundle = fhir_client("gp").execute(f"ServiceRequest/{made['id']}/_history", method="get")
    assert [(e["resource"]["meta"]["versionId"], e["resource"]["status"]) for e in bundle["entry"]] == [
        ("3", "on-hold"), ("2", "active"), ("1", "active")]
    for entry in bundle["entry"]:
        valid(entry["resource"])
    for path in (f"ServiceRequest/{made['id']}/_history/1", f"Task/task-{made['id']}/_history/1", f"ServiceRequest/{made['id']}/_history"):
        response = send(live.base_url, fhir_token("gp-no-link"), "GET", path)  # RF-4 on the referral as it stands
        assert response.status_code == 403 and issue(response.json())["rule"] == "RF-4", path
    response = send(live.base_url, fhir_token("gp"), "GET", f"ServiceRequest/{made['id']}/_history/9")
    assert response.status_code == 404 and issue(response.json())["error"] == "unknown-version"


# ------------------------------------------------------------------- RF-4


def test_RF_4_only_requester_performer_and_care_relations_see_a_referral(fhir_client, heart):
    for key in ("gp", "nurse", "patient", "pharmacist"):  # requester, performer, the patient, pharmacy with a link
        assert valid(fhir_client(key).reference("ServiceRequest", heart["id"]).to_resource())["id"] == heart["id"], key
        assert valid(fhir_client(key).reference("Task", f"task-{heart['id']}").to_resource())["id"] == f"task-{heart['id']}", key
    for key in ("gp-no-link", "pharmacist-no-link"):
        for kind, id_ in (("ServiceRequest", heart["id"]), ("Task", f"task-{heart['id']}")):
            found = issue(refused(lambda: fhir_client(key).reference(kind, id_).to_resource(), 403))
            assert found["rule"] in ("RF-4", "IC-A9") and found["code"] == "forbidden", (key, kind, found)
    for kind, id_ in (("ServiceRequest", heart["id"]), ("Task", f"task-{heart['id']}")):  # IC-A3: for PSI staff, an unknown id
        found = issue(refused(lambda: fhir_client("psi-coordinator").reference(kind, id_).to_resource(), 404))
        assert (found["rule"], found["code"], found["error"]) == (None, "not-found", "unknown-referral"), (kind, found)


def test_RF_4_search_shows_each_caller_what_they_may_see(live, fhir_client, personas, heart):
    token = f"{SSIN_SYSTEM}|{personas['patient'].niss}"
    seen = fhir_client("gp").resources("ServiceRequest").search(**{"patient-identifier": token}).fetch_all()
    assert heart["id"] in {valid(r)["id"] for r in seen}
    assert fhir_client("gp-no-link").resources("ServiceRequest").search(**{"patient-identifier": token}).fetch_all() == []
    own = fhir_client("patient").resources("ServiceRequest").fetch_all()  # a patient: their own referrals
    assert {r["id"] for r in own} == {r["id"] for r in seen}
    assert fhir_client("gp-no-link").resources("Task").search(**{"patient-identifier": token}).fetch_all() == []
    tasks = fhir_client("nurse").resources("Task").search(focus=f"ServiceRequest/{heart['id']}").fetch_all()
    assert [valid(t)["id"] for t in tasks] == [f"task-{heart['id']}"]
    found = issue(refused(lambda: fhir_client("gp-no-link").resources("Task").search(focus=f"ServiceRequest/{heart['id']}").fetch(), 403))
    assert found["rule"] == "RF-4"
    assert fhir_client("nurse").resources("Task").search(focus="ServiceRequest/no-such-referral").fetch_all() == []


def test_RF_4_search_filters_by_status_and_pages(live, fhir_client, personas):
    niss = personas["patient-2"].niss  # the gp's and the nurse's (link from 2026-09-01) patient
    made = [make(fhir_client, "gp", referral(live, niss, personas["nurse"].nihii, service=f"s{i}"))["id"] for i in range(4)]
    task_status(fhir_client, "nurse", made[0], "accepted")
    revoked = dict(valid(fhir_client("gp").reference("ServiceRequest", made[1]).to_resource()))
    fhir_client("gp").resource("ServiceRequest", **{**revoked, "status": "revoked"}).save()
    token = f"{SSIN_SYSTEM}|{niss}"
    pages = fhir_client("gp").resources("ServiceRequest").search(**{"patient-identifier": token}).limit(3)
    first = pages.fetch_raw()
    assert len(first["entry"]) == 3 and any(link["relation"] == "next" for link in first["link"])
    everything = [valid(r)["id"] for r in pages.fetch_all()]
    assert set(made) <= set(everything) and len(everything) == len(set(everything))
    active = fhir_client("gp").resources("ServiceRequest").search(**{"patient-identifier": token, "status": "active"}).fetch_all()
    assert {made[0], made[2], made[3]} <= {r["id"] for r in active} and made[1] not in {r["id"] for r in active}
    tasks = fhir_client("nurse").resources("Task").search(**{"patient-identifier": token, "status": "accepted,cancelled"}).fetch_all()
    assert {t["id"]: t["status"] for t in tasks} == {f"task-{made[0]}": "accepted", f"task-{made[1]}": "cancelled"}
    found = issue(refused(lambda: fhir_client("gp").resources("ServiceRequest").search(status="active").fetch(), 400))
    assert found["error"] == "patient-required"


# ------------------------------------------------------ broken resources


@pytest.mark.parametrize(("kind", "break_it", "rule", "expression"), [
    ("ServiceRequest", lambda r: r.update(category=[{"text": "specialist-referral"}]), "slice", "ServiceRequest.category"),
    ("ServiceRequest", lambda r: r["category"][1]["coding"][0].update(code="holiday"), "binding", "ServiceRequest.category[1]"),
    ("ServiceRequest", lambda r: r.update(intent="plan"), "fixed", "ServiceRequest.intent"),
    ("ServiceRequest", lambda r: r.update(requester={"reference": "Practitioner/gp"}), "reference", "ServiceRequest.requester"),
    ("ServiceRequest", lambda r: r["subject"]["identifier"].update(value="61033029907"), "cg-niss-1", "ServiceRequest.subject.identifier"),
    ("ServiceRequest", lambda r: r.pop("occurrencePeriod") and r.update(occurrenceDateTime="2026-12-01"), "type",
     "ServiceRequest.occurrence"),
    ("Task", lambda r: r.pop("owner"), "cg-task-1", "Task"),
    ("Task", lambda r: r.pop("focus"), "cardinality", "Task.focus"),
])
def test_RF_1_broken_referrals_are_refused_with_the_element_and_rule(live, fhir_token, personas, kind, break_it, rule, expression):
    if kind == "ServiceRequest":
        body = referral(live, personas["patient"].niss, personas["nurse"].nihii)
    else:
        body = {"resourceType": "Task", "meta": {"profile": [TASK_PROFILE]}, "status": "accepted", "intent": "order",
                "focus": {"reference": "ServiceRequest/x"}, "authoredOn": "2026-06-01",
                "owner": {"identifier": {"system": NIHDI_SYSTEM, "value": personas["nurse"].nihii}}}
    break_it(body)
    response = send(live.base_url, fhir_token("gp"), "POST", kind, body)
    assert response.status_code == 422, response.text
    findings = [issue({"issue": [i]}) for i in response.json()["issue"] if i["severity"] == "error"]
    assert any(f["rule"] == rule and f["error"] == "profile-violation" and (f["expression"] or "").startswith(expression)
               for f in findings), findings


def test_RF_1_referral_and_task_read_as_r4_xml(live, fhir_token, heart):
    from gateway.conformance.fhir.validator import FhirValidator

    for path in (f"ServiceRequest/{heart['id']}", f"Task/task-{heart['id']}"):
        response = send(live.base_url, fhir_token("gp"), "GET", f"{path}?_format=xml")
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/fhir+xml")
        result = FhirValidator.default().validate_xml(response.content)
        assert result.valid, (path, result.findings())


def test_RF_1_a_service_request_update_is_version_checked(live, fhir_client, fhir_token, personas):
    made = make(fhir_client, "gp", referral(live, personas["patient"].niss, personas["nurse"].nihii, service="ophthalmology"))
    stale = client_with(live.base_url, fhir_token("gp"), If_Match='W/"7"').resource("ServiceRequest", **{**made, "status": "revoked"})
    found = issue(refused(stale.save, 412))
    assert (found["error"], found["expression"]) == ("version-conflict", "ServiceRequest.meta.versionId")
    fresh = client_with(live.base_url, fhir_token("gp"), If_Match='W/"1"').resource("ServiceRequest", **{**made, "status": "revoked"})
    fresh.save()
    assert (valid(fresh)["status"], fresh["meta"]["versionId"]) == ("revoked", "2")


def test_capability_statement_lists_the_referral_interactions(live):
    import httpx

    statement = httpx.get(f"{live.base_url}/fhir/metadata").json()
    entries = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert entries["ServiceRequest"]["profile"] == PROFILE and entries["Task"]["profile"] == TASK_PROFILE
    # ServiceRequest also carries return-to-work requests (RP-F3, RF-2), searched by dossier or category
    assert [p["name"] for p in entries["ServiceRequest"]["searchParam"]] == ["patient-identifier", "status", "dossier", "category"]
    # Task also carries rights requests (DS-2..DS-4), searched by code, and return-to-work steps (RP-F4, RP-F5), by week
    assert [p["name"] for p in entries["Task"]["searchParam"]] == ["focus", "patient-identifier", "status", "code", "week"]
    assert {i["code"] for i in entries["Task"]["interaction"]} == {"read", "vread", "history-instance", "create", "update", "search-type"}
