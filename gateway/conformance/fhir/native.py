"""R4 core invariants checked in Python, with the meaning of their FHIRPath.

The invariants of Element, Extension, DomainResource, Period, Narrative,
Reference and Attachment sit on nearly every element of every resource;
evaluating them through fhirpathpy thousands of times was most of the
validator's time (R4's ``dom-3`` alone walks every descendant), and
fhirpathpy gets some of them wrong (it compares date-times without their
zone). Each check here is used only where a constraint carries exactly the
R4 expression it implements, read from the core package at start-up; a
profile that redefines a key keeps its own expression, evaluated as FHIRPath.

Where the HL7 validator is more precise than the R4 expression, the check
follows the validator: ``dom-3`` names each contained resource nobody refers
to (and counts narrative links as references, as the validator does since
2024), ``ref-1`` accepts ``#`` inside a contained resource (the R5 wording of
the same rule), ``txt-1``/``txt-2`` check names and content separately.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from gateway.conformance.fhir import messages
from gateway.conformance.fhir.narrative import analyse
from gateway.conformance.fhir.temporal import compare

# What a check says: True (holds), False (fails on the element), or the
# failures it found inside the element as (path suffix, message).
Verdict = bool | list[tuple[str, str]]
Check = Callable[[Any, Any, dict[str, Any]], Verdict]

# Which core StructureDefinition holds each key's R4 expression.
OWNERS = {
    "ele-1": "Element", "ext-1": "Extension", "per-1": "Period", "ref-1": "Reference", "att-1": "Attachment",
    "txt-1": "Narrative", "txt-2": "Narrative",
    "dom-2": "DomainResource", "dom-3": "DomainResource", "dom-4": "DomainResource", "dom-5": "DomainResource",
    "dom-6": "DomainResource",
}


def element_has_content(value: Any, companion: Any = None) -> bool:
    """ele-1: ``hasValue() or (children().count() > id.count())``."""
    if isinstance(value, dict):
        return any(key != "id" for key in value)
    if value is None:
        return isinstance(companion, dict) and any(key != "id" for key in companion)
    return True


def extension_is_consistent(value: Any) -> bool:
    """ext-1: ``extension.exists() != value.exists()``."""
    if not isinstance(value, dict):
        return True
    has_extension = bool(value.get("extension"))
    has_value = any(k.startswith("value") and k[5:6].isupper() for k in value)
    return has_extension != has_value


def _ele_1(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    return element_has_content(value, companion)


def _ext_1(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    return extension_is_consistent(value)


def _per_1(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    """``start <= end`` compared as FHIRPath compares date-times (zones, precision)."""
    if not isinstance(value, dict):
        return True
    start, end = value.get("start"), value.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        return True
    order = compare(start, end)
    return order is None or order <= 0


def _contained(resource: Any) -> list[Any]:
    found = resource.get("contained") if isinstance(resource, dict) else None
    return found if isinstance(found, list) else []


def _dom_2(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    return all(not (isinstance(c, dict) and c.get("contained")) for c in _contained(value))


def _dom_4(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    for item in _contained(value):
        meta = item.get("meta") if isinstance(item, dict) else None
        if isinstance(meta, dict) and ("versionId" in meta or "lastUpdated" in meta
                                       or "_versionId" in meta or "_lastUpdated" in meta):
            return False
    return True


def _dom_5(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    for item in _contained(value):
        meta = item.get("meta") if isinstance(item, dict) else None
        if isinstance(meta, dict) and meta.get("security"):
            return False
    return True


def _dom_6(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    text = value.get("text") if isinstance(value, dict) else None
    return isinstance(text, dict) and ("div" in text or "_div" in text)


def _local_references(node: Any) -> Iterator[str]:
    """Every string starting with ``#`` (references, canonicals, URIs) and every
    ``#`` link or image of a narrative, anywhere under ``node``."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if key == "div" and isinstance(child, str):
                    found = analyse(child)
                    yield from (href for _, href in found.links if href.startswith("#"))
                    yield from (src for src in found.images if src.startswith("#"))
                elif isinstance(child, str):
                    if child.startswith("#"):
                        yield child
                elif isinstance(child, (dict, list)):
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(child for child in item if isinstance(child, (dict, list)))
        elif isinstance(item, str) and item.startswith("#"):
            yield item


def _dom_3(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    """Each contained resource is referred to from the resource (its other contained
    resources included), or refers to its container with ``#``."""
    contained = _contained(value)
    if not contained:
        return True
    referred = set(_local_references(value))
    failures = []
    for i, item in enumerate(contained):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        if f"#{item['id']}" in referred or "#" in set(_local_references(item)):
            continue
        failures.append((f".contained[{i}]", messages.text("CONTAINED_ORPHAN_DOM3", item["id"])))
    return failures


def _ref_1(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    """A local reference names a contained resource of the root resource (``#`` alone:
    the container, from inside a contained resource)."""
    reference = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(reference, str) or not reference.startswith("#"):
        return True
    root = variables.get("rootResource")
    if reference == "#":
        return root is not variables.get("resource")
    return any(isinstance(c, dict) and c.get("id") == reference[1:] for c in _contained(root))


def _att_1(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    if not isinstance(value, dict):
        return True
    return not ("data" in value or "_data" in value) or "contentType" in value or "_contentType" in value


def _txt_1(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    """Only the allowed elements and attributes (XHTML that cannot be read is reported as such, not here)."""
    found = analyse(value) if isinstance(value, str) else None
    return found is None or found.parse_error is not None or found.names_ok


def _txt_2(value: Any, companion: Any, variables: dict[str, Any]) -> Verdict:
    found = analyse(value) if isinstance(value, str) else None
    return found is None or found.parse_error is not None or found.content_ok


CHECKS: dict[str, Check] = {
    "ele-1": _ele_1, "ext-1": _ext_1, "per-1": _per_1, "ref-1": _ref_1, "att-1": _att_1,
    "txt-1": _txt_1, "txt-2": _txt_2,
    "dom-2": _dom_2, "dom-3": _dom_3, "dom-4": _dom_4, "dom-5": _dom_5, "dom-6": _dom_6,
}


class NativeInvariants:
    """The checks, each bound to the R4 expression it stands for."""

    def __init__(self, expressions: dict[str, str]) -> None:
        self._expressions = expressions

    @classmethod
    def from_core(cls, snapshot_of: Callable[[str], dict[str, Any] | None]) -> "NativeInvariants":
        """Read each key's expression from the core StructureDefinitions."""
        expressions: dict[str, str] = {}
        for key, owner in OWNERS.items():
            definition = snapshot_of(owner)
            for element in _elements(definition):
                for constraint in element.get("constraint", []):
                    if constraint.get("key") == key and "expression" in constraint:
                        expressions.setdefault(key, constraint["expression"])
        return cls(expressions)

    def check_for(self, key: str, expression: str | None) -> Check | None:
        """The native check of a constraint, when it carries the core expression."""
        if expression is not None and self._expressions.get(key) == expression:
            return CHECKS[key]
        return None


def _elements(definition: dict[str, Any] | None) -> Iterable[dict[str, Any]]:
    if not definition:
        return []
    return definition.get("snapshot", {}).get("element", [])
