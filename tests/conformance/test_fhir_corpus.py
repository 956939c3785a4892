"""The partner-message corpus: each message's verdict and findings match its sidecar."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from gateway.conformance.fhir import RULE_EXTENSION, ValidationResult
from gateway.contracts import contract
from tests.conformance.fhir_testkit import validator

CORPUS = contract("conformance", "messages", "fhir")
SIDECARS = sorted(CORPUS.glob("*/*.expected.json"))


def message_of(sidecar: Path) -> Path:
    stem = sidecar.name[: -len(".expected.json")]
    found = [p for p in sidecar.parent.iterdir() if p.name in (f"{stem}.json", f"{stem}.xml")]
    assert len(found) == 1, f"one message for {sidecar.name}"
    return found[0]


def run(message: Path) -> ValidationResult:
    data = message.read_bytes()
    return validator().validate_xml(data) if message.suffix == ".xml" else validator().validate_json(data)


@pytest.mark.parametrize("sidecar", SIDECARS, ids=lambda p: f"{p.parent.name}/{p.name[:-14]}")
def test_message_verdict_and_findings_match_the_sidecar(sidecar: Path) -> None:
    expected = json.loads(sidecar.read_text(encoding="utf-8"))
    assert expected["valid"] is (sidecar.parent.name == "valid")
    result = run(message_of(sidecar))
    assert result.valid is expected["valid"], [(i.rule, i.expression, i.message) for i in result.issues]
    wanted = Counter((f["rule"], f["path"]) for f in expected.get("findings", []))
    assert Counter(result.findings()) == wanted
    if not expected["valid"]:
        assert wanted, "an invalid message lists its findings"


@pytest.mark.parametrize("sidecar", [s for s in SIDECARS if s.parent.name == "invalid"], ids=lambda p: p.name[:-14])
def test_findings_are_in_the_operation_outcome(sidecar: Path) -> None:
    outcome = run(message_of(sidecar)).operation_outcome()
    reported = {
        (next(e["valueString"] for e in issue["extension"] if e["url"] == RULE_EXTENSION), issue["expression"][0])
        for issue in outcome["issue"] if "extension" in issue
    }
    for finding in json.loads(sidecar.read_text(encoding="utf-8"))["findings"]:
        assert (finding["rule"], finding["path"]) in reported


def test_corpus_covers_the_required_cases() -> None:
    rules_by_message = {
        message_of(s).name: {f["rule"] for f in json.loads(s.read_text())["findings"]}
        for s in SIDECARS if s.parent.name == "invalid"
    }
    every_rule = set().union(*rules_by_message.values())
    # wrong NISS check digit, missing required element, cardinality exceeded, unknown element,
    # wrong code in a required binding, bad date format, wrong identifier slice, invariant broken
    assert {"cg-niss-1", "cardinality", "unknown-element", "binding", "format", "slice", "cg-task-1"} <= every_rule
    assert "unknown-element" in rules_by_message["consent-r5-decision.json"]  # R5-only Consent.decision
    assert "slice" in rules_by_message["referral-two-gateway-ids.json"]
    assert (CORPUS / "valid" / "inclusion-pseudonymised-niss.json").exists()  # pseudonymised NISS skips the check
    assert any(m.endswith(".xml") for m in rules_by_message)
    assert len(rules_by_message) >= 10
