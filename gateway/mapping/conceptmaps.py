"""Code translations between the domain and the wire, kept as FHIR ConceptMap
resources in ``mappings/conceptmaps/`` (one truth per code list)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gateway.contracts import contract


@dataclass(frozen=True)
class CodeMap:
    """Domain code <-> wire code, both ways, from one ConceptMap."""

    name: str
    url: str
    forward: dict[str, str]  # domain -> wire
    backward: dict[str, str]  # wire -> domain

    def to_wire(self, code: str) -> str:
        try:
            return self.forward[code]
        except KeyError:
            raise KeyError(f"{self.name}: no wire code for domain code {code!r}") from None

    def to_domain(self, code: str) -> str | None:
        return self.backward.get(code)


def read_conceptmap(path: Path) -> CodeMap:
    data = json.loads(path.read_text(encoding="utf-8"))
    forward: dict[str, str] = {}
    for group in data.get("group", []):
        for element in group.get("element", []):
            for target in element.get("target", []):
                if target.get("equivalence", "equivalent") in ("equivalent", "equal", "wider", "subsumes"):
                    forward.setdefault(element["code"], target["code"])
    return CodeMap(data["name"], data["url"], forward, {v: k for k, v in forward.items()})


@lru_cache(maxsize=None)
def conceptmap(name: str) -> CodeMap:
    return read_conceptmap(contract("mappings", "conceptmaps", f"{name}.json"))
