"""Perinatal v1 clients for the SOAP and parity tests: zeep built from the
published ?wsdl, signing with a real STS holder-of-key token of the persona,
every answer (faults aside) checked against Perinatal-v1.xsd."""

from __future__ import annotations

from typing import Any

import zeep
from lxml import etree
from zeep.plugins import Plugin

from gateway.contracts import contract
from gateway.ehealth.sts_client import persona_token
from gateway.soap11.envelope import SOAP11_NS


class PerinatalSchema(Plugin):
    def __init__(self) -> None:
        self.schema = etree.XMLSchema(etree.parse(str(contract("soap", "perinatal", "Perinatal-v1.xsd"))))
        self.checked = 0

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        body = envelope.find(f"{{{SOAP11_NS}}}Body")
        payload = next(iter(body)) if body is not None and len(body) else None
        if payload is not None and payload.tag != f"{{{SOAP11_NS}}}Fault":
            assert self.schema.validate(payload), self.schema.error_log
            self.checked += 1
        return envelope, http_headers


def perinatal_clients(live: Any, personas: dict[str, Any]):  # type: ignore[no-untyped-def]
    """``service(key)``: Perinatal v1 as persona ``key``."""
    from gateway.identity.zeep_wsse import SamlHolderOfKey

    schema, clients = PerinatalSchema(), {}

    def service(key: str) -> Any:
        if key not in clients:
            token = persona_token(live.base_url, live.platform, personas[key], clock=live.clock)
            credential = live.gw.platform.pki.persona(key)
            wsse = SamlHolderOfKey(token, credential.private_key, credential.certificate, clock=live.clock)
            clients[key] = zeep.Client(live.base_url + "/soap/Perinatal/v1?wsdl", wsse=wsse, plugins=[schema])
        return clients[key].service

    service.schema = schema  # type: ignore[attr-defined]
    return service


def answers(values: dict[str, str]) -> dict[str, str]:
    """The screening's answers as the Answers element's children."""
    return {"".join(w.capitalize() for w in d.split("-")): a for d, a in values.items()}
