"""Parsing untrusted XML: no DTD, no entities, no network, bounded size and
depth. Every XML byte that comes from outside goes through here.

A DOCTYPE is refused outright: SOAP 1.1 forbids it in envelopes, and it is
the carrier of entity-expansion bombs and external entities.
"""

from __future__ import annotations

import re

from lxml import etree

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
_DOCTYPE = re.compile(rb"<!\s*DOCTYPE|<!\s*ENTITY", re.IGNORECASE)


class UnsafeXml(ValueError):
    """XML refused before or while parsing, with a stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def parse_untrusted(data: bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> etree._Element:
    """Parse bytes from outside into an element, or raise :class:`UnsafeXml`."""
    if len(data) > max_bytes:
        raise UnsafeXml("xml-too-large", f"The document is {len(data)} bytes; the limit is {max_bytes}.")
    if _DOCTYPE.search(data):
        raise UnsafeXml("xml-doctype-forbidden", "Documents with a DOCTYPE or entity declarations are refused.")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml("xml-malformed", f"The document is not well-formed XML: {exc.msg}.") from None
    if root is None:
        raise UnsafeXml("xml-malformed", "The document is empty.")
    _check_depth(root, max_depth)
    return root


def _check_depth(root: etree._Element, max_depth: int) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > max_depth:
            raise UnsafeXml("xml-too-deep", f"The document nests deeper than {max_depth} levels.")
        stack.extend((child, depth + 1) for child in element)


def serialize(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=False, encoding="utf-8")
