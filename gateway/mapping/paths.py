"""Two small path languages, one per wire format.

FHIR JSON paths: dot-separated steps; a step may select an array element by
index (``coding[0]``) or by a key's value (``identifier[system=https://…]``,
``extension[url=https://…]``). Reading follows the path and returns ``None``
where it ends; writing creates what is missing, selector keys included.

SOAP XML paths: ``/``-separated prefixed names (``ic:Patient/ic:Ssin``), an
attribute as the last step (``@id``). Writing appends elements in the order
the mapping declares them, which is the XSD's sequence order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml import etree

_STEP = re.compile(r"^(?P<name>[A-Za-z_][\w]*)(?:\[(?P<sel>[^\]]+)\])?$")


@dataclass(frozen=True)
class Step:
    name: str
    index: int | None = None
    key: str | None = None
    value: str | None = None

    def matches(self, item: Any) -> bool:
        return isinstance(item, dict) and self.key is not None and item.get(self.key) == self.value


def parse_json_path(path: str) -> list[Step]:
    return list(_parsed(path))


@lru_cache(maxsize=4096)
def _parsed(path: str) -> tuple[Step, ...]:
    """A path's steps, parsed once per path: the mappings' paths are few and
    used for every resource (a bulk export renders a million)."""
    steps: list[Step] = []
    for raw in _split(path):
        m = _STEP.match(raw)
        if not m:
            raise ValueError(f"bad path step {raw!r} in {path!r}")
        sel = m.group("sel")
        if sel is None:
            steps.append(Step(m.group("name")))
        elif sel.isdigit():
            steps.append(Step(m.group("name"), index=int(sel)))
        else:
            key, _, value = sel.partition("=")
            steps.append(Step(m.group("name"), key=key.strip(), value=value.strip()))
    return tuple(steps)


def _split(path: str) -> list[str]:
    """Split on dots outside brackets (selector values are URLs with dots)."""
    parts, depth, current = [], 0, []
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def json_get(document: dict[str, Any], path: str) -> Any:
    node: Any = document
    for step in parse_json_path(path):
        if not isinstance(node, dict):
            return None
        node = node.get(step.name)
        if node is None:
            return None
        if isinstance(node, list):
            if step.index is not None:
                node = node[step.index] if step.index < len(node) else None
            elif step.key is not None:
                node = next((item for item in node if step.matches(item)), None)
            else:
                node = node[0] if node else None
        elif step.index not in (None, 0) or (step.key is not None and not step.matches(node)):
            return None
    return node


def json_set(document: dict[str, Any], path: str, value: Any, *, arrays: frozenset[str] = frozenset()) -> None:
    """Set ``value`` at ``path``.

    ``arrays`` names, by their dotted path from the root without selectors
    (``type``, ``type.coding``, ``extension.extension``), the elements that
    are lists in FHIR; a selector on any other element fills a single object
    (``patient.identifier[system=…]`` is one Identifier in a Reference).
    """
    steps = parse_json_path(path)
    node: Any = document
    trail: list[str] = []
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        trail.append(step.name)
        is_array = step.index is not None or ".".join(trail) in arrays
        if not is_array:
            if last:
                node[step.name] = value
                return
            child = node.setdefault(step.name, {})
            if step.key is not None:
                child.setdefault(step.key, step.value)
            node = child
            continue
        items = node.setdefault(step.name, [])
        if step.key is not None:
            found = next((item for item in items if step.matches(item)), None)
            if found is None:
                found = {step.key: step.value}
                items.append(found)
        else:
            index = step.index or 0
            while len(items) <= index:
                items.append({} if not last else None)
            if last:
                items[index] = value
                return
            found = items[index]
        if last:
            raise ValueError(f"cannot set a selected array element itself: {path!r}")
        node = found


# ----------------------------------------------------------------------- XML


def _qname(step: str, nsmap: dict[str, str]) -> str:
    prefix, _, local = step.rpartition(":")
    return f"{{{nsmap[prefix]}}}{local}" if prefix else local


def xml_qname(name: str, nsmap: dict[str, str]) -> str:
    """A prefixed name (``ic:Inclusion``) in Clark notation."""
    return _qname(name, nsmap)


def xml_get(element: etree._Element, path: str, nsmap: dict[str, str]) -> str | None:
    node = element
    steps = path.split("/")
    for step in steps:
        if step.startswith("@"):
            return node.get(_qname(step[1:], nsmap))
        found = node.find(_qname(step, nsmap))
        if found is None:
            return None
        node = found
    return node.text


def xml_has(element: etree._Element, path: str, nsmap: dict[str, str]) -> bool:
    """Whether the element or attribute at ``path`` exists (even empty)."""
    node = element
    for step in path.split("/"):
        if step.startswith("@"):
            return node.get(_qname(step[1:], nsmap)) is not None
        found = node.find(_qname(step, nsmap))
        if found is None:
            return False
        node = found
    return True


def xml_set(element: etree._Element, path: str, value: str, nsmap: dict[str, str]) -> None:
    node = element
    steps = path.split("/")
    for i, step in enumerate(steps):
        if step.startswith("@"):
            node.set(_qname(step[1:], nsmap), value)
            return
        tag = _qname(step, nsmap)
        found = node.find(tag)
        if found is None:
            found = etree.SubElement(node, tag)
        node = found
        if i == len(steps) - 1:
            node.text = value
