"""Running ElementDefinition constraints (invariants) on one element.

``ele-1`` (every element has a value or children) and ``ext-1`` (an
extension has a value or sub-extensions, not both) sit on nearly every
element; they are checked natively, with the same meaning, rather than
through the FHIRPath engine thousands of times. Every other constraint with
an expression is evaluated with :class:`FhirPath`. An expression that cannot
be evaluated (a function fhirpathpy lacks) gives a *warning* naming the
invariant, never a crash and never a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from gateway.conformance.fhir.fhirpath import FhirPath
from gateway.conformance.fhir.structure import Constraint

NATIVE = {"ele-1", "ext-1"}


@dataclass(frozen=True)
class Failure:
    constraint: Constraint
    severity: str
    message: str
    evaluated: bool  # False: the expression could not be evaluated


def element_has_content(value: Any, companion: Any = None) -> bool:
    """ele-1: ``hasValue() or (children().count() > id.count())``."""
    if isinstance(value, dict):
        return any(key != "id" for key in value)
    if value is None:
        return isinstance(companion, dict) and any(key != "id" for key in companion)
    return True


def extension_is_consistent(value: Any) -> bool:
    """ext-1: ``extension.exists() != value.exists()``."""
    if not isinstance(value, dict):
        return True
    has_extension = bool(value.get("extension"))
    has_value = any(k.startswith("value") and k[5:6].isupper() for k in value)
    return has_extension != has_value


class InvariantRunner:
    def __init__(self, fhirpath: FhirPath) -> None:
        self.fhirpath = fhirpath

    def run(
        self, constraints: tuple[Constraint, ...] | list[Constraint], value: Any, *,
        focus_type: str | None, companion: dict[str, Any] | None, variables: dict[str, Any],
        skip: Callable[[Constraint], bool] | None = None,
    ) -> list[Failure]:
        failures = []
        for constraint in constraints:
            if skip is not None and skip(constraint):
                continue
            severity = "information" if constraint.best_practice else constraint.severity
            if constraint.key == "ele-1":
                if not element_has_content(value, companion):
                    failures.append(Failure(constraint, severity, constraint.human, True))
                continue
            if constraint.key == "ext-1":
                if not extension_is_consistent(value):
                    failures.append(Failure(constraint, severity, constraint.human, True))
                continue
            if not constraint.expression:
                continue
            try:
                result = self.fhirpath.evaluate(
                    value, constraint.expression, focus_type=focus_type, companion=companion, variables=variables,
                )
            except Exception as error:  # noqa: BLE001 - any engine failure becomes a warning
                failures.append(Failure(
                    constraint, "warning",
                    f"invariant {constraint.key} could not be evaluated ({type(error).__name__}: {error}); not checked",
                    False,
                ))
                continue
            if not self.fhirpath.truth(result):
                failures.append(Failure(constraint, severity, constraint.human, True))
        return failures
