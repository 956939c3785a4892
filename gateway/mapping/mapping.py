"""A declarative mapping (``mappings/<entity>.yaml``) and its application.

Each field of a domain entity names its FHIR path, its SOAP element, its
type, and optionally a ConceptMap for coded values. ``constants`` are wire
values written on output and checked on input (fixed codings, systems).

The ConceptMap applies to both wires unless the field names another for
SOAP (``soap_conceptmap``), or ``none`` when the SOAP contract carries the
domain codes themselves (its XSD enumerates them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from gateway.contracts import contract
from gateway.mapping.conceptmaps import conceptmap
from gateway.mapping.paths import json_get, json_set, xml_get, xml_has, xml_qname, xml_set

TYPES = ("string", "code", "date", "datetime", "integer", "boolean")


class MappingError(ValueError):
    """A wire value that cannot become a domain value: says where and why."""

    def __init__(self, path: str, message: str, *, code: str = "invalid-value") -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.code = code


@dataclass(frozen=True)
class FieldMap:
    name: str
    type: str
    description: str = ""
    fhir: str | None = None
    soap: str | None = None
    conceptmap: str | None = None
    required: bool = False
    soap_conceptmap: str | None = None  # absent: same as conceptmap; "none": the domain codes

    @property
    def soap_codes(self) -> str | None:
        """The ConceptMap of the SOAP side, if its codes are not the domain's."""
        if self.soap_conceptmap == "none":
            return None
        return self.soap_conceptmap or self.conceptmap


@dataclass(frozen=True)
class Mapping:
    entity: str
    description: str
    fields: tuple[FieldMap, ...]
    fhir_resource: str | None = None
    fhir_profile: str | None = None
    fhir_arrays: frozenset[str] = frozenset()
    fhir_constants: tuple[tuple[str, Any], ...] = ()
    soap_element: str | None = None
    soap_namespaces: dict[str, str] = field(default_factory=dict)

    def field(self, name: str) -> FieldMap:
        return next(f for f in self.fields if f.name == name)

    # ------------------------------------------------------------- values
    def _to_wire(self, f: FieldMap, value: Any, *, soap: bool = False) -> Any:
        if value is None:
            return None
        codes = f.soap_codes if soap else f.conceptmap
        if codes:
            value = conceptmap(codes).to_wire(str(value))
        if f.type == "date" and isinstance(value, date):
            return value.isoformat()
        if f.type == "datetime" and isinstance(value, datetime):
            return value.isoformat()
        if f.type == "boolean":
            return bool(value)
        return value

    def _from_wire(self, f: FieldMap, raw: Any, where: str, *, soap: bool = False) -> Any:
        if raw is None or raw == "":
            if f.required:
                raise MappingError(where, f"{f.description or f.name} is required.", code="required")
            return None
        try:
            if f.type == "date":
                return date.fromisoformat(str(raw))
            if f.type == "datetime":
                return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
            if f.type == "integer":
                return int(raw)
            if f.type == "boolean":
                return raw if isinstance(raw, bool) else str(raw).lower() == "true"
        except ValueError:
            raise MappingError(where, f"{raw!r} is not a valid {f.type}.") from None
        value = str(raw)
        codes = f.soap_codes if soap else f.conceptmap
        if codes:
            mapped = conceptmap(codes).to_domain(value)
            if mapped is None:
                allowed = ", ".join(sorted(conceptmap(codes).backward))
                raise MappingError(where, f"{value!r} is not one of: {allowed}.", code="unknown-code")
            return mapped
        return value

    # --------------------------------------------------------------- FHIR
    def to_fhir(self, values: dict[str, Any]) -> dict[str, Any]:
        """A resource; or, for a mapping without ``resourceType``, one item of a
        repeating element (a CareTeam.participant), its paths relative to it."""
        resource: dict[str, Any] = {"resourceType": self.fhir_resource} if self.fhir_resource else {}
        if self.fhir_profile:
            resource["meta"] = {"profile": [self.fhir_profile]}
        for path, constant in self.fhir_constants:
            json_set(resource, path, constant, arrays=self.fhir_arrays)
        for f in self.fields:
            if f.fhir and values.get(f.name) is not None:
                json_set(resource, f.fhir, self._to_wire(f, values[f.name]), arrays=self.fhir_arrays)
        return resource

    def from_fhir(self, resource: dict[str, Any], *, only: set[str] | None = None, at: str | None = None) -> dict[str, Any]:
        """``at`` names where ``resource`` sits, for errors (``CareTeam.participant[2]``); default the resource type."""
        values: dict[str, Any] = {}
        for f in self.fields:
            if f.fhir and (only is None or f.name in only):
                values[f.name] = self._from_wire(f, json_get(resource, f.fhir), f"{at or self.fhir_resource}.{f.fhir}")
        return values

    # --------------------------------------------------------------- SOAP
    def to_xml(self, values: dict[str, Any], parent: etree._Element) -> etree._Element:
        """Write the values into ``parent``, in the order of the fields (the XSD's sequence)."""
        for f in self.fields:
            if f.soap and values.get(f.name) is not None:
                wire = self._to_wire(f, values[f.name], soap=True)
                xml_set(parent, f.soap, str(wire).lower() if isinstance(wire, bool) else str(wire), self.soap_namespaces)
        return parent

    def xml_element(self, values: dict[str, Any], parent: etree._Element | None = None) -> etree._Element:
        """The mapping's own element (``soap.element``), filled, appended to ``parent`` if given."""
        if not self.soap_element:
            raise ValueError(f"mapping {self.entity} declares no soap.element")
        tag = xml_qname(self.soap_element, self.soap_namespaces)
        element = etree.SubElement(parent, tag) if parent is not None else etree.Element(tag, nsmap=self.soap_namespaces)
        return self.to_xml(values, element)

    def from_xml(self, element: etree._Element, *, only: set[str] | None = None, at: str | None = None) -> dict[str, Any]:
        """``at`` names where ``element`` sits, for errors; default the field's own path."""
        values: dict[str, Any] = {}
        for f in self.fields:
            if f.soap and (only is None or f.name in only):
                where = f"{at}/{f.soap}" if at else f.soap
                values[f.name] = self._from_wire(f, xml_get(element, f.soap, self.soap_namespaces), where, soap=True)
        return values

    def present_in_xml(self, element: etree._Element) -> set[str]:
        """The fields whose element is in ``element``, empty or ``xsi:nil`` ones
        included: for partial updates, where absent means "leave as it is"."""
        return {f.name for f in self.fields if f.soap and xml_has(element, f.soap, self.soap_namespaces)}


def read_mapping(path: Path) -> Mapping:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fhir = data.get("fhir") or {}
    soap = data.get("soap") or {}
    fields = []
    for raw in data["fields"]:
        if raw.get("type", "string") not in TYPES:
            raise ValueError(f"{path}: field {raw['name']} has unknown type {raw.get('type')!r}")
        fields.append(FieldMap(
            name=raw["name"], type=raw.get("type", "string"), description=raw.get("description", ""),
            fhir=raw.get("fhir"), soap=raw.get("soap"), conceptmap=raw.get("conceptmap"), required=bool(raw.get("required")),
            soap_conceptmap=raw.get("soap_conceptmap"),
        ))
    return Mapping(
        entity=data["entity"], description=data.get("description", ""), fields=tuple(fields),
        fhir_resource=fhir.get("resourceType"), fhir_profile=fhir.get("profile"),
        fhir_arrays=frozenset(fhir.get("arrays", [])),
        fhir_constants=tuple((c["path"], c["value"]) for c in fhir.get("constants", [])),
        soap_element=soap.get("element"), soap_namespaces=dict(soap.get("namespaces", {})),
    )


@lru_cache(maxsize=None)
def mapping(entity: str) -> Mapping:
    return read_mapping(contract("mappings", f"{entity}.yaml"))


def all_mappings() -> list[Mapping]:
    return [read_mapping(p) for p in sorted(contract("mappings").glob("*.yaml"))]
