"""Fixtures of the SOAP face's tests: real STS tokens for the personas (over
HTTP, from the live gateway's STS), zeep clients built from the published
``?wsdl`` that sign with :class:`~gateway.identity.zeep_wsse.SamlHolderOfKey`
and check every answer against the XSD, raw signed posts for what zeep will
not send, and a snapshot of the stored state to prove that a refusal
changed nothing.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree
from sqlalchemy import select
from zeep.plugins import Plugin

from gateway.domain.model import Base
from gateway.ehealth.sandbox.personas import Persona
from gateway.soap11.envelope import FAULT_NS, SOAP11_NS
from gateway.soap.integrated_care import ACTION, NS, PATH

SERVICE = "/soap" + PATH
XSD = "soap/integrated-care/IntegratedCare-v1.xsd"
IC = {"ic": NS, "cm": "urn:be:care-gateway:commons:v1", "cg": FAULT_NS, "s": SOAP11_NS}
OPERATIONS = ("DeclareInclusion", "GetPatientInclusions", "UpdateInclusion", "CloseInclusion", "ListPsiPatients",
              "RecordResearchConsent", "GetResearchConsent")


class SchemaCheck(Plugin):
    """Validates every answer's payload (faults aside) against the XSD, and
    every Fault's detail against fault-v1.xsd."""

    def __init__(self) -> None:
        from gateway.contracts import contract

        self.schema = etree.XMLSchema(etree.parse(str(contract(*XSD.split("/")))))
        self.fault_schema = etree.XMLSchema(etree.parse(str(contract("soap", "commons", "fault-v1.xsd"))))
        self.checked = 0

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        body = envelope.find(f"{{{SOAP11_NS}}}Body")
        payload = next(iter(body)) if body is not None and len(body) else None
        if payload is not None and payload.tag == f"{{{SOAP11_NS}}}Fault":
            error = payload.find(f"detail/{{{FAULT_NS}}}Error")
            assert error is not None and self.fault_schema.validate(error), self.fault_schema.error_log
        elif payload is not None:
            assert self.schema.validate(payload), f"answer not valid against {XSD}: {self.schema.error_log}"
            self.checked += 1
        return envelope, http_headers


class SoapCallers:
    """STS tokens and IntegratedCare clients for the personas, against one live gateway."""

    def __init__(self, live: Any, personas: dict[str, Persona]) -> None:
        self.live = live
        self.personas = personas
        self._tokens: dict[str, bytes] = {}
        self._clients: dict[str, zeep.Client] = {}
        self.schema_check = SchemaCheck()

    @property
    def url(self) -> str:
        return self.live.base_url + SERVICE

    def token(self, key: str) -> bytes:
        """A real STS token for the persona (cached for the module)."""
        from gateway.ehealth.sts_client import persona_token

        if key not in self._tokens:
            self._tokens[key] = persona_token(self.live.base_url, self.live.platform, self.personas[key], clock=self.live.clock)
        return self._tokens[key]

    def client(self, key: str) -> zeep.Client:
        """A zeep client built from the published WSDL, signing as persona ``key``."""
        from gateway.identity.zeep_wsse import SamlHolderOfKey

        if key not in self._clients:
            credential = self.live.gw.platform.pki.persona(key)
            wsse = SamlHolderOfKey(self.token(key), credential.private_key, credential.certificate, clock=self.live.clock)
            self._clients[key] = zeep.Client(self.url + "?wsdl", wsse=wsse, plugins=[self.schema_check])
        return self._clients[key]

    def service(self, key: str) -> Any:
        return self.client(key).service

    def signed(self, key: str, payload: etree._Element, *, token: bytes | None = None, signer: str | None = None) -> bytes:
        """An envelope around ``payload`` signed as a client does (persona ``key``'s token, ``signer``'s key)."""
        from gateway.identity.signing import sign_with_saml
        from gateway.identity.xml import parse_untrusted
        from gateway.soap11.envelope import envelope_bytes

        credential = self.live.gw.platform.pki.persona(signer or key)
        envelope = sign_with_saml(parse_untrusted(envelope_bytes(payload)), token or self.token(key),
                                  credential.private_key, credential.certificate, clock=self.live.clock)
        return etree.tostring(envelope)

    def post(self, data: bytes, *, action: str | None = None, content_type: str = "text/xml; charset=utf-8",
             headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"Content-Type": content_type, **(headers or {})}
        if action:
            sent["SOAPAction"] = f'"{ACTION}{action}"'
        return httpx.post(self.url, content=data, headers=sent, timeout=30)


@pytest.fixture(scope="module")
def soap(live, personas) -> SoapCallers:
    return SoapCallers(live, personas)


def request(name: str, **items: Any) -> etree._Element:
    """An IntegratedCare request payload: ``request("GetPatientInclusions", PatientSsin="…")``;
    a dict value is a nested element, in the order given."""
    payload = etree.Element(f"{{{NS}}}{name}Request", nsmap={"ic": NS})

    def fill(parent: etree._Element, values: dict[str, Any]) -> None:
        for key, value in values.items():
            child = etree.SubElement(parent, f"{{{NS}}}{key}")
            if isinstance(value, dict):
                fill(child, value)
            else:
                child.text = str(value)

    fill(payload, items)
    return payload


# ------------------------------------------------------------------ faults


def fault_detail(fault: zeep.exceptions.Fault) -> dict[str, str | None]:
    """Status, Code, Rule, Path of a zeep Fault's cg:Error detail."""
    detail = fault.detail
    return {name: detail.findtext(f".//{{{FAULT_NS}}}{name}") if detail is not None else None
            for name in ("Status", "Code", "Rule", "Path", "Message")}


def refused(call: Callable[..., Any], **kwargs: Any) -> dict[str, str | None]:
    """Run a zeep call that must be refused; the detail of its Fault."""
    with pytest.raises(zeep.exceptions.Fault) as err:
        call(**kwargs)
    return fault_detail(err.value)


def response_fault(response: httpx.Response) -> dict[str, str | None]:
    """The detail of a raw HTTP answer that must be a SOAP Fault."""
    root = etree.fromstring(response.content)
    assert root.find(f"{{{SOAP11_NS}}}Body/{{{SOAP11_NS}}}Fault") is not None, response.text
    fault = {name: root.findtext(f".//{{{FAULT_NS}}}{name}") for name in ("Status", "Code", "Rule", "Path", "Message")}
    fault["faultcode"] = root.findtext(f".//{{{SOAP11_NS}}}Fault/faultcode")
    return fault


# ------------------------------------------------------------------ stored state

IGNORED_TABLES = {"seen_message"}  # the replay guard's own record of accepted signatures


def stored_state(gw: Any) -> dict[str, list[str]]:
    """Every row of every table (the replay table aside), to compare before and after a refusal."""
    state: dict[str, list[str]] = {}
    with gw.db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in IGNORED_TABLES:
                continue
            rows = connection.execute(select(table)).all()
            state[table.name] = sorted(json.dumps([str(v) for v in row]) for row in rows)
    return state
