"""Fixtures of the simulated-platform tests that call services as a vendor
does: real STS tokens for the personas (over HTTP, from the live gateway's
STS) and zeep clients built from each service's own ``?wsdl``, signing with
:class:`~gateway.identity.zeep_wsse.SamlHolderOfKey`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree
from zeep.plugins import Plugin

from gateway.ehealth.sandbox.personas import Persona
from gateway.soap11.envelope import FAULT_NS, SOAP11_NS


class Callers:
    """Tokens and zeep clients for the personas, against one live gateway."""

    def __init__(self, live: Any, personas: dict[str, Persona]) -> None:
        self.live = live
        self.personas = personas
        self._tokens: dict[str, bytes] = {}

    def token(self, key: str) -> bytes:
        """A real STS token for the persona (cached for the module)."""
        from gateway.ehealth.sts_client import persona_token

        if key not in self._tokens:
            self._tokens[key] = persona_token(self.live.base_url, self.live.platform, self.personas[key], clock=self.live.clock)
        return self._tokens[key]

    def wsdl(self, path: str) -> str:
        return f"{self.live.base_url}/ehealth{path}?wsdl"

    def client(self, path: str, key: str, xsd: Path | None = None) -> zeep.Client:
        """A zeep client of the service at ``path`` acting as persona ``key``;
        with ``xsd``, every answer's payload is checked against it too."""
        from gateway.identity.zeep_wsse import SamlHolderOfKey

        credential = self.live.gw.platform.pki.persona(key)
        wsse = SamlHolderOfKey(self.token(key), credential.private_key, credential.certificate, clock=self.live.clock)
        return zeep.Client(self.wsdl(path), wsse=wsse, plugins=[SchemaCheck(xsd)] if xsd else [])

    def post_signed(self, path: str, key: str, payload: etree._Element, soap_action: str | None = None) -> httpx.Response:
        """POST ``payload`` in an envelope signed as persona ``key`` (for what zeep will not send)."""
        from gateway.identity.signing import sign_with_saml
        from gateway.identity.xml import parse_untrusted
        from gateway.soap11.envelope import envelope_bytes

        credential = self.live.gw.platform.pki.persona(key)
        envelope = sign_with_saml(parse_untrusted(envelope_bytes(payload)), self.token(key), credential.private_key,
                                  credential.certificate, clock=self.live.clock)
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        if soap_action:
            headers["SOAPAction"] = f'"{soap_action}"'
        return httpx.post(f"{self.live.base_url}/ehealth{path}", content=etree.tostring(envelope), headers=headers)

    def anonymous(self, path: str) -> zeep.Client:
        """A zeep client that sends no WS-Security header at all."""
        return zeep.Client(self.wsdl(path))


class SchemaCheck(Plugin):
    """Validates every answer's Body payload (faults aside) against the service's XSD."""

    def __init__(self, xsd: Path) -> None:
        self.schema = etree.XMLSchema(etree.parse(str(xsd)))
        self.checked = 0

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        body = envelope.find(f"{{{SOAP11_NS}}}Body")
        payload = next(iter(body)) if body is not None and len(body) else None
        if payload is not None and payload.tag != f"{{{SOAP11_NS}}}Fault":
            assert self.schema.validate(payload), f"answer not valid against {self.schema}: {self.schema.error_log}"
            self.checked += 1
        return envelope, http_headers


@pytest.fixture(scope="module")
def callers(live, personas) -> Callers:
    return Callers(live, personas)


def fault_code(fault: zeep.exceptions.Fault) -> str | None:
    """Our stable error code from a SOAP Fault's detail."""
    detail = fault.detail
    return detail.findtext(f".//{{{FAULT_NS}}}Code") if detail is not None else None


def response_fault_code(response: httpx.Response) -> str | None:
    """Our stable error code from a raw HTTP answer holding a SOAP Fault."""
    return etree.fromstring(response.content).findtext(f".//{{{FAULT_NS}}}Code")


def wsdl_address(url: str) -> str:
    """The soap:address location of the WSDL served at ``url``."""
    document = etree.fromstring(httpx.get(url).content)
    return document.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location")
