"""The FHIR face for care teams (CareTeam), driven by fhirpy with real
tokens from the sandbox IdP: CT-1..CT-5 hold through FHIR, updates are
version-checked, searches page, every returned resource validates, and
broken resources are refused with an OperationOutcome naming element and rule."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM
from tests.conftest import declaration
from tests.fhir.fhir_asserts import client_with, issue, refused, send, valid

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-care-team"
KIND = "https://care-gateway.be/fhir/CodeSystem/care-team-kind"
TEAM_ID = "https://care-gateway.be/fhir/NamingSystem/care-team"


def team(kind: str, *members: dict[str, Any], patient: str | None = None, organisation: str | None = None,
         name: str = "Team", status: str = "active") -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "CareTeam", "meta": {"profile": [PROFILE]}, "status": status, "name": name,
        "category": [{"coding": [{"system": KIND, "code": kind}]}], "participant": list(members),
    }
    if patient:
        resource["subject"] = {"identifier": {"system": SSIN_SYSTEM, "value": patient}}
    if organisation:
        resource["managingOrganization"] = [{"identifier": {"system": NIHDI_SYSTEM, "value": organisation}}]
    return resource


def practitioner(nihii: str, role: str | None = None, **member: Any) -> dict[str, Any]:
    participant: dict[str, Any] = {"member": {"identifier": {"system": NIHDI_SYSTEM, "value": nihii}, **member}}
    if role:
        participant["role"] = [{"text": role}]
    return participant


def person(niss: str, type_: str = "Patient") -> dict[str, Any]:
    return {"member": {"type": type_, "identifier": {"system": SSIN_SYSTEM, "value": niss}}}


@pytest.fixture(scope="module")
def individual(fhir_client, personas) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The gp's individual care team (CT-1) for patient, made through FHIR."""
    gp, patient = personas["gp"], personas["patient"]
    resource = fhir_client("gp").resource("CareTeam", **team(
        "individual", practitioner(gp.nihii, "general practitioner"), person(patient.niss), patient=patient.niss, name="GP follow-up"))
    resource.save()
    return valid(resource)


@pytest.fixture(scope="module")
def group(fhir_client, personas) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A clinical group (CT-2) for patient with gp and gp-no-link (no therapeutic link) as members."""
    p = personas
    resource = fhir_client("gp").resource("CareTeam", **team(
        "clinical-group", practitioner(p["gp"].nihii), practitioner(p["gp-no-link"].nihii, "cardiologist"),
        patient=p["patient"].niss, name="Heart failure group"))
    resource.save()
    return valid(resource)


# ------------------------------------------------------------ CT-1 .. CT-3


def test_CT_1_an_individual_team_is_created_and_read_back_as_valid_fhir(live, fhir_client, fhir_token, personas, individual):
    gp, patient = personas["gp"], personas["patient"]
    assert individual["category"][0]["coding"] == [{"system": KIND, "code": "individual"}]
    assert individual["identifier"] == [{"system": TEAM_ID, "value": individual["id"]}]
    assert individual["subject"] == {"identifier": {"system": SSIN_SYSTEM, "value": patient.niss}}
    assert [p["member"] for p in individual["participant"]] == [
        {"type": "Practitioner", "identifier": {"system": NIHDI_SYSTEM, "value": gp.nihii}},
        {"type": "Patient", "identifier": {"system": SSIN_SYSTEM, "value": patient.niss}},
    ]  # the gp's NISS, resolved from CoBrHa, is not shown
    assert individual["participant"][0]["role"] == [{"text": "general practitioner"}]
    assert individual["meta"]["versionId"] == "1"
    read = valid(fhir_client("gp").reference("CareTeam", individual["id"]).to_resource())
    assert read == individual
    raw = send(live.base_url, fhir_token("gp"), "GET", f"CareTeam/{individual['id']}")
    assert raw.status_code == 200 and raw.headers["etag"] == 'W/"1"'
    assert raw.headers["content-type"].startswith("application/fhir+json")


def test_CT_1_an_individual_team_with_two_providers_is_refused(fhir_client, personas):
    p = personas
    body = team("individual", practitioner(p["gp"].nihii), practitioner(p["nurse"].nihii), patient=p["patient"].niss)
    found = issue(refused(lambda: fhir_client("gp").resource("CareTeam", **body).save(), 422))
    assert (found["rule"], found["error"], found["expression"]) == ("CT-1", "individual-care-team", "CareTeam.participant")
    assert found["code"] == "business-rule"


def test_CT_2_a_clinical_group_gathers_several_providers(fhir_client, personas, group):
    p = personas
    assert group["category"][0]["coding"][0]["code"] == "clinical-group"
    assert [m["member"]["identifier"]["value"] for m in group["participant"]] == [p["gp"].nihii, p["gp-no-link"].nihii]
    alone = team("clinical-group", practitioner(p["gp"].nihii), patient=p["patient"].niss)
    found = issue(refused(lambda: fhir_client("gp").resource("CareTeam", **alone).save(), 422))
    assert (found["rule"], found["expression"]) == ("CT-2", "CareTeam.participant")


def test_CT_3_an_administrative_group_is_managed_by_the_coordinators_psi(fhir_client, personas):
    psi = personas["psi-coordinator"].organisation_nihii
    organisation = {"member": {"type": "Organization", "identifier": {"system": NIHDI_SYSTEM, "value": psi}}, "role": [{"text": "psi"}]}
    made = fhir_client("psi-coordinator").resource("CareTeam", **team("administrative-group", organisation, organisation=psi,
                                                                         name="PSI A administration"))
    made.save()
    created = valid(made)
    assert "subject" not in created
    assert created["managingOrganization"] == [{"identifier": {"system": NIHDI_SYSTEM, "value": psi}}]
    assert created["participant"][0]["member"] == {"type": "Organization", "identifier": {"system": NIHDI_SYSTEM, "value": psi}}
    assert valid(fhir_client("psi-coordinator").reference("CareTeam", created["id"]).to_resource())["id"] == created["id"]
    unmanaged = team("administrative-group", organisation, name="no manager")
    found = issue(refused(lambda: fhir_client("psi-coordinator").resource("CareTeam", **unmanaged).save(), 422))
    assert (found["rule"], found["expression"]) == ("CT-3", "CareTeam.managingOrganization")
    other = personas["psi-coordinator-other"].organisation_nihii
    found = issue(refused(lambda: fhir_client("psi-coordinator").resource(
        "CareTeam", **team("administrative-group", organisation, organisation=other)).save(), 403))
    assert (found["rule"], found["error"], found["code"]) == ("CT-5", "not-own-psi", "forbidden")


# -------------------------------------------------------------- CT-4, CT-5


def test_CT_4_membership_gives_no_access_to_the_patients_inclusions(live, fhir_client, personas, registries, group):
    inclusion = live.gw.inclusions.declare(personas["gp"].principal(), declaration(
        personas["patient"], registries.cast.psi_a, start_date=live.clock.today(), consent_date=live.clock.today()))
    member = fhir_client("gp-no-link")
    assert valid(member.reference("CareTeam", group["id"]).to_resource())["id"] == group["id"]  # a member sees the team
    found = issue(refused(lambda: member.reference("EpisodeOfCare", inclusion.id).to_resource(), 403))
    assert found["rule"] == "IC-A1"  # but not the inclusion: that needs the therapeutic link
    assert valid(fhir_client("gp").reference("EpisodeOfCare", inclusion.id).to_resource())["id"] == inclusion.id


def test_CT_5_members_see_the_team_and_others_need_a_care_relationship(fhir_client, personas, group):
    for key in ("gp-no-link", "nurse", "patient"):  # member without link; link with the patient; the patient
        assert valid(fhir_client(key).reference("CareTeam", group["id"]).to_resource())["id"] == group["id"], key
    found = issue(refused(lambda: fhir_client("pharmacist-no-link").reference("CareTeam", group["id"]).to_resource(), 403))
    assert (found["rule"], found["code"]) == ("CT-5", "forbidden")
    assert "not a member" in found["text"]


def test_CT_5_search_by_patient_returns_what_the_caller_may_see(fhir_client, personas, individual, group):
    niss = personas["patient"].niss
    token = f"{SSIN_SYSTEM}|{niss}"
    found = fhir_client("gp").resources("CareTeam").search(**{"patient-identifier": token}).fetch_all()
    ids = {t["id"] for t in found}
    assert {individual["id"], group["id"]} <= ids
    assert all(valid(t)["subject"]["identifier"]["value"] == niss for t in found)
    own = {t["id"] for t in fhir_client("patient").resources("CareTeam").fetch_all()}  # a patient searches their own teams
    assert own == ids
    found = issue(refused(lambda: fhir_client("pharmacist-no-link").resources("CareTeam").search(
        **{"patient-identifier": token}).fetch(), 403))
    assert found["rule"] == "CT-5"
    found = issue(refused(lambda: fhir_client("gp").resources("CareTeam").fetch(), 400))
    assert (found["error"], found["expression"]) == ("patient-required", "patient-identifier")


def test_CT_5_search_filters_by_status_and_category_and_pages(live, fhir_client, personas):
    p, niss = personas, personas["patient-2"].niss
    gp = fhir_client("gp")
    made = []
    for i, status in enumerate(("active", "active", "suspended", "active", "proposed")):
        body = team("clinical-group", practitioner(p["gp"].nihii), practitioner(p["nurse"].nihii), patient=niss, name=f"g{i}", status=status)
        resource = gp.resource("CareTeam", **body)
        resource.save()
        made.append(resource["id"])
    token = f"{SSIN_SYSTEM}|{niss}"
    first = gp.resources("CareTeam").search(**{"patient-identifier": token}).limit(2)
    bundle = first.fetch_raw()
    assert len(bundle["entry"]) == 2 and bundle["total"] == 5
    assert any(link["relation"] == "next" for link in bundle["link"])
    paged = [valid(t)["id"] for t in first.fetch_all()]  # fhirpy follows the next links, three pages
    assert len(paged) == 5 and set(paged) == set(made)  # each team once (same instant: ordered by id)
    active = gp.resources("CareTeam").search(**{"patient-identifier": token, "status": "active"}).fetch_all()
    assert {t["id"] for t in active} == {made[0], made[1], made[3]}
    either = gp.resources("CareTeam").search(**{"patient-identifier": token, "status": "suspended,proposed"}).fetch_all()
    assert {t["id"] for t in either} == {made[2], made[4]}
    groups = gp.resources("CareTeam").search(**{"patient-identifier": token, "category": f"{KIND}|clinical-group"}).fetch_all()
    assert len(groups) == 5
    assert gp.resources("CareTeam").search(**{"patient-identifier": token, "category": "individual"}).fetch_all() == []
    found = issue(refused(lambda: gp.resources("CareTeam").search(**{"patient-identifier": token, "member": "x"}).fetch(), 400))
    assert found["error"] == "unknown-search-parameter"


def test_CT_5_update_needs_the_current_version(live, fhir_client, fhir_token, personas, individual):
    gp_token = fhir_token("gp")
    current = dict(valid(fhir_client("gp").reference("CareTeam", individual["id"]).to_resource()))
    changed = {**current, "status": "inactive", "period": {"start": "2026-01-01", "end": "2026-12-31"}}
    updated = client_with(live.base_url, gp_token, If_Match='W/"1"').resource("CareTeam", **changed)
    updated.save()
    after = valid(updated)
    assert (after["status"], after["period"], after["meta"]["versionId"]) == ("inactive", {"start": "2026-01-01", "end": "2026-12-31"}, "2")
    stale = client_with(live.base_url, gp_token, If_Match='W/"1"').resource("CareTeam", **changed)
    found = issue(refused(stale.save, 412))
    assert (found["code"], found["error"], found["expression"]) == ("conflict", "version-conflict", "CareTeam.meta.versionId")
    stranger = client_with(live.base_url, fhir_token("gp-no-link"), If_Match='W/"2"').resource("CareTeam", **after)
    assert issue(refused(stranger.save, 403))["rule"] == "CT-5"
    moved = {**after, "subject": {"identifier": {"system": SSIN_SYSTEM, "value": personas["patient-2"].niss}}}
    found = issue(refused(lambda: fhir_client("gp").resource("CareTeam", **moved).save(), 422))
    assert (found["error"], found["expression"]) == ("care-team-patient-fixed", "CareTeam.subject.identifier")
    # vread: any kept version, the current one and the older ones (CT-5 on the team as it is now)
    assert valid(fhir_client("gp").execute(f"CareTeam/{individual['id']}/_history/2", method="get"))["meta"]["versionId"] == "2"
    first = valid(fhir_client("gp").execute(f"CareTeam/{individual['id']}/_history/1", method="get"))
    assert (first["meta"]["versionId"], first["status"]) == ("1", current["status"]) and "end" not in first.get("period", {})
    assert send(live.base_url, gp_token, "GET", f"CareTeam/{individual['id']}/_history/3").status_code == 404
    assert issue(refused(lambda: fhir_client("gp-no-link").execute(f"CareTeam/{individual['id']}/_history/1", method="get"),
                         403))["rule"] == "CT-5"


def test_CT_5_history_lists_every_version_newest_first(live, fhir_client, personas):
    made = fhir_client("gp").resource("CareTeam", **team("individual", practitioner(personas["gp"].nihii), person(personas["patient"].niss),
                                                        patient=personas["patient"].niss))
    made.save()
    body = dict(valid(made))
    fhir_client("gp").resource("CareTeam", **{**body, "name": "renamed"}).save()
    bundle = fhir_client("gp").execute(f"CareTeam/{body['id']}/_history", method="get")
    assert bundle["type"] == "history"
    assert [(e["resource"]["meta"]["versionId"], e["resource"].get("name"), e["request"]["method"]) for e in bundle["entry"]] == [
        ("2", "renamed", "PUT"), ("1", body.get("name"), "POST")]
    for entry in bundle["entry"]:
        valid(entry["resource"])


def test_CT_5_unknown_team_is_not_found(fhir_client):
    found = issue(refused(lambda: fhir_client("gp").reference("CareTeam", "no-such-team").to_resource(), 404))
    assert (found["error"], found["expression"]) == ("unknown-care-team", "CareTeam.id")


# ------------------------------------------------------ broken resources


@pytest.mark.parametrize(("break_it", "rule", "expression"), [
    (lambda r: r["category"][0]["coding"][0].update(code="team-of-friends"), "binding", "CareTeam.category[0]"),
    (lambda r: r["participant"][1]["member"].pop("identifier"), "cg-careteam-1", "CareTeam.participant[1]"),
    (lambda r: r["participant"][0]["member"]["identifier"].update(value="15461612004"), "cg-nihii-1",
     "CareTeam.participant[0].member.identifier"),
    (lambda r: r.pop("status"), "cardinality", "CareTeam.status"),
    (lambda r: r.update(participant=[]), "cardinality", "CareTeam.participant"),
])
def test_CT_1_broken_care_teams_are_refused_with_the_element_and_rule(live, fhir_token, personas, break_it, rule, expression):
    body = team("individual", practitioner(personas["gp"].nihii), person(personas["patient"].niss), patient=personas["patient"].niss)
    break_it(body)
    response = send(live.base_url, fhir_token("gp"), "POST", "CareTeam", body)
    assert response.status_code == 422, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    findings = [issue({"issue": [i]}) for i in outcome["issue"] if i["severity"] == "error"]
    assert any(f["rule"] == rule and f["error"] == "profile-violation" and (f["expression"] or "").startswith(expression)
               for f in findings), findings


def test_CT_5_a_member_without_identifier_or_kind_is_refused(live, fhir_token, personas):
    body = team("individual", practitioner(personas["gp"].nihii), {"member": {"reference": "RelatedPerson/mother"}},
                patient=personas["patient"].niss)
    response = send(live.base_url, fhir_token("gp"), "POST", "CareTeam", body)
    assert response.status_code == 422, response.text
    found = issue(response.json())
    assert (found["error"], found["expression"]) == ("member-without-identifier", "CareTeam.participant[1].member.identifier")
    body = team("individual", practitioner(personas["gp"].nihii), {"member": {"identifier": {"system": "urn:oid:1.2.3", "value": "x"}}},
                patient=personas["patient"].niss)
    response = send(live.base_url, fhir_token("gp"), "POST", "CareTeam", body)
    assert response.status_code == 422, response.text
    found = issue(response.json())
    assert found["error"] == "required" and found["expression"] == "CareTeam.participant[1].member.type"


def test_CT_1_members_given_by_hl7_belgium_variants_are_understood(fhir_client, personas):
    """nihdi-professional and a coded role read like nihdi and text; the answer uses nihdi."""
    gp, patient = personas["gp"], personas["patient"]
    body = team("individual", {"member": {"identifier": {"system": NIHDI_SYSTEM + "-professional", "value": gp.nihii}},
                               "role": [{"coding": [{"system": "https://www.ehealth.fgov.be/standards/fhir/core/CodeSystem/cd-hcparty",
                                                     "code": "persphysician"}]}]},
                patient=patient.niss)
    made = fhir_client("gp").resource("CareTeam", **body)
    made.save()
    created = valid(made)
    assert created["participant"] == [{"member": {"type": "Practitioner", "identifier": {"system": NIHDI_SYSTEM, "value": gp.nihii}},
                                       "role": [{"text": "persphysician"}]}]


def test_capability_statement_lists_the_care_team_interactions(live):
    import httpx

    statement = httpx.get(f"{live.base_url}/fhir/metadata").json()
    entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == "CareTeam")
    assert entry["profile"] == PROFILE
    assert {i["code"] for i in entry["interaction"]} == {"read", "vread", "history-instance", "create", "update", "search-type"}
    assert [p["name"] for p in entry["searchParam"]] == ["patient-identifier", "status", "category"]


def test_CT_1_a_transaction_is_all_or_nothing(live, fhir_token, personas):
    """Two teams in one transaction Bundle: both stored, or, when one breaks CT-1, neither."""
    p, niss = personas, personas["bis-patient"].niss  # the gp has a link with bis-patient
    token = f"{SSIN_SYSTEM}|{niss}"

    def entry(body: dict[str, Any]) -> dict[str, Any]:
        return {"resource": body, "request": {"method": "POST", "url": "CareTeam"}}

    good = team("individual", practitioner(p["gp"].nihii), person(niss), patient=niss)
    bad = team("individual", practitioner(p["gp"].nihii), practitioner(p["nurse"].nihii), patient=niss)
    response = send(live.base_url, fhir_token("gp"), "POST", "", {"resourceType": "Bundle", "type": "transaction",
                                                                   "entry": [entry(good), entry(good)]})
    assert response.status_code == 200, response.text
    answers = response.json()["entry"]
    assert [a["response"]["status"] for a in answers] == ["201 Created", "201 Created"]
    assert all(valid(a["resource"])["resourceType"] == "CareTeam" for a in answers)
    response = send(live.base_url, fhir_token("gp"), "POST", "", {"resourceType": "Bundle", "type": "transaction",
                                                                   "entry": [entry(good), entry(bad)]})
    assert response.status_code == 422, response.text
    found = issue(response.json())
    assert (found["rule"], found["expression"]) == ("CT-1", "CareTeam.participant") and "Entry 1 failed" in found["text"]
    search = send(live.base_url, fhir_token("gp"), "GET", f"CareTeam?patient-identifier={token}")
    assert search.json()["total"] == 2  # the good entry of the failed transaction was rolled back


def test_CT_5_a_care_team_reads_as_r4_xml(live, fhir_token, individual):
    from gateway.conformance.fhir.validator import FhirValidator

    response = send(live.base_url, fhir_token("gp"), "GET", f"CareTeam/{individual['id']}?_format=xml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/fhir+xml")
    result = FhirValidator.default().validate_xml(response.content)
    assert result.valid, result.findings()
    assert b"<CareTeam xmlns=\"http://hl7.org/fhir\">" in response.content
