"""Assigning the items of a sliced element to its slices.

Supported discriminators: ``value`` and ``pattern`` (on a path such as
``system``, ``url``, ``coding.system`` or ``$this``), ``exists`` and ``type``.
The slice's expected value is read from the slice's own element definitions
(a fixed or pattern value at the discriminator path), or, for extensions
sliced by ``url``, from the slice's type profile. A discriminator that cannot
be evaluated makes the slicing undetermined for that item (reported as a
warning by the caller), never a false match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.conformance.fhir.patterns import equals_fixed, matches_pattern
from gateway.conformance.fhir.structure import Discriminator, ElementNode, Structures

_UNKNOWN = object()


@dataclass(frozen=True)
class Assignment:
    slice: ElementNode | None  # None: matches no slice
    undetermined: str | None = None  # why the discriminators could not be evaluated


def values_at(item: Any, path: str) -> list[Any]:
    """The values of a simple dotted path in a JSON element (lists flattened)."""
    current = [item]
    if path == "$this":
        return current
    for name in path.split("."):
        following: list[Any] = []
        for value in current:
            if isinstance(value, dict) and name in value:
                found = value[name]
                following.extend(found if isinstance(found, list) else [found])
        current = following
    return current


class SliceMatcher:
    def __init__(self, structures: Structures) -> None:
        self._structures = structures

    def _element_at(self, slice_node: ElementNode, path: str) -> ElementNode | None:
        if path == "$this":
            return slice_node
        names = path.split(".")
        found = slice_node.descend(names)
        if found is not None:
            return found
        for type_ref in slice_node.types:
            for profile in type_ref.profiles:
                structure = self._structures.get(profile)
                if structure is not None:
                    found = structure.root.descend(names)
                    if found is not None:
                        return found
        return None

    def expected(self, slice_node: ElementNode, discriminator: Discriminator) -> Any:
        """The value (or pattern) a slice requires at the discriminator path."""
        element = self._element_at(slice_node, discriminator.path)
        if element is not None:
            if element.fixed is not None:
                return element.fixed[1]
            if element.pattern is not None:
                return element.pattern[1]
        if discriminator.path == "url":
            for type_ref in slice_node.types:
                if type_ref.profiles:
                    return type_ref.profiles[0]
        if discriminator.path != "$this":  # a pattern on the slice itself, e.g. patternIdentifier.system
            owner = slice_node.fixed or slice_node.pattern
            if owner is not None:
                found = values_at(owner[1], discriminator.path)
                if len(found) == 1:
                    return found[0]
        return _UNKNOWN

    def _matches(self, item: Any, slice_node: ElementNode, discriminator: Discriminator) -> bool | None:
        kind = discriminator.type
        if kind in ("value", "pattern"):
            expected = self.expected(slice_node, discriminator)
            if expected is _UNKNOWN:
                return None
            found = values_at(item, discriminator.path)
            if kind == "value":
                return any(equals_fixed(v, expected) for v in found)
            return any(matches_pattern(v, expected) for v in found)
        if kind == "exists":
            element = self._element_at(slice_node, discriminator.path)
            if element is None:
                return None
            present = bool(values_at(item, discriminator.path))
            if element.min >= 1:
                return present
            if element.max == 0:
                return not present
            return None
        if kind == "type":
            element = self._element_at(slice_node, discriminator.path)
            found = values_at(item, discriminator.path)
            if element is None or len(found) != 1 or not isinstance(found[0], dict):
                return None
            actual = found[0].get("resourceType")
            return actual is not None and actual in {t.code for t in element.types}
        return None

    def assign(self, item: Any, sliced: ElementNode) -> Assignment:
        assert sliced.slicing is not None
        undetermined = None
        for slice_node in sliced.slices:
            verdicts = [self._matches(item, slice_node, d) for d in sliced.slicing.discriminators]
            if any(v is None for v in verdicts):
                undetermined = f"the discriminator of slice {slice_node.slice_name!r} cannot be evaluated here"
                continue
            if verdicts and all(verdicts):
                return Assignment(slice_node)
        return Assignment(None, undetermined)
