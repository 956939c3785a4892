"""Comparing our findings on a message with another validator's OperationOutcome.

Testers run the HL7 validator beside ours; this lines the two up by element
path. Paths are normalised first: the HL7 validator's comments
(``/*Patient/p*/``) and ``ofType()`` steps (``resource.ofType(Patient)``,
``value.ofType(Quantity)``) become the plain JSON paths we use. Each path is
then an *agreement* (both report an error there, or both only warn) or a
*difference* (one side only, or an error on one side and a warning on the
other). When the other validator names its rule (the
``operationoutcome-message-id`` extension, or ``...#per-1`` for an
invariant), rows say whether the rule is the same as ours: our rules carry
the HL7 validator's message ids where it has them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from gateway.conformance.fhir.outcome import RULE_EXTENSION, ValidationIssue

MESSAGE_ID = "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id"
_COMMENT = re.compile(r"/\*.*?\*/")
_OF_TYPE = re.compile(r"\.([A-Za-z]+)((?:\[\d+\])?)\.ofType\(([A-Za-z]+)\)")
_LEVELS = {"fatal": "error", "error": "error", "warning": "warning", "information": "information"}


@dataclass(frozen=True)
class Reported:
    """One issue, from either validator."""

    severity: str  # error | warning | information
    path: str
    rule: str
    message: str


@dataclass
class Row:
    path: str
    ours: list[Reported] = field(default_factory=list)
    theirs: list[Reported] = field(default_factory=list)

    @staticmethod
    def level(items: list[Reported]) -> str | None:
        """The worst severity on one side: error, warning, information, or None."""
        levels = {i.severity for i in items}
        return next((level for level in ("error", "warning", "information") if level in levels), None)

    @property
    def agrees(self) -> bool:
        return self.level(self.ours) == self.level(self.theirs)

    @property
    def same_rule(self) -> bool:
        return bool({i.rule for i in self.ours} & {i.rule for i in self.theirs if i.rule})

    @property
    def summary(self) -> str:
        ours, theirs = self.level(self.ours), self.level(self.theirs)
        if ours == theirs:
            said = {"error": "report an error", "warning": "warn"}.get(ours or "", "inform")
            return f"both {said}" + (", same rule" if self.same_rule else "")
        if theirs is None:
            return f"{ours} from care-gateway only"
        if ours is None:
            return f"{theirs} from the other validator only"
        return f"care-gateway: {ours}, the other validator: {theirs}"


@dataclass
class Comparison:
    source: str
    other: str
    ours_valid: bool
    theirs_valid: bool
    rows: list[Row]

    @property
    def agreements(self) -> list[Row]:
        return [r for r in self.rows if r.agrees]

    @property
    def differences(self) -> list[Row]:
        return [r for r in self.rows if not r.agrees]

    @property
    def agree(self) -> bool:
        """The same verdict, and no path where only one side reports an error."""
        one_sided = any((r.level(r.ours) == "error") != (r.level(r.theirs) == "error") for r in self.rows)
        return self.ours_valid == self.theirs_valid and not one_sided

    def text(self) -> str:
        verdict = "agree" if self.ours_valid == self.theirs_valid else "DIFFER"
        lines = [
            f"{self.source}: care-gateway says {'valid' if self.ours_valid else 'invalid'}, "
            f"{self.other} says {'valid' if self.theirs_valid else 'invalid'}: the verdicts {verdict}",
            f"{len(self.agreements)} agreement(s), {len(self.differences)} difference(s) by element path",
        ]
        for title, rows in (("agreements", self.agreements), ("differences", self.differences)):
            if not rows:
                continue
            lines += ["", f"{title}:"]
            for row in rows:
                lines.append(f"  {row.path}: {row.summary}")
                lines += [f"      care-gateway  {i.severity} {i.rule}: {i.message}" for i in row.ours]
                lines += [f"      other         {i.severity} {i.rule or '-'}: {i.message}" for i in row.theirs]
        return "\n".join(lines) + "\n"

    def json(self) -> dict[str, Any]:
        def side(items: list[Reported]) -> list[dict[str, str]]:
            return [{"severity": i.severity, "rule": i.rule, "message": i.message} for i in items]

        return {
            "source": self.source, "other": self.other,
            "verdicts": {"care-gateway": "valid" if self.ours_valid else "invalid",
                         "other": "valid" if self.theirs_valid else "invalid"},
            "agree": self.agree,
            "agreements": [{"path": r.path, "summary": r.summary, "care-gateway": side(r.ours), "other": side(r.theirs)}
                           for r in self.agreements],
            "differences": [{"path": r.path, "summary": r.summary, "care-gateway": side(r.ours), "other": side(r.theirs)}
                            for r in self.differences],
        }


class OutcomeError(ValueError):
    """A file that is not an OperationOutcome."""


def normalise(path: str) -> str:
    """A path of either validator as a plain JSON path (Patient.name[0].given[1])."""
    path = _COMMENT.sub("", path).strip()

    def step(match: re.Match[str]) -> str:
        name, index, type_name = match.groups()
        if name in ("resource", "contained"):
            return f".{name}{index}"
        return f".{name}{type_name[:1].upper()}{type_name[1:]}{index}"

    return _OF_TYPE.sub(step, path)


def _rule_of(issue: dict[str, Any]) -> str:
    for extension in issue.get("extension", []) if isinstance(issue.get("extension"), list) else []:
        if isinstance(extension, dict) and extension.get("url") in (MESSAGE_ID, RULE_EXTENSION):
            value = extension.get("valueCode") or extension.get("valueString") or ""
            return str(value).rsplit("#", 1)[-1]
    return ""


def outcome_issues(outcome: Any) -> list[Reported]:
    """The issues of an OperationOutcome (another validator's, or ours as JSON)."""
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        kind = outcome.get("resourceType") if isinstance(outcome, dict) else type(outcome).__name__
        raise OutcomeError(f"expected an OperationOutcome, found {kind!r}")
    found = []
    for issue in outcome.get("issue", []) if isinstance(outcome.get("issue"), list) else []:
        if not isinstance(issue, dict):
            continue
        paths = issue.get("expression") or [p for p in issue.get("location") or [] if not str(p).startswith("Line")]
        details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
        message = details.get("text") or issue.get("diagnostics") or ""
        found.append(Reported(_LEVELS.get(str(issue.get("severity")), "information"),
                              normalise(str(paths[0])) if paths else "", _rule_of(issue), str(message)))
    return found


def compare(ours: Iterable[ValidationIssue], theirs: dict[str, Any], *, source: str, other: str,
            information: bool = False) -> Comparison:
    """Line our issues up with another validator's OperationOutcome, by element path.

    Paths where either side reports an error or a warning are shown (all paths
    with ``information``), each with everything both sides say there: our
    information ``dom-6`` beside the other's warning is a difference of severity."""
    mine = [Reported(_LEVELS.get(i.severity, "information"), normalise(i.expression), i.rule, i.message) for i in ours]
    others = outcome_issues(theirs)
    rows: dict[str, Row] = {}
    for item in mine:
        rows.setdefault(item.path, Row(item.path)).ours.append(item)
    for item in others:
        rows.setdefault(item.path, Row(item.path)).theirs.append(item)
    shown = [r for r in rows.values()
             if information or {"error", "warning"} & {i.severity for i in (*r.ours, *r.theirs)}]
    return Comparison(
        source=source, other=other,
        ours_valid=not any(i.severity == "error" for i in mine),
        theirs_valid=not any(i.severity == "error" for i in others),
        rows=sorted(shown, key=lambda r: r.path),
    )
