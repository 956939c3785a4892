"""The XHTML of a narrative (``Narrative.div``), read once and judged.

R4 says the narrative holds only the basic HTML of chapters 7-11 and 15 of
HTML 4.0, ``<a>`` (href or name), images and style attributes: no scripts,
forms, frames, objects or event attributes. ``txt-1`` is that rule (element
and attribute names), ``txt-2`` that there is content (text, or an image).

Parsing is hardened like every untrusted XML here: no DTD, no entities, no
network. The analysis of a ``div`` text is cached: the two invariants, and
the walker, ask about the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

XHTML_NS = "http://www.w3.org/1999/xhtml"

ELEMENTS = frozenset({
    # HTML 4.0 chapters 7 (structure), 8 (bdo), 9 (text, without ins/del), 10 (lists), 11 (tables), 15 (fonts, hr)
    "div", "span", "h1", "h2", "h3", "h4", "h5", "h6", "address", "bdo",
    "p", "br", "pre", "em", "strong", "dfn", "code", "samp", "kbd", "var", "cite", "abbr", "acronym",
    "blockquote", "q", "sub", "sup", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "thead", "tfoot", "tbody", "colgroup", "col", "tr", "th", "td",
    "tt", "i", "b", "big", "small", "hr",
    # links and images
    "a", "img", "map", "area",
})
GLOBAL_ATTRIBUTES = frozenset({
    "title", "style", "class", "id", "lang", "dir", "accesskey", "tabindex",
    # table cells and columns
    "span", "width", "align", "valign", "char", "charoff", "abbr", "axis", "headers", "scope", "rowspan", "colspan",
})
ELEMENT_ATTRIBUTES = {
    "a": frozenset({"href", "name", "charset", "type", "hreflang", "rel", "rev", "shape", "coords"}),
    "img": frozenset({"src", "alt", "longdesc", "height", "width", "usemap", "ismap", "border"}),
    "blockquote": frozenset({"cite"}),
    "q": frozenset({"cite"}),
    "map": frozenset({"name"}),
    "area": frozenset({"shape", "coords", "href", "nohref", "alt"}),
    "table": frozenset({"summary", "width", "border", "frame", "rules", "cellspacing", "cellpadding"}),
    "pre": frozenset({"space"}),
    "td": frozenset({"nowrap"}),
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass
class Xhtml:
    """What the validator needs to know about one ``div``."""

    parse_error: str | None = None
    root_name: str = ""
    root_namespace: str | None = None
    illegal_elements: list[str] = field(default_factory=list)
    illegal_attributes: list[tuple[str, str]] = field(default_factory=list)  # (attribute, element)
    has_content: bool = False
    links: list[tuple[str, str]] = field(default_factory=list)  # (element, href) of a/area
    images: list[str] = field(default_factory=list)  # img src
    anchors: set[str] = field(default_factory=set)  # id and a/@name values

    @property
    def names_ok(self) -> bool:
        """txt-1: only the allowed elements and attributes."""
        return self.parse_error is None and not self.illegal_elements and not self.illegal_attributes

    @property
    def content_ok(self) -> bool:
        """txt-2: some non-whitespace text, or an image."""
        return self.parse_error is None and self.has_content


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@lru_cache(maxsize=256)
def analyse(text: str) -> Xhtml:
    """Read a narrative ``div`` (XHTML text) and say what is in it."""
    found = Xhtml()
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except (etree.XMLSyntaxError, ValueError) as error:
        found.parse_error = str(error) or "not well-formed XML"
        return found
    if root.getroottree().docinfo.doctype:
        found.parse_error = "a DOCTYPE is not allowed in XHTML"
        return found
    qname = etree.QName(root)
    found.root_name, found.root_namespace = qname.localname, qname.namespace
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name not in ELEMENTS and name not in found.illegal_elements:
            found.illegal_elements.append(name)
        allowed = ELEMENT_ATTRIBUTES.get(name, frozenset())
        for attribute in element.attrib:
            local = etree.QName(attribute).localname if attribute.startswith("{") else attribute
            if attribute == XML_LANG or (element is root and attribute == "xmlns"):
                continue
            if attribute.startswith("{") or (local not in GLOBAL_ATTRIBUTES and local not in allowed):
                found.illegal_attributes.append((local, name))
        if element.get("id"):
            found.anchors.add(element.get("id"))  # type: ignore[arg-type]
        if name == "a" and element.get("name"):
            found.anchors.add(element.get("name"))  # type: ignore[arg-type]
        if name in ("a", "area") and element.get("href") is not None:
            found.links.append((name, element.get("href")))  # type: ignore[arg-type]
        if name == "img":
            found.has_content = True
            if element.get("src") is not None:
                found.images.append(element.get("src"))  # type: ignore[arg-type]
        if (element.text and element.text.strip()) or (element is not root and element.tail and element.tail.strip()):
            found.has_content = True
    return found
