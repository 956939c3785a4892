"""What a validation says: issues with the element path and the rule broken,
and their R4 OperationOutcome form.

In the OperationOutcome each issue carries
- ``details.coding``: the kind of rule in our CodeSystem ``validation-rule``
  (``cardinality``, ``binding``, ``invariant``, ...);
- the extension ``.../StructureDefinition/rule`` (valueString): the exact
  rule id, i.e. the invariant key (``cg-niss-1``, ``ele-1``) or the kind;
- ``details.text``: the message; ``expression`` and ``location``: the path;
- ``diagnostics``: the FHIRPath expression of a failed invariant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CANONICAL_BASE = "https://care-gateway.be/fhir"
RULE_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/validation-rule"
RULE_EXTENSION = f"{CANONICAL_BASE}/StructureDefinition/rule"

# The kinds of rule (codes of CodeSystem validation-rule) and their OperationOutcome issue type.
KINDS: dict[str, str] = {
    "structure": "structure",
    "unknown-element": "structure",
    "cardinality": "required",
    "type": "structure",
    "format": "value",
    "fixed": "value",
    "pattern": "value",
    "binding": "code-invalid",
    "slice": "structure",
    "reference": "invalid",
    "invariant": "invariant",
    "profile": "not-found",
    "datatype": "invalid",
    "extension": "structure",
    "bundle": "invalid",
    "terminology": "code-invalid",
    "narrative": "invalid",
    "security": "security",
}
_SEVERITY_ORDER = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


@dataclass(frozen=True)
class ValidationIssue:
    severity: str  # fatal | error | warning | information
    code: str  # OperationOutcome issue type
    expression: str  # FHIRPath-ish element path, e.g. EpisodeOfCare.type[0].coding[0].code
    rule: str  # invariant key, or the kind of rule
    message: str
    kind: str = ""  # code in CodeSystem validation-rule; defaults to ``rule``
    diagnostics: str | None = None

    @property
    def location(self) -> str:
        return self.expression

    @property
    def rule_kind(self) -> str:
        return self.kind or self.rule

    def to_issue(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "extension": [{"url": RULE_EXTENSION, "valueString": self.rule}],
            "severity": self.severity,
            "code": self.code,
            "details": {
                "coding": [{"system": RULE_SYSTEM, "code": self.rule_kind}],
                "text": self.message,
            },
            "expression": [self.expression],
            "location": [self.expression],
        }
        if self.diagnostics:
            issue["diagnostics"] = self.diagnostics
        return issue


@dataclass
class ValidationResult:
    issues: list[ValidationIssue] = field(default_factory=list)
    profiles: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not any(i.severity in ("fatal", "error") for i in self.issues)

    @property
    def errors(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity in ("fatal", "error")]

    @property
    def warnings(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    def findings(self, *, include_warnings: bool = True) -> list[tuple[str, str]]:
        """(rule, path) of the errors (and warnings): what the corpus sidecars list."""
        wanted = ("fatal", "error", "warning") if include_warnings else ("fatal", "error")
        return [(i.rule, i.expression) for i in self.issues if i.severity in wanted]

    def operation_outcome(self) -> dict[str, Any]:
        """A valid R4 OperationOutcome (one ``informational`` issue when all is well)."""
        ordered = sorted(self.issues, key=lambda i: _SEVERITY_ORDER.get(i.severity, 9))
        issues = [i.to_issue() for i in ordered]
        if not issues:
            issues = [{
                "severity": "information", "code": "informational",
                "details": {"text": "No issues: the resource conforms"
                            + (f" to {', '.join(self.profiles)}" if self.profiles else "") + "."},
            }]
        return {"resourceType": "OperationOutcome", "issue": issues}
