"""Helpers for the FHIR validator tests: the shipped examples, and a second
validator that also knows a few test-only artefacts (a closed slicing, a
ValueSet with a filter, an invariant fhirpathpy cannot evaluate)."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from gateway.conformance.fhir import FhirValidator, ValidationResult
from gateway.conformance.fhir.package import default_definitions
from gateway.contracts import contract

BASE = "https://care-gateway.be/fhir"
SD = f"{BASE}/StructureDefinition"
TEST_BASE = "https://care-gateway.be/fhir/test"
BE_NS = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem"
SSIN, NIHDI, CBE = f"{BE_NS}/ssin", f"{BE_NS}/nihdi", f"{BE_NS}/cbe"
PSEUDO = "https://www.ehealth.fgov.be/standards/fhir/infsec/StructureDefinition/be-ext-pseudonymization"
PROFILES = {
    "EpisodeOfCare": f"{SD}/be-cg-inclusion",
    "Consent": f"{SD}/be-cg-research-consent",
    "CareTeam": f"{SD}/be-cg-care-team",
    "ServiceRequest": f"{SD}/be-cg-referral",
    "Task": f"{SD}/be-cg-referral-task",
    "Patient": f"{SD}/be-cg-patient",
    "Practitioner": f"{SD}/be-cg-practitioner",
    "PractitionerRole": f"{SD}/be-cg-practitioner-role",
    "Organization": f"{SD}/be-cg-organization",
}


def validator() -> FhirValidator:
    return FhirValidator.default()


def example(name: str) -> dict[str, Any]:
    return copy.deepcopy(_example(name))


@lru_cache(maxsize=None)
def _example(name: str) -> dict[str, Any]:
    return json.loads(contract("fhir", "examples", f"{name}.json").read_text(encoding="utf-8"))


def examples() -> list[Path]:
    return sorted(contract("fhir", "examples").glob("*.json"))


def errors(result: ValidationResult) -> list[tuple[str, str]]:
    return [(i.rule, i.expression) for i in result.issues if i.severity in ("error", "fatal")]


def warnings(result: ValidationResult) -> list[tuple[str, str]]:
    return [(i.rule, i.expression) for i in result.issues if i.severity == "warning"]


def identifier(system: str, value: str, *, pseudonymised: bool = False) -> dict[str, Any]:
    made: dict[str, Any] = {"system": system, "value": value}
    if pseudonymised:
        made["_value"] = {"extension": [{"url": PSEUDO, "extension": [{"url": "marker", "valueBoolean": True}]}]}
    return made


def _extra_artefacts() -> list[dict[str, Any]]:
    def sd(sid: str, rtype: str, elements: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "resourceType": "StructureDefinition", "id": sid, "url": f"{TEST_BASE}/StructureDefinition/{sid}",
            "name": sid.title().replace("-", ""), "status": "draft", "fhirVersion": "4.0.1", "kind": "resource",
            "abstract": False, "type": rtype, "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{rtype}",
            "derivation": "constraint", "differential": {"element": elements},
        }

    return [
        # Patient identifiers closed to one SSIN slice.
        sd("closed-identifiers", "Patient", [
            {"id": "Patient.identifier", "path": "Patient.identifier",
             "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "closed"}},
            {"id": "Patient.identifier:ssin", "path": "Patient.identifier", "sliceName": "ssin", "min": 1, "max": "1"},
            {"id": "Patient.identifier:ssin.system", "path": "Patient.identifier.system", "min": 1, "fixedUri": SSIN},
        ]),
        # A required binding to a ValueSet defined by a filter (not expandable here).
        {"resourceType": "ValueSet", "id": "filtered", "url": f"{TEST_BASE}/ValueSet/filtered", "status": "draft",
         "compose": {"include": [{"system": "http://snomed.info/sct",
                                  "filter": [{"property": "concept", "op": "is-a", "value": "404684003"}]}]}},
        sd("filtered-binding", "Patient", [
            {"id": "Patient.maritalStatus", "path": "Patient.maritalStatus",
             "binding": {"strength": "required", "valueSet": f"{TEST_BASE}/ValueSet/filtered"}},
        ]),
        # An invariant using a function fhirpathpy lacks.
        sd("unsupported-invariant", "Patient", [
            {"id": "Patient", "path": "Patient", "constraint": [{
                "key": "test-1", "severity": "error", "human": "uses conformsTo()",
                "expression": "conformsTo('http://hl7.org/fhir/StructureDefinition/Patient')"}]},
        ]),
        # A profile that only restricts a choice and a reference, to test type checks.
        sd("birth-required", "Patient", [
            {"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1},
            {"id": "Patient.deceased[x]", "path": "Patient.deceased[x]", "type": [{"code": "boolean"}]},
        ]),
    ]


@lru_cache(maxsize=1)
def extra_validator() -> FhirValidator:
    """A validator of its own (the shared default one is never changed)."""
    definitions = default_definitions()
    definitions.add(_extra_artefacts())
    return FhirValidator(definitions)


def extra_profile(sid: str) -> str:
    return f"{TEST_BASE}/StructureDefinition/{sid}"
