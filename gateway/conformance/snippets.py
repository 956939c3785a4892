"""The offending part of a message, for people reading a report: the JSON
value or XML element an issue's path names (or its nearest ancestor that
exists, when the path names something absent), shortened to a readable size.

FHIR paths are the validator's (``Bundle.entry[1].resource.patient``); they
name JSON properties, which R4 XML spells as the same element names, except
that a ``resource``/``contained`` element wraps the resource's own element.
SOAP paths are slash paths of local names (``/Envelope/Header/Security``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from lxml import etree

from gateway.namespaces import FHIR_NS
MAX_CHARS = 2000
MAX_LINES = 40
_STEP = re.compile(r"^([A-Za-z_][\w-]*)(?:\[(\d+)\])?$")
_WRAPPERS = frozenset({"resource", "contained"})


def shorten(text: str) -> str:
    """At most MAX_LINES lines and MAX_CHARS characters, marked when cut."""
    lines = text.splitlines()
    cut = len(lines) > MAX_LINES or len(text) > MAX_CHARS
    text = "\n".join(lines[:MAX_LINES])[:MAX_CHARS]
    return text + "\n…" if cut else text


def _steps(path: str) -> list[tuple[str, int | None]]:
    steps: list[tuple[str, int | None]] = []
    for part in path.split(".")[1:]:  # the first step is the resource type
        match = _STEP.match(part)
        if match is None:
            break
        steps.append((match.group(1), int(match.group(2)) if match.group(2) is not None else None))
    return steps


def fhir_json_snippet(resource: Any, path: str) -> str:
    """The JSON at ``path`` (as ``"name": value``), or of its nearest ancestor."""
    node, name = resource, None
    for step, index in _steps(path):
        if not isinstance(node, dict) or step not in node:
            break
        value = node[step]
        if index is not None:
            if not isinstance(value, list) or index >= len(value):
                break
            node, name = value[index], None
        else:
            node, name = value, step
    text = json.dumps(node, indent=2, ensure_ascii=False)
    return shorten(f'"{name}": {text}' if name else text)


def _fhir_children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and c.tag == f"{{{FHIR_NS}}}{name}"]


def fhir_xml_snippet(root: etree._Element, path: str) -> str:
    """The XML element(s) at ``path`` in an R4 XML resource, or the nearest ancestor."""
    nodes = [root]
    for step, index in _steps(path):
        found = _fhir_children(nodes[0], step)
        if index is not None:
            found = found[index:index + 1]
        if not found:
            break
        if step in _WRAPPERS and len(found) == 1:
            inner = [c for c in found[0] if isinstance(c.tag, str)]
            found = inner[:1] or found
        nodes = found
    return shorten("\n".join(xml_text(n) for n in nodes))


def xml_text(element: etree._Element) -> str:
    """An element as text, without what follows it in its parent."""
    return etree.tostring(element, encoding="unicode", with_tail=False)


def xml_snippet(element: etree._Element | None) -> str:
    return "" if element is None else shorten(xml_text(element))


def element_path(element: etree._Element) -> str:
    """``/Envelope/Body/Request/item[2]``: local names, a 1-based position
    where an element has siblings of the same name."""
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


def find_path(root: etree._Element, path: str) -> etree._Element | None:
    """The element a slash path of local names names (its first match per
    step), or the deepest element on the way."""
    steps = [s for s in path.split("/") if s and not s.startswith("@")]
    if not steps or etree.QName(root).localname != re.sub(r"\[\d+\]$", "", steps[0]):
        return root
    node = root
    for step in steps[1:]:
        match = re.match(r"^(.+?)(?:\[(\d+)\])?$", step)
        assert match is not None
        name, position = match.group(1), int(match.group(2) or 1)
        found = [c for c in node if isinstance(c.tag, str) and etree.QName(c).localname == name]
        if len(found) < position:
            break
        node = found[position - 1]
    return node
