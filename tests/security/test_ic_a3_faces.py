"""IC-A3 on both faces, in the setting of the findings (PSI B holds the
patient as principal with a consent decision, PSI A as information): PSI A's
staff never read PSI B's consent decision, its recorder or its date (FHIR
Consent search and read, SOAP GetResearchConsent and GetPatientInclusions);
they get no principal-elsewhere bit for a person outside their project; an
id of PSI B's answers exactly as an unknown id does, on both faces."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
import zeep.exceptions
from lxml import etree

from gateway.domain.identifiers import SSIN_SYSTEM
from tests.soap.conftest import request

STAFF_A = ("psi-admin", "psi-coordinator")


def fhir_get(live, fhir_token, key: str, path: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.get(f"{live.base_url}/fhir/{path}", headers={"Authorization": f"Bearer {fhir_token(key)}"}, timeout=30)


@pytest.mark.parametrize("key", STAFF_A)
def test_IC_A3_fhir_consent_search_shows_no_other_projects_decision(live, fhir_token, two_projects, personas, key):
    answer = fhir_get(live, fhir_token, key, f"Consent?patient-identifier={SSIN_SYSTEM}|{personas['patient'].niss}")
    assert answer.status_code == 200
    assert [e for e in answer.json().get("entry", []) if e["search"]["mode"] == "match"] == []
    for name, secret in two_projects["secrets"].items():
        assert secret not in answer.text, name


def test_IC_A3_fhir_consent_read_of_another_project_is_an_unknown_id(live, fhir_token, two_projects):
    other = fhir_get(live, fhir_token, "psi-admin", f"Consent/{two_projects['b_consent'].ConsentId}")
    unknown = fhir_get(live, fhir_token, "psi-admin", f"Consent/{uuid.uuid4()}")
    assert (other.status_code, other.content) == (unknown.status_code, unknown.content) and other.status_code == 404
    mine = fhir_get(live, fhir_token, "psi-admin-other", f"Consent/{two_projects['b_consent'].ConsentId}")
    assert mine.status_code == 200  # the id is real: PSI B reads it


@pytest.mark.parametrize("key", STAFF_A)
def test_IC_A3_soap_consent_and_inclusions_show_no_other_projects_decision(soap, two_projects, personas, key):
    patient = personas["patient"].niss
    assert not soap.service(key).GetResearchConsent(PatientSsin=patient).ResearchConsent
    seen = soap.service(key).GetPatientInclusions(PatientSsin=patient)
    assert seen.ResearchConsent is None and seen.PrincipalElsewhere is True
    assert [i.InclusionId for i in seen.Inclusion] == [two_projects["a"].InclusionId]
    raw = soap.post(soap.signed(key, request("GetPatientInclusions", PatientSsin=patient)), action="GetPatientInclusions")
    for name, secret in two_projects["secrets"].items():
        assert secret.encode() not in raw.content, name


def test_IC_A3_no_principal_elsewhere_bit_for_a_person_outside_the_project(live, fhir_token, soap, two_projects, personas):
    """patient-2 is PSI B's principal patient and nobody in PSI A: PSI A learns nothing of them."""
    niss = personas["patient-2"].niss
    for key in STAFF_A:
        seen = soap.service(key).GetPatientInclusions(PatientSsin=niss)
        assert (seen.PrincipalElsewhere, seen.Inclusion, seen.Patient, seen.ResearchConsent) == (False, [], None, None)
        bundle = fhir_get(live, fhir_token, key, f"EpisodeOfCare?patient-identifier={SSIN_SYSTEM}|{niss}").json()
        assert bundle.get("entry", []) == []
        for name, secret in two_projects["secrets"].items():
            assert secret not in str(bundle) or secret == niss, name


def test_IC_A3_soap_another_projects_inclusion_id_is_an_unknown_id(soap, live, two_projects):
    end = live.clock.today() + timedelta(days=30)
    answers = []
    for inclusion_id in (two_projects["b"].InclusionId, str(uuid.uuid4())):
        raw = soap.post(soap.signed("psi-admin", request("CloseInclusion", InclusionId=inclusion_id, EndDate=end)),
                        action="CloseInclusion")
        fault = etree.fromstring(raw.content)
        answers.append((raw.status_code, etree.tostring(fault.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault"))))
    assert answers[0] == answers[1]
    assert b"unknown-inclusion" in answers[0][1] and b"IC-A3" not in answers[0][1]
    with pytest.raises(zeep.exceptions.Fault):  # and the inclusion is untouched: PSI B still reads it open
        soap.service("psi-admin").CloseInclusion(InclusionId=two_projects["b"].InclusionId, EndDate=end)
    assert soap.service("psi-admin-other").GetPatientInclusions(
        PatientSsin=two_projects["b"].PatientSsin).Inclusion[0].EndDate is None


def test_IC_A3_the_trail_keeps_the_concealed_refusals(live, fhir_token, two_projects):
    """An auditor still sees that PSI A's staff reached for PSI B's consent."""
    from sqlalchemy import select

    from gateway.domain.model import AuditRecord

    fhir_get(live, fhir_token, "psi-admin", f"Consent/{two_projects['b_consent'].ConsentId}")
    with live.gw.db.transaction() as s:
        row = s.execute(select(AuditRecord).where(AuditRecord.action == "consent.read")
                        .order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
    assert (row.outcome, row.rule, row.code, row.resource_id) == ("denied", "IC-A3", "not-own-psi", two_projects["b_consent"].ConsentId)
