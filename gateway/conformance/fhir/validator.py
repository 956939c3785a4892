"""The FHIR R4 profile validator: the one engine behind every write, the
``$validate`` operation and the conformance toolkit.

    validator = FhirValidator.default()          # loads and indexes once
    result = validator.validate(resource)         # meta.profile, else core
    result = validator.validate(resource, profile="https://care-gateway.be/fhir/StructureDefinition/be-cg-inclusion")
    result.valid, result.issues, result.operation_outcome()
"""

from __future__ import annotations

import json
from pathlib import Path
from threading import Lock
from typing import Any, ClassVar, Iterable

from gateway.conformance.fhir.extensions import ExtensionRules
from gateway.conformance.fhir.fhirpath import FhirPath
from gateway.conformance.fhir.invariants import InvariantRunner
from gateway.conformance.fhir.native import NativeInvariants
from gateway.conformance.fhir.outcome import ValidationIssue, ValidationResult
from gateway.conformance.fhir.package import Definitions, PackageError, default_definitions
from gateway.conformance.fhir.slicing import SliceMatcher
from gateway.conformance.fhir.structure import Structures
from gateway.conformance.fhir.terminology import Terminology
from gateway.conformance.fhir.walker import Walk

MAX_JSON_BYTES = 10 * 1024 * 1024
__all__ = ["FhirValidator", "PackageError"]


class FhirValidator:
    """Validates R4 resources (JSON dicts, JSON text, XML) against core and our profiles."""

    _default: ClassVar["FhirValidator | None"] = None
    _default_lock: ClassVar[Lock] = Lock()

    def __init__(
        self, definitions: Definitions | None = None, *, extension_domains: tuple[str, ...] = (),
        any_extension: bool = False, display_warnings: bool = False,
    ) -> None:
        """``extension_domains``: URL prefixes whose unknown extensions are accepted (an
        information, not an error); ``any_extension``: accept every unknown extension;
        ``display_warnings``: a wrong display in a Coding is a warning, not an error.
        The defaults are the HL7 validator's."""
        self.definitions = definitions if definitions is not None else default_definitions()
        self.structures = Structures(self.definitions)
        self.extensions = ExtensionRules(self.structures, domains=extension_domains, any_extension=any_extension)
        self.terminology = Terminology(self.definitions, display_warnings=display_warnings)
        self.fhirpath = FhirPath()
        self.invariants = InvariantRunner(self.fhirpath, NativeInvariants.from_core(
            lambda type_name: self.structures.with_snapshot(self.definitions.core_url(type_name))))
        self.slices = SliceMatcher(self.structures)
        self._regex: dict[str, str | None] = {}
        self._chains: dict[str, tuple[str, ...]] = {}
        self._canonical: dict[str, bool] = {}

    @classmethod
    def default(cls) -> "FhirValidator":
        """The shared validator over the shipped package and profiles (built once)."""
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    cls._default = cls()
        return cls._default

    @classmethod
    def with_packages(
        cls, packages: Iterable[Path], *, extension_domains: tuple[str, ...] = (),
    ) -> tuple["FhirValidator", list[str]]:
        """The shipped definitions plus other FHIR packages (a partner's implementation
        guide, ``--ig``), and notes for people: dependencies that are not loaded, profiles
        whose snapshot cannot be generated. Snapshots of differential-only profiles are
        generated here, once. Raises :class:`PackageError` for a file that is no package."""
        definitions = default_definitions()
        added = [definitions.load_package(Path(path)) for path in packages]
        validator = cls(definitions, extension_domains=extension_domains)
        notes = []
        for info in added:
            notes += [f"{info.label} depends on {dependency}, which is not loaded: give it with --ig too"
                      for dependency in info.missing(definitions.packages)]
            for url in info.structure_definitions:
                if definitions.kind_of(url) != "logical" and validator.structures.get(url) is None:
                    notes.append(f"{url} ({info.label}) cannot be used: its snapshot cannot be generated "
                                 f"({validator.structures.problems.get(url, 'unknown reason')})")
        return validator, notes

    # ---------------------------------------------------------------- API
    def validate(self, resource: dict[str, Any], *, profile: str | None = None) -> ValidationResult:
        """Validate a JSON resource against ``profile``, else its meta.profile, else core."""
        walk = Walk(self)
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        path = kind if isinstance(kind, str) else "$"
        profiles = walk.resource(resource, path, profiles=[profile] if profile else None, explicit=profile is not None)
        return ValidationResult(issues=walk.issues, profiles=profiles)

    def validate_json(self, data: bytes | str, *, profile: str | None = None) -> ValidationResult:
        """Parse then validate; unparseable JSON is a fatal ``structure`` issue."""
        if len(data) > MAX_JSON_BYTES:
            return _fatal("$", f"the resource is larger than {MAX_JSON_BYTES} bytes")
        try:
            resource = json.loads(data)
        except (ValueError, UnicodeDecodeError) as error:
            return _fatal("$", f"not JSON: {error}")
        return self.validate(resource, profile=profile)

    def validate_xml(self, data: bytes, *, profile: str | None = None) -> ValidationResult:
        """Convert R4 XML to JSON (see :mod:`gateway.conformance.fhir.xml`), then validate.

        Problems only XML can have (wrong namespace, text where none is
        allowed) come first, with the same paths."""
        from gateway.conformance.fhir.xml import XmlConversionError, xml_to_json

        try:
            resource, problems = xml_to_json(data, self.definitions, self.structures)
        except XmlConversionError as error:
            return _fatal(error.path, str(error))
        result = self.validate(resource, profile=profile)
        result.issues[:0] = problems
        return result

    # ------------------------------------------------------------ helpers
    def is_canonical_resource(self, resource_type: str) -> bool:
        """A resource identified by its canonical ``url`` (StructureDefinition, ValueSet, Questionnaire, ...)."""
        known = self._canonical.get(resource_type)
        if known is None:
            structure = self.structures.for_type(resource_type)
            children = structure.root.children if structure is not None else {}
            url = children.get("url")
            known = bool(url and url.types and url.types[0].code == "uri" and "version" in children and "status" in children)
            self._canonical[resource_type] = known
        return known

    def type_chain(self, type_code: str) -> tuple[str, ...]:
        """A type and the types it derives from (Age, Quantity, Element; Patient, DomainResource, Resource)."""
        chain = self._chains.get(type_code)
        if chain is None:
            names, url, seen = [type_code], self.definitions.core_url(type_code), set()
            while url and url not in seen:
                seen.add(url)
                definition = self.definitions.structure_definition(url)
                url = definition.get("baseDefinition") if definition else None
                if url:
                    names.append(url.rsplit("/", 1)[-1])
            chain = tuple(names)
            self._chains[type_code] = chain
        return chain

    def regex(self, type_code: str) -> str | None:
        """The lexical rule of a primitive type, from its R4 StructureDefinition."""
        if type_code not in self._regex:
            found = None
            structure = self.structures.for_type(type_code)
            if structure is not None:
                value = structure.element(f"{type_code}.value")
                found = value.regex if value is not None else None
            self._regex[type_code] = found
        return self._regex[type_code]


def _fatal(path: str, message: str) -> ValidationResult:
    return ValidationResult(issues=[ValidationIssue("fatal", "structure", path, "structure", message)])
