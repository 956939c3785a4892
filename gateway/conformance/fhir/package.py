"""Conformance resources the validator knows: the R4 core package and HL7
Belgium's packages shipped in ``fhir/packages/``, and our artefacts in
``profiles/``.

A package is a ``.tgz`` of JSON files (R4 core: ~3,000); it is read once and
its files kept as bytes, parsed on first use (most are never needed), and
indexed by canonical URL from the package's own ``.index.json`` (or, for a
package without one, from the files themselves).
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from threading import Lock
from typing import Any, Iterable, Iterator

from gateway.contracts import contract

CORE_PACKAGE = "hl7.fhir.r4.core-4.0.1.tgz"
# HL7 Belgium's national profiles, extensions and code systems, in dependency order.
BELGIAN_PACKAGES = ("hl7.fhir.be.core-2.1.2.tgz", "hl7.fhir.be.infsec-1.2.0.tgz", "hl7.fhir.be.patient-care-1.1.0.tgz")
FHIR_VERSION = "4.0.1"
CORE_SD_BASE = "http://hl7.org/fhir/StructureDefinition/"
_KINDS = ("StructureDefinition", "ValueSet", "CodeSystem")

Resource = dict[str, Any]


def canonical_key(url: str) -> str:
    """A canonical without its ``|version`` suffix (we hold one version of each)."""
    return url.split("|", 1)[0]


class Definitions:
    """StructureDefinitions, ValueSets and CodeSystems by canonical URL.

    Resources are stored raw and parsed lazily; :meth:`add` registers parsed
    resources (our profiles, or a test's extra artefacts) that take
    precedence over the package.
    """

    def __init__(self) -> None:
        self._raw: dict[str, dict[str, bytes]] = {kind: {} for kind in _KINDS}
        self._parsed: dict[str, dict[str, Resource]] = {kind: {} for kind in _KINDS}
        self._types: dict[str, dict[str, str]] = {}  # SD url -> {"kind":..., "type":...}
        self._lock = Lock()

    # ----------------------------------------------------------- loading
    def load_package(self, path: Path) -> None:
        """Read a FHIR npm package (.tgz): index by canonical URL from ``.index.json``."""
        files: dict[str, bytes] = {}
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                name = member.name
                if not member.isfile() or not name.startswith("package/") or name.count("/") != 1:
                    continue
                base = name[len("package/"):]
                if base == ".index.json" or base.split("-", 1)[0] in _KINDS:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        files[base] = handle.read()
        index = json.loads(files.pop(".index.json"))
        for entry in index["files"]:
            kind, url = entry.get("resourceType"), entry.get("url")
            if kind in _KINDS and url and entry["filename"] in files:
                self._raw[kind][url] = files[entry["filename"]]
                if kind == "StructureDefinition":
                    self._types[url] = {"kind": entry.get("kind", ""), "type": entry.get("type", "")}

    def load_folder(self, folder: Path) -> list[Resource]:
        """Register every conformance resource (``*.json``) of a folder; return them."""
        loaded = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
        self.add(loaded)
        return loaded

    def add(self, resources: Iterable[Resource]) -> None:
        for resource in resources:
            kind, url = resource.get("resourceType"), resource.get("url")
            if kind in _KINDS and url:
                with self._lock:
                    self._parsed[kind][url] = resource
                    self._raw[kind].pop(url, None)
                if kind == "StructureDefinition":
                    self._types[url] = {"kind": resource.get("kind", ""), "type": resource.get("type", "")}

    # ----------------------------------------------------------- lookups
    def _get(self, kind: str, url: str) -> Resource | None:
        key = canonical_key(url)
        parsed = self._parsed[kind].get(key)
        if parsed is not None:
            return parsed
        raw = self._raw[kind].get(key)
        if raw is None:
            return None
        with self._lock:
            parsed = self._parsed[kind].get(key)
            if parsed is None:
                parsed = json.loads(raw)
                self._parsed[kind][key] = parsed
        return parsed

    def structure_definition(self, url: str) -> Resource | None:
        return self._get("StructureDefinition", url)

    def value_set(self, url: str) -> Resource | None:
        return self._get("ValueSet", url)

    def code_system(self, url: str) -> Resource | None:
        return self._get("CodeSystem", url)

    def kind_of(self, url: str) -> str | None:
        info = self._types.get(canonical_key(url))
        return info["kind"] if info else None

    def type_of(self, url: str) -> str | None:
        info = self._types.get(canonical_key(url))
        return info["type"] if info else None

    def core_url(self, type_name: str) -> str:
        return CORE_SD_BASE + type_name

    def is_resource_type(self, name: str) -> bool:
        return self.kind_of(CORE_SD_BASE + name) == "resource"

    def is_data_type(self, name: str) -> bool:
        return self.kind_of(CORE_SD_BASE + name) in ("primitive-type", "complex-type")

    def structure_urls(self) -> Iterator[str]:
        return iter(list(self._types))


def default_definitions() -> Definitions:
    """The core package, HL7 Belgium's packages and our profiles, as shipped with the project."""
    definitions = Definitions()
    definitions.load_package(contract("fhir", "packages", CORE_PACKAGE))
    for package in BELGIAN_PACKAGES:
        definitions.load_package(contract("fhir", "packages", package))
    definitions.load_folder(contract("profiles"))
    return definitions
