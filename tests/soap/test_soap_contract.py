"""mappings/ and the XSD never disagree: every SOAP path of the
IntegratedCare mappings, written by the engine in the mapping's field
order, makes a payload the XSD accepts (names, nesting and sequence)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from lxml import etree

from gateway.contracts import contract
from gateway.mapping.mapping import mapping
from gateway.soap.commons import response
from gateway.soap.integrated_care import NS
from gateway.domain.clock import FixedClock

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
INCLUSION = {
    "id": "4b7c", "patient_niss": "85073003328", "psi_nihii": "98132227000", "status": "principal",
    "start_date": date(2026, 3, 10), "end_date": date(2026, 9, 1), "billing_start": date(2026, 4, 1),
    "billing_end": date(2026, 10, 31), "declared_by_nihii": "15461602004", "declared_by_niss": "75123152609",
    "declared_by_role": "provider", "created_at": NOW, "version": "3", "updated_at": NOW, "restricted": True,
}
CONSENT = {
    "id": "7", "patient_niss": "85073003328", "decision": "agree", "decision_date": date(2026, 3, 10),
    "recorded_by_niss": "75123152609", "recorded_by_role": "pharmacist", "recorded_by_organisation": "69018864000",
    "recorded_at": NOW, "state": "active",
}
PERSON = {"niss": "85073003328", "last_name": "Peeters", "first_name": "An", "birth_date": date(1985, 7, 30),
          "death_date": None}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(contract("soap", "integrated-care", "IntegratedCare-v1.xsd"))))


def valid(schema: etree.XMLSchema, element: etree._Element) -> None:
    assert schema.validate(element), schema.error_log


def answer(name: str) -> etree._Element:
    return response(NS, name, FixedClock(NOW), prefix="ic")


def test_every_soap_path_of_the_mappings_is_in_the_answers_of_the_xsd(schema):
    got = answer("GetPatientInclusionsResponse")
    mapping("patient").xml_element(PERSON, got)
    mapping("inclusion").xml_element(INCLUSION, got)
    mapping("patient_inclusions").to_xml({"principal_elsewhere": True}, got)
    mapping("consent").xml_element(CONSENT, got)
    valid(schema, got)
    used = {f.name for f in mapping("inclusion").fields if f.soap} - {"consent_decision", "consent_date"}
    assert used <= set(INCLUSION)  # every answer element of the mapping was written
    assert {f.name for f in mapping("consent").fields if f.soap} <= set(CONSENT)


def test_requests_use_the_mappings_element_names(schema):
    m = mapping("inclusion")
    declare = etree.Element(f"{{{NS}}}DeclareInclusionRequest", nsmap={"ic": NS})
    m.to_xml({**{k: INCLUSION[k] for k in ("patient_niss", "psi_nihii", "status", "start_date", "end_date")},
              "consent_decision": "refuse", "consent_date": date(2026, 3, 10)}, declare)
    valid(schema, declare)
    update = etree.Element(f"{{{NS}}}UpdateInclusionRequest", nsmap={"ic": NS})
    m.to_xml({"id": "4b7c", "status": "information", "start_date": date(2026, 3, 1), "end_date": date(2026, 4, 1),
              "consent_decision": "agree", "version": "2"}, update)
    valid(schema, update)
    record = etree.Element(f"{{{NS}}}RecordResearchConsentRequest", nsmap={"ic": NS})
    mapping("consent").to_xml({k: CONSENT[k] for k in ("patient_niss", "decision", "decision_date")}, record)
    valid(schema, record)


def test_the_patient_mapping_reads_the_fhir_faces_patient_and_writes_the_soap_one(gw, personas, schema):
    """mappings/patient.yaml documents what both faces show of a person (IC-R9)."""
    from gateway.domain.inclusions import person_view
    from gateway.fhir.resources.directory import patient_resource
    from gateway.soap.integrated_care import person_values

    person = person_view(gw.platform.register.person(personas["deceased-patient"].niss))
    values = person_values(person)
    assert mapping("patient").from_fhir(patient_resource(gw, person)) == values
    got = answer("GetPatientInclusionsResponse")
    mapping("patient").xml_element(values, got)
    mapping("patient_inclusions").to_xml({"principal_elsewhere": False}, got)
    valid(schema, got)
    assert mapping("patient").from_xml(got.find(f"{{{NS}}}Patient")) == values
