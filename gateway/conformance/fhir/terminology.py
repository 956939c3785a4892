"""ValueSet expansion and membership for bindings, from the package and our
profiles only (no terminology server).

A ValueSet is expanded from ``compose``: concept lists, whole CodeSystems we
hold (``content = complete``), and imported ValueSets. What cannot be
expanded here (filters, SNOMED CT or LOINC as a whole, unknown systems) makes
the expansion *partial*: a code found is accepted, a code not found is
"undetermined" and the caller reports a warning instead of an error.
A few grammar-based systems (MIME types, language tags) are checked by shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from threading import Lock
from typing import Any, Iterable

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


class Terminology:
    """Expands ValueSets on demand and caches the result."""

    def __init__(self, definitions: Definitions) -> None:
        self._definitions = definitions
        self._cache: dict[str, Expansion] = {}
        self._lock = Lock()

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
