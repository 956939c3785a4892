"""Finding the XSD of a SOAP payload: every ``*.xsd`` under ``soap/`` is
indexed once by the global elements it declares (namespace, name), so a
payload is checked against the schema that declares its root element, and a
new service's XSD (``soap/integrated-care/``...) is picked up without code
changes. Schemas compile on first use; imports resolve beside each file."""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from threading import Lock

from lxml import etree

from gateway.conformance.snippets import element_path
from gateway.contracts import contract

log = logging.getLogger("gateway.conformance.soap")

from gateway.namespaces import XS_NS
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_ATTRIBUTE = re.compile(r"attribute '([^']+)'")


class SchemaUnavailable(Exception):
    """No usable XSD declares the payload's element."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SchemaProblem:
    """One XSD violation: where (a slash path), what, and the element."""

    path: str
    message: str
    element: etree._Element | None


class SchemaIndex:
    """The global elements of every XSD under a folder, and their compiled schemas."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.declared: dict[tuple[str, str], Path] = {}
        for path in sorted(folder.rglob("*.xsd")):
            try:
                schema = etree.parse(str(path), _SAFE).getroot()
            except etree.XMLSyntaxError as exc:
                log.warning("skipping %s: not well-formed (%s)", path, exc)
                continue
            namespace = schema.get("targetNamespace", "")
            for element in schema.findall(f"{{{XS_NS}}}element"):
                name = element.get("name")
                if name and (namespace, name) not in self.declared:
                    self.declared[(namespace, name)] = path
        self.namespaces = frozenset(ns for ns, _ in self.declared)
        self._compiled: dict[Path, etree.XMLSchema] = {}
        self._lock = Lock()  # an lxml schema validates one document at a time

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> "SchemaIndex":
        """The index of the project's ``soap/`` folder (built once)."""
        return cls(contract("soap"))

    def schema_file(self, tag: str) -> Path | None:
        qname = etree.QName(tag)
        return self.declared.get((qname.namespace or "", qname.localname))

    def relative(self, path: Path) -> str:
        return f"soap/{path.relative_to(self.folder).as_posix()}"

    def _schema(self, path: Path) -> etree.XMLSchema:
        if path not in self._compiled:
            try:
                self._compiled[path] = etree.XMLSchema(etree.parse(str(path), _SAFE))
            except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
                raise SchemaUnavailable("schema-unavailable", f"The XSD {self.relative(path)} that declares this "
                                        f"element does not compile ({exc}); the payload cannot be checked.") from None
        return self._compiled[path]

    def validate(self, payload: etree._Element, base: str) -> list[SchemaProblem]:
        """The payload's violations of its XSD, with paths under ``base``
        (e.g. ``/Envelope/Body``); :class:`SchemaUnavailable` if none applies."""
        qname = etree.QName(payload)
        path = self.schema_file(payload.tag)
        if path is None:
            if (qname.namespace or "") in self.namespaces:
                raise SchemaUnavailable("schema-invalid", f"No XSD under soap/ declares an element {qname.localname} "
                                        f"in namespace {qname.namespace}; see the service's WSDL for its operations.")
            raise SchemaUnavailable("schema-unknown", f"No XSD under soap/ has the namespace {qname.namespace or '(none)'} "
                                    f"of {qname.localname}: this is not a payload of a service the gateway serves.")
        alone = copy.deepcopy(payload)  # its own document, so that the error paths resolve in it
        with self._lock:
            schema = self._schema(path)
            if schema.validate(alone):
                return []
            errors = list(schema.error_log)
        namespaces = {p: ns for e in alone.iter() if isinstance(e.tag, str) for p, ns in e.nsmap.items() if p}
        problems = []
        for error in errors:
            element = _resolve(alone, error.path, namespaces)
            where = base + (element_path(element) if element is not None else "/" + qname.localname)
            attribute = _ATTRIBUTE.search(error.message)
            if attribute:
                where += f"/@{attribute.group(1)}"
            problems.append(SchemaProblem(where, f"{error.message} (XSD {self.relative(path)}; line {error.line} of the message)", element))
        return problems


def _resolve(root: etree._Element, xpath: str | None, namespaces: dict[str, str]) -> etree._Element | None:
    if not xpath:
        return None
    try:
        found = root.getroottree().xpath(xpath, namespaces=namespaces)
    except etree.XPathError:
        return None
    return found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None
