"""Terminology without a server: ValueSet expansion and membership for
bindings, and the codes and displays of every Coding whose system is a
complete CodeSystem we hold (R4 core's, HL7 Belgium's, ours).

A ValueSet is expanded from ``compose``: concept lists, whole CodeSystems we
hold (``content = complete``), and imported ValueSets. What cannot be
expanded here (filters, SNOMED CT or LOINC as a whole, unknown systems) makes
the expansion *partial*: a code found is accepted, a code not found is
"undetermined" and the caller reports a warning instead of an error.
A few grammar-based systems (MIME types, language tags) are checked by shape.

A Coding's ``system`` is absolute and names a code system, not a value set;
in a complete CodeSystem its code exists (case-insensitively when the
CodeSystem says so) and its display, when given, is the concept's display or
one of its designations, compared without case as the HL7 validator does.
A wrong display is an error, as with the HL7 validator's default (a
validator built with ``display_warnings`` makes it a warning, as the HL7
validator's ``-display-issues-are-warnings`` does); a display that differs
only in its spaces is reported under the validator's own id for that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from threading import Lock
from typing import Any, Iterable

from gateway.conformance.fhir import messages
from gateway.conformance.fhir.datatypes import Finding, is_absolute
from gateway.conformance.fhir.package import Definitions, canonical_key

# Code systems defined by a grammar, not by a list (checked by shape).
GRAMMARS: dict[str, re.Pattern[str]] = {
    "urn:ietf:bcp:13": re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$"),
    "urn:ietf:bcp:47": re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"),
}


class Membership(Enum):
    IN = "in"
    NOT_IN = "not-in"
    UNDETERMINED = "undetermined"


@dataclass
class Expansion:
    url: str
    codes: set[tuple[str, str]] = field(default_factory=set)  # (system, code)
    grammars: set[str] = field(default_factory=set)
    partial: list[str] = field(default_factory=list)  # why the expansion is incomplete

    @property
    def complete(self) -> bool:
        return not self.partial

    def contains(self, system: str | None, code: str) -> Membership:
        if system is None:
            if any(c == code for _, c in self.codes):
                return Membership.IN
        elif (system, code) in self.codes:
            return Membership.IN
        elif system in self.grammars:
            return Membership.IN if GRAMMARS[system].match(code) else Membership.NOT_IN
        if system is None and self.grammars:
            if any(GRAMMARS[g].match(code) for g in self.grammars):
                return Membership.IN
        return Membership.NOT_IN if self.complete else Membership.UNDETERMINED


def _concepts(concepts: Iterable[dict[str, Any]]) -> Iterable[str]:
    for concept in concepts:
        if "code" in concept:
            yield concept["code"]
        yield from _concepts(concept.get("concept", []))


@dataclass(frozen=True)
class Concepts:
    """The codes of one complete CodeSystem, with their displays (lower-cased)."""

    url: str
    version: str
    case_sensitive: bool
    displays: dict[str, tuple[str, frozenset[str]]]  # code (lower-cased if not case-sensitive) -> (display, all)

    def find(self, code: str) -> tuple[str, frozenset[str]] | None:
        return self.displays.get(code if self.case_sensitive else code.lower())


def _concept_displays(concepts: Iterable[dict[str, Any]], case_sensitive: bool,
                      into: dict[str, tuple[str, frozenset[str]]]) -> None:
    for concept in concepts:
        code = concept.get("code")
        if isinstance(code, str):
            names = [concept.get("display")] + [d.get("value") for d in concept.get("designation", [])]
            shown = [n for n in names if isinstance(n, str)]
            into[code if case_sensitive else code.lower()] = (
                concept.get("display") or "", frozenset(n.lower() for n in shown))
        _concept_displays(concept.get("concept", []), case_sensitive, into)


def _spaces(text: str) -> str:
    return " ".join(text.split()).lower()


class Terminology:
    """Expands ValueSets on demand and caches the result; checks Codings."""

    def __init__(self, definitions: Definitions, *, display_warnings: bool = False) -> None:
        self._definitions = definitions
        self._display_severity = "warning" if display_warnings else "error"
        self._cache: dict[str, Expansion] = {}
        self._concepts: dict[str, Concepts | None] = {}
        self._lock = Lock()

    # -------------------------------------------------------------- codings
    def concepts(self, system: str) -> Concepts | None:
        """The codes of a complete CodeSystem we hold, or None."""
        if system in self._concepts:
            return self._concepts[system]
        code_system = self._definitions.code_system(system)
        made = None
        if code_system is not None and code_system.get("content") == "complete":
            case_sensitive = code_system.get("caseSensitive", True) is not False
            displays: dict[str, tuple[str, frozenset[str]]] = {}
            _concept_displays(code_system.get("concept", []), case_sensitive, displays)
            made = Concepts(system, str(code_system.get("version", "")), case_sensitive, displays)
        with self._lock:
            self._concepts[system] = made
        return made

    def coding_findings(self, coding: dict[str, Any]) -> list[Finding]:
        """What is wrong with a Coding's system, code and display, checked locally."""
        system = coding.get("system")
        if not isinstance(system, str) or not system:
            return []
        if not is_absolute(system):
            return [("error", "Terminology_TX_System_Relative", ".system",
                     messages.text("Terminology_TX_System_Relative"), "terminology")]
        concepts = self.concepts(system)
        if concepts is None:
            if self._definitions.code_system(system) is None and self._definitions.value_set(system) is not None:
                return [("error", "Terminology_TX_System_ValueSet2", ".system",
                         messages.text("Terminology_TX_System_ValueSet2", system), "terminology")]
            return []
        code = coding.get("code")
        if not isinstance(code, str):
            return []
        found = concepts.find(code)
        if found is None:
            return [("error", "Unknown_Code_in_Version", ".code",
                     messages.text("Unknown_Code_in_Version", code, system, concepts.version), "terminology")]
        display = coding.get("display")
        preferred, accepted = found
        if not isinstance(display, str) or not accepted or display.lower() in accepted:
            return []
        rule = ("Display_Name_WS_for__should_be_one_of__instead_of"
                if _spaces(display) in {_spaces(a) for a in accepted} else "Display_Name_for__should_be_one_of__instead_of")
        return [(self._display_severity, rule, ".display",
                 messages.text(rule, system, code, f"'{preferred}'" if preferred else "none", display), "terminology")]

    def expand(self, url: str) -> Expansion:
        key = canonical_key(url)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        expansion = self._expand(key, seen=set())
        with self._lock:
            self._cache[key] = expansion
        return expansion

    def _expand(self, url: str, seen: set[str]) -> Expansion:
        expansion = Expansion(url)
        if url in seen:
            return expansion
        seen.add(url)
        value_set = self._definitions.value_set(url)
        if value_set is None:
            expansion.partial.append(f"ValueSet {url} is unknown here")
            return expansion
        if "expansion" in value_set and "compose" not in value_set:
            for item in value_set["expansion"].get("contains", []):
                if "code" in item:
                    expansion.codes.add((item.get("system", ""), item["code"]))
            return expansion
        compose = value_set.get("compose", {})
        for include in compose.get("include", []):
            self._include(expansion, include, seen)
        for exclude in compose.get("exclude", []):
            if "system" in exclude and "concept" in exclude:
                for code in _concepts(exclude["concept"]):
                    expansion.codes.discard((exclude["system"], code))
            else:
                expansion.partial.append("an exclude without a concept list")
        return expansion

    def _include(self, expansion: Expansion, include: dict[str, Any], seen: set[str]) -> None:
        system = include.get("system")
        imported = [self._expand(canonical_key(u), seen) for u in include.get("valueSet", [])]
        if system is None:
            for other in imported:
                expansion.codes |= other.codes
                expansion.grammars |= other.grammars
                expansion.partial += other.partial
            return
        if "filter" in include:
            expansion.partial.append(f"filters on {system} are not evaluated")
            return
        if "concept" in include:
            codes = {(system, c["code"]) for c in include["concept"]}
        elif system in GRAMMARS:
            expansion.grammars.add(system)
            return
        else:
            code_system = self._definitions.code_system(system)
            if code_system is None or code_system.get("content") != "complete":
                expansion.partial.append(f"code system {system} is not available here")
                return
            codes = {(system, c) for c in _concepts(code_system.get("concept", []))}
        if imported:  # intersection of the system part with the imported value sets
            allowed = set.intersection(*(other.codes for other in imported))
            codes &= allowed
        expansion.codes |= codes
