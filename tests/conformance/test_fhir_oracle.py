"""fhirkit-rs (an R4 implementation in Rust, generated from the official
specification) as an independent oracle of R4 *structure*: what we call
valid R4 must be valid for it too, and the structural breakages of the
corpus must be caught by both, at the same path. It knows no profiles, so
profile-only findings (check digits, bindings of our ValueSets, slices) are
ours alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.contracts import contract
from tests.conformance.fhir_testkit import examples, validator

fhirkit = pytest.importorskip("fhirkit")

STRUCTURAL = {"structure", "unknown-element", "format"}  # "type" may come from a profile restricting a choice
CORPUS = contract("conformance", "messages", "fhir")


def json_messages(kind: str) -> list[Path]:
    return sorted(p for p in (CORPUS / kind).glob("*.json") if not p.name.endswith(".expected.json"))


def oracle_errors(path: Path) -> list[str]:
    return [i.path for i in fhirkit.validate(path.read_bytes()) if i.severity == "error"]


def test_oracle_is_r4() -> None:
    assert fhirkit.FHIR_VERSION == "4.0.1"


@pytest.mark.parametrize("path", [*examples(), *json_messages("valid"), *sorted(contract("profiles").glob("*.json"))],
                         ids=lambda p: p.name)
def test_what_we_accept_is_valid_r4_for_the_oracle(path: Path) -> None:
    assert oracle_errors(path) == []


def test_our_operation_outcomes_are_valid_r4_for_the_oracle() -> None:
    broken = json.loads((CORPUS / "invalid" / "consent-r5-decision.json").read_text())
    outcome = validator().validate(broken).operation_outcome()
    assert [str(i) for i in fhirkit.validate(outcome)] == []


STRUCTURAL_MESSAGES = [
    p for p in json_messages("invalid")
    if any(f["rule"] in STRUCTURAL for f in json.loads(p.with_suffix(".expected.json").read_text())["findings"])
]


def test_there_are_structural_breakages_to_compare() -> None:
    assert len(STRUCTURAL_MESSAGES) >= 3


@pytest.mark.parametrize("path", STRUCTURAL_MESSAGES, ids=lambda p: p.name)
def test_structural_breakages_fail_the_oracle_at_the_same_path(path: Path) -> None:
    ours = {f["path"] for f in json.loads(path.with_suffix(".expected.json").read_text())["findings"]
            if f["rule"] in STRUCTURAL}
    theirs = set(oracle_errors(path))
    assert theirs, "the oracle rejects it too"
    assert ours <= theirs


def test_oracle_and_validator_agree_on_an_unknown_element() -> None:
    resource = {"resourceType": "EpisodeOfCare", "status": "active", "patient": {"reference": "Patient/p"},
                "statusReason": {"text": "R4 has no statusReason here"}}
    assert [i.path for i in fhirkit.validate(resource)] == ["EpisodeOfCare.statusReason"]
    assert validator().validate(resource).findings() == [("unknown-element", "EpisodeOfCare.statusReason")]
