"""One SOAP 1.1 call to one of the platform's services: envelope, signature
(:mod:`gateway.adapters.wsse`), POST, and an answer read as untrusted XML;
each failure a :class:`~gateway.adapters.errors.PlatformError` with its
stable code. What the answer *means* is the service client's business."""

from __future__ import annotations

import httpx
from lxml import etree

from gateway.adapters import errors
from gateway.adapters.errors import PlatformError
from gateway.adapters.wsse import MessageSigner
from gateway.identity.xml import MAX_BYTES, UnsafeXml, parse_untrusted
from gateway.namespaces import FAULT_NS, SOAP11_NS

CONTENT_TYPE = "text/xml; charset=utf-8"


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


class SoapClient:
    """Calls of one service: ``service`` names it in errors (``AddressBook``)."""

    def __init__(self, http: httpx.Client, url: str, *, service: str, signer: MessageSigner,
                 max_bytes: int = MAX_BYTES) -> None:
        self.http = http
        self.url = url
        self.service = service
        self.signer = signer
        self.max_bytes = max_bytes

    def error(self, code: str, message: str) -> PlatformError:
        return PlatformError(code, message, service=self.service, url=self.url)

    def envelope(self, payload: etree._Element) -> bytes:
        """The signed envelope carrying ``payload`` (which it takes over)."""
        envelope = etree.Element(_q(SOAP11_NS, "Envelope"), nsmap={"soapenv": SOAP11_NS})
        etree.SubElement(envelope, _q(SOAP11_NS, "Body")).append(payload)
        return etree.tostring(self.signer.sign(envelope))

    def call(self, payload: etree._Element, action: str) -> etree._Element:
        """The answer's Body element; a PlatformError for anything else."""
        body = self.envelope(payload)
        headers = {"Content-Type": CONTENT_TYPE, "SOAPAction": f'"{action}"'}
        try:
            response = self.http.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise self.error(errors.UNREACHABLE, f"no answer in time ({type(exc).__name__}).") from None
        except httpx.HTTPError as exc:
            raise self.error(errors.UNREACHABLE, f"could not be reached ({type(exc).__name__}: {exc}).") from None
        return self.answer(response)

    def answer(self, response: httpx.Response) -> etree._Element:
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not kind.endswith("xml"):
            raise self.error(errors.HTTP_ERROR, f"answered HTTP {response.status_code} with {kind or 'no content type'}, "
                             "not a SOAP message.")
        try:
            root = parse_untrusted(response.content, max_bytes=self.max_bytes)
        except UnsafeXml as exc:
            code = errors.ANSWER_INVALID if response.status_code == 200 else errors.HTTP_ERROR
            raise self.error(code, f"answered HTTP {response.status_code} with unreadable XML: {exc.message}") from None
        bodies = root.findall(_q(SOAP11_NS, "Body")) if root.tag == _q(SOAP11_NS, "Envelope") else []
        children = [c for c in bodies[0] if isinstance(c.tag, str)] if len(bodies) == 1 else []
        if len(children) != 1:
            raise self.error(errors.ANSWER_INVALID if response.status_code == 200 else errors.HTTP_ERROR,
                             f"answered HTTP {response.status_code} without a SOAP Body holding one element.")
        payload = children[0]
        if payload.tag == _q(SOAP11_NS, "Fault"):
            code = payload.findtext(f".//{_q(FAULT_NS, 'Code')}")
            text = (payload.findtext("faultstring") or "no reason given").strip()
            raise self.error(errors.FAULT, f"refused the call{f' ({code})' if code else ''}: {text}")
        if response.status_code != 200:
            raise self.error(errors.HTTP_ERROR, f"answered HTTP {response.status_code}.")
        return payload
