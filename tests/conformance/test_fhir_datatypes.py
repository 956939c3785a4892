"""Data type rules everywhere: the core invariants checked natively (per-1 with
time zones and precision, dom-3 named on the contained resource, ref-1, txt-1
and txt-2 apart), the 1 MB string limit, URI forms and identifier systems."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.conformance.fhir.temporal import compare
from tests.conformance.fhir_testkit import errors, example, validator, warnings

XHTML = "http://www.w3.org/1999/xhtml"


def patient(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p", **fields}


@pytest.mark.parametrize("left, right, order", [
    ("2026-05-01T09:00:00Z", "2026-05-01T10:30:00+02:00", 1),  # 09:00Z after 08:30Z
    ("2026-05-01T10:00:00+02:00", "2026-05-01T09:30:00Z", -1),
    ("2026-05", "2026-04-20", 1),  # decided on the month
    ("2026-05-01", "2026-05-01T00:00:00Z", None),  # equal as far as both go: unknown
    ("2026-05-01T10:00:00.5Z", "2026-05-01T10:00:00Z", 1),  # seconds and fraction are one precision
    ("2026-05-01T10:00:00", "2026-05-01T09:00:00+02:00", 1),  # one zone only: wall clocks
    ("not a date", "2026", None),
])
def test_per_1_compares_as_fhirpath(left: str, right: str, order: int | None) -> None:
    assert compare(left, right) == order
    found = errors(validator().validate(patient(name=[{"family": "Maes", "period": {"start": left, "end": right}}])))
    assert (("per-1", "Patient.name[0].period") in found) is (order == 1)


def test_per_1_holds_inside_extensions_and_contained_resources() -> None:
    reversed_period = {"start": "2026-06-01", "end": "2026-01-01"}
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["extension"][0]["valuePeriod"] = reversed_period
    assert ("per-1", "EpisodeOfCare.extension[0].valuePeriod") in errors(validator().validate(inclusion))
    consent = example("Consent-research-agree")
    consent["contained"] = [{"resourceType": "Patient", "id": "p", "name": [{"family": "X", "period": reversed_period}]}]
    consent["performer"] = [{"reference": "#p"}]
    assert errors(validator().validate(consent)) == [("per-1", "Consent.contained[0].name[0].period")]


def test_dom_3_counts_narrative_links_and_references_to_the_container() -> None:
    text = {"status": "generated", "div": f'<div xmlns="{XHTML}"><a href="#org">PSI</a></div>'}
    linked = patient(text=text, contained=[{"resourceType": "Organization", "id": "org", "name": "PSI"}])
    assert errors(validator().validate(linked)) == []
    back = patient(contained=[{"resourceType": "Provenance", "id": "prov", "target": [{"reference": "#"}],
                               "recorded": "2026-05-01T10:00:00Z", "agent": [{"who": {"display": "GP"}}]}])
    assert errors(validator().validate(back)) == []  # refers to its container: dom-3 and ref-1 hold
    orphan = patient(contained=[{"resourceType": "Organization", "id": "org", "name": "PSI"}])
    result = validator().validate(orphan)
    assert errors(result) == [("dom-3", "Patient.contained[0]")]
    assert "'org'" in result.errors[0].message


def test_ref_1_local_reference_must_name_a_contained_resource() -> None:
    assert errors(validator().validate(patient(managingOrganization={"reference": "#nowhere"}))) == [
        ("ref-1", "Patient.managingOrganization")]
    assert errors(validator().validate(patient(managingOrganization={"reference": "#"}))) == [
        ("ref-1", "Patient.managingOrganization")]  # '#' only from inside a contained resource


@pytest.mark.parametrize("div, failing", [
    ('<p>Inclusion <b>principal</b></p>', []),
    ('<p onclick="x()">a</p>', ["txt-1"]),
    ('<script>x()</script><p>a</p>', ["txt-1"]),
    ('<p>  </p>', ["txt-2"]),
    ('<img src="http://example.be/logo.png" alt=""/>', []),
    ('<form><p> </p></form>', ["txt-1", "txt-2"]),
])
def test_txt_1_names_and_txt_2_content_are_separate(div: str, failing: list[str]) -> None:
    narrative = {"status": "generated", "div": f'<div xmlns="{XHTML}">{div}</div>'}
    found = [rule for rule, path in errors(validator().validate(patient(text=narrative)))
             if path == "Patient.text.div" and rule.startswith("txt-")]
    assert sorted(found) == failing


def test_strings_have_a_1_mb_limit_and_no_surrounding_whitespace() -> None:
    long_text = "x" * (1024 * 1024 + 1)
    assert errors(validator().validate(patient(name=[{"text": long_text}]))) == [
        ("Type_Specific_Checks_DT_String_Length", "Patient.name[0].text")]
    assert errors(validator().validate(patient(name=[{"text": "x" * (1024 * 1024)}]))) == []
    result = validator().validate(patient(name=[{"family": "Maes "}, {"family": "   "}]))
    assert result.valid
    assert warnings(result) == [("Type_Specific_Checks_DT_String_WS", "Patient.name[0].family"),
                                ("Type_Specific_Checks_DT_String_WS_ALL", "Patient.name[1].family")]


@pytest.mark.parametrize("system, rule", [
    ("https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin", None),
    ("urn:oid:2.16.840.1.113883.3.6777.5.1", None),
    ("urn:uuid:9f4b2c3a-1d5e-4f6a-8b7c-0d1e2f3a4b5c", None),
    ("ssin", "Type_Specific_Checks_DT_Identifier_System"),
    ("oid:2.16.840.1", "Type_Specific_Checks_DT_URI_OID"),
    ("uuid:9f4b2c3a-1d5e-4f6a-8b7c-0d1e2f3a4b5c", "Type_Specific_Checks_DT_URI_UUID"),
    ("urn:uuid:9F4B2C3A-1D5E-4F6A-8B7C-0D1E2F3A4B5C", "Type_Specific_Checks_DT_UUID_Valid"),
    ("urn:oid:1.2.03", "Type_Specific_Checks_DT_OID_Valid"),
])
def test_identifier_systems_and_uri_forms(system: str, rule: str | None) -> None:
    found = errors(validator().validate(patient(identifier=[{"system": system, "value": "1"}])))
    assert found == ([] if rule is None else [(rule, "Patient.identifier[0].system")])


def test_identifier_checks_run_only_for_their_system() -> None:
    """cg-niss-1/cg-nihii-1/cg-cbe-1 are decided without FHIRPath for other systems, with the same verdicts."""
    runner = validator().invariants
    structure = validator().structures.get("https://care-gateway.be/fhir/StructureDefinition/be-cg-identifier")
    assert structure is not None
    constraints = structure.root.constraints
    other = {"system": "https://example.be/ids", "value": "anything"}
    assert runner.run(constraints, other, focus_type="Identifier", companion=None, variables={}) == []
    wrong = {"system": "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/cbe", "value": "0820563480"}
    assert [f.constraint.key for f in runner.run(constraints, wrong, focus_type="Identifier", companion=None,
                                                 variables={})] == ["cg-cbe-1"]


@pytest.mark.parametrize("text, tagged", [
    ("<b>An</b> Maes", True),
    ("</p>", True),
    ('<img src=x onerror="alert(1)">', True),
    ("glucose < 7 and > 4", False),
    ("dose <5 mg>", False),
    ("see <https://www.bcfi.be>", False),
    ("mail <gp@practice.be>", False),
])
def test_SECURITY_STRING_CONTENT_WARNING_on_tag_like_text(text: str, tagged: bool) -> None:
    result = validator().validate(patient(name=[{"text": text}]))
    assert result.valid
    assert (("SECURITY_STRING_CONTENT_WARNING", "Patient.name[0].text") in warnings(result)) is tagged


def test_TYPE_SPECIFIC_CHECKS_DT_MARKDOWN_HTML_ignores_code_spans() -> None:
    request = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
               "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/p"}}
    flagged = validator().validate({**request, "note": [{"text": "a <script>x</script> b"}]})
    assert warnings(flagged) == [("TYPE_SPECIFIC_CHECKS_DT_MARKDOWN_HTML", "MedicationRequest.note[0].text")]
    assert "<script>" in flagged.warnings[0].message
    quiet = validator().validate({**request, "note": [{"text": "use `<dose>` here\n```\n<b>x</b>\n```"}]})
    assert warnings(quiet) == []


@pytest.mark.parametrize("url, example", [
    ("http://example.org/fhir/StructureDefinition/x", True),
    ("https://terminology.example.com/ValueSet/y", True),
    ("http://acme.com/ext", True),
    ("https://www.ehealth.fgov.be/standards/fhir/core/StructureDefinition/be-patient", False),
    ("https://notexample.org/x", False),
])
def test_TYPE_SPECIFIC_CHECKS_DT_URL_EXAMPLE_on_definition_urls(url: str, example: bool) -> None:
    code_system = {"resourceType": "CodeSystem", "url": url, "status": "draft", "content": "not-present"}
    assert (("TYPE_SPECIFIC_CHECKS_DT_URL_EXAMPLE", "CodeSystem.url") in errors(validator().validate(code_system))) is example


def test_attachment_size_hash_and_content() -> None:
    import base64
    import hashlib
    data = b"discharge letter"
    attachment = {"contentType": "text/plain", "data": base64.b64encode(data).decode(), "size": len(data),
                  "hash": base64.b64encode(hashlib.sha1(data).digest()).decode()}
    assert errors(validator().validate(patient(photo=[attachment]))) == []
    assert errors(validator().validate(patient(photo=[{**attachment, "size": 3}]))) == [
        ("TYPE_SPECIFIC_CHECKS_DT_ATT_SIZE_CORRECT", "Patient.photo[0].size")]
    assert errors(validator().validate(patient(photo=[{**attachment, "hash": attachment["hash"][::-1]}]))) == [
        ("cg-attachment-hash", "Patient.photo[0].hash")]
    assert warnings(validator().validate(patient(photo=[{"title": "portrait"}]))) == [
        ("TYPE_SPECIFIC_CHECKS_DT_ATT_NO_CONTENT", "Patient.photo[0]")]
