"""Callers of the CareTeam and Referral services, as ``tests/soap/conftest.py``
has them for IntegratedCare: real STS tokens per persona, zeep clients built
from the published ``?wsdl`` that sign with the token's key and check every
answer against the service's XSD (every Fault's detail against
fault-v1.xsd), and raw signed posts for what zeep will not send."""

from __future__ import annotations

from typing import Any

import httpx
from lxml import etree
from zeep.plugins import Plugin

from gateway.contracts import contract
from gateway.soap11.envelope import FAULT_NS, SOAP11_NS
from tests.soap.conftest import SoapCallers


class ContractCheck(Plugin):
    """Validates every answer's payload against ``xsd``, and every Fault's detail against fault-v1.xsd."""

    def __init__(self, *xsd: str) -> None:
        self.name = "/".join(xsd)
        self.schema = etree.XMLSchema(etree.parse(str(contract(*xsd))))
        self.fault_schema = etree.XMLSchema(etree.parse(str(contract("soap", "commons", "fault-v1.xsd"))))
        self.checked = 0
        self.faults = 0

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        body = envelope.find(f"{{{SOAP11_NS}}}Body")
        payload = next(iter(body)) if body is not None and len(body) else None
        if payload is not None and payload.tag == f"{{{SOAP11_NS}}}Fault":
            error = payload.find(f"detail/{{{FAULT_NS}}}Error")
            assert error is not None and self.fault_schema.validate(error), self.fault_schema.error_log
            self.faults += 1
        elif payload is not None:
            assert self.schema.validate(payload), f"answer not valid against {self.name}: {self.schema.error_log}"
            self.checked += 1
        return envelope, http_headers


class ServiceCallers(SoapCallers):
    """STS tokens and zeep clients for the personas, against one of the gateway's SOAP services."""

    def __init__(self, live: Any, personas: dict[str, Any], *, path: str, ns: str, xsd: tuple[str, ...]) -> None:
        super().__init__(live, personas)
        self.path, self.ns = path, ns
        self.schema_check = ContractCheck(*xsd)  # type: ignore[assignment]

    @property
    def url(self) -> str:
        return self.live.base_url + "/soap" + self.path

    def post(self, data: bytes, *, action: str | None = None, content_type: str = "text/xml; charset=utf-8",
             headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"Content-Type": content_type, **(headers or {})}
        if action:
            sent["SOAPAction"] = f'"{self.ns}:{action}"'
        return httpx.post(self.url, content=data, headers=sent, timeout=30)

    def request(self, name: str, **items: Any) -> etree._Element:
        """A request payload of this service: a dict value is a nested element, a
        list repeats the element, in the order given."""
        payload = etree.Element(f"{{{self.ns}}}{name}Request", nsmap={"x": self.ns})

        def fill(parent: etree._Element, values: dict[str, Any]) -> None:
            for key, value in values.items():
                for item in value if isinstance(value, list) else [value]:
                    child = etree.SubElement(parent, f"{{{self.ns}}}{key}")
                    if isinstance(item, dict):
                        fill(child, item)
                    else:
                        child.text = str(item)

        fill(payload, items)
        return payload
