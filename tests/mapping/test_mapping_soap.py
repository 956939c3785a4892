"""The SOAP side of the mapping engine: a field may carry the domain codes
on SOAP while FHIR carries a ConceptMap's; partial requests tell an absent
element from an empty or nil one; a mapping builds its own element."""

from __future__ import annotations

from datetime import date

from lxml import etree

from gateway.mapping.mapping import mapping

IC = "urn:be:care-gateway:integratedcare:v1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def test_consent_decisions_are_domain_codes_on_soap_and_mapped_codes_on_fhir():
    m = mapping("consent")
    values = {"patient_niss": "85073003328", "decision": "refuse", "decision_date": date(2026, 3, 10)}
    assert m.to_fhir(values)["provision"]["type"] == "deny"
    element = m.xml_element(values)
    assert element.tag == f"{{{IC}}}ResearchConsent" and element.findtext(f"{{{IC}}}Decision") == "refuse"
    assert m.from_xml(element, only=set(values)) == values
    assert m.field("decision").soap_codes is None and m.field("decision").conceptmap == "consent-decision"
    assert mapping("inclusion").field("status").soap_codes == "inclusion-status"  # absent: the same as FHIR


def test_present_in_xml_tells_absent_from_nil():
    m = mapping("inclusion")
    request = etree.fromstring(f'<ic:UpdateInclusionRequest xmlns:ic="{IC}" xmlns:xsi="{XSI}"><ic:InclusionId>x</ic:InclusionId>'
                               f'<ic:EndDate xsi:nil="true"/><ic:ResearchConsent><ic:Decision>agree</ic:Decision></ic:ResearchConsent>'
                               '</ic:UpdateInclusionRequest>')
    assert m.present_in_xml(request) == {"id", "end_date", "consent_decision"}
    assert m.from_xml(request, only={"end_date", "consent_decision"}) == {"end_date": None, "consent_decision": "agree"}


def test_nested_elements_are_written_once_in_field_order():
    element = mapping("inclusion").xml_element({"id": "i", "billing_start": date(2026, 4, 1), "billing_end": date(2026, 5, 31),
                                                "declared_by_role": "provider", "version": "1"})
    assert [etree.QName(c).localname for c in element] == ["InclusionId", "BillingPeriod", "DeclaredBy", "Version"]
    assert [etree.QName(c).localname for c in element.find(f"{{{IC}}}BillingPeriod")] == ["Start", "End"]
