"""SOAP 1.1 envelopes and faults.

A fault carries, besides ``faultcode``/``faultstring``, a detail element
with an eHealth commons-like status URN, our stable error code, the rule id
and the element path, so that a connector can act on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.namespaces import DS_NS, FAULT_NS, SOAP11_NS, WSSE_NS, WSU_NS  # re-exported: callers import them from here too

STATUS_SUCCESS = "urn:be:fgov:ehealth:2.0:status:Success"
STATUS_DATA_NOT_FOUND = "urn:be:fgov:ehealth:2.0:status:DataNotFound"
STATUS_INVALID_INPUT = "urn:be:fgov:ehealth:2.0:status:InvalidInput"
STATUS_NOT_AUTHORIZED = "urn:be:fgov:ehealth:2.0:status:NotAuthorized"
STATUS_CONFLICT = "urn:be:fgov:ehealth:2.0:status:Conflict"
STATUS_ERROR = "urn:be:fgov:ehealth:2.0:status:Error"


class SoapFault(Exception):
    """A refusal to be answered as a SOAP 1.1 Fault."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        client: bool = True,
        status: str = STATUS_INVALID_INPUT,
        rule: str | None = None,
        path: str | None = None,
        http_status: int = 500,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client = client
        self.status = status
        self.rule = rule
        self.path = path
        self.http_status = http_status


@dataclass(frozen=True)
class Envelope:
    root: etree._Element
    header: etree._Element | None
    body: etree._Element

    @property
    def payload(self) -> etree._Element | None:
        children = [c for c in self.body if isinstance(c.tag, str)]
        return children[0] if len(children) == 1 else None


def q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def read_envelope(root: etree._Element) -> Envelope:
    """Check the SOAP 1.1 shape: Envelope, optional Header, one Body."""
    if root.tag != q(SOAP11_NS, "Envelope"):
        raise SoapFault("malformed-envelope", "The document is not a SOAP 1.1 Envelope "
                        f"(namespace {SOAP11_NS}).", path="/Envelope")
    children = [c for c in root if isinstance(c.tag, str)]
    headers = [c for c in children if c.tag == q(SOAP11_NS, "Header")]
    bodies = [c for c in children if c.tag == q(SOAP11_NS, "Body")]
    if len(bodies) != 1 or len(headers) > 1 or len(children) != len(headers) + len(bodies):
        raise SoapFault("malformed-envelope", "A SOAP Envelope holds at most one Header and exactly one Body.", path="/Envelope")
    if headers and children.index(headers[0]) != 0:
        raise SoapFault("malformed-envelope", "The SOAP Header must come before the Body.", path="/Envelope/Header")
    return Envelope(root, headers[0] if headers else None, bodies[0])


def envelope_bytes(payload: etree._Element, header: etree._Element | None = None) -> bytes:
    env = etree.Element(q(SOAP11_NS, "Envelope"), nsmap={"soapenv": SOAP11_NS})
    if header is not None:
        env.append(header)
    body = etree.SubElement(env, q(SOAP11_NS, "Body"))
    body.append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def fault_bytes(fault: SoapFault) -> bytes:
    env = etree.Element(q(SOAP11_NS, "Envelope"), nsmap={"soapenv": SOAP11_NS})
    body = etree.SubElement(env, q(SOAP11_NS, "Body"))
    f = etree.SubElement(body, q(SOAP11_NS, "Fault"))
    etree.SubElement(f, "faultcode").text = "soapenv:Client" if fault.client else "soapenv:Server"
    etree.SubElement(f, "faultstring").text = fault.message
    detail = etree.SubElement(f, "detail")
    error = etree.SubElement(detail, q(FAULT_NS, "Error"), nsmap={"cg": FAULT_NS})
    for name, value in (("Status", fault.status), ("Code", fault.code), ("Rule", fault.rule), ("Path", fault.path), ("Message", fault.message)):
        if value:
            etree.SubElement(error, q(FAULT_NS, name)).text = value
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")
