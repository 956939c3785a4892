"""Validating a message of unknown kind: detect what it is (FHIR JSON, FHIR
XML, a SOAP envelope), hand it to the validator of that kind, and return one
:class:`~gateway.conformance.verdict.Verdict` with a snippet per finding.
The command line and the HTTP endpoint both come here."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Callable

from lxml import etree

from gateway.conformance.fhir import FhirValidator, ValidationIssue
from gateway.conformance.snippets import FHIR_NS, fhir_json_snippet, fhir_xml_snippet
from gateway.conformance.soap import RunReplayGuard, SchemaIndex, SoapValidator, Trust
from gateway.conformance.verdict import Finding, Kind, Verdict
from gateway.identity.xml import UnsafeXml, parse_untrusted

log = logging.getLogger("gateway.conformance")

_BOM = b"\xef\xbb\xbf"
MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # the FHIR validator's limit; XML stops at 2 MiB when parsed


def trimmed(data: bytes) -> bytes:
    """Without a UTF-8 byte order mark and leading blanks (before ``<?xml`` they are an error)."""
    return data.removeprefix(_BOM).lstrip()


def detect(data: bytes) -> tuple[Kind, etree._Element | None, ValidationIssue | None]:
    """What the bytes are, with the parsed XML root, or the issue that says why not known."""
    head = trimmed(data)
    if head[:1] in (b"{", b"["):
        return "fhir-json", None, None
    if head[:1] != b"<":
        return "unknown", None, ValidationIssue("fatal", "structure", "/", "format-unknown",
                                                "The content is neither JSON nor XML: expected a FHIR resource or "
                                                "Bundle (JSON or XML) or a SOAP envelope.")
    try:
        root = parse_untrusted(head)
    except UnsafeXml as refused:
        return "unknown", None, ValidationIssue("fatal", "structure", "/", refused.code, refused.message)
    qname = etree.QName(root)
    if qname.namespace == FHIR_NS:
        return "fhir-xml", root, None
    if qname.localname == "Envelope":
        return "soap", root, None  # any namespace: the SOAP validator says which it must be
    return "unknown", root, ValidationIssue("fatal", "structure", "/" + qname.localname, "format-unknown",
                                            f"The root element {qname.localname} (namespace {qname.namespace or 'none'}) "
                                            f"is neither a FHIR resource (namespace {FHIR_NS}) nor a SOAP Envelope.")


class MessageValidator:
    """FHIR resources and Bundles against our profiles and R4 core; SOAP
    envelopes against our XSDs, WS-Security and SAML."""

    def __init__(self, fhir: FhirValidator, soap: SoapValidator) -> None:
        self.fhir = fhir
        self.soap = soap

    @classmethod
    def with_trust(cls, trust: Trust, fhir: FhirValidator | None = None) -> "MessageValidator":
        """SOAP judged with ``trust``; FHIR with ``fhir`` (one that knows more packages), else the shared one."""
        return cls(fhir or FhirValidator.default(), SoapValidator(SchemaIndex.default(), trust))

    def validate(self, data: bytes, *, source: str, at: datetime, profile: str | None = None,
                 replay: RunReplayGuard | None = None) -> Verdict:
        """``profile`` forces the FHIR profile (SOAP ignores it); ``at`` is the
        instant SOAP timestamps, assertions and certificates are judged at.
        A failure of the validator itself is a fatal finding of that message
        (logged with its traceback), so one message cannot end a whole run."""
        try:
            return self._validate(trimmed(data), source, at, profile, replay)
        except Exception as exc:  # noqa: BLE001 - reported in the verdict and logged, never hidden
            log.exception("validating %s failed", source)
            return Verdict(source, "unknown", [Finding(ValidationIssue(
                "fatal", "exception", "/", "validator-failed",
                f"The validator failed on this message ({type(exc).__name__}); this is a fault of the gateway, "
                "not necessarily of the message: report it with the message."))])

    def _validate(self, data: bytes, source: str, at: datetime, profile: str | None,
                  replay: RunReplayGuard | None) -> Verdict:
        kind, root, problem = detect(data)
        if problem is not None:
            return Verdict(source, kind, [Finding(problem)])
        if kind == "soap":
            assert root is not None
            return Verdict(source, kind, self.soap.validate(root, at=at, replay=replay), at=at)
        if kind == "fhir-xml":
            assert root is not None
            xml = self.fhir.validate_xml(data, profile=profile)
            return Verdict(source, kind, [_quoted(i, lambda path: fhir_xml_snippet(root, path)) for i in xml.issues],
                           xml.profiles)
        result = self.fhir.validate_json(data, profile=profile)
        try:
            resource = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return Verdict(source, kind, [Finding(i) for i in result.issues], result.profiles)
        return Verdict(source, kind, [_quoted(i, lambda path: fhir_json_snippet(resource, path)) for i in result.issues],
                       result.profiles)


def _quoted(issue: ValidationIssue, snippet: Callable[[str], str]) -> Finding:
    """Errors and warnings quote the message; information (``dom-6``...) would only repeat it whole."""
    return Finding(issue, "" if issue.severity == "information" else snippet(issue.expression))


def unreadable(source: str, reason: str) -> Verdict:
    """The verdict on a file that could not be read."""
    return Verdict(source, "unreadable", [Finding(ValidationIssue("fatal", "not-found", "/", "file-unreadable",
                                                                  f"The file cannot be read: {reason}."))])
