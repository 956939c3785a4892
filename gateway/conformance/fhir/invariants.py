"""Running ElementDefinition constraints (invariants) on one element.

The R4 core invariants that sit on nearly every element (``ele-1``,
``ext-1``, ``dom-*``, ``per-1``, ``ref-1``, ``txt-*``, ``att-1``) are checked
natively (:mod:`gateway.conformance.fhir.native`), with the meaning of their
expression. Every other constraint with an expression is evaluated with
:class:`FhirPath`. An expression that cannot be evaluated (a function
fhirpathpy lacks) gives a *warning* naming the invariant, never a crash and
never a silent pass.

An expression of the form ``iif(system = 'A' or system = 'B', ..., true)``
(our identifier checks), or a path ``Identifier.where(system = 'A' or ...)
....allTrue()`` (HL7 Belgium's), holds whenever the focus's ``system`` is
none of them; that is decided without the FHIRPath engine. HL7 Belgium's
identifier invariants have one shape (``Identifier.where(system = ...)
.where(value.extension.empty() or value.extension.where(url = P).empty())
.value.select($this.matches(R)).allTrue()``): an expression of exactly that
shape is evaluated directly, with the systems, extension and regex it names.
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
_WHERE_GUARD = re.compile(r"^(?:Identifier\.)?where\((system = '[^']*'(?: or system = '[^']*')*)\)\..*\.allTrue\(\)$",
                          re.DOTALL)
_PROPAGATING = re.compile(r"^(?:[A-Za-z_]\w*|where\(.*\)|select\(.*\)|ofType\(\w+\)|first\(\)|last\(\)|distinct\(\))$",
                          re.DOTALL)
_SYSTEM = re.compile(r"system = '([^']*)'")


@dataclass(frozen=True)
class Failure:
    constraint: Constraint
    severity: str
    message: str
    evaluated: bool  # False: the expression could not be evaluated
    suffix: str = ""  # where inside the element, for checks that name a part (dom-3: ".contained[1]")


_BE_SHAPE = re.compile(
    r"^(?:Identifier\.)?where\((?P<systems>system = '[^']*'(?: or system = '[^']*')*)\)"
    r"\.where\(value\.extension\.empty\(\) or value\.extension\.where\(url = '(?P<url>[^']*)'\)\.empty\(\)\)"
    r"\.value\.select\(\$this\.matches\('(?P<regex>(?:[^'\\]|\\.)*)'\)\)\.allTrue\(\)$")
_ESCAPE = re.compile(r"\\(.)")


@lru_cache(maxsize=512)
def _shaped(expression: str) -> Callable[[Any, Any], bool] | None:
    """A direct evaluation of an expression of HL7 Belgium's identifier shape, or None."""
    match = _BE_SHAPE.match(expression)
    if match is None:
        return None
    systems = frozenset(_SYSTEM.findall(match.group("systems")))
    url = match.group("url")
    pattern = re.compile(_ESCAPE.sub(lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)),
                                     match.group("regex")), re.DOTALL)

    def holds(value: Any, companion: Any) -> bool:
        if not isinstance(value, dict) or value.get("system") not in systems:
            return True
        part = value.get("_value")
        extensions = part.get("extension") if isinstance(part, dict) else None
        if extensions and any(isinstance(e, dict) and e.get("url") == url for e in extensions):
            return True  # pseudonymised: where() leaves nothing to check
        text = value.get("value")
        return not isinstance(text, str) or pattern.search(text) is not None

    return holds


@lru_cache(maxsize=512)
def _guard(expression: str) -> frozenset[str] | None:
    """The systems an ``iif(system = ..., ..., true)`` expression is about, or None."""
    match = _GUARD.match(expression)
    if match is None:
        match = _WHERE_GUARD.match(expression)
        if match is None or not _one_path(expression):
            return None  # not one chain: an empty where() need not make it true
    return frozenset(_SYSTEM.findall(match.group(1)))


def _one_path(expression: str) -> bool:
    """One chain of steps that keep an empty collection empty, ending with allTrue() (which is
    true on empty): no operator outside parentheses and strings, no exists()/count()/empty()."""
    steps, depth, quoted, current = [], 0, False, ""
    for char in expression:
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
        elif not quoted and depth == 0 and (char.isspace() or char in "|+-*/=<>!&"):
            return False
        if not quoted and depth == 0 and char == ".":
            steps.append(current)
            current = ""
        else:
            current += char
    steps.append(current)
    if steps[0] == "Identifier":
        steps = steps[1:]
    return steps[-1] == "allTrue()" and all(_PROPAGATING.match(step) for step in steps[:-1])


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
            shaped = _shaped(constraint.expression)
            if shaped is not None:
                if not shaped(value, companion):
                    failures.append(Failure(constraint, severity, constraint.human, True))
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
