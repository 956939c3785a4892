"""The FHIR face for inclusions (EpisodeOfCare) and research consents
(Consent), driven by the fhirpy client with real tokens from the sandbox
IdP. Every IC-A rule holds through FHIR; every returned resource validates."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest


from gateway.conformance.fhir.validator import FhirValidator
from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM

INCLUSION = "https://care-gateway.be/fhir/StructureDefinition/be-cg-inclusion"
STATUS_CS = "https://care-gateway.be/fhir/CodeSystem/inclusion-status"
CONSENT_EXT = "https://care-gateway.be/fhir/StructureDefinition/research-consent"


def valid(resource) -> dict:  # type: ignore[no-untyped-def]
    data = resource.serialize() if hasattr(resource, "serialize") else resource
    result = FhirValidator.default().validate(data)
    assert result.valid, result.findings()
    return data


def episode(live, patient: str, psi: str, status: str = "principal", *, days_ago: int = 40, consent: str | None = "permit") -> dict:  # type: ignore[no-untyped-def]
    start = live.clock.today() - timedelta(days=days_ago)
    resource = {
        "resourceType": "EpisodeOfCare", "meta": {"profile": [INCLUSION]}, "status": "active",
        "type": [{"coding": [{"system": STATUS_CS, "code": status}]}],
        "patient": {"identifier": {"system": SSIN_SYSTEM, "value": patient}},
        "managingOrganization": {"identifier": {"system": NIHDI_SYSTEM, "value": psi}},
        "period": {"start": start.isoformat()},
    }
    if consent:
        resource["extension"] = [{"url": CONSENT_EXT, "extension": [
            {"url": "decision", "valueCode": consent}, {"url": "date", "valueDate": start.isoformat()}]}]
    return resource


def refused(action) -> dict:  # type: ignore[no-untyped-def]
    """Run a fhirpy call that must be refused; its OperationOutcome."""
    import json

    from fhirpy.base.exceptions import BaseFHIRError

    with pytest.raises(BaseFHIRError) as err:
        action()
    exc = err.value
    resource = getattr(exc, "resource", None)
    if resource is not None:
        return resource if isinstance(resource, dict) else resource.serialize()
    return json.loads(exc.args[0])


def codes(outcome: dict) -> set[str]:
    return {c["code"] for i in outcome["issue"] for c in i.get("details", {}).get("coding", [])}


@pytest.fixture(scope="module")
def psi_a(personas) -> str:  # type: ignore[no-untyped-def]
    return personas["psi-admin"].organisation_nihii


@pytest.fixture(scope="module")
def psi_b(personas) -> str:  # type: ignore[no-untyped-def]
    return personas["psi-admin-other"].organisation_nihii


@pytest.fixture(scope="module")
def declared(live, fhir_client, personas, psi_a, psi_b):  # type: ignore[no-untyped-def]
    """patient: principal in PSI B, information in PSI A (declared by the gp)."""
    gp = fhir_client("gp")
    b = gp.resource("EpisodeOfCare", **episode(live, personas["patient"].niss, psi_b))
    b.save()
    a = gp.resource("EpisodeOfCare", **episode(live, personas["patient"].niss, psi_a, "information", consent=None))
    a.save()
    return {"a": a, "b": b}


def test_IC_F1_create_returns_the_stored_inclusion_valid_against_its_profile(declared, personas, live):
    b = valid(declared["b"])
    assert b["meta"]["versionId"] == "1" and b["status"] == "active"
    assert b["patient"]["identifier"]["value"] == personas["patient"].niss
    assert b["careManager"]["identifier"]["value"] == personas["gp"].nihii  # item 12
    billing = next(e for e in b["extension"] if e["url"].endswith("/billing-period"))["valuePeriod"]
    start = live.clock.today() - timedelta(days=40)
    assert billing["start"] == (start.replace(day=1) + timedelta(days=32)).replace(day=1).isoformat()  # IC-R2
    assert not any(e["url"] == CONSENT_EXT for e in b["extension"])  # recorded as the patient's Consent instead


def test_IC_F1_declaration_without_any_consent_decision_is_refused(live, fhir_client, personas, psi_a):
    outcome = refused(lambda: fhir_client("gp").resource("EpisodeOfCare", **episode(live, personas["patient-2"].niss, psi_a, consent=None)).save())
    assert {"consent-required", "IC-F1"} <= codes(outcome)
    assert outcome["issue"][0]["expression"] == [f"EpisodeOfCare.extension('{CONSENT_EXT}')"]


def test_IC_A1_provider_reads_and_searches_with_a_link_only(declared, fhir_client, personas):
    gp, stranger = fhir_client("gp"), fhir_client("gp-no-link")
    found = gp.resources("EpisodeOfCare").search(**{"patient-identifier": f"{SSIN_SYSTEM}|{personas['patient'].niss}"}).fetch_all()
    assert {r.id for r in found} == {declared["a"].id, declared["b"].id}
    for r in found:
        valid(r)
    outcome = refused(lambda: stranger.resources("EpisodeOfCare").search(**{"patient-identifier": personas["patient"].niss}).fetch())
    assert {"no-therapeutic-link", "IC-A1"} <= codes(outcome)
    outcome = refused(lambda: stranger.reference("EpisodeOfCare", declared["a"].id).to_resource())
    assert "IC-A1" in codes(outcome)


def test_IC_A2_pharmacist_through_the_pharmacy_link(declared, fhir_client, personas):
    found = fhir_client("pharmacist").resources("EpisodeOfCare").search(**{"patient-identifier": personas["patient"].niss}).fetch_all()
    assert len(found) == 2
    outcome = refused(lambda: fhir_client("pharmacist-no-link").resources("EpisodeOfCare").search(**{"patient-identifier": personas["patient"].niss}).fetch())
    assert "IC-A2" in codes(outcome)


def test_IC_A3_psi_staff_see_their_own_psi_only(declared, fhir_client, personas, psi_b):
    found = fhir_client("psi-admin").resources("EpisodeOfCare").search(**{"patient-identifier": personas["patient"].niss}).fetch_all()
    assert [r.id for r in found] == [declared["a"].id]
    assert psi_b not in str([r.serialize() for r in found])
    outcome = refused(lambda: fhir_client("psi-admin").reference("EpisodeOfCare", declared["b"].id).to_resource())
    unknown = refused(lambda: fhir_client("psi-admin").reference("EpisodeOfCare", "5d1e8c3a-2b4f-4e6a-9c7d-1a2b3c4d5e6f").to_resource())
    assert outcome == unknown and codes(outcome) == {"unknown-inclusion"}  # IC-A3: another project's id is an unknown id


def test_IC_A4_patient_searches_their_own_inclusions(declared, fhir_client):
    found = fhir_client("patient").resources("EpisodeOfCare").fetch_all()
    assert {r.id for r in found} == {declared["a"].id, declared["b"].id}


def test_IC_A5_update_with_if_match_and_the_412_on_a_stale_version(declared, live, fhir_client):
    token_gp = fhir_client("gp")
    a = token_gp.reference("EpisodeOfCare", declared["a"].id).to_resource()
    data = a.serialize()
    data["period"]["end"] = live.clock.today().isoformat()
    url = f"{live.base_url}/fhir/EpisodeOfCare/{a.id}"
    headers = {"Authorization": token_gp.authorization, "Content-Type": "application/fhir+json"}
    first = httpx.put(url, json=data, headers={**headers, "If-Match": 'W/"1"'})
    assert first.status_code == 200 and first.headers["ETag"] == 'W/"2"'
    valid(first.json())
    data["period"]["end"] = (live.clock.today() + timedelta(days=1)).isoformat()
    second = httpx.put(url, json=data, headers={**headers, "If-Match": 'W/"1"'})
    assert second.status_code == 412
    assert second.json()["resourceType"] == "OperationOutcome"
    history = httpx.get(url + "/_history", headers=headers).json()
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    v1 = httpx.get(url + "/_history/1", headers=headers).json()
    assert "end" not in v1["period"]


def test_IC_A6_psi_admin_may_not_change_the_status(declared, live, fhir_client):
    admin = fhir_client("psi-admin")
    a = admin.reference("EpisodeOfCare", declared["a"].id).to_resource()
    a["type"] = [{"coding": [{"system": STATUS_CS, "code": "principal"}]}]
    outcome = refused(lambda: a.save())
    assert {"field-not-modifiable", "IC-A6"} <= codes(outcome)


def test_IC_A7_patient_records_consent_but_cannot_change_dates(declared, live, fhir_client, personas):
    me = fhir_client("patient")
    consent = me.resource("Consent", **{
        "resourceType": "Consent", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentcategorycodes", "code": "research"}]}],
        "patient": {"identifier": {"system": SSIN_SYSTEM, "value": personas["patient"].niss}},
        "dateTime": live.clock.today().isoformat(),
        "policy": [{"uri": "https://care-gateway.be/fhir/policy/integrated-care-research"}],
        "provision": {"type": "deny"},
    })
    consent.save()
    stored = valid(consent)
    recorded = next(e for e in stored["extension"] if e["url"].endswith("/recorded-by"))
    assert {"url": "role", "valueCode": "patient"} in recorded["extension"]  # IC-R11
    history = me.resources("Consent").search(**{"patient-identifier": personas["patient"].niss}).fetch_all()
    assert [c["status"] for c in history] == ["active", "inactive"] and history[0]["provision"]["type"] == "deny"
    b = me.reference("EpisodeOfCare", declared["b"].id).to_resource()
    b["period"]["start"] = (live.clock.today() - timedelta(days=60)).isoformat()
    outcome = refused(lambda: b.save())
    assert "IC-A7" in codes(outcome)


def test_IC_A8_IC_F4_coordinator_pages_with_bounded_count(declared, live, fhir_client, personas, registries, psi_a):
    gp = fhir_client("gp")
    for p in [p for p in registries.patients() if p.death_date is None][10:15]:
        gp.resource("EpisodeOfCare", **episode(live, p.niss, psi_a, "information")).save()
    coordinator = fhir_client("psi-coordinator")
    first = coordinator.resources("EpisodeOfCare").limit(2).fetch_raw()
    assert len(first["entry"]) == 2 and any(l["relation"] == "next" for l in first["link"])
    everything = coordinator.resources("EpisodeOfCare").limit(2).fetch_all()
    assert len(everything) >= 6 and len({r.id for r in everything}) == len(everything)
    response = httpx.get(f"{live.base_url}/fhir/EpisodeOfCare?_count=1000", headers={"Authorization": coordinator.authorization})
    assert response.status_code == 200 and len(response.json()["entry"]) <= live.gw.settings.max_page_size


def test_IC_A9_no_token_unknown_roles_and_wrong_tokens(live, fhir_client):
    response = httpx.get(f"{live.base_url}/fhir/EpisodeOfCare")
    assert response.status_code == 401 and "Bearer" in response.headers["www-authenticate"]
    assert response.json()["resourceType"] == "OperationOutcome"
    forged = httpx.get(f"{live.base_url}/fhir/EpisodeOfCare", headers={"Authorization": "Bearer e30.e30.sig"})
    assert forged.status_code == 401
    insurer = httpx.get(f"{live.base_url}/fhir/EpisodeOfCare", headers={"Authorization": fhir_client("insurer").authorization})
    assert insurer.status_code == 422 and "IC-A1" in codes(insurer.json())


def test_profile_violations_are_refused_with_paths_and_nothing_stored(live, fhir_client, personas, psi_a):
    gp = fhir_client("gp")
    bad = episode(live, personas["patient-2"].niss, psi_a)
    bad["patient"]["identifier"]["value"] = personas["patient-2"].niss[:9] + "00"
    bad["type"][0]["coding"][0]["code"] = "primary"
    response = httpx.post(f"{live.base_url}/fhir/EpisodeOfCare", json=bad, headers={"Authorization": gp.authorization,
                                                                                  "Content-Type": "application/fhir+json"})
    assert response.status_code == 422
    outcome = response.json()
    paths = {e for i in outcome["issue"] for e in i.get("expression", [])}
    assert "EpisodeOfCare.patient.identifier" in paths and "EpisodeOfCare.type[0].coding[0].code" in paths
    assert "cg-niss-1" in str(outcome)
    found = gp.resources("EpisodeOfCare").search(**{"patient-identifier": personas["patient-2"].niss}).fetch_all()
    assert found == []


def test_conditional_create_and_xml(declared, live, fhir_client, personas, psi_b):
    gp = fhir_client("gp")
    headers = {"Authorization": gp.authorization, "Content-Type": "application/fhir+json",
               "If-None-Exist": f"patient-identifier={personas['patient'].niss}&type=principal"}
    again = httpx.post(f"{live.base_url}/fhir/EpisodeOfCare", json=episode(live, personas["patient"].niss, psi_b), headers=headers)
    assert again.status_code == 200 and again.json()["id"] == declared["b"].id
    xml = httpx.get(f"{live.base_url}/fhir/EpisodeOfCare/{declared['b'].id}?_format=xml", headers={"Authorization": gp.authorization})
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/fhir+xml")
    assert FhirValidator.default().validate_xml(xml.content).valid


def test_transaction_that_fails_halfway_leaves_nothing(live, fhir_client, personas, psi_a, psi_b):
    gp = fhir_client("gp")
    target = personas["patient-2"].niss
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": episode(live, target, psi_a), "request": {"method": "POST", "url": "EpisodeOfCare"}},
        {"resource": episode(live, target, psi_b), "request": {"method": "POST", "url": "EpisodeOfCare"}},  # IC-R1
    ]}
    response = httpx.post(f"{live.base_url}/fhir", json=bundle, headers={"Authorization": gp.authorization, "Content-Type": "application/fhir+json"})
    assert response.status_code == 409 and "IC-R1" in codes(response.json())
    assert "Bundle.entry[1]" in str(response.json()) or "entry 1" in str(response.json()).lower()
    assert gp.resources("EpisodeOfCare").search(**{"patient-identifier": target}).fetch_all() == []
    bundle["entry"][1]["resource"]["type"][0]["coding"][0]["code"] = "information"
    ok = httpx.post(f"{live.base_url}/fhir", json=bundle, headers={"Authorization": gp.authorization, "Content-Type": "application/fhir+json"})
    assert ok.status_code == 200 and [e["response"]["status"] for e in ok.json()["entry"]] == ["201 Created", "201 Created"]


def test_capability_statement_lists_what_is_served(live):
    cs = httpx.get(f"{live.base_url}/fhir/metadata").json()
    assert cs["fhirVersion"] == "4.0.1" and FhirValidator.default().validate(cs).valid
    episode_caps = next(r for r in cs["rest"][0]["resource"] if r["type"] == "EpisodeOfCare")
    assert episode_caps["profile"] == INCLUSION and {"read", "create", "update", "vread"} <= {i["code"] for i in episode_caps["interaction"]}
    unknown = httpx.get(f"{live.base_url}/fhir/Observation", headers={"Authorization": "Bearer x"})
    assert unknown.status_code in (401, 404)
    delete = httpx.delete(f"{live.base_url}/fhir/EpisodeOfCare/x")
    assert delete.status_code == 405 and delete.json()["resourceType"] == "OperationOutcome"


def test_create_in_xml_and_bad_xml_refused(live, fhir_client, personas, psi_a):
    from gateway.fhir.formats import to_xml

    gp = fhir_client("gp")
    body = to_xml(episode(live, personas["patient-2"].niss, psi_a, "information"))
    headers = {"Authorization": gp.authorization, "Content-Type": "application/fhir+xml", "Accept": "application/fhir+xml"}
    created = httpx.post(f"{live.base_url}/fhir/EpisodeOfCare", content=body, headers=headers)
    assert created.status_code == 201 and created.headers["content-type"].startswith("application/fhir+xml")
    assert FhirValidator.default().validate_xml(created.content).valid
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><EpisodeOfCare xmlns="http://hl7.org/fhir"/>'
    refused_xml = httpx.post(f"{live.base_url}/fhir/EpisodeOfCare", content=bomb, headers=headers)
    assert refused_xml.status_code == 400 and b"DOCTYPE" in refused_xml.content


def test_IC_R8_revinclude_provenance_and_unsupported_includes_refused(declared, live, fhir_client, personas):
    gp = fhir_client("gp")
    bundle = gp.resources("EpisodeOfCare").search(**{"patient-identifier": personas["patient"].niss}).revinclude("Provenance", "target").fetch_raw()
    provenance = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert provenance and all(p["resourceType"] == "Provenance" for p in provenance)
    assert {p["agent"][0]["who"]["identifier"]["value"] for p in provenance} >= {personas["gp"].niss}
    for p in provenance:
        valid(p)
    response = httpx.get(f"{live.base_url}/fhir/EpisodeOfCare?patient-identifier={personas['patient'].niss}&_include=EpisodeOfCare:patient",
                         headers={"Authorization": gp.authorization})
    assert response.status_code == 400 and "unsupported-include" in response.text


def test_IC_A4_consents_read_by_id_and_paged(declared, live, fhir_client, personas):
    me = fhir_client("patient")
    pages = me.resources("Consent").search(**{"patient-identifier": personas["patient"].niss}).limit(1)
    first = pages.fetch_raw()
    assert len(first["entry"]) == 1 and any(link["relation"] == "next" for link in first["link"])
    every = pages.fetch_all()
    assert len(every) >= 2
    one = me.reference("Consent", every[-1].id).to_resource()
    assert valid(one)["id"] == every[-1].id


def test_IC_F4_type_history_of_the_coordinators_psi(declared, live, fhir_client):
    coordinator = fhir_client("psi-coordinator")
    response = httpx.get(f"{live.base_url}/fhir/EpisodeOfCare/_history", headers={"Authorization": coordinator.authorization})
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["type"] == "history" and bundle["entry"]
    stamps = [e["response"]["lastModified"] for e in bundle["entry"]]
    assert stamps == sorted(stamps, reverse=True)
    assert {e["resource"]["id"] for e in bundle["entry"]} >= {declared["a"].id}
    stranger = httpx.get(f"{live.base_url}/fhir/EpisodeOfCare/_history", headers={"Authorization": fhir_client("gp").authorization})
    assert stranger.status_code == 422 and "patient-required" in stranger.text


def test_IC_A3_psi_staff_learn_only_that_a_principal_exists_elsewhere(declared, fhir_client, personas, psi_b):
    bundle = fhir_client("psi-admin").resources("EpisodeOfCare").search(**{"patient-identifier": personas["patient"].niss}).fetch_raw()
    outcomes = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcomes) == 1 and {"principal-elsewhere", "IC-A3"} <= codes(outcomes[0])
    assert psi_b not in str(bundle)
    valid(outcomes[0])
    other = fhir_client("psi-admin-other").resources("EpisodeOfCare").search(**{"patient-identifier": personas["patient"].niss}).fetch_raw()
    assert not [e for e in other["entry"] if e["search"]["mode"] == "outcome"]  # their own PSI holds the principal one
