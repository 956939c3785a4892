"""The OperationOutcome the validator gives is itself valid R4."""

from __future__ import annotations

from gateway.conformance.fhir import RULE_EXTENSION, RULE_SYSTEM
from tests.conformance.fhir_testkit import errors, example, validator


def test_outcome_of_a_broken_resource_names_rule_kind_and_path() -> None:
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["patient"]["identifier"]["value"] = "85073003329"
    inclusion["type"][0]["coding"][0]["code"] = "primary"
    result = validator().validate(inclusion)
    outcome = result.operation_outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    by_rule = {i["extension"][0]["valueString"]: i for i in outcome["issue"] if "extension" in i}
    niss = by_rule["cg-niss-1"]
    assert niss["extension"][0]["url"] == RULE_EXTENSION
    assert niss["severity"] == "error" and niss["code"] == "invariant"
    assert niss["details"]["coding"] == [{"system": RULE_SYSTEM, "code": "invariant"}]
    assert niss["expression"] == ["EpisodeOfCare.patient.identifier"] == niss["location"]
    assert "cg-niss-1" in niss["details"]["text"] and "97" in niss["details"]["text"]
    assert niss["diagnostics"].startswith("iif(system = ")
    binding = by_rule["binding"]
    assert binding["code"] == "code-invalid"
    assert binding["details"]["coding"] == [{"system": RULE_SYSTEM, "code": "binding"}]
    assert binding["expression"] == ["EpisodeOfCare.type[0].coding[0].code"]
    assert [i["severity"] for i in outcome["issue"]][:2] == ["error", "error"]  # errors first
    assert errors(validator().validate(outcome)) == []  # valid R4, checked by our own validator


def test_outcome_of_a_valid_resource() -> None:
    outcome = validator().validate(example("Task-referral-accepted")).operation_outcome()
    assert [i["severity"] for i in outcome["issue"]] == ["information"]  # dom-6 only
    empty = validator().validate({"resourceType": "Basic", "code": {"text": "x"},
                                  "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}})
    assert empty.issues == []
    assert empty.operation_outcome()["issue"] == [{
        "severity": "information", "code": "informational",
        "details": {"text": "No issues: the resource conforms to http://hl7.org/fhir/StructureDefinition/Basic."}}]
    assert errors(validator().validate(empty.operation_outcome())) == []


def test_every_rule_kind_is_a_code_of_the_validation_rule_code_system() -> None:
    from gateway.conformance.fhir.outcome import KINDS

    codes = {c["code"] for c in validator().definitions.code_system(RULE_SYSTEM)["concept"]}  # type: ignore[index]
    assert set(KINDS) == codes
