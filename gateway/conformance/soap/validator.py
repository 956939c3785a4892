"""The SOAP envelope validator: SOAP 1.1 shape, the payload against the XSD
that declares it, and WS-Security with its SAML assertion, each problem as a
:class:`~gateway.conformance.verdict.Finding` whose rule is the stable code
the gateway's SOAP Fault would carry (``schema-invalid``,
``message-digest-mismatch``, ``assertion-expired``...) and whose path is a
slash path into the envelope."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from gateway.conformance.fhir import ValidationIssue
from gateway.conformance.snippets import find_path, xml_snippet
from gateway.conformance.soap.schemas import SchemaIndex, SchemaUnavailable
from gateway.conformance.soap.security import SecurityCheck
from gateway.conformance.soap.trust import RunReplayGuard, Trust
from gateway.conformance.verdict import Finding
from gateway.identity.xml import UnsafeXml, parse_untrusted
from gateway.soap11.envelope import SoapFault, read_envelope


def _finding(root: etree._Element | None, rule: str, path: str, message: str, *, severity: str = "error",
             code: str = "structure", element: etree._Element | None = None) -> Finding:
    if element is None and root is not None:
        element = find_path(root, path)
    return Finding(ValidationIssue(severity, code, path, rule, message), xml_snippet(element))


class SoapValidator:
    """Validates SOAP 1.1 request envelopes against our contracts."""

    def __init__(self, schemas: SchemaIndex, trust: Trust) -> None:
        self.schemas = schemas
        self.trust = trust

    def validate(self, data: bytes | etree._Element, *, at: datetime,
                 replay: RunReplayGuard | None = None) -> list[Finding]:
        """Every finding about the envelope, security judged at ``at``;
        ``replay`` remembers signatures across the messages of one run."""
        try:
            root = data if isinstance(data, etree._Element) else parse_untrusted(data)
        except UnsafeXml as refused:
            return [_finding(None, refused.code, "/", refused.message, severity="fatal")]
        try:
            envelope = read_envelope(root)
        except SoapFault as fault:
            return [_finding(root, fault.code, fault.path or "/Envelope", fault.message, severity="fatal",
                             element=root)]
        findings = self._payload(root, envelope.body)
        for problem in SecurityCheck(self.trust, replay).check(root, at):
            findings.append(_finding(root, problem.rule, problem.path, problem.message, code=problem.issue_type))
        return findings

    def _payload(self, root: etree._Element, body: etree._Element) -> list[Finding]:
        children = [c for c in body if isinstance(c.tag, str)]
        if len(children) != 1:
            return [_finding(root, "body-malformed", "/Envelope/Body",
                             f"The SOAP Body must hold exactly one element (the operation's request); it holds {len(children)}.")]
        try:
            problems = self.schemas.validate(children[0], "/Envelope/Body")
        except SchemaUnavailable as missing:
            code = "not-supported" if missing.code == "schema-unknown" else "structure"
            return [_finding(root, missing.code, f"/Envelope/Body/{etree.QName(children[0]).localname}",
                             missing.message, code=code)]
        return [_finding(root, "schema-invalid", p.path, f"The payload does not conform to its XSD: {p.message}",
                         element=p.element) for p in problems]
