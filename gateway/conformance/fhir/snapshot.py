"""Snapshot generation: our profiles are written as differentials on R4 core;
the validator needs the full list of element definitions.

The differential is merged onto a copy of the base snapshot, element by
element, in the differential's order. An element the base snapshot does not
list is made on demand:

- a child of a complex-typed element (``EpisodeOfCare.patient.identifier``):
  the parent's type is *unfolded*, i.e. the type's own snapshot (or the
  type profile's) is copied under the parent, re-rooted;
- a slice (``EpisodeOfCare.identifier:gateway``): a copy of the sliced
  element, without its slicing, placed after the element's last slice.

A profile may only restrict its base; a differential that loosens
cardinality or adds types is refused with :class:`SnapshotError`.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

Element = dict[str, Any]
Resource = dict[str, Any]

# Keys merged from a differential element onto its snapshot element.
_REPLACED = (
    "short", "definition", "comment", "requirements", "alias", "label", "meaningWhenMissing",
    "orderMeaning", "maxLength", "mustSupport", "isModifier", "isModifierReason", "isSummary",
    "binding", "sliceName", "sliceIsConstraining", "type", "contentReference", "code", "example",
    "minValueInteger", "maxValueInteger", "minValueDecimal", "maxValueDecimal", "minValueDate", "maxValueDate",
)
_APPENDED = ("constraint", "condition", "mapping")


class SnapshotError(ValueError):
    """A differential that cannot be applied to its base."""


def _max_value(value: str) -> float:
    return float("inf") if value == "*" else int(value)


def _choice_keys(element: Element, prefix: str) -> list[str]:
    return [key for key in element if key.startswith(prefix) and key[len(prefix):][:1].isupper()]


def _rebase(element: Element, old_id: str, new_id: str, old_path: str, new_path: str) -> Element:
    """Copy a type's element under a new parent (``Identifier.system`` -> ``X.identifier.system``)."""
    clone = copy.deepcopy(element)
    clone["id"] = new_id + element["id"][len(old_id):]
    clone["path"] = new_path + element["path"][len(old_path):]
    return clone


class SnapshotGenerator:
    """Builds snapshots; ``resolve`` returns a StructureDefinition *with* its
    snapshot for a canonical URL (core ones come with theirs)."""

    def __init__(self, resolve: Callable[[str], Resource | None]) -> None:
        self._resolve = resolve

    def generate(self, profile: Resource) -> list[Element]:
        base_url = profile.get("baseDefinition")
        if not base_url:
            raise SnapshotError(f"{profile.get('url')}: a profile needs a baseDefinition")
        base = self._resolve(base_url)
        if base is None or "snapshot" not in base:
            raise SnapshotError(f"{profile.get('url')}: base {base_url} is unknown")
        if base.get("type") != profile.get("type"):
            raise SnapshotError(f"{profile.get('url')}: only constraints on the base type are supported")
        elements: list[Element] = copy.deepcopy(base["snapshot"]["element"])
        for diff in profile.get("differential", {}).get("element", []):
            if "id" not in diff:
                raise SnapshotError(f"{profile.get('url')}: differential element {diff.get('path')} has no id")
            index = self._find_or_make(elements, diff["id"], profile["url"])
            self._merge(elements[index], diff, profile["url"])
        return elements

    # ------------------------------------------------------------ lookup
    @staticmethod
    def _index(elements: list[Element], element_id: str) -> int | None:
        for i, element in enumerate(elements):
            if element["id"] == element_id:
                return i
        return None

    @staticmethod
    def _subtree_end(elements: list[Element], index: int) -> int:
        """Index just past the element at ``index`` and all of its descendants and slices."""
        root = elements[index]["id"]
        end = index + 1
        while end < len(elements):
            other = elements[end]["id"]
            if other.startswith(root + ".") or other.startswith(root + ":"):
                end += 1
            else:
                break
        return end

    def _find_or_make(self, elements: list[Element], element_id: str, url: str) -> int:
        index = self._index(elements, element_id)
        if index is not None:
            return index
        head, _, last = element_id.rpartition(".")
        if not head:
            raise SnapshotError(f"{url}: element {element_id} is not in the base")
        if ":" in last:
            return self._make_slice(elements, head, last, url)
        parent = self._find_or_make(elements, head, url)
        self._unfold(elements, parent, url)
        index = self._index(elements, element_id)
        if index is None:
            raise SnapshotError(f"{url}: {element_id} is not an element of {elements[parent]['path']}")
        return index

    def _make_slice(self, elements: list[Element], head: str, last: str, url: str) -> int:
        name, _, slice_name = last.partition(":")
        sliced = self._find_or_make(elements, f"{head}.{name}", url)
        base = elements[sliced]
        if "slicing" not in base:
            raise SnapshotError(f"{url}: {base['id']} is sliced ({slice_name}) without a slicing definition")
        end = self._subtree_end(elements, sliced)
        new_id = f"{base['id']}:{slice_name}"
        made = []
        for element in elements[sliced:end]:
            if element["id"] == base["id"]:
                clone = copy.deepcopy(element)
                clone.pop("slicing", None)
                clone["id"], clone["sliceName"], clone["min"] = new_id, slice_name, 0
                made.append(clone)
            elif element["id"].startswith(base["id"] + "."):
                made.append(_rebase(element, base["id"], new_id, base["path"], base["path"]))
        elements[end:end] = made
        return end

    def _unfold(self, elements: list[Element], index: int, url: str) -> None:
        """Copy the element's type (or type profile) children under it."""
        parent = elements[index]
        end = self._subtree_end(elements, index)
        if any(e["id"].startswith(parent["id"] + ".") for e in elements[index + 1:end]):
            return
        types = parent.get("type", [])
        if len(types) != 1:
            raise SnapshotError(f"{url}: cannot constrain inside {parent['id']}: it has {len(types)} types")
        type_ref = types[0]
        source_url = (type_ref.get("profile") or [f"http://hl7.org/fhir/StructureDefinition/{type_ref['code']}"])[0]
        source = self._resolve(source_url)
        if source is None:
            raise SnapshotError(f"{url}: type {source_url} of {parent['id']} is unknown")
        type_elements = source["snapshot"]["element"]
        root = type_elements[0]
        children = [
            _rebase(e, root["id"], parent["id"], root["path"], parent["path"])
            for e in type_elements[1:]
        ]
        elements[index + 1:index + 1] = children

    # ------------------------------------------------------------- merge
    def _merge(self, target: Element, diff: Element, url: str) -> None:
        where = f"{url}: {diff['id']}"
        if "min" in diff:
            if diff["min"] < target.get("min", 0):
                raise SnapshotError(f"{where}: min {diff['min']} loosens the base's {target.get('min')}")
            target["min"] = diff["min"]
        if "max" in diff:
            if _max_value(diff["max"]) > _max_value(target.get("max", "*")):
                raise SnapshotError(f"{where}: max {diff['max']} loosens the base's {target.get('max')}")
            target["max"] = diff["max"]
        if target.get("min", 0) > _max_value(target.get("max", "*")):
            raise SnapshotError(f"{where}: min {target['min']} > max {target['max']}")
        if "type" in diff:
            allowed = {t["code"] for t in target.get("type", [])}
            wanted = {t["code"] for t in diff["type"]}
            if allowed and not wanted <= allowed:
                raise SnapshotError(f"{where}: types {sorted(wanted - allowed)} are not allowed by the base")
        if "slicing" in diff:
            target["slicing"] = {**target.get("slicing", {}), **diff["slicing"]}
        for key in _REPLACED:
            if key in diff:
                target[key] = copy.deepcopy(diff[key])
        for key in _APPENDED:
            if key in diff:
                have = target.setdefault(key, [])
                keys = {item.get("key") for item in have if isinstance(item, dict)}
                for item in diff[key]:
                    if not isinstance(item, dict) or item.get("key") is None or item.get("key") not in keys:
                        have.append(copy.deepcopy(item))
        for prefix in ("fixed", "pattern"):
            for key in _choice_keys(diff, prefix):
                for old in _choice_keys(target, prefix):
                    del target[old]
                target[key] = copy.deepcopy(diff[key])
