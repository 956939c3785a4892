"""What the simulated eHealth SOAP services share.

- :class:`HostedService`: a :class:`~gateway.soap.service.SoapService` whose
  ``?wsdl`` is one self-contained document (the XSDs it imports are inlined,
  so a client needs a single GET), which checks that a SOAPAction header, when
  sent, names the operation of the payload, and which validates the verified
  payload against the service's XSD before any handler reads it: a handler
  never sees a shape the contract does not allow.
- :func:`caller`: the principal the security layer proved, or a fault.
- small readers (:func:`text`, :func:`date_of`) that turn a missing or
  malformed value into a :class:`SoapFault` that names the element.

The WSDL and XSD files are hand-written, under ``soap/ehealth/``.
"""

from __future__ import annotations

import uuid
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from lxml import etree

from gateway.contracts import contract
from gateway.identity.principal import Principal
from gateway.soap.envelope import STATUS_INVALID_INPUT, STATUS_NOT_AUTHORIZED, SoapFault
from gateway.soap.service import WSDL_NS, Handler, Security, SoapRequest, SoapService

if TYPE_CHECKING:
    from gateway.services import Gateway

XS_NS = "http://www.w3.org/2001/XMLSchema"
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def soap_contract(*parts: str) -> Path:
    """A file under ``soap/ehealth/``."""
    return contract("soap", "ehealth", *parts)


def hok_security(gw: "Gateway") -> Security:
    """WS-Security with a SAML 1.1 holder-of-key token, as every eHealth
    service requires (imported late: the security layer is its own module)."""
    from gateway.identity.wssecurity import make_security

    return make_security(gw, "saml-hok")


def inline_schemas(wsdl: Path) -> etree._ElementTree:
    """The WSDL with every XSD it imports (transitively) copied into
    ``wsdl:types`` and the ``schemaLocation`` attributes removed, so that the
    document stands alone."""
    tree = etree.parse(str(wsdl), _SAFE)
    types = tree.getroot().find(f"{{{WSDL_NS}}}types")
    if types is None:
        return tree
    seen: set[Path] = set()
    collected: list[etree._Element] = []

    def visit(schema: etree._Element, base: Path) -> None:
        for imp in schema.findall(f"{{{XS_NS}}}import"):
            location = imp.attrib.pop("schemaLocation", None)
            if not location:
                continue
            path = (base / location).resolve()
            if path in seen:
                continue
            seen.add(path)
            imported = etree.parse(str(path), _SAFE).getroot()
            visit(imported, path.parent)
            collected.append(imported)  # imported schemas before the schemas that import them

    for schema in list(types.findall(f"{{{XS_NS}}}schema")):
        visit(schema, wsdl.parent)
    for position, schema in enumerate(collected):
        types.insert(position, schema)
    return tree


class HostedService(SoapService):
    """A simulated eHealth SOAP service: self-contained WSDL, SOAPAction
    check, XSD validation of the verified payload.

    ``actions`` maps a payload's qualified name to ``(soap_action, handler)``.
    """

    def __init__(
        self,
        name: str,
        path: str,
        wsdl: Path,
        xsd: Path,
        actions: Mapping[str, tuple[str, Handler]],
        security: Security,
    ) -> None:
        self.xsd = xsd
        operations = {tag: self._checked(tag, action, handler) for tag, (action, handler) in actions.items()}
        super().__init__(name, path, wsdl, operations, security)

    @cached_property
    def schema(self) -> etree.XMLSchema:
        return etree.XMLSchema(etree.parse(str(self.xsd), _SAFE))

    def wsdl_bytes(self, endpoint: str) -> bytes:
        """The self-contained WSDL, its soap:address at ``endpoint`` (the URL
        the caller fetched it from: mount prefix included)."""
        tree = inline_schemas(self.wsdl)
        for element in tree.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address"):
            element.set("location", endpoint)
        return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")

    def validate(self, payload: etree._Element) -> None:
        """Refuse a payload the XSD does not allow, naming the first error."""
        if self.schema.validate(payload):
            return
        errors = list(self.schema.error_log)
        error = errors[0] if errors else None
        path = error.path if error is not None and error.path else None
        message = error.message if error is not None else "invalid"
        raise SoapFault("schema-invalid", f"The request does not conform to the service's XSD: {message}", path=path)

    def _checked(self, tag: str, action: str, handler: Handler) -> Handler:
        def run(request: SoapRequest) -> etree._Element:
            if request.soap_action and request.soap_action != action:
                raise SoapFault(
                    "soap-action-mismatch",
                    f"SOAPAction {request.soap_action!r} does not match the payload {etree.QName(tag).localname}; "
                    f"expected {action!r} (see ?wsdl).",
                )
            self.validate(request.payload)
            return handler(request)

        return run


# ------------------------------------------------------------------ callers


def caller(request: SoapRequest) -> Principal:
    """The principal proved by the token, or a fault (never an anonymous call)."""
    if request.principal is None:
        raise SoapFault("unauthenticated", "This service needs a WS-Security header with a SAML holder-of-key token.",
                        status=STATUS_NOT_AUTHORIZED, http_status=500)
    return request.principal


def refuse(code: str, message: str, *, rule: str | None = None, path: str | None = None) -> SoapFault:
    """A refusal because of who is asking."""
    return SoapFault(code, message, status=STATUS_NOT_AUTHORIZED, rule=rule, path=path)


# ------------------------------------------------------------------ readers


def text(element: etree._Element | None, path: str, *, where: str, required: bool = True) -> str | None:
    """The stripped text at ``path`` under ``element`` (ElementPath with
    ``{ns}`` names); a fault that names ``where`` when required and absent."""
    found = element.find(path) if element is not None else None
    value = (found.text or "").strip() if found is not None else ""
    if value:
        return value
    if required:
        raise SoapFault("missing-element", f"{where} is required.", status=STATUS_INVALID_INPUT, path=where)
    return None


def date_of(value: str | None, *, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise SoapFault("invalid-date", f"{where} must be a date (YYYY-MM-DD), not {value!r}.", path=where) from None


def new_id(prefix: str = "_") -> str:
    """An XML ID (NCName: never starts with a digit)."""
    return f"{prefix}{uuid.uuid4().hex}"
