"""The commons every care-gateway SOAP answer shares (``soap/commons/
commons-v1.xsd``): an ``XxxResponse`` with an ``IssueInstant`` and an
eHealth commons-like ``Status``. Refusals are not answers but Faults
(:mod:`gateway.soap.faults`)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from gateway.contracts import contract
from gateway.domain.clock import Clock
from gateway.soap11.envelope import STATUS_SUCCESS, q

COMMONS_NS = "urn:be:care-gateway:commons:v1"


def gateway_contract(*parts: str) -> Path:
    """A file under ``soap/`` (the gateway's own services, beside ``soap/ehealth/``)."""
    return contract("soap", *parts)


def response(ns: str, name: str, clock: Clock, *, prefix: str) -> etree._Element:
    """``<prefix:name IssueInstant=…><cm:Status><cm:StatusCode Value=Success/></cm:Status>``,
    to which the operation appends its own elements."""
    root = etree.Element(q(ns, name), nsmap={prefix: ns, "cm": COMMONS_NS})
    root.set("IssueInstant", clock.now().isoformat(timespec="seconds").replace("+00:00", "Z"))
    status = etree.SubElement(root, q(COMMONS_NS, "Status"))
    etree.SubElement(status, q(COMMONS_NS, "StatusCode")).set("Value", STATUS_SUCCESS)
    return root
