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
from dataclasses import dataclass, field
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


class PackageError(ValueError):
    """A file that is not a FHIR package the validator can read."""


@dataclass(frozen=True)
class PackageInfo:
    name: str
    version: str
    dependencies: dict[str, str] = field(default_factory=dict)
    structure_definitions: tuple[str, ...] = ()  # the canonical URLs of its StructureDefinitions

    @property
    def label(self) -> str:
        return f"{self.name}#{self.version}"

    def missing(self, loaded: list["PackageInfo"]) -> list[str]:
        """The dependencies no loaded package satisfies (name#version)."""
        have = {(p.name, p.version) for p in loaded}
        return [f"{n}#{v}" for n, v in self.dependencies.items() if (n, v) not in have]


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
        self.packages: list[PackageInfo] = []  # in the order they were loaded

    # ----------------------------------------------------------- loading
    def load_package(self, path: Path) -> "PackageInfo":
        """Read a FHIR npm package (.tgz): index by canonical URL from ``.index.json``
        (or, without one, from the resources themselves); say what the package is."""
        files: dict[str, bytes] = {}
        others: dict[str, bytes] = {}  # any other JSON file, in case there is no index
        try:
            with tarfile.open(path, "r:*") as archive:
                for member in archive:
                    name = member.name
                    if not member.isfile() or not name.startswith("package/") or name.count("/") != 1:
                        continue
                    base = name[len("package/"):]
                    if not base.endswith(".json"):
                        continue
                    handle = archive.extractfile(member)
                    if handle is None:
                        continue
                    wanted = base in (".index.json", "package.json") or base.split("-", 1)[0] in _KINDS
                    (files if wanted else others)[base] = handle.read()
        except (tarfile.TarError, OSError, EOFError) as error:
            raise PackageError(f"{path}: not a readable FHIR package ({error})") from None
        try:
            manifest = json.loads(files.pop("package.json", b"{}"))
            index = json.loads(files.pop(".index.json")) if ".index.json" in files else None
        except ValueError as error:
            raise PackageError(f"{path}: package.json or .index.json is not JSON ({error})") from None
        before = set(self._types)
        if index is not None:
            for entry in index.get("files", []):
                kind, url = entry.get("resourceType"), entry.get("url")
                if kind in _KINDS and url and entry.get("filename") in files:
                    self._raw[kind][url] = files[entry["filename"]]
                    if kind == "StructureDefinition":
                        self._types[url] = {"kind": entry.get("kind", ""), "type": entry.get("type", "")}
        else:
            for raw in [*files.values(), *others.values()]:
                try:
                    resource = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(resource, dict) and resource.get("resourceType") in _KINDS and resource.get("url"):
                    self.add([resource])
        info = PackageInfo(
            name=str(manifest.get("name", path.name)), version=str(manifest.get("version", "")),
            dependencies={str(k): str(v) for k, v in (manifest.get("dependencies") or {}).items()},
            structure_definitions=tuple(sorted(set(self._types) - before)),
        )
        self.packages.append(info)
        return info

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
