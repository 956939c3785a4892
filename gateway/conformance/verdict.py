"""What validating one message says, whatever its kind: the issues (the
FHIR validator's :class:`ValidationIssue`, reused for SOAP so every report
format renders one shape), each with the offending snippet, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from gateway.conformance.fhir import ValidationIssue

Kind = Literal["fhir-json", "fhir-xml", "soap", "unknown", "unreadable"]

KIND_LABELS: dict[str, str] = {
    "fhir-json": "FHIR JSON",
    "fhir-xml": "FHIR XML",
    "soap": "SOAP envelope",
    "unknown": "unrecognised content",
    "unreadable": "unreadable file",
}
FAILING = ("fatal", "error")
FINDING_SEVERITIES = ("fatal", "error", "warning")


@dataclass(frozen=True)
class Finding:
    """One issue and the part of the message it is about (may be empty)."""

    issue: ValidationIssue
    snippet: str = ""


@dataclass
class Verdict:
    """The validation of one message (a file, or a pasted text)."""

    source: str
    kind: Kind
    findings: list[Finding] = field(default_factory=list)
    profiles: tuple[str, ...] = ()
    at: datetime | None = None  # the instant SOAP security was judged at

    @property
    def valid(self) -> bool:
        return not any(f.issue.severity in FAILING for f in self.findings)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.issue.severity in FAILING]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.issue.severity == "warning"]

    def rule_paths(self) -> list[tuple[str, str]]:
        """(rule, path) of the errors and warnings: what corpus sidecars list."""
        return [(f.issue.rule, f.issue.expression) for f in self.findings if f.issue.severity in FINDING_SEVERITIES]
