"""A snapshot as a tree the validator can walk: element definitions by name,
with their slices, types, fixed/pattern values, binding and constraints.

Built once per StructureDefinition and cached by :class:`Structures`, which
also generates the snapshots of our differentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from threading import RLock
from typing import Any

from gateway.conformance.fhir.package import Definitions, canonical_key
from gateway.conformance.fhir.snapshot import SnapshotError, SnapshotGenerator

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
BEST_PRACTICE_EXT = "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice"
SYSTEM_TYPES = {
    "http://hl7.org/fhirpath/System.String": "string",
    "http://hl7.org/fhirpath/System.Boolean": "boolean",
    "http://hl7.org/fhirpath/System.Integer": "integer",
    "http://hl7.org/fhirpath/System.Decimal": "decimal",
    "http://hl7.org/fhirpath/System.Date": "date",
    "http://hl7.org/fhirpath/System.DateTime": "dateTime",
    "http://hl7.org/fhirpath/System.Time": "time",
}


@dataclass(frozen=True)
class TypeRef:
    """One allowed type of an element (``code`` is a FHIR type name)."""

    code: str
    profiles: tuple[str, ...] = ()
    target_profiles: tuple[str, ...] = ()

    @property
    def is_primitive(self) -> bool:
        return self.code[:1].islower()


@dataclass(frozen=True)
class Constraint:
    key: str
    severity: str
    human: str
    expression: str | None
    best_practice: bool
    source: str | None


@dataclass(frozen=True)
class Discriminator:
    type: str
    path: str


@dataclass(frozen=True)
class Slicing:
    discriminators: tuple[Discriminator, ...]
    rules: str
    ordered: bool


@dataclass(eq=False)
class ElementNode:
    """One element definition of a snapshot, with its children and slices."""

    id: str
    path: str
    name: str
    min: int
    max: int | None  # None: unbounded
    many: bool  # repeats in the JSON form (base max != 1)
    types: tuple[TypeRef, ...]
    fixed: tuple[str, Any] | None
    pattern: tuple[str, Any] | None
    binding: tuple[str, str | None] | None  # (strength, value set)
    constraints: tuple[Constraint, ...]
    slicing: Slicing | None
    slice_name: str | None
    content_reference: str | None
    is_modifier: bool
    regex: str | None = None
    children: dict[str, "ElementNode"] = field(default_factory=dict)
    slices: list["ElementNode"] = field(default_factory=list)

    @property
    def is_choice(self) -> bool:
        return self.name.endswith("[x]")

    @property
    def choice_prefix(self) -> str:
        return self.name[:-3]

    def type_for_suffix(self, suffix: str) -> TypeRef | None:
        for type_ref in self.types:
            if type_ref.code[:1].upper() + type_ref.code[1:] == suffix:
                return type_ref
        return None

    def descend(self, names: list[str]) -> "ElementNode | None":
        node: ElementNode | None = self
        for name in names:
            if node is None:
                return None
            node = node.children.get(name)
        return node


@dataclass
class Structure:
    """A StructureDefinition ready for validation."""

    url: str
    name: str
    type: str
    kind: str
    root: ElementNode
    elements: dict[str, ElementNode]  # by element id
    definition: dict[str, Any]

    def element(self, element_id: str) -> ElementNode | None:
        return self.elements.get(element_id)


def _type_code(raw: dict[str, Any]) -> str:
    code = raw["code"]
    if code in SYSTEM_TYPES:
        for ext in raw.get("extension", []):
            if ext.get("url") == FHIR_TYPE_EXT:
                return ext.get("valueUrl") or ext.get("valueUri") or SYSTEM_TYPES[code]
        return SYSTEM_TYPES[code]
    return code


def _max(value: str | None) -> int | None:
    if value is None or value == "*":
        return None
    return int(value)


def _choice(element: dict[str, Any], prefix: str) -> tuple[str, Any] | None:
    for key, value in element.items():
        if key.startswith(prefix) and key[len(prefix):][:1].isupper():
            return key[len(prefix):], value
    return None


def _constraints(element: dict[str, Any]) -> tuple[Constraint, ...]:
    made = []
    for raw in element.get("constraint", []):
        best = any(e.get("url") == BEST_PRACTICE_EXT and e.get("valueBoolean") for e in raw.get("extension", []))
        made.append(Constraint(
            key=raw["key"], severity=raw.get("severity", "error"), human=raw.get("human", ""),
            expression=raw.get("expression"), best_practice=best, source=raw.get("source"),
        ))
    return tuple(made)


def _node(raw: dict[str, Any]) -> ElementNode:
    last = raw["path"].rsplit(".", 1)[-1]
    base_max = raw.get("base", {}).get("max", raw.get("max", "1"))
    slicing = None
    if "slicing" in raw:
        s = raw["slicing"]
        slicing = Slicing(
            discriminators=tuple(Discriminator(d["type"], d["path"]) for d in s.get("discriminator", [])),
            rules=s.get("rules", "open"), ordered=bool(s.get("ordered", False)),
        )
    binding = None
    if "binding" in raw:
        binding = (raw["binding"].get("strength", "example"), raw["binding"].get("valueSet"))
    regex = None
    for type_raw in raw.get("type", []):
        for ext in type_raw.get("extension", []):
            if ext.get("url") == REGEX_EXT:
                regex = ext.get("valueString")
    return ElementNode(
        id=raw["id"], path=raw["path"], name=last,
        min=int(raw.get("min", 0)), max=_max(raw.get("max")),
        many=base_max != "1" and base_max != "0",
        types=tuple(
            TypeRef(_type_code(t), tuple(t.get("profile", [])), tuple(t.get("targetProfile", [])))
            for t in raw.get("type", [])
        ),
        fixed=_choice(raw, "fixed"), pattern=_choice(raw, "pattern"), binding=binding,
        constraints=_constraints(raw), slicing=slicing, slice_name=raw.get("sliceName"),
        content_reference=raw.get("contentReference"), is_modifier=bool(raw.get("isModifier", False)),
        regex=regex,
    )


def build_tree(elements: list[dict[str, Any]]) -> tuple[ElementNode, dict[str, ElementNode]]:
    """Link snapshot elements by id: children by name, slices under their sliced element."""
    nodes: dict[str, ElementNode] = {}
    root: ElementNode | None = None
    for raw in elements:
        node = _node(raw)
        nodes[node.id] = node
        head, _, last = node.id.rpartition(".")
        if not head:
            root = node
            continue
        if ":" in last:
            name = last.split(":", 1)[0]
            sliced = nodes.get(f"{head}.{name}")
            if sliced is not None:
                sliced.slices.append(node)
            continue
        parent = nodes.get(head)
        if parent is not None:
            parent.children[last] = node
    if root is None:
        raise ValueError("a snapshot without a root element")
    return root, nodes


class Structures:
    """Structures by canonical URL, snapshots generated for differentials, all cached."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self._cache: dict[str, Structure] = {}
        self._snapshots: dict[str, dict[str, Any]] = {}
        self._lock = RLock()
        self._generator = SnapshotGenerator(self.with_snapshot)
        self.problems: dict[str, str] = {}  # url -> why no Structure could be made (a snapshot that cannot be generated)

    def with_snapshot(self, url: str) -> dict[str, Any] | None:
        """The StructureDefinition with a snapshot (generated for our differentials)."""
        key = canonical_key(url)
        with self._lock:
            if key in self._snapshots:
                return self._snapshots[key]
            definition = self.definitions.structure_definition(key)
            if definition is None:
                return None
            if "snapshot" not in definition:
                definition = {**definition, "snapshot": {"element": self._generator.generate(definition)}}
            self._snapshots[key] = definition
            return definition

    def get(self, url: str) -> Structure | None:
        key = canonical_key(url)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            try:
                definition = self.with_snapshot(key)
                if definition is None:
                    return None
                root, nodes = build_tree(definition["snapshot"]["element"])
            except (SnapshotError, ValueError, KeyError) as error:
                self.problems[key] = str(error) or type(error).__name__
                return None
            structure = Structure(
                url=key, name=definition.get("name", key), type=definition.get("type", ""),
                kind=definition.get("kind", ""), root=root, elements=nodes, definition=definition,
            )
            self._cache[key] = structure
            return structure

    def for_type(self, type_name: str) -> Structure | None:
        return self.get(self.definitions.core_url(type_name))
