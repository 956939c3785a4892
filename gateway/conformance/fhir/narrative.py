"""The XHTML of a narrative (``Narrative.div``), read once and judged.

R4 says the narrative holds only the basic HTML of chapters 7-11 and 15 of
HTML 4.0, ``<a>`` (href or name), images and style attributes: no scripts,
forms, frames, objects or event attributes. ``txt-1`` is that rule (element
and attribute names), ``txt-2`` that there is content (text, or an image).

Beyond the invariants, :func:`findings` gives the HL7 validator's own
messages on the same text: not well-formed, not a ``div`` in the XHTML
namespace, each element and attribute not allowed, hyperlinks with an active
scheme (``javascript:``), images that are neither contained (``#id``),
``data:`` nor web resources, and ``#`` links and images that resolve to
nothing in the narrative or the resource's contained resources.

Parsing is hardened like every untrusted XML here: no DTD, no entities, no
network. The analysis of a ``div`` text is cached: the two invariants, and
the walker, ask about the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

from lxml import etree

from gateway.conformance.fhir import messages
from gateway.conformance.fhir.datatypes import Finding

from gateway.namespaces import XHTML_NS

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
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
ACTIVE_SCHEMES = frozenset({"javascript", "vbscript", "data", "file"})  # in a hyperlink
IMAGE_SCHEMES = frozenset({"http", "https", "data"})
_KIND = "narrative"


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


def findings(text: str, contained_ids: Iterable[str]) -> list[Finding]:
    """The HL7 validator's messages on a narrative ``div``; paths are the div's own."""
    found = analyse(text)
    if found.parse_error is not None:
        return [("error", "Error_parsing_XHTML_", "", messages.text("Error_parsing_XHTML_", found.parse_error), _KIND)]
    out: list[Finding] = []
    if found.root_name != "div":
        out.append(("error", "XHTML_XHTML_Name_Invalid", "", messages.text("XHTML_XHTML_Name_Invalid", found.root_name),
                    _KIND))
    if found.root_namespace != XHTML_NS:
        out.append(("error", "XHTML_XHTML_NS_InValid", "",
                    messages.text("XHTML_XHTML_NS_InValid", found.root_namespace or "", XHTML_NS), _KIND))
    for name in found.illegal_elements:
        out.append(("error", "XHTML_XHTML_Element_Illegal", "", messages.text("XHTML_XHTML_Element_Illegal", name), _KIND))
    for attribute, element in dict.fromkeys(found.illegal_attributes):
        out.append(("error", "XHTML_XHTML_Attribute_Illegal", "",
                    messages.text("XHTML_XHTML_Attribute_Illegal", attribute, element), _KIND))
    targets = set(found.anchors) | set(contained_ids)
    for element, href in found.links:
        scheme = _SCHEME.match(href)
        if scheme and scheme.group(1).lower() in ACTIVE_SCHEMES:
            out.append(("error", "XHTML_URL_INVALID", "", messages.text(
                "XHTML_URL_INVALID", href, f"the scheme {scheme.group(1)}: is not allowed in a hyperlink"), _KIND))
        elif href.startswith("#") and len(href) > 1 and href[1:] not in targets:
            out.append(("error", "Type_Specific_Checks_DT_XHTML_Resolve", "",
                        messages.text("Type_Specific_Checks_DT_XHTML_Resolve", href, element, href[1:]), _KIND))
    for src in found.images:
        scheme = _SCHEME.match(src)
        if src.startswith("#"):
            if src[1:] not in set(contained_ids):
                out.append(("error", "Type_Specific_Checks_DT_XHTML_Resolve_Img", "",
                            messages.text("Type_Specific_Checks_DT_XHTML_Resolve_Img", src, "img"), _KIND))
        elif scheme is None or scheme.group(1).lower() not in IMAGE_SCHEMES:
            out.append(("error", "XHTML_XHTML_Image_Reference_Illegal", "",
                        messages.text("XHTML_XHTML_Image_Reference_Illegal", src), _KIND))
    return out
