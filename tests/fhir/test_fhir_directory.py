"""The FHIR directory (Patient, Practitioner, PractitionerRole, Organization)
over real HTTP with real sandbox-IdP tokens, driven by fhirpy: the consult
rules hold for patients (IC-A1, IC-A3, IC-A4), names come from the register
at read time (IC-R9), no NISS travels in a resource URL, every read and
search is audited (IC-R8), and everything returned validates."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Callable

import httpx
import pytest
from fhirpy.base.exceptions import BaseFHIRError, ResourceNotFound
from sqlalchemy import select

from gateway.conformance.fhir.validator import FhirValidator
from gateway.domain.identifiers import CBE_SYSTEM, NIHDI_SYSTEM, SSIN_SYSTEM, NissKind, make_niss
from gateway.domain.model import AuditRecord
from gateway.domain.ports import OrganisationKind
from gateway.fhir.resources.directory import CD_HCPARTY, EHP_SYSTEM, ORGANISATION_TYPE, patient_id
from tests.conftest import declaration

SD = "https://care-gateway.be/fhir/StructureDefinition"


# ------------------------------------------------------------------ helpers


def valid(resource: Any, profile: str) -> dict[str, Any]:
    """The resource as JSON, after checking it against its profile and R4 core (no errors, no warnings)."""
    data = resource.serialize() if hasattr(resource, "serialize") else resource
    for result in (FhirValidator.default().validate(data, profile=f"{SD}/{profile}"), FhirValidator.default().validate(data)):
        assert result.errors == [] and result.warnings == [], result.findings()
    assert data["meta"]["profile"] == [f"{SD}/{profile}"]
    return data


def refused(action: Callable[[], Any]) -> dict[str, Any]:
    """The OperationOutcome of a fhirpy call that must fail."""
    with pytest.raises(BaseFHIRError) as err:
        action()
    resource = getattr(err.value, "resource", None)
    return resource if isinstance(resource, dict) else json.loads(err.value.args[0])


def codes(outcome: dict[str, Any]) -> set[str]:
    return {c["code"] for i in outcome["issue"] for c in i.get("details", {}).get("coding", [])}


def audited(live, action: str) -> list[tuple[str, str | None, str | None, str]]:  # type: ignore[no-untyped-def]
    """(outcome, rule, resource_id, channel) of every audit record of ``action``, oldest first."""
    with live.gw.db.transaction() as session:
        rows = session.execute(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)).scalars().all()
        return [(r.outcome, r.rule, r.resource_id, r.channel) for r in rows]


def by_niss(client, niss: str):  # type: ignore[no-untyped-def]
    return client.resources("Patient").search(identifier=f"{SSIN_SYSTEM}|{niss}")


# ------------------------------------------------------------------ Patient


def test_IC_R9_IC_A1_gp_finds_a_linked_patient_with_names_from_the_register(live, fhir_client, personas):
    patient = personas["patient"]
    before = len(audited(live, "patient.read"))
    (found,) = by_niss(fhir_client("gp"), patient.niss).fetch()
    data = valid(found, "be-cg-patient")
    person = live.gw.platform.register.person(patient.niss)
    assert data["identifier"] == [{"use": "official", "system": SSIN_SYSTEM, "value": person.niss}]
    assert data["name"] == [{"use": "official", "family": person.last_name, "given": [person.first_name]}]
    assert data["birthDate"] == person.birth_date.isoformat()
    # the id is the pseudonym, never the NISS; the read by id gives the same person
    assert data["id"] == patient_id(live.gw, patient.niss) and patient.niss not in data["id"]
    again = fhir_client("gp").reference("Patient", data["id"]).to_resource()
    assert valid(again, "be-cg-patient") == data
    assert audited(live, "patient.read")[before:] == [("allowed", "IC-R9", None, "fhir")] * 2


def test_IC_R9_a_niss_change_in_the_register_shows_at_the_next_read(live, fhir_client, personas, registries):
    bis = personas["bis-patient"]
    gp = fhir_client("gp")
    old_id = by_niss(gp, bis.niss).fetch()[0].id
    person = live.gw.platform.register.person(bis.niss)
    new_niss = next(n for n in (make_niss(person.birth_date, c, bis=NissKind.NATIONAL) for c in range(901, 999))
                    if registries.person(n) is None)
    live.gw.platform.register.inject_niss_change(bis.niss, new_niss, live.clock.today())
    # the former id still finds the person; what is shown is the register's now
    data = valid(gp.reference("Patient", old_id).to_resource(), "be-cg-patient")
    assert data["identifier"][0]["value"] == new_niss and data["id"] == patient_id(live.gw, new_niss) != old_id
    now = live.gw.platform.register.person(new_niss)
    assert (data["name"][0]["family"], data["name"][0]["given"], data["birthDate"]) == (
        now.last_name, [now.first_name], now.birth_date.isoformat())
    assert [p.id for p in by_niss(gp, new_niss).fetch()] == [data["id"]]


def test_IC_A1_a_provider_without_a_link_is_denied_and_the_denial_audited(live, fhir_client, personas):
    stranger, patient = fhir_client("gp-no-link"), personas["patient"]
    outcome = refused(lambda: by_niss(stranger, patient.niss).fetch())
    assert {"no-therapeutic-link", "IC-A1"} <= codes(outcome) and outcome["issue"][0]["code"] == "forbidden"
    outcome = refused(lambda: stranger.reference("Patient", patient_id(live.gw, patient.niss)).to_resource())
    assert "IC-A1" in codes(outcome)
    assert audited(live, "patient.read")[-2:] == [("denied", "IC-A1", None, "fhir")] * 2


def test_IC_A3_psi_staff_read_only_people_included_in_their_psi(live, fhir_client, personas):
    patient_2, staff = personas["patient-2"], fhir_client("psi-admin")
    assert by_niss(staff, patient_2.niss).fetch() == []  # not included in PSI A: an empty answer, not a hint
    with pytest.raises(ResourceNotFound):
        staff.reference("Patient", patient_id(live.gw, patient_2.niss)).to_resource()
    assert audited(live, "patient.read")[-1][:2] == ("refused", "IC-A3")
    day = live.clock.today() - timedelta(days=30)
    live.gw.inclusions.declare(personas["gp"].principal(), declaration(
        patient_2, personas["psi-admin"].organisation_nihii, status="information", start_date=day, consent_date=day))
    (found,) = by_niss(staff, patient_2.niss).fetch()
    assert valid(found, "be-cg-patient")["identifier"][0]["value"] == patient_2.niss
    # the staff of another PSI still see nobody
    assert by_niss(fhir_client("psi-admin-other"), patient_2.niss).fetch() == []


def test_IC_A4_a_patient_reads_themselves_and_nobody_else(live, fhir_client, personas):
    me = fhir_client("patient")
    own = valid(me.reference("Patient", patient_id(live.gw, personas["patient"].niss)).to_resource(), "be-cg-patient")
    assert own["identifier"][0]["value"] == personas["patient"].niss
    outcome = refused(lambda: me.reference("Patient", patient_id(live.gw, personas["patient-2"].niss)).to_resource())
    assert {"not-own-data", "IC-A9"} <= codes(outcome)
    outcome = refused(lambda: by_niss(me, personas["patient-2"].niss).fetch())
    assert "not-own-data" in codes(outcome)


def test_a_patient_id_is_opaque_a_plain_niss_names_nobody_and_is_audited(live, fhir_client, fhir_token, personas):
    niss = personas["patient"].niss
    response = httpx.get(f"{live.base_url}/fhir/Patient/{niss}", headers={"Authorization": f"Bearer {fhir_token('gp')}"})
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/fhir+json")
    assert {"unknown-patient"} <= codes(response.json())
    assert audited(live, "patient.read")[-1] == ("refused", None, None, "fhir")  # IC-R10: the NISS sent as an id is not kept
    # POST _search keeps the NISS out of the URL; the Bundle's entries name the patient by the opaque id
    response = httpx.post(f"{live.base_url}/fhir/Patient/_search", data={"identifier": f"{SSIN_SYSTEM}|{niss}"},
                          headers={"Authorization": f"Bearer {fhir_token('gp')}"})
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["total"] == 1 and niss not in bundle["entry"][0]["fullUrl"]
    assert FhirValidator.default().validate(bundle).errors == []


def test_patient_search_needs_an_ssin_identifier(live, fhir_token):
    headers = {"Authorization": f"Bearer {fhir_token('gp')}"}
    for query, code in (("", "search-criteria-missing"), (f"identifier={NIHDI_SYSTEM}|19234011004", "unsupported-identifier-system"),
                        ("name=Peeters", "unknown-search-parameter")):
        response = httpx.get(f"{live.base_url}/fhir/Patient?{query}", headers=headers)
        assert response.status_code == 400 and code in codes(response.json()), response.text


def test_without_a_token_the_directory_answers_401_with_an_operation_outcome(live, personas):
    for path in ("/fhir/Patient?identifier=85073003328", f"/fhir/Practitioner/{personas['gp'].nihii}", "/fhir/AuditEvent"):
        response = httpx.get(live.base_url + path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="care-gateway"'
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "login"
        assert FhirValidator.default().validate(outcome).errors == []
    response = httpx.get(live.base_url + "/fhir/Organization?name=a", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]


# -------------------------------------------------- Practitioner and role


def test_practitioner_read_by_nihii_shows_the_ssin_to_professionals_only(live, fhir_client, personas):
    gp = personas["gp"]
    record = live.gw.platform.registries.professional(gp.nihii)
    seen = valid(fhir_client("nurse").reference("Practitioner", gp.nihii).to_resource(), "be-cg-practitioner")
    assert seen["id"] == gp.nihii and seen["active"] is True
    assert {(i["system"], i["value"]) for i in seen["identifier"]} == {(NIHDI_SYSTEM, gp.nihii), (SSIN_SYSTEM, gp.niss)}
    assert seen["name"] == [{"use": "official", "family": record.last_name, "given": [record.first_name]}]
    assert seen["qualification"][0]["code"]["coding"][0] == {"system": CD_HCPARTY, "code": "persphysician", "display": "physician"}
    assert seen["qualification"][0]["period"]["end"] == record.visa_valid_until.isoformat()
    by_patient = valid(fhir_client("patient").reference("Practitioner", gp.nihii).to_resource(), "be-cg-practitioner")
    assert [i["system"] for i in by_patient["identifier"]] == [NIHDI_SYSTEM]  # a citizen sees no professional's SSIN
    assert audited(live, "practitioner.read")[-2:] == [("allowed", "IC-F1", gp.nihii, "fhir"), ("allowed", "IC-A4", gp.nihii, "fhir")]


def test_practitioner_search_by_name_identifier_and_qualification(live, fhir_client, personas):
    gp, nurse = personas["gp"], personas["nurse"]
    record = live.gw.platform.registries.professional(gp.nihii)
    client = fhir_client("nurse")
    found = client.resources("Practitioner").search(family=record.last_name[:3].lower(), qualification="persphysician").fetch_all()
    assert gp.nihii in {p.id for p in found}
    for p in found:
        data = valid(p, "be-cg-practitioner")
        assert data["qualification"][0]["code"]["coding"][0]["code"] == "persphysician"
        assert data["name"][0]["family"].lower().startswith(record.last_name[:3].lower())
    (by_ssin,) = client.resources("Practitioner").search(identifier=f"{SSIN_SYSTEM}|{nurse.niss}").fetch()
    assert by_ssin.id == nurse.nihii
    (by_nihii,) = client.resources("Practitioner").search(identifier=f"{NIHDI_SYSTEM}|{gp.nihii}").fetch()
    assert by_nihii.id == gp.nihii
    assert [r[:2] for r in audited(live, "practitioner.search")[-3:]] == [("allowed", "IC-F1")] * 3  # the nurse's standing


def test_IC_A9_a_patient_may_not_search_professionals_by_ssin_nor_an_excluded_profession_read_them(live, fhir_client, personas):
    outcome = refused(lambda: fhir_client("patient").resources("Practitioner").search(
        identifier=f"{SSIN_SYSTEM}|{personas['gp'].niss}").fetch())
    assert {"ssin-search-not-allowed", "IC-A9"} <= codes(outcome)
    # a laboratory technologist's STS token exchanges fine, but the profession has no access (the same standing as every read)
    outcome = refused(lambda: fhir_client("excluded-profession").reference("Practitioner", personas["gp"].nihii).to_resource())
    assert {"profession-not-allowed", "IC-A9"} <= codes(outcome)
    assert audited(live, "practitioner.read")[-1][:2] == ("denied", "IC-A9")


def test_practitioner_unknown_or_malformed_nihii_is_404_and_audited(live, fhir_client):
    with pytest.raises(ResourceNotFound):
        fhir_client("nurse").reference("Practitioner", "19234011005").to_resource()  # wrong check digits
    outcome, _, resource_id, channel = audited(live, "practitioner.read")[-1]
    assert (outcome, resource_id, channel) == ("refused", "19234011005", "fhir")


def test_practitioner_role_is_the_professional_in_their_quality(live, fhir_client, personas):
    nurse = personas["nurse"]
    role = valid(fhir_client("gp").reference("PractitionerRole", nurse.nihii).to_resource(), "be-cg-practitioner-role")
    assert role["practitioner"]["reference"] == f"Practitioner/{nurse.nihii}"
    assert role["practitioner"]["identifier"] == {"system": NIHDI_SYSTEM, "value": nurse.nihii}
    assert role["code"][0]["coding"][0]["code"] == "persnurse" and role["active"] is True
    (found,) = fhir_client("gp").resources("PractitionerRole").search(practitioner=f"Practitioner/{nurse.nihii}").fetch()
    assert found.serialize() == role
    nurses = fhir_client("gp").resources("PractitionerRole").search(role=f"{CD_HCPARTY}|persnurse").limit(5).fetch()
    assert nurses and all(r["code"][0]["coding"][0]["code"] == "persnurse" for r in nurses)


def test_directory_searches_are_paged_and_bounded(live, fhir_client, fhir_token):
    client = fhir_client("gp")
    first = client.resources("Practitioner").search(qualification="persphysician").limit(2).fetch_raw()
    assert len(first["entry"]) == 2 and first["total"] > 2
    assert any(link["relation"] == "next" for link in first["link"])
    every = client.resources("Practitioner").search(qualification="persphysician").limit(50).fetch_all()
    assert len(every) == first["total"] and len({p.id for p in every}) == first["total"]
    response = httpx.get(f"{live.base_url}/fhir/Practitioner", headers={"Authorization": f"Bearer {fhir_token('gp')}"})
    assert response.status_code == 422 and "search-criteria-missing" in codes(response.json())  # no dump of the directory


# ----------------------------------------------------------- Organization


def test_organization_read_and_search_by_identifier_type_and_name(live, fhir_client, personas, registries):
    client = fhir_client("patient")
    pharmacy = registries.organisation(personas["pharmacist"].organisation_nihii)
    data = valid(client.reference("Organization", pharmacy.nihii).to_resource(), "be-cg-organization")
    assert data["name"] == pharmacy.name and data["type"][0]["coding"][0]["code"] == "orgpharmacy"
    systems = {i["system"]: i["value"] for i in data["identifier"]}
    assert systems[NIHDI_SYSTEM] == pharmacy.nihii and systems[CBE_SYSTEM] == pharmacy.cbe and EHP_SYSTEM in systems
    (by_cbe,) = client.resources("Organization").search(identifier=f"{CBE_SYSTEM}|{pharmacy.cbe}").fetch()
    assert by_cbe.id == pharmacy.nihii
    (by_ehp,) = client.resources("Organization").search(identifier=f"{EHP_SYSTEM}|{systems[EHP_SYSTEM]}").fetch()
    assert by_ehp.id == pharmacy.nihii
    psis = client.resources("Organization").search(type=f"{ORGANISATION_TYPE}|psi").fetch_all()
    assert {o.id for o in psis} == {o.nihii for o in registries.organisations_of(OrganisationKind.PSI)}
    for o in psis:
        assert valid(o, "be-cg-organization")["type"][0]["coding"][0] == {
            "system": ORGANISATION_TYPE, "code": "psi", "display": "Integrated-care project (PSI)"}
    hospitals = client.resources("Organization").search(type="orghospital").fetch_all()
    assert {o.id for o in hospitals} == {o.nihii for o in registries.organisations_of(OrganisationKind.HOSPITAL)}
    insurer = registries.insurer("100")
    word = insurer.name.split()[0][2:].upper()
    named = client.resources("Organization").search(name=word).fetch_all()
    assert insurer.nihii in {o.id for o in named}
    assert valid(next(o for o in named if o.id == insurer.nihii), "be-cg-organization")["type"][0]["coding"][0]["code"] == "orginsurance"
    assert audited(live, "organization.search")[-1][:2] == ("allowed", "IC-A4")


def test_organization_search_refuses_unknown_types_and_systems(live, fhir_token):
    headers = {"Authorization": f"Bearer {fhir_token('gp')}"}
    for query, code in (("type=orgclinic", "unknown-code"), ("identifier=0820563481", "unsupported-identifier-system"),
                        (f"identifier={CBE_SYSTEM}|0820563482", "cbe-check-digits")):
        response = httpx.get(f"{live.base_url}/fhir/Organization?{query}", headers=headers)
        assert response.status_code in (400, 422) and code in codes(response.json()), response.text


def test_capability_statement_lists_the_directory_and_audit_resources(live):
    statement = httpx.get(f"{live.base_url}/fhir/metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert resources["Patient"]["profile"] == f"{SD}/be-cg-patient"
    assert [p["name"] for p in resources["Patient"]["searchParam"]] == ["identifier"]
    assert {p["name"] for p in resources["Practitioner"]["searchParam"]} == {"identifier", "name", "family", "given", "qualification"}
    assert {i["code"] for i in resources["Organization"]["interaction"]} == {"read", "search-type"}
    assert {"PractitionerRole", "AuditEvent", "Provenance"} <= set(resources)
    assert FhirValidator.default().validate(statement).errors == []
