"""The JSON report: an R4 OperationOutcome per message, as ``$validate``
answers (the FHIR validator's issue form: rule extension, kind coding, path
in ``expression``), each issue with the offending snippet in the extension
``snippet``. SOAP issues carry their slash path in ``location`` only
(``expression`` is FHIRPath). Several messages make a ``collection`` Bundle
of OperationOutcomes, each entry's ``fullUrl`` the file's URI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from gateway.conformance.fhir.outcome import CANONICAL_BASE
from gateway.conformance.verdict import Finding, Verdict

SNIPPET_EXTENSION = f"{CANONICAL_BASE}/StructureDefinition/snippet"
_ORDER = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


def _issue(finding: Finding, fhir: bool) -> dict[str, Any]:
    issue = finding.issue.to_issue()
    if not fhir:
        issue.pop("expression")
        issue["details"] = {"text": finding.issue.message}
    if finding.snippet:
        issue["extension"].append({"url": SNIPPET_EXTENSION, "valueString": finding.snippet})
    return issue


def _all_well(verdict: Verdict) -> str:
    if verdict.kind == "soap":
        return ("No issues: the envelope is SOAP 1.1, its payload conforms to its XSD, and its WS-Security header, "
                "signature and SAML assertion verify at " + (verdict.at.isoformat() if verdict.at else "now") + ".")
    return "No issues: the resource conforms" + (f" to {', '.join(verdict.profiles)}" if verdict.profiles else "") + "."


def operation_outcome(verdict: Verdict) -> dict[str, Any]:
    """A valid R4 OperationOutcome (one ``informational`` issue when all is well)."""
    fhir = verdict.kind.startswith("fhir")
    ordered = sorted(verdict.findings, key=lambda f: _ORDER.get(f.issue.severity, 9))
    issues = [_issue(f, fhir) for f in ordered]
    if not issues:
        issues = [{"severity": "information", "code": "informational", "details": {"text": _all_well(verdict)}}]
    return {"resourceType": "OperationOutcome", "issue": issues}


def _uri(source: str) -> str:
    return Path(source).resolve().as_uri()


def report_json(verdicts: Sequence[Verdict]) -> str:
    if len(verdicts) == 1:
        document: dict[str, Any] = operation_outcome(verdicts[0])
    else:
        document = {"resourceType": "Bundle", "type": "collection", "total": len(verdicts),
                    "entry": [{"fullUrl": _uri(v.source), "resource": operation_outcome(v)} for v in verdicts]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

