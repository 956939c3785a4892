"""Parsing untrusted XML: no DTD, no entities, no network, bounded size and
depth. Every XML byte that comes from outside goes through here.

A DOCTYPE is refused outright: SOAP 1.1 forbids it in envelopes, and it is
the carrier of entity-expansion bombs and external entities. The refusal is
made on the parsed document (its DTD, its entity references), whatever the
encoding: a byte pattern only sees ASCII-compatible encodings, and a UTF-16,
UTF-32 or UTF-7 document carries its DOCTYPE in other bytes. The parser
neither loads nor expands anything meanwhile, so the parse itself is safe;
the byte pattern stays as a cheap early refusal of the common case.
"""

from __future__ import annotations

import re

from lxml import etree

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_ELEMENTS = 100_000
_DOCTYPE = re.compile(rb"<!\s*DOCTYPE|<!\s*ENTITY", re.IGNORECASE)


class UnsafeXml(ValueError):
    """XML refused before or while parsing, with a stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


DOCTYPE_REFUSED = "Documents with a DOCTYPE or entity declarations are refused (in any encoding); send the XML without one."


def _parser(remove_blank_text: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=remove_blank_text,
        collect_ids=False,
    )


def parse_untrusted(data: bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
                    max_elements: int = MAX_ELEMENTS, remove_blank_text: bool = False) -> etree._Element:
    """Parse bytes from outside into an element, or raise :class:`UnsafeXml`."""
    if len(data) > max_bytes:
        raise UnsafeXml("xml-too-large", f"The document is {len(data)} bytes; the limit is {max_bytes}.")
    if _DOCTYPE.search(data):
        raise UnsafeXml("xml-doctype-forbidden", DOCTYPE_REFUSED)
    try:
        root = etree.fromstring(data, _parser(remove_blank_text))
    except etree.XMLSyntaxError as exc:
        if "failed to load" in (exc.msg or ""):  # only a DTD makes the parser reach for a file or the network
            raise UnsafeXml("xml-doctype-forbidden", DOCTYPE_REFUSED) from None
        raise UnsafeXml("xml-malformed", f"The document is not well-formed XML: {exc.msg}.") from None
    except (ValueError, LookupError) as exc:  # an encoding lxml cannot use, a str with a declaration
        raise UnsafeXml("xml-malformed", f"The document cannot be read as XML: {exc}.") from None
    if root is None:
        raise UnsafeXml("xml-malformed", "The document is empty.")
    refuse_dtd(root)
    _check_depth(root, max_depth, max_elements)
    return root


def refuse_dtd(root: etree._Element) -> None:
    """Refuse a parsed document that has a DOCTYPE (internal subset or
    external identifier) or any entity reference, whatever its encoding."""
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise UnsafeXml("xml-doctype-forbidden", DOCTYPE_REFUSED)
    for _ in root.iter(etree.Entity):
        raise UnsafeXml("xml-doctype-forbidden", DOCTYPE_REFUSED)


def _check_depth(root: etree._Element, max_depth: int, max_elements: int) -> None:
    stack, seen = [(root, 1)], 0
    while stack:
        element, depth = stack.pop()
        seen += 1
        if depth > max_depth:
            raise UnsafeXml("xml-too-deep", f"The document nests deeper than {max_depth} levels.")
        if seen > max_elements:
            raise UnsafeXml("xml-too-many-elements", f"The document holds more than {max_elements} elements.")
        stack.extend((child, depth + 1) for child in element)


def serialize(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=False, encoding="utf-8")
