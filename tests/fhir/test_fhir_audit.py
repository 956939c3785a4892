"""The audit trail through FHIR, over real HTTP with real sandbox-IdP tokens:
a patient reads who looked at their data as AuditEvent (DS-1), anyone
allowed to consult an inclusion reads who changed it as Provenance (IC-R8,
item 10). Every returned resource validates against the R4 core definitions."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Callable

import httpx
import pytest
from fhirpy.base.exceptions import BaseFHIRError
from sqlalchemy import select

from gateway.conformance.fhir.validator import FhirValidator
from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.domain.inclusions import InclusionChanges
from gateway.domain.model import AuditRecord
from gateway.fhir.resources.directory import patient_id
from tests.conftest import declaration

ACTION = "https://care-gateway.be/fhir/CodeSystem/audit-action"
ACTOR_ROLE = "https://care-gateway.be/fhir/CodeSystem/actor-role"


def core_valid(resource: Any) -> dict[str, Any]:
    """Valid against R4 core; the only warning allowed is our action code in AuditEvent.subtype
    (an extensible binding: no standard code says "inclusion.declare")."""
    data = resource.serialize() if hasattr(resource, "serialize") else resource
    result = FhirValidator.default().validate(data)
    assert result.errors == [], result.findings()
    assert all(w.expression.startswith("AuditEvent.subtype") for w in result.warnings), result.findings()
    return data


def refused(action: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(BaseFHIRError) as err:
        action()
    resource = getattr(err.value, "resource", None)
    return resource if isinstance(resource, dict) else json.loads(err.value.args[0])


def codes(outcome: dict[str, Any]) -> set[str]:
    return {c["code"] for i in outcome["issue"] for c in i.get("details", {}).get("coding", [])}


def who(agent: dict[str, Any]) -> str | None:
    return agent["who"].get("identifier", {}).get("value")


def action_of(event: dict[str, Any]) -> str:
    return next(c["code"] for c in event["subtype"] if c["system"] == ACTION)


def log_of(fhir_client, key: str, **params: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [core_valid(e) for e in fhir_client(key).resources("AuditEvent").search(**params).limit(100).fetch_all()]


@pytest.fixture(scope="module")
def looked_at(live, fhir_client, personas) -> None:  # type: ignore[no-untyped-def]
    """The gp reads the patient; the gp without a link tries and is denied."""
    patient = personas["patient"]
    fhir_client("gp").reference("Patient", patient_id(live.gw, patient.niss)).to_resource()
    refused(lambda: fhir_client("gp-no-link").reference("Patient", patient_id(live.gw, patient.niss)).to_resource())


@pytest.fixture(scope="module")
def changed(live, personas) -> str:  # type: ignore[no-untyped-def]
    """An inclusion of patient-2 in PSI A: declared by the gp, its start date moved by PSI A's staff (IC-A6)."""
    day = live.clock.today() - timedelta(days=40)
    psi = personas["psi-admin"].organisation_nihii
    view = live.gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient-2"], psi, start_date=day,
                                                                              consent_date=day))
    live.gw.inclusions.modify(personas["psi-admin"].principal(), view.id, InclusionChanges(start_date=day + timedelta(days=3)))
    return view.id


# ------------------------------------------------------------- AuditEvent


def test_DS_1_a_patient_sees_that_the_gp_consulted_them_and_that_gp_no_link_was_denied(live, fhir_client, personas, looked_at):
    gp, stranger, patient = personas["gp"], personas["gp-no-link"], personas["patient"]
    events = log_of(fhir_client, "patient")
    reads = [e for e in events if action_of(e) == "patient.read"]
    allowed = next(e for e in reads if who(e["agent"][0]) == gp.niss)
    assert allowed["outcome"] == "0" and allowed["action"] == "R" and allowed["outcomeDesc"] == "allowed under rule IC-R9"
    assert allowed["agent"][0]["role"][0]["coding"] == [{"system": ACTOR_ROLE, "code": "provider"}]
    assert allowed["agent"][0]["who"]["identifier"]["system"] == SSIN_SYSTEM and allowed["agent"][0]["requestor"] is True
    assert allowed["type"]["code"] == "rest" and allowed["source"]["site"] == "fhir"
    (subject,) = [e for e in allowed["entity"] if e["role"]["code"] == "1"]
    assert subject["what"]["identifier"] == {"system": SSIN_SYSTEM, "value": patient.niss}
    assert subject["what"]["reference"] == f"Patient/{patient_id(live.gw, patient.niss)}"
    denied = next(e for e in reads if who(e["agent"][0]) == stranger.niss)
    assert denied["outcome"] == "4" and denied["outcomeDesc"] == "denied under rule IC-A1"
    # newest first, and the patient's own reading of this log is not in it
    assert [int(e["id"]) for e in events] == sorted((int(e["id"]) for e in events), reverse=True)
    assert "audit.about-me" not in {action_of(e) for e in events}
    assert int(denied["id"]) > int(allowed["id"])


def test_DS_1_the_log_names_the_organisation_a_pharmacist_acted_for(live, fhir_client, personas):
    pharmacist, patient = personas["pharmacist"], personas["patient"]
    fhir_client("pharmacist").resources("Patient").search(identifier=f"{SSIN_SYSTEM}|{patient.niss}").fetch()
    event = next(e for e in log_of(fhir_client, "patient") if e["agent"] and who(e["agent"][0]) == pharmacist.niss)
    person, organisation = event["agent"]
    assert person["role"][0]["coding"][0]["code"] == "pharmacist"
    assert organisation["who"] == {"type": "Organization", "identifier": {"system": NIHDI_SYSTEM, "value": pharmacist.organisation_nihii}}
    assert organisation["requestor"] is False


def test_DS_1_the_patient_filter_names_the_caller_or_finds_nothing(live, fhir_client, personas, looked_at):
    everything = log_of(fhir_client, "patient")
    own = log_of(fhir_client, "patient", patient=f"Patient/{patient_id(live.gw, personas['patient'].niss)}")
    assert [e["id"] for e in own] == [e["id"] for e in everything] and own
    assert log_of(fhir_client, "patient", patient=f"Patient/{patient_id(live.gw, personas['patient-2'].niss)}") == []
    outcome = refused(lambda: fhir_client("patient").resources("AuditEvent").search(patient="Practitioner/19234011004").fetch())
    assert "wrong-reference-type" in codes(outcome)


def test_DS_1_the_log_is_paged_newest_first(live, fhir_client, fhir_token, looked_at):
    first = fhir_client("patient").resources("AuditEvent").limit(1).fetch_raw()
    assert len(first["entry"]) == 1 and any(link["relation"] == "next" for link in first["link"])
    paged = fhir_client("patient").resources("AuditEvent").limit(1).fetch_all()
    assert [e.id for e in paged] == [e["id"] for e in log_of(fhir_client, "patient")]
    response = httpx.get(f"{live.base_url}/fhir/AuditEvent?_cursor=abc", headers={"Authorization": f"Bearer {fhir_token('patient')}"})
    assert response.status_code == 400 and "invalid-cursor" in codes(response.json())


@pytest.mark.parametrize("key", ["gp", "psi-coordinator", "insurer"])
def test_DS_1_only_patients_read_this_log_there_is_no_auditor_back_door(live, fhir_client, key):
    outcome = refused(lambda: fhir_client(key).resources("AuditEvent").fetch())
    assert {"not-a-patient", "DS-1"} <= codes(outcome) and outcome["issue"][0]["code"] == "forbidden"


def test_DS_1_reading_the_log_is_itself_audited(live, fhir_client, fhir_token, personas):
    response = httpx.get(f"{live.base_url}/fhir/AuditEvent?_count=2", headers={"Authorization": f"Bearer {fhir_token('patient-2')}"})
    assert response.status_code == 200 and response.json()["type"] == "searchset"
    with live.gw.db.transaction() as session:
        last = session.execute(select(AuditRecord).where(AuditRecord.action == "audit.about-me")
                               .order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
        assert (last.outcome, last.rule, last.channel, last.actor_role) == ("allowed", "DS-1", "fhir", "patient")
        from gateway.domain.audit_subjects import pseudonyms_of  # a patient acting is named by their audit token

        named = pseudonyms_of(session, [last.actor_pseudonym])[last.actor_pseudonym]
        assert live.gw.ctx.pseudonyms.reveal(named) == personas["patient-2"].niss


# ------------------------------------------------------------- Provenance


def test_IC_R8_provenance_names_the_actor_of_every_change(live, fhir_client, personas, changed):
    gp, staff = personas["gp"], personas["psi-admin"]
    found = [core_valid(p) for p in fhir_client("gp").resources("Provenance").search(target=f"EpisodeOfCare/{changed}").fetch_all()]
    assert [p["target"] for p in found] == [[{"reference": f"EpisodeOfCare/{changed}/_history/{v}"}] for v in (1, 2)]
    declared, moved = found
    assert declared["activity"]["coding"][0]["code"] == "CREATE" and declared["activity"]["text"] == "declare"
    assert moved["activity"]["coding"][0]["code"] == "UPDATE" and moved["activity"]["text"] == "modify"
    assert declared["agent"][0]["who"] == {"identifier": {"system": SSIN_SYSTEM, "value": gp.niss}}
    assert declared["agent"][0]["role"][0]["coding"][0]["code"] == "provider" and "onBehalfOf" not in declared["agent"][0]
    assert moved["agent"][0]["who"] == {"identifier": {"system": SSIN_SYSTEM, "value": staff.niss}}
    assert moved["agent"][0]["role"][0]["coding"][0]["code"] == "psi-administrative"
    assert moved["agent"][0]["onBehalfOf"]["identifier"] == {"system": NIHDI_SYSTEM, "value": staff.organisation_nihii}
    assert declared["agent"][0]["type"]["coding"][0]["code"] == "author"
    # the same versions as the domain's history, when included
    history = live.gw.inclusions.history(gp.principal(), changed)
    assert [p["recorded"][:19] for p in found] == [v.at.isoformat()[:19] for v in history]


def test_IC_R8_one_version_by_target_history_and_by_id(live, fhir_client, changed):
    gp = fhir_client("gp")
    (second,) = gp.resources("Provenance").search(target=f"EpisodeOfCare/{changed}/_history/2").fetch()
    assert second.id == f"{changed}-v2"
    again = core_valid(gp.reference("Provenance", second.id).to_resource())
    assert again == second.serialize()
    with pytest.raises(BaseFHIRError):
        gp.reference("Provenance", f"{changed}-v9").to_resource()


def test_IC_R4_a_change_made_by_the_gateway_itself_is_attributed_to_it(live, fhir_client, personas, registries):
    staff = personas["psi-admin"]
    keys = {p.niss for p in personas.values()}
    person = next(p for p in registries.patients() if p.death_date is None and p.niss not in keys and not p.previous_niss)
    day = live.clock.today() - timedelta(days=20)
    view = live.gw.inclusions.declare(staff.principal(), declaration(person.niss, staff.organisation_nihii, start_date=day,
                                                                     consent_date=day))
    live.gw.platform.register.inject_death(person.niss, live.clock.today() - timedelta(days=1))
    live.gw.lifecycle.sync_register()
    found = [core_valid(p) for p in fhir_client("psi-admin").resources("Provenance").search(target=f"EpisodeOfCare/{view.id}").fetch_all()]
    assert [p["activity"]["text"] for p in found] == ["declare", "death"]
    assert found[0]["agent"][0]["who"]["identifier"]["value"] == staff.niss
    assert found[1]["agent"][0]["who"] == {"display": "care-gateway (national register feed)"}
    assert found[1]["agent"][0]["role"][0]["coding"][0]["code"] == "system"


def test_IC_A1_IC_A3_provenance_follows_the_consult_rules(live, fhir_client, changed):
    outcome = refused(lambda: fhir_client("gp-no-link").resources("Provenance").search(target=f"EpisodeOfCare/{changed}").fetch())
    assert {"no-therapeutic-link", "IC-A1"} <= codes(outcome)
    # the staff of another PSI learn nothing, not even that the inclusion exists
    assert fhir_client("psi-admin-other").resources("Provenance").search(target=f"EpisodeOfCare/{changed}").fetch() == []
    outcome = refused(lambda: fhir_client("gp").resources("Provenance").search(target="Consent/1").fetch())
    assert "unsupported-target" in codes(outcome)


def test_DS_1_IC_R8_the_patient_sees_who_read_their_inclusion_history(live, fhir_client, personas, changed):
    fhir_client("gp").resources("Provenance").search(target=f"EpisodeOfCare/{changed}").fetch()
    events = log_of(fhir_client, "patient-2")
    event = next(e for e in events if action_of(e) == "inclusion.history" and who(e["agent"][0]) == personas["gp"].niss)
    touched = next(e for e in event["entity"] if e["role"]["code"] == "4")
    assert touched["what"] == {"reference": f"EpisodeOfCare/{changed}"} and touched["type"]["code"] == "EpisodeOfCare"
    declare = next(e for e in events if action_of(e) == "inclusion.declare")
    assert declare["action"] == "C" and declare["type"]["code"] == "110110"  # an act outside the FHIR face


def test_IC_R8_auditor_reads_the_whole_trail_by_patient_and_agent(live, fhir_client, personas):
    """An auditor of a public authority searches every audit record; others may not."""
    from fhirpy.base.exceptions import BaseFHIRError

    gp = personas["gp"].principal()
    live.gw.inclusions.consult(gp, personas["patient"].niss)
    auditor = fhir_client("auditor")
    events = auditor.resources("AuditEvent").search(**{"agent-identifier": personas["gp"].niss}).limit(50).fetch_all()
    assert events and all(any(a.get("who", {}).get("identifier", {}).get("value") == personas["gp"].niss for a in e["agent"]) for e in events)
    for event in events[:5]:
        assert FhirValidator.default().validate(event.serialize()).errors == []
    with pytest.raises(BaseFHIRError):
        fhir_client("gp").resources("AuditEvent").search(**{"agent-identifier": personas["gp"].niss}).fetch()
    own = live.gw.access_log.search(personas["auditor"].principal(), actor_niss=personas["auditor"].niss)
    assert own[0].action == "audit.search"  # the auditor's own reading is audited too
