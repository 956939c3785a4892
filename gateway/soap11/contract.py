"""A SOAP service held to its contract: the WSDL and XSD under ``soap/``.

- ``?wsdl`` answers one self-contained document (the XSDs it imports are
  inlined), so a client such as zeep needs a single GET;
- a SOAPAction header, when sent, must name the operation of the payload;
- the verified payload is validated against the service's XSD before its
  handler runs: a handler never sees a shape the contract does not allow.

Written first for the simulated eHealth services (``gateway.ehealth.soapkit``
re-exports it as ``HostedService``); the gateway's own SOAP services use it
the same way.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Mapping

from lxml import etree

from gateway.domain.principal import Principal
from gateway.identity.xml import MAX_BYTES
from gateway.soap11.envelope import STATUS_NOT_AUTHORIZED, SoapFault
from gateway.soap11.service import WSDL_NS, WSDL_SOAP_NS, Handler, Security, SoapRequest, SoapService

from gateway.namespaces import XS_NS
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


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


class ContractService(SoapService):
    """A SOAP service with a self-contained WSDL, a SOAPAction check and XSD
    validation of the verified payload.

    ``actions`` maps a payload's qualified name to ``(soap_action, handler)``.
    With ``envelope_paths`` a schema fault names the element as the
    gateway's services do (``/Envelope/Body/XxxRequest/Item``, whatever
    prefixes the client chose); otherwise as lxml gives it.
    """

    def __init__(
        self,
        name: str,
        path: str,
        wsdl: Path,
        xsd: Path,
        actions: Mapping[str, tuple[str, Handler]],
        security: Security,
        *,
        max_bytes: int = MAX_BYTES,
        envelope_paths: bool = False,
    ) -> None:
        self.xsd = xsd
        self.envelope_paths = envelope_paths
        operations = {tag: self._checked(tag, action, handler) for tag, (action, handler) in actions.items()}
        super().__init__(name, path, wsdl, operations, security, max_bytes=max_bytes)

    @cached_property
    def schema(self) -> etree.XMLSchema:
        return etree.XMLSchema(etree.parse(str(self.xsd), _SAFE))

    def wsdl_bytes(self, endpoint: str) -> bytes:
        """The self-contained WSDL, its soap:address at ``endpoint`` (the URL
        the caller fetched it from: mount prefix included)."""
        tree = inline_schemas(self.wsdl)
        for element in tree.iter(f"{{{WSDL_SOAP_NS}}}address"):
            element.set("location", endpoint)
        return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")

    def validate(self, payload: etree._Element) -> None:
        """Refuse a payload the XSD does not allow, naming the first error."""
        if self.schema.validate(payload):
            return
        errors = list(self.schema.error_log)
        error = errors[0] if errors else None
        path = error.path if error is not None and error.path else None
        if path and self.envelope_paths:
            path = "/Envelope/Body" + "/".join(step.rpartition(":")[2] for step in path.split("/"))
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


def caller(request: SoapRequest) -> Principal:
    """The principal proved by the token, or a fault (never an anonymous call)."""
    if request.principal is None:
        raise SoapFault("unauthenticated", "This service needs a WS-Security header with a SAML holder-of-key token.",
                        status=STATUS_NOT_AUTHORIZED, http_status=500)
    return request.principal
