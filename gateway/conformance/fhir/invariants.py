"""Running ElementDefinition constraints (invariants) on one element.

The R4 core invariants that sit on nearly every element (``ele-1``,
``ext-1``, ``dom-*``, ``per-1``, ``ref-1``, ``txt-*``, ``att-1``) are checked
natively (:mod:`gateway.conformance.fhir.native`), with the meaning of their
expression. Every other constraint with an expression is evaluated with
:class:`FhirPath`. An expression that cannot be evaluated (a function
fhirpathpy lacks) gives a *warning* naming the invariant, never a crash and
never a silent pass.

An expression of the form ``iif(system = 'A' or system = 'B', ..., true)``
(our identifier checks) holds whenever the focus's ``system`` is none of
them; that is decided without the FHIRPath engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from gateway.conformance.fhir.fhirpath import FhirPath
from gateway.conformance.fhir.native import NativeInvariants, element_has_content, extension_is_consistent
from gateway.conformance.fhir.structure import Constraint

__all__ = ["Failure", "InvariantRunner", "element_has_content", "extension_is_consistent"]

_GUARD = re.compile(r"^iif\((system = '[^']*'(?: or system = '[^']*')*), .*, true\)$", re.DOTALL)
_SYSTEM = re.compile(r"system = '([^']*)'")


@dataclass(frozen=True)
class Failure:
    constraint: Constraint
    severity: str
    message: str
    evaluated: bool  # False: the expression could not be evaluated
    suffix: str = ""  # where inside the element, for checks that name a part (dom-3: ".contained[1]")


@lru_cache(maxsize=512)
def _guard(expression: str) -> frozenset[str] | None:
    """The systems an ``iif(system = ..., ..., true)`` expression is about, or None."""
    match = _GUARD.match(expression)
    if match is None:
        return None
    return frozenset(_SYSTEM.findall(match.group(1)))


class InvariantRunner:
    def __init__(self, fhirpath: FhirPath, native: NativeInvariants | None = None) -> None:
        self.fhirpath = fhirpath
        self.native = native if native is not None else NativeInvariants({})

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
            check = self.native.check_for(constraint.key, constraint.expression)
            if check is not None:
                verdict = check(value, companion, variables)
                if verdict is False:
                    failures.append(Failure(constraint, severity, constraint.human, True))
                elif isinstance(verdict, list):
                    failures.extend(Failure(constraint, severity, message, True, suffix) for suffix, message in verdict)
                continue
            if constraint.key in ("ele-1", "ext-1") and not constraint.expression:
                holds = element_has_content(value, companion) if constraint.key == "ele-1" else extension_is_consistent(value)
                if not holds:
                    failures.append(Failure(constraint, severity, constraint.human, True))
                continue
            if not constraint.expression:
                continue
            systems = _guard(constraint.expression)
            if systems is not None and (not isinstance(value, dict) or value.get("system") not in systems):
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
