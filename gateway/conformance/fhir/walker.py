"""The element walk: one JSON resource against one Structure, reporting every
problem with its path.

For each JSON property the walker finds the element definition (choice
types resolved: ``valuePeriod`` is ``value[x]`` as ``Period``), checks the
JSON shape (array or single, no nulls, no empty arrays), cardinality,
slices, then the value against its type: primitive format, complex types by
recursion into the element's children or the type's StructureDefinition
(or its type profile), nested resources by their own resourceType and
meta.profile, fixed and pattern values, bindings, reference targets and
invariants.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from gateway.conformance.fhir import bundles, messages, narrative
from gateway.conformance.fhir.bundles import Entries
from gateway.conformance.fhir.datatypes import (
    Finding, attachment_findings, example_url_findings, identifier_findings, primitive_findings,
)
from gateway.conformance.fhir.invariants import element_has_content
from gateway.conformance.fhir.outcome import KINDS, ValidationIssue
from gateway.conformance.fhir.patterns import equals_fixed, matches_pattern
from gateway.conformance.fhir.primitives import check_primitive
from gateway.conformance.fhir.structure import Constraint, ElementNode, Structure, TypeRef
from gateway.conformance.fhir.terminology import Membership

if TYPE_CHECKING:
    from gateway.conformance.fhir.validator import FhirValidator

_REFERENCE = re.compile(
    r"^((https?://([A-Za-z0-9\-\\.:%$]*/)+)?)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/[A-Za-z0-9\-.]{1,64})?$"
)
_INDEX = re.compile(r"\[\d+\]")
# The id of a contained resource: id characters, no length limit (the HL7 validator accepts long ones, and
# they are only ever referred to from inside their container).
CONTAINED_ID = r"[A-Za-z0-9\-\.]+"
_CODED = ("code", "string", "uri", "Coding", "CodeableConcept", "Quantity")
_EXTENSIONS = ("extension", "modifierExtension")


@dataclass
class Scope:
    """FHIRPath context of the resource being walked."""

    resource: dict[str, Any]  # %resource
    root: dict[str, Any]  # %rootResource (the container of a contained resource)
    bundle: Entries | None = None  # the Bundle the resource is in (its entries, for references)
    full_url: str | None = None  # the fullUrl of the entry the resource is in
    base: str = ""  # the resource's own path in the message (Bundle.entry[0].resource)

    def element_path(self, path: str) -> str:
        """The path of an element from its resource, without indices (Patient.identifier.value)."""
        tail = _INDEX.sub("", path[len(self.base):]) if path.startswith(self.base) else ""
        return str(self.resource.get("resourceType", "")) + tail

    def variables(self) -> dict[str, Any]:
        return {"resource": self.resource, "rootResource": self.root, "bundle": self.bundle, "bundleFullUrl": self.full_url}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


class Walk:
    """One validation run: collects issues while walking a resource."""

    def __init__(self, validator: "FhirValidator") -> None:
        self.v = validator
        self.issues: list[ValidationIssue] = []
        self._seen: set[tuple[str, str, str, str]] = set()

    # ------------------------------------------------------------ issues
    def issue(
        self, severity: str, rule: str, path: str, message: str, *,
        kind: str | None = None, code: str | None = None, diagnostics: str | None = None,
    ) -> None:
        kind = kind or rule
        key = (severity, rule, path, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.issues.append(ValidationIssue(
            severity=severity, code=code or KINDS.get(kind, "invalid"), expression=path, rule=rule,
            message=message, kind=kind if kind != rule else "", diagnostics=diagnostics,
        ))

    # --------------------------------------------------------- resources
    def resource(
        self, data: Any, path: str, *, profiles: Iterable[str] | None = None,
        root: dict[str, Any] | None = None, bundle: Entries | None = None, full_url: str | None = None,
        explicit: bool = False,
    ) -> tuple[str, ...]:
        """Validate a resource against the given profiles, else its meta.profile, else core."""
        if not isinstance(data, dict):
            self.issue("error", "structure", path, f"a resource must be a JSON object, found {_json_kind(data)}")
            return ()
        resource_type = data.get("resourceType")
        if not isinstance(resource_type, str) or not self.v.definitions.is_resource_type(resource_type):
            self.issue("error", "structure", path, f"unknown resourceType {resource_type!r}: not an R4 resource")
            return ()
        structures = self._structures_for(data, resource_type, path, list(profiles or []), explicit)
        if resource_type == "Bundle":
            bundle, full_url = Entries.of(data, path), None
        scope = Scope(resource=data, root=root if root is not None else data, bundle=bundle, full_url=full_url, base=path)
        host = frozenset(self.v.type_chain(resource_type))
        for structure in structures:
            self.object(data, structure.root.children, structure, path, scope, resource_root=True, host=host)
            self.constraints(structure.root.constraints, data, None, resource_type, path, scope)
        if resource_type == "Bundle" and scope.bundle is not None:
            self.findings(bundles.check(data, scope.bundle), path)
        if self.v.is_canonical_resource(resource_type):
            self.findings(example_url_findings(data.get("url"), ".url"), path)
        return tuple(s.url for s in structures)

    def _structures_for(
        self, data: dict[str, Any], resource_type: str, path: str, profiles: list[str], explicit: bool,
    ) -> list[Structure]:
        declared = profiles
        if not declared:
            meta = data.get("meta")
            raw = meta.get("profile") if isinstance(meta, dict) else None
            declared = [p for p in raw if isinstance(p, str)] if isinstance(raw, list) else []
        chosen: list[Structure] = []
        for i, url in enumerate(declared):
            structure = self.v.structures.get(url)
            where = path if explicit else f"{path}.meta.profile[{i}]"
            if not explicit:
                self.findings(example_url_findings(url), where)
            if structure is None:
                if explicit:
                    self.issue("error", "Unable_to_locate_the_profile__in_order_to_validate_against_it", where,
                               messages.text("Unable_to_locate_the_profile__in_order_to_validate_against_it", url),
                               kind="profile")
                else:
                    why = self.v.structures.problems.get(url.split("|", 1)[0])
                    self.issue("warning", "Validation_VAL_Profile_Unknown", where,
                               messages.text("Validation_VAL_Profile_Unknown", url)
                               + (f" (its snapshot cannot be generated: {why})" if why else "")
                               + f"; validated against the R4 core {resource_type} only", kind="profile")
                continue
            if structure.type != resource_type:
                self.issue("error", "Validation_VAL_Profile_WrongType", where,
                           messages.text("Validation_VAL_Profile_WrongType", structure.type, resource_type, url),
                           kind="profile")
                continue
            chosen.append(structure)
        if not chosen:
            core = self.v.structures.for_type(resource_type)
            if core is not None:
                chosen.append(core)
        return chosen

    # ----------------------------------------------------------- objects
    def _match(self, children: dict[str, ElementNode], key: str) -> tuple[ElementNode | None, TypeRef | None, str | None]:
        """The element definition of a JSON property (and the type a choice selects)."""
        child = children.get(key)
        if child is not None and not child.is_choice:
            return child, (child.types[0] if child.types else None), None
        for candidate in children.values():
            if not candidate.is_choice:
                continue
            prefix = candidate.choice_prefix
            if key.startswith(prefix) and key[len(prefix):][:1].isupper():
                suffix = key[len(prefix):]
                type_ref = candidate.type_for_suffix(suffix)
                if type_ref is not None:
                    return candidate, type_ref, None
                allowed = ", ".join(t.code for t in candidate.types)
                for type_name in (suffix[0].lower() + suffix[1:], suffix):
                    if self.v.definitions.is_data_type(type_name):
                        return candidate, None, f"type {type_name} is not allowed for {candidate.name} here (allowed: {allowed})"
        return None, None, None

    def object(
        self, obj: dict[str, Any], children: dict[str, ElementNode], owner: Structure, path: str,
        scope: Scope, *, resource_root: bool = False, host: frozenset[str] = frozenset(),
    ) -> None:
        """The properties of one JSON object; ``host`` names the element the object is (for extension contexts)."""
        matched: dict[str, list[tuple[str, TypeRef | None]]] = {}
        mistyped: set[str] = set()  # choice elements given only in a type not allowed here
        for key in obj:
            if resource_root and key == "resourceType":
                continue
            name = key[1:] if key.startswith("_") else key
            child, type_ref, wrong_type = self._match(children, name)
            if child is None:
                self.issue("error", "unknown-element", f"{path}.{key}",
                           f"{key} is not an element of {path.rsplit('.', 1)[-1] if '.' in path else path}"
                           " in FHIR R4 (4.0.1)")
                continue
            if wrong_type is not None:
                if not key.startswith("_"):
                    self.issue("error", "type", f"{path}.{key}", wrong_type)
                    mistyped.add(child.name)
                continue
            if key.startswith("_"):
                if type_ref is not None and not type_ref.is_primitive:
                    self.issue("error", "structure", f"{path}.{key}", f"{key}: only primitive elements have a _ companion")
                    continue
                if name in obj:
                    continue  # handled with its value
            entries = matched.setdefault(child.name, [])
            if all(k != name for k, _ in entries):
                entries.append((name, type_ref))
        for name, child in children.items():
            entries = matched.get(name, [])
            if not entries:
                if child.min > 0 and name not in mistyped:
                    self.issue("error", "cardinality", f"{path}.{name}",
                               f"{name} is required (minimum {child.min}), but is missing")
                continue
            if len(entries) > 1:
                self.issue("error", "structure", f"{path}.{name}",
                           f"only one type of {name} may be given; found {', '.join(k for k, _ in entries)}")
            key, type_ref = entries[0]
            items = self._items(obj.get(key), obj.get(f"_{key}"), child, f"{path}.{key}")
            self.occurrences(items, child, key, type_ref, owner, f"{path}.{key}", scope, host)

    def _items(self, raw: Any, companion: Any, child: ElementNode, path: str) -> list[tuple[Any, Any]]:
        """(value, companion) pairs, after checking the JSON shape of the property."""
        if child.many:
            values = raw if isinstance(raw, list) else ([] if raw is None else [raw])
            companions = companion if isinstance(companion, list) else ([] if companion is None else [companion])
            if raw is not None and not isinstance(raw, list):
                self.issue("error", "structure", path, f"{child.name} repeats: it must be a JSON array")
            if companion is not None and not isinstance(companion, list):
                self.issue("error", "structure", f"{path.rsplit('.', 1)[0]}._{path.rsplit('.', 1)[1]}",
                           "the _ companion of a repeating element must be a JSON array")
            if isinstance(raw, list) and not raw:
                self.issue("error", "structure", path, "an array must not be empty: leave the property out")
            if values and companions and len(values) != len(companions):
                self.issue("error", "structure", path, "the value array and its _ companion differ in length")
            size = max(len(values), len(companions))
            items = []
            for i in range(size):
                value = values[i] if i < len(values) else None
                extra = companions[i] if i < len(companions) else None
                if value is None and extra is None:
                    self.issue("error", "structure", f"{path}[{i}]", "null is not allowed here")
                    continue
                items.append((value, extra))
            return items
        if isinstance(raw, list):
            self.issue("error", "structure", path, f"{child.name} does not repeat: it must not be a JSON array")
            return [(value, None) for value in raw if value is not None]
        if raw is None and companion is None:
            self.issue("error", "structure", path, "null is not allowed: leave the property out")
            return []
        return [(raw, companion)]

    # ------------------------------------------------------- occurrences
    def occurrences(
        self, items: list[tuple[Any, Any]], child: ElementNode, key: str, type_ref: TypeRef | None,
        owner: Structure, path: str, scope: Scope, host: frozenset[str] = frozenset(),
    ) -> None:
        count = len(items)
        if count < child.min:
            self.issue("error", "cardinality", path, f"{child.name} needs at least {child.min}, found {count}")
        if child.max is not None and count > child.max and (child.many or count == 1):  # else: shape already reported
            message = (f"{child.name} is not allowed here (maximum 0)" if child.max == 0
                       else f"{child.name} allows at most {child.max}, found {count}")
            self.issue("error", "cardinality", path, message)
        assigned: list[ElementNode | None] = [None] * count
        if child.slicing is not None and child.slices:
            assigned = self._slices(items, child, path)
        for i, (value, companion) in enumerate(items):
            item_path = f"{path}[{i}]" if child.many else path
            element = assigned[i] or child
            item_type = type_ref
            if element is not child:
                item_type = element.type_for_suffix(key[len(element.choice_prefix):]) if element.is_choice else (
                    element.types[0] if element.types else None)
            item_owner = owner
            if assigned[i] is None and child.name in _EXTENSIONS and isinstance(value, dict):
                known, found = self.v.extensions.examine(value, child, owner, host)
                self.findings(found, item_path)
                if known is not None:
                    element, item_type, item_owner = known.root, TypeRef("Extension"), known
            self.value(value, companion, element, item_type, item_owner, item_path, scope)
            if element is not child and child.constraints:
                # an item of a slice is also an item of the sliced element: its invariants hold too
                own = {c.key for c in element.constraints}
                extra = tuple(c for c in child.constraints if c.key not in own)
                if extra:
                    code = item_type.code if item_type is not None else "BackboneElement"
                    focus = code if code not in ("BackboneElement", "Element") else _base_path(child, owner)
                    self.constraints(extra, value, companion if isinstance(companion, dict) else None, focus, item_path,
                                     scope)

    def _slices(self, items: list[tuple[Any, Any]], child: ElementNode, path: str) -> list[ElementNode | None]:
        assert child.slicing is not None
        assigned: list[ElementNode | None] = []
        for i, (value, _) in enumerate(items):
            assignment = self.v.slices.assign(value, child)
            assigned.append(assignment.slice)
            item_path = f"{path}[{i}]" if child.many else path
            if assignment.slice is None and assignment.undetermined:
                self.issue("warning", "slice", item_path, f"{child.name}: {assignment.undetermined}")
            elif assignment.slice is None and child.slicing.rules == "closed":
                self.issue("error", "slice", item_path,
                           f"{child.name} is closed to the slices "
                           f"{', '.join(repr(s.slice_name) for s in child.slices)}; this item matches none of them")
        for slice_node in child.slices:
            found = sum(1 for a in assigned if a is slice_node)
            if found < slice_node.min:
                self.issue("error", "slice", path,
                           f"slice {slice_node.slice_name!r} of {child.name} needs at least {slice_node.min}, found {found}")
            if slice_node.max is not None and found > slice_node.max:
                self.issue("error", "slice", path,
                           f"slice {slice_node.slice_name!r} of {child.name} allows at most {slice_node.max}, found {found}")
        return assigned

    # ------------------------------------------------------------ values
    def value(
        self, value: Any, companion: Any, element: ElementNode, type_ref: TypeRef | None,
        owner: Structure, path: str, scope: Scope,
    ) -> None:
        if type_ref is None and element.types:
            self.issue("error", "type", path, f"this type is not allowed for {element.name} here "
                       f"(allowed: {', '.join(t.code for t in element.types)})")
            return
        code = type_ref.code if type_ref is not None else "BackboneElement"
        if type_ref is not None and type_ref.is_primitive:
            self.primitive(value, companion, element, code, owner, path, scope)
            return
        if code == "Resource" or self.v.definitions.is_resource_type(code):
            contained = element.path.endswith(".contained")
            if contained:
                self.resource(value, path, root=scope.root, bundle=scope.bundle, full_url=scope.full_url)
            else:
                self.resource(value, path, bundle=scope.bundle,
                              full_url=scope.bundle.full_url_of(path) if scope.bundle is not None else None)
            return
        if not isinstance(value, dict):
            self.issue("error", "type", path, f"a {code} must be a JSON object, found {_json_kind(value)}")
            return
        children, child_owner, type_constraints = self._children(element, type_ref, owner)
        host = frozenset((element.path, _base_path(element, owner), scope.element_path(path), *self.v.type_chain(code)))
        self.object(value, children, child_owner, path, scope, host=host)
        self._fixed_pattern(value, element, path)
        if element.binding is not None and code in _CODED:
            self.binding(value, element, code, path)
        if code == "Reference" and type_ref is not None:
            self.reference(value, type_ref, path, scope)
        elif code == "Identifier":
            self.findings(identifier_findings(value), path)
        elif code == "Coding":
            self.findings(self.v.terminology.coding_findings(value), path)
        elif code == "Attachment":
            self.findings(attachment_findings(value), path)
        focus_type = code if code not in ("BackboneElement", "Element") else _base_path(element, owner)
        merged = _merge_constraints(element.constraints, type_constraints)
        self.constraints(merged, value, None, focus_type, path, scope)

    def _children(
        self, element: ElementNode, type_ref: TypeRef | None, owner: Structure,
    ) -> tuple[dict[str, ElementNode], Structure, tuple[Constraint, ...]]:
        """Where the children of a complex value are defined, and the type's own invariants."""
        if element.content_reference:
            target = owner.element(element.content_reference.lstrip("#"))
            if target is not None:
                return target.children, owner, ()
        type_structure = None
        if type_ref is not None and type_ref.code not in ("BackboneElement", "Element"):
            for profile in type_ref.profiles:
                type_structure = self.v.structures.get(profile)
                if type_structure is not None:
                    break
            if type_structure is None:
                type_structure = self.v.structures.for_type(type_ref.code)
        type_constraints = type_structure.root.constraints if type_structure is not None else ()
        if element.children:
            return element.children, owner, type_constraints
        if type_structure is not None:
            return type_structure.root.children, type_structure, type_constraints
        return {}, owner, ()

    def primitive(
        self, value: Any, companion: Any, element: ElementNode, code: str, owner: Structure, path: str,
        scope: Scope,
    ) -> None:
        regex = None
        if owner.kind == "resource" and element.path == f"{owner.type}.id":
            code = "id"  # R4 types Resource.id as a string; an id it is, but a contained one may be longer than 64
            regex = CONTAINED_ID if scope.resource is not scope.root else None
        if value is not None:
            if isinstance(value, (dict, list)):
                self.issue("error", "type", path, f"a {code} is a primitive value, found a JSON {_json_kind(value)}")
                return
            problem = check_primitive(value, code, regex or self.v.regex(code))
            if problem is not None:
                self.issue("error", problem[0], path, problem[1])
                return
            self.findings(primitive_findings(value, code), path)
            if code == "xhtml":
                contained = scope.root.get("contained")
                ids = [c.get("id") for c in contained if isinstance(c, dict)] if isinstance(contained, list) else []
                self.findings(narrative.findings(value, [i for i in ids if isinstance(i, str)]), path)
            self._fixed_pattern(value, element, path)
            if element.binding is not None and code in _CODED:
                self.binding(value, element, code, path)
        if companion is not None:
            if not isinstance(companion, dict):
                self.issue("error", "structure", path, "the _ companion of a primitive must be a JSON object")
            else:
                element_type = self.v.structures.for_type("Element")
                host = frozenset((element.path, scope.element_path(path), *self.v.type_chain(code)))
                if element.children:  # a profile that constrains the primitive's id or extensions (slices)
                    parts = {name: node for name, node in element.children.items() if name != "value"}
                    self.object(companion, parts, owner, path, scope, host=host)
                elif element_type is not None:
                    self.object(companion, element_type.root.children, element_type, path, scope, host=host)
        constraints = [c for c in element.constraints if c.key != "ele-1"]
        if not element_has_content(value, companion):
            self.issue("error", "ele-1", path, "ele-1: All FHIR elements must have a @value or children",
                       kind="invariant")
        if constraints:
            self.constraints(tuple(constraints), value, companion if isinstance(companion, dict) else None,
                             code, path, scope)

    # ------------------------------------------------------------ checks
    def findings(self, found: list[Finding], path: str) -> None:
        for severity, rule, suffix, message, kind in found:
            self.issue(severity, rule, path + suffix, message, kind=kind)

    def _fixed_pattern(self, value: Any, element: ElementNode, path: str) -> None:
        if element.fixed is not None and not equals_fixed(value, element.fixed[1]):
            self.issue("error", "fixed", path, f"value must be exactly {_show(element.fixed[1])}, found {_show(value)}")
        if element.pattern is not None and not matches_pattern(value, element.pattern[1]):
            self.issue("error", "pattern", path, f"value must match the pattern {_show(element.pattern[1])}, found {_show(value)}")

    def binding(self, value: Any, element: ElementNode, code: str, path: str) -> None:
        assert element.binding is not None
        strength, value_set = element.binding
        if strength not in ("required", "extensible") or not value_set:
            return
        if element.path == "CapabilityStatement.format" and value in ("xml", "json", "ttl"):
            return  # R4 allows these three beside the MIME types the binding names
        candidates: list[tuple[str | None, str, str]] = []  # (system, code, path)
        if code in ("code", "string", "uri"):
            if isinstance(value, str):
                candidates.append((None, value, path))
        elif code in ("Coding", "Quantity"):
            if isinstance(value.get("code"), str):
                candidates.append((value.get("system") if isinstance(value.get("system"), str) else None,
                                   value["code"], f"{path}.code"))
        elif code == "CodeableConcept":
            codings = value.get("coding")
            for i, coding in enumerate(codings if isinstance(codings, list) else []):
                if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                    system = coding.get("system") if isinstance(coding.get("system"), str) else None
                    candidates.append((system, coding["code"], f"{path}.coding[{i}].code"))
        name = value_set.split("|", 1)[0]
        if not candidates:
            if strength == "required" and code in ("Coding", "CodeableConcept"):
                self.issue("error", "binding", path, f"a code from the required value set {name} is needed here")
            return
        expansion = self.v.terminology.expand(value_set)
        verdicts = [expansion.contains(s, c) for s, c, _ in candidates]
        if Membership.IN in verdicts:
            return
        where = candidates[0][2] if len(candidates) == 1 else path
        shown = ", ".join(f"{s}#{c}" if s else c for s, c, _ in candidates)
        if Membership.UNDETERMINED in verdicts:
            self.issue("warning" if strength == "required" else "information", "binding", where,
                       f"{shown} could not be checked against {name}: {'; '.join(expansion.partial)}")
        elif strength == "required":
            self.issue("error", "binding", where, f"{shown} is not in the required value set {name}")
        else:
            self.issue("warning", "binding", where, f"{shown} is not in the extensible value set {name}")

    def reference(self, value: dict[str, Any], type_ref: TypeRef, path: str, scope: Scope) -> None:
        allowed = {self.v.definitions.type_of(t) or t.rsplit("/", 1)[-1] for t in type_ref.target_profiles}
        open_target = not allowed or "Resource" in allowed
        actual = None
        reference = value.get("reference")
        if isinstance(reference, str):
            if reference.startswith("#"):
                for contained in scope.root.get("contained", []) if isinstance(scope.root.get("contained"), list) else []:
                    if isinstance(contained, dict) and contained.get("id") == reference[1:]:
                        actual = contained.get("resourceType")
            elif scope.bundle is not None and (in_bundle := self._in_bundle(reference, path, scope.bundle,
                                                                             scope.full_url)) is not None:
                actual = in_bundle
            elif reference.startswith(("urn:uuid:", "urn:oid:")):
                pass
            else:
                match = _REFERENCE.match(reference)
                if match:
                    actual = match.group(4)
                    if not self.v.definitions.is_resource_type(actual):
                        self.issue("error", "reference", f"{path}.reference", f"{actual} is not an R4 resource type")
                        return
                elif "://" not in reference:
                    self.issue("error", "reference", f"{path}.reference",
                               f"{reference!r} is not a literal reference (Type/id, an absolute URL, or #id)")
                    return
        if actual is not None and not open_target and actual not in allowed:
            self.issue("error", "reference", f"{path}.reference",
                       f"a reference to a {actual} is not allowed here (allowed: {', '.join(sorted(allowed))})")
        declared = value.get("type")
        if isinstance(declared, str):
            if not open_target and declared not in allowed:
                self.issue("error", "reference", f"{path}.type",
                           f"a reference to a {declared} is not allowed here (allowed: {', '.join(sorted(allowed))})")
            elif actual is not None and declared != actual:
                self.issue("error", "reference", f"{path}.type", f"type {declared} contradicts the reference to a {actual}")

    def _in_bundle(self, reference: str, path: str, bundle: Entries, full_url: str | None) -> str | None:
        """The type of the entry a reference names in its Bundle (reporting what resolution finds wrong)."""
        found = bundle.resolve(reference, full_url)
        where = f"{path}.reference"
        if len(found.targets) > 1:
            self.issue("error", "Bundle_BUNDLE_MultipleMatches", where,
                       messages.text("Bundle_BUNDLE_MultipleMatches", reference), kind="bundle")
        if found.targets:
            resource = bundle.resources[found.targets[0]]
            return resource.get("resourceType") if isinstance(resource, dict) else None
        if found.unversioned:
            self.issue("warning", "Bundle_BUNDLE_FullUrl_NeedVersion", where,
                       messages.text("Bundle_BUNDLE_FullUrl_NeedVersion", bundle.full_urls[found.unversioned[0]]),
                       kind="bundle")
        elif reference.startswith(("urn:uuid:", "urn:oid:")):
            self.issue("error", "Bundle_BUNDLE_Not_Local", where, messages.text("Bundle_BUNDLE_Not_Local", reference),
                       kind="bundle")
        return None

    def constraints(
        self, constraints: tuple[Constraint, ...] | list[Constraint], value: Any, companion: Any,
        focus_type: str | None, path: str, scope: Scope,
    ) -> None:
        if not constraints:
            return
        failures = self.v.invariants.run(
            constraints, value, focus_type=focus_type, companion=companion, variables=scope.variables(),
        )
        for failure in failures:
            key = failure.constraint.key
            message = failure.message if not failure.evaluated or failure.suffix else f"{key}: {failure.message}"
            self.issue(failure.severity, key, path + failure.suffix, message, kind="invariant",
                       code="invariant" if failure.evaluated else "not-supported",
                       diagnostics=failure.constraint.expression)


def _base_path(element: ElementNode, owner: Structure) -> str:
    if element.content_reference:
        return element.content_reference.lstrip("#")
    return element.path


def _merge_constraints(own: tuple[Constraint, ...], inherited: tuple[Constraint, ...]) -> tuple[Constraint, ...]:
    if not inherited:
        return own
    keys = {c.key for c in own}
    return own + tuple(c for c in inherited if c.key not in keys)


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."
