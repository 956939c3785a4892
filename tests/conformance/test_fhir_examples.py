"""Every example in fhir/examples validates against its profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.contracts import contract
from tests.conformance.fhir_testkit import PROFILES, examples, validator

EXAMPLES = examples()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates_against_its_profile_without_warnings(path: Path) -> None:
    resource = json.loads(path.read_text(encoding="utf-8"))
    declared = resource["meta"]["profile"]
    assert declared == [PROFILES[resource["resourceType"]]]
    result = validator().validate(resource)
    assert result.profiles == tuple(declared), "validated against the declared profile, not core only"
    assert [i for i in result.issues if i.severity != "information"] == []
    assert result.valid
    assert validator().validate(resource, profile=declared[0]).valid  # same answer when the profile is given


def test_every_profile_has_an_example() -> None:
    covered = {json.loads(p.read_text(encoding="utf-8"))["meta"]["profile"][0] for p in EXAMPLES}
    assert set(PROFILES.values()) <= covered


def test_xml_twin_reads_as_its_json_example() -> None:
    from gateway.conformance.fhir.xml import xml_to_json

    xml = contract("fhir", "examples", "EpisodeOfCare-inclusion-pseudonymised.xml").read_bytes()
    converted, problems = xml_to_json(xml, validator().definitions, validator().structures)
    assert problems == []
    assert converted == json.loads(contract("fhir", "examples", "EpisodeOfCare-inclusion-pseudonymised.json").read_text())
    assert validator().validate_xml(xml).valid


def test_examples_use_valid_belgian_identifiers() -> None:
    from gateway.domain.identifiers import CBE_SYSTEM, NIHDI_SYSTEM, SSIN_SYSTEM, is_valid_cbe, is_valid_nihii, is_valid_niss

    checks = {SSIN_SYSTEM: is_valid_niss, NIHDI_SYSTEM: is_valid_nihii, CBE_SYSTEM: is_valid_cbe}
    found = 0

    def walk(node: object) -> None:
        nonlocal found
        if isinstance(node, dict):
            if node.get("system") in checks and "_value" not in node:
                assert checks[node["system"]](node["value"]), node
                found += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in EXAMPLES:
        walk(json.loads(path.read_text(encoding="utf-8")))
    assert found >= 20
