"""Our conformance artefacts (profiles/) are valid R4 and hang together."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.contracts import contract
from tests.conformance.fhir_testkit import BASE, errors, example, validator, warnings

ARTEFACTS = sorted(contract("profiles").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", ARTEFACTS, ids=lambda p: p.name)
def test_artefact_is_valid_r4(path: Path) -> None:
    result = validator().validate(load(path))
    assert errors(result) == [] and warnings(result) == []


@pytest.mark.parametrize("path", ARTEFACTS, ids=lambda p: p.name)
def test_artefact_identity(path: Path) -> None:
    resource = load(path)
    assert path.name == f"{resource['resourceType']}-{resource['id']}.json"
    if resource["resourceType"] == "NamingSystem":
        assert "url" not in resource  # R4 NamingSystem has none
        assert resource["uniqueId"][0]["value"] == f"{BASE}/NamingSystem/{resource['id']}"
    else:
        assert resource["url"] == f"{BASE}/{resource['resourceType']}/{resource['id']}"
    if resource["resourceType"] == "StructureDefinition":
        assert resource["fhirVersion"] == "4.0.1" and resource["derivation"] == "constraint"
        assert "snapshot" not in resource  # differentials only; snapshots are generated


def test_readme_lists_every_artefact() -> None:
    readme = contract("profiles", "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in ARTEFACTS if f"`{p.name}`" not in readme]
    assert missing == []


def test_bindings_point_to_value_sets_we_ship_or_core_has() -> None:
    definitions = validator().definitions
    for path in ARTEFACTS:
        resource = load(path)
        for element in resource.get("differential", {}).get("element", []):
            value_set = element.get("binding", {}).get("valueSet")
            if value_set:
                assert definitions.value_set(value_set) is not None, (path.name, value_set)
                assert validator().terminology.expand(value_set).complete


def test_every_code_system_has_its_value_set() -> None:
    definitions = validator().definitions
    for path in contract("profiles").glob("CodeSystem-*.json"):
        code_system = load(path)
        if "valueSet" in code_system:
            assert definitions.value_set(code_system["valueSet"]) is not None


SEARCHES = [
    ("SearchParameter-patient-identifier.json", "EpisodeOfCare-inclusion-principal", ["85073003328"]),
    ("SearchParameter-patient-identifier.json", "Consent-research-agree", ["85073003328"]),
    ("SearchParameter-patient-identifier.json", "CareTeam-clinical-group", ["85073003328"]),
    ("SearchParameter-patient-identifier.json", "ServiceRequest-referral-return-to-work", ["85073003328"]),
    ("SearchParameter-patient-identifier.json", "Task-referral-accepted", ["85073003328"]),
    ("SearchParameter-EpisodeOfCare-psi.json", "EpisodeOfCare-inclusion-principal", ["98132227000"]),
    ("SearchParameter-CareTeam-member-identifier.json", "CareTeam-clinical-group", ["19234011004", "54263481527", "85073003328"]),
    ("SearchParameter-Task-owner-identifier.json", "Task-referral-accepted", ["0820563481"]),
]


@pytest.mark.parametrize("file, example_name, values", SEARCHES)
def test_search_parameter_expressions_find_the_identifiers(file: str, example_name: str, values: list[str]) -> None:
    expression = load(contract("profiles", file))["expression"]
    found = validator().fhirpath.evaluate(example(example_name), expression)
    assert [i["value"] for i in found] == values


def test_date_and_decision_search_expressions() -> None:
    billing = load(contract("profiles", "SearchParameter-EpisodeOfCare-billing-period.json"))["expression"]
    assert validator().fhirpath.evaluate(example("EpisodeOfCare-inclusion-principal"), billing) == [{"start": "2026-04-01"}]
    decision = load(contract("profiles", "SearchParameter-Consent-decision.json"))["expression"]
    assert validator().fhirpath.evaluate(example("Consent-research-agree"), decision) == ["permit"]
