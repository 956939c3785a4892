"""Rules on data type values that no regex or invariant of R4 states, but the
specification and the HL7 validator do: strings of at most 1 MB and without
surrounding whitespace, URIs that are not ``oid:``/``uuid:`` and whose
``urn:uuid:``/``urn:oid:`` forms are well made, identifier systems that are
absolute. Strings and markdown that carry what looks like HTML tags are
warned about: a receiver that renders them as HTML would run them (in
markdown, code spans and autolinks are not tags).

Each check returns findings as ``(severity, rule, path suffix, message, kind)``
for the walker to report; the rules are the HL7 validator's message ids.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from gateway.conformance.fhir import messages

Finding = tuple[str, str, str, str, str]  # severity, rule, path suffix, message, kind

MAX_STRING = 1024 * 1024  # characters, as R4 says for string
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
URI_TYPES = frozenset({"uri", "url", "canonical", "oid", "uuid"})
# An HTML start or end tag: a name right after '<' ('a < b' and '<https://x.be>' are not tags).
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9\-]*(\s+[^<>]*)?/?>")
_CODE_SPANS = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


EXAMPLE_HOSTS = ("example.org", "example.com", "example.net", "acme.com", "acme.org")


def is_example_url(url: str) -> bool:
    """A URL on a domain reserved for examples (RFC 2606), or the HL7 validator's acme ones."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return any(host == h or host.endswith("." + h) for h in EXAMPLE_HOSTS)


def example_url_findings(url: Any, suffix: str = "") -> list[Finding]:
    """An example URL where a real one is required (an extension's, a profile's, a definition's own url)."""
    if isinstance(url, str) and is_example_url(url):
        return [("error", "TYPE_SPECIFIC_CHECKS_DT_URL_EXAMPLE", suffix,
                 messages.text("TYPE_SPECIFIC_CHECKS_DT_URL_EXAMPLE", url), "datatype")]
    return []


def attachment_findings(value: dict[str, Any]) -> list[Finding]:
    """The stated size and SHA-1 hash of an Attachment agree with its data; an Attachment says what it holds."""
    data = value.get("data")
    if not isinstance(data, str):
        if "url" not in value and "contentType" not in value and "language" not in value:
            return [("warning", "TYPE_SPECIFIC_CHECKS_DT_ATT_NO_CONTENT", "",
                     messages.text("TYPE_SPECIFIC_CHECKS_DT_ATT_NO_CONTENT"), "datatype")]
        return []
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return []  # base64Binary's own rule reports it
    found: list[Finding] = []
    size = value.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and size != len(content):
        found.append(("error", "TYPE_SPECIFIC_CHECKS_DT_ATT_SIZE_CORRECT", ".size",
                      messages.text("TYPE_SPECIFIC_CHECKS_DT_ATT_SIZE_CORRECT", size, len(content)), "datatype"))
    stated = value.get("hash")
    if isinstance(stated, str):
        actual = base64.b64encode(hashlib.sha1(content).digest()).decode("ascii")
        try:
            matches = base64.b64decode(stated, validate=True) == hashlib.sha1(content).digest()
        except (binascii.Error, ValueError):
            matches = False
        if not matches:
            found.append(("error", "cg-attachment-hash", ".hash",
                          messages.text("cg-attachment-hash", stated, actual), "datatype"))
    return found


def is_absolute(url: str) -> bool:
    """A URI with a scheme (``https:``, ``urn:``), not a local or relative reference."""
    return bool(_ABSOLUTE.match(url))


def primitive_findings(value: Any, code: str) -> list[Finding]:
    """What is wrong with a primitive value beyond its type's lexical rule."""
    if not isinstance(value, str):
        return []
    found: list[Finding] = []
    if code in ("string", "markdown"):
        if len(value) > MAX_STRING:
            found.append(("error", "Type_Specific_Checks_DT_String_Length", "",
                          messages.text("Type_Specific_Checks_DT_String_Length"), "datatype"))
        elif code == "string" and value and value != value.strip():
            rule = "Type_Specific_Checks_DT_String_WS_ALL" if not value.strip() else "Type_Specific_Checks_DT_String_WS"
            found.append(("warning", rule, "", messages.text(rule, _clip(value)), "datatype"))
        if "<" in value:
            found += _embedded_html(value, code)
    elif code in URI_TYPES:
        if value.startswith("oid:"):
            found.append(("error", "Type_Specific_Checks_DT_URI_OID", "", messages.text("Type_Specific_Checks_DT_URI_OID"),
                          "datatype"))
        elif value.startswith("uuid:"):
            found.append(("error", "Type_Specific_Checks_DT_URI_UUID", "",
                          messages.text("Type_Specific_Checks_DT_URI_UUID"), "datatype"))
        elif value.startswith("urn:uuid:") and not _UUID.match(value[9:]):
            found.append(("error", "Type_Specific_Checks_DT_UUID_Valid", "",
                          messages.text("Type_Specific_Checks_DT_UUID_Valid", value), "datatype"))
        elif value.startswith("urn:oid:") and not _OID.match(value[8:]):
            found.append(("error", "Type_Specific_Checks_DT_OID_Valid", "",
                          messages.text("Type_Specific_Checks_DT_OID_Valid", value), "datatype"))
    return found


def _embedded_html(value: str, code: str) -> list[Finding]:
    if code == "string":
        if _TAG.search(value):
            return [("warning", "SECURITY_STRING_CONTENT_WARNING", "", messages.text("SECURITY_STRING_CONTENT_WARNING"),
                     "security")]
        return []
    tag = _TAG.search(_CODE_SPANS.sub(lambda m: " " * len(m.group(0)), value))
    if tag is None:
        return []
    return [("warning", "TYPE_SPECIFIC_CHECKS_DT_MARKDOWN_HTML", "",
             messages.text("TYPE_SPECIFIC_CHECKS_DT_MARKDOWN_HTML", _clip(value[tag.start():], 30)), "security")]


def identifier_findings(value: dict[str, Any]) -> list[Finding]:
    system = value.get("system")
    if isinstance(system, str) and system and not is_absolute(system):
        return [("error", "Type_Specific_Checks_DT_Identifier_System", ".system",
                 messages.text("Type_Specific_Checks_DT_Identifier_System"), "datatype")]
    return []


def _clip(value: str, size: int = 60) -> str:
    return value if len(value) <= size else value[:size - 3] + "..."
