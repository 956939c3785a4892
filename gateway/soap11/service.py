"""Serving a SOAP 1.1 service from FastAPI: ``?wsdl``, bounded reading,
hardened parsing, envelope checks, WS-Security verification, dispatch on the
payload that the security layer verified, and faults for every refusal.

No maintained SOAP server library exists for Python 3.11+, so this is the
small part written by hand; WSDL and XSD are hand-written files under the
top-level ``soap/`` folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from fastapi import APIRouter, Request
from gateway.blocking import blocking  # verifying and running a call blocks: off the loop
from fastapi.responses import Response
from lxml import etree

from gateway.identity.errors import TokenRejected
from gateway.domain.principal import Principal
from gateway.identity.wssecurity import MessageVerifier, Mode
from gateway.identity.xml import MAX_BYTES, UnsafeXml, parse_untrusted
from gateway.namespaces import WSDL_NS, WSDL_SOAP_NS  # noqa: F401  (WSDL_NS re-exported)
from gateway.soap11.envelope import (
    STATUS_ERROR,
    STATUS_NOT_AUTHORIZED,
    Envelope,
    SoapFault,
    envelope_bytes,
    fault_bytes,
    read_envelope,
)

log = logging.getLogger("gateway.soap")

XML_CONTENT_TYPE = "text/xml; charset=utf-8"


@dataclass
class SoapRequest:
    """One verified call: the payload to act on is the one the signature covered."""

    envelope: Envelope
    payload: etree._Element
    principal: Principal | None
    soap_action: str | None
    security: Any = None
    raw: bytes = b""
    base_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Security(Protocol):
    """Verifies a request's WS-Security and returns what it proved.

    It returns ``(payload, principal, detail)`` where ``payload`` is the Body
    child that the signature covers (never re-found by a fresh search)."""

    def __call__(self, envelope: Envelope, raw: bytes) -> tuple[etree._Element, Principal | None, Any]: ...


Handler = Callable[[SoapRequest], etree._Element]


def no_security(envelope: Envelope, raw: bytes) -> tuple[etree._Element, Principal | None, Any]:
    payload = envelope.payload
    if payload is None:
        raise SoapFault("malformed-envelope", "The SOAP Body must hold exactly one element.", path="/Envelope/Body")
    return payload, None, None


def ws_security(verifier: MessageVerifier, mode: Mode = "saml-hok") -> Security:
    """WS-Security as a service's policy: the identity layer verifies (its
    trust, clock and replay record are in ``verifier``); a refusal becomes a
    NotAuthorized Fault (HTTP 500, as SOAP 1.1 answers faults) with its code."""

    def security(envelope: Envelope, raw: bytes) -> tuple[etree._Element, Principal | None, Any]:
        try:
            verified = verifier.verify(envelope, mode)
        except TokenRejected as refused:
            raise SoapFault(refused.code, refused.message, status=STATUS_NOT_AUTHORIZED, http_status=500,
                            path="/Envelope/Header/Security") from None
        return verified.payload, verified.principal, verified

    return security


class SoapService:
    """One SOAP endpoint: a WSDL, operations keyed by the payload's qualified
    name, and a security policy."""

    def __init__(
        self,
        name: str,
        path: str,
        wsdl: Path,
        operations: dict[str, Handler],
        security: Security = no_security,
        *,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.name = name
        self.path = path
        self.wsdl = wsdl
        self.operations = operations
        self.security = security
        self.max_bytes = max_bytes

    def wsdl_bytes(self, endpoint: str) -> bytes:
        """The WSDL with its soap:address pointing at ``endpoint`` (this
        service's URL as the caller reached it, mount prefix included)."""
        tree = etree.parse(str(self.wsdl), etree.XMLParser(resolve_entities=False, no_network=True))
        for address in tree.iter(f"{{{WSDL_SOAP_NS}}}address"):
            address.set("location", endpoint)
        return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")

    def router(self) -> APIRouter:
        router = APIRouter()
        service = self

        @router.get(self.path, include_in_schema=False)
        async def get_wsdl(request: Request) -> Response:
            if "wsdl" not in {k.lower() for k in request.query_params}:
                return Response(f"{service.name}: POST SOAP 1.1 envelopes here; the contract is at ?wsdl\n", media_type="text/plain")
            return Response(service.wsdl_bytes(str(request.url.replace(query=""))), media_type="text/xml")

        @router.post(self.path, include_in_schema=False)
        async def post(request: Request) -> Response:
            return await service.handle(request)

        return router

    async def _read(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise SoapFault("request-too-large", f"The request is larger than {self.max_bytes} bytes.", http_status=413)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_bytes:
                raise SoapFault("request-too-large", f"The request is larger than {self.max_bytes} bytes.", http_status=413)
            chunks.append(chunk)
        return b"".join(chunks)

    def _answer(self, raw: bytes, soap_action: str | None, base_url: str) -> bytes:
        """Parse, verify and run one call: blocking work (signatures, the
        database, the platform), run off the event loop so that one worker
        serves other calls while this one waits."""
        try:
            root = parse_untrusted(raw, max_bytes=self.max_bytes)
        except UnsafeXml as exc:
            raise SoapFault(exc.code, exc.message) from None
        envelope = read_envelope(root)
        payload, principal, detail = self.security(envelope, raw)
        handler = self.operations.get(payload.tag if isinstance(payload.tag, str) else "")
        if handler is None:
            raise SoapFault("unknown-operation", f"{self.name} has no operation for {payload.tag}; see ?wsdl.",
                            path="/Envelope/Body/" + etree.QName(payload).localname)
        result = handler(SoapRequest(envelope, payload, principal, soap_action, detail, raw, base_url))
        return envelope_bytes(result)

    async def handle(self, request: Request) -> Response:
        try:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "text/xml":
                raise SoapFault(
                    "wrong-content-type", f"SOAP 1.1 requests use Content-Type text/xml, not {content_type or 'none'!r}.",
                    http_status=415,
                )
            raw = await self._read(request)
            soap_action = request.headers.get("soapaction", "").strip('"') or None
            answer = await blocking(self._answer, raw, soap_action, str(request.base_url))
            return Response(answer, media_type=XML_CONTENT_TYPE)
        except SoapFault as fault:
            log.info("%s: fault %s %s", self.name, fault.code, fault.message)
            return Response(fault_bytes(fault), status_code=fault.http_status, media_type=XML_CONTENT_TYPE)
        except Exception:  # noqa: BLE001 - a server fault, never a stack trace on the wire
            log.exception("%s: internal error", self.name)
            fault = SoapFault("internal-error", "The service failed; the error is logged.", client=False, status=STATUS_ERROR)
            return Response(fault_bytes(fault), status_code=500, media_type=XML_CONTENT_TYPE)
