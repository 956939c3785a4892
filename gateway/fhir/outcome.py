"""OperationOutcome for every refusal: a stable code, the rule id, the
element path (a FHIRPath expression), and a sentence that says what to do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.domain.errors import DomainError

BASE = "https://care-gateway.be/fhir"
ERROR_CODE_SYSTEM = f"{BASE}/CodeSystem/error-code"
RULE_SYSTEM = f"{BASE}/CodeSystem/rule"

# domain category -> (HTTP status, OperationOutcome issue type)
CATEGORY = {
    "invalid": (422, "business-rule"),
    "not-found": (404, "not-found"),
    "forbidden": (403, "forbidden"),
    "conflict": (409, "conflict"),
    "version-conflict": (412, "conflict"),
    "unavailable": (503, "transient"),  # a fact source (the eHealth platform) could not answer: retry later
}


@dataclass(frozen=True)
class Issue:
    severity: str
    code: str
    message: str
    error_code: str | None = None
    rule: str | None = None
    expression: str | None = None

    def as_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {"severity": self.severity, "code": self.code}
        coding = []
        if self.error_code:
            coding.append({"system": ERROR_CODE_SYSTEM, "code": self.error_code})
        if self.rule:
            coding.append({"system": RULE_SYSTEM, "code": self.rule})
        details: dict[str, Any] = {"text": self.message}
        if coding:
            details["coding"] = coding
        issue["details"] = details
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


class FhirError(Exception):
    """A refusal the face answers with an OperationOutcome."""

    def __init__(self, status: int, issues: list[Issue], headers: dict[str, str] | None = None) -> None:
        super().__init__(issues[0].message if issues else str(status))
        self.status = status
        self.issues = issues
        self.headers = headers or {}

    @classmethod
    def simple(cls, status: int, code: str, message: str, *, error_code: str | None = None, expression: str | None = None,
               rule: str | None = None) -> "FhirError":
        return cls(status, [Issue("error", code, message, error_code, rule, expression)])


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in issues]}


def from_domain(error: DomainError, paths: dict[str, str] | None = None) -> FhirError:
    """A domain refusal as a FHIR error; ``paths`` maps domain paths to FHIRPath."""
    status, code = CATEGORY.get(error.category, (400, "invalid"))
    expression = (paths or {}).get(error.path or "", error.path) if error.path else None
    return FhirError(status, [Issue("error", code, error.message, error.code, error.rule, expression)])
