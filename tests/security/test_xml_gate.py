"""The XML gate holds in every encoding: a DOCTYPE (internal subset or
external identifier) or an entity reference is refused on the parsed
document, so a UTF-16, UTF-32 or UTF-7 document cannot carry one past a
byte pattern. Proved on the parser and through every face that reads XML:
a correctly signed SOAP call in UTF-16 with a DOCTYPE, the same with an
entity reference in its header (it reached signxml's re-parse and was
answered 500), FHIR XML, the conformance validator."""

from __future__ import annotations

import re

import httpx
import pytest

from gateway.identity.xml import UnsafeXml, parse_untrusted
from tests.soap.conftest import request, response_fault

DECLARED = '<?xml version="1.0" encoding="{name}"?>'
DTDS = {
    "internal subset": '<!DOCTYPE r [<!ENTITY x "boom">]>',
    "external identifier": '<!DOCTYPE r SYSTEM "http://attacker.example/x.dtd">',
    "bare": "<!DOCTYPE r>",
}
# (declared encoding, Python codec): BOM and BOM-less variants of UTF-16 and UTF-32
ENCODINGS = [
    ("UTF-16", "utf-16"), ("UTF-16LE", "utf-16-le"), ("UTF-16BE", "utf-16-be"),
    ("UTF-32", "utf-32"), ("UTF-32LE", "utf-32-le"), ("UTF-32BE", "utf-32-be"),
    ("UTF-8", "utf-8-sig"), ("ISO-8859-1", "latin-1"),
]


def utf7(text: str) -> bytes:
    """UTF-7 as a filter-dodging client writes it: every markup character base64-escaped."""
    escapes = {"<": "+ADw-", ">": "+AD4-", "!": "+ACE-", "[": "+AFs-", "]": "+AF0-", '"': "+ACI-", "&": "+ACY-", ";": "+ADs-"}
    return "".join(escapes.get(c, c) for c in text).encode("ascii")


@pytest.mark.parametrize("dtd", DTDS)
@pytest.mark.parametrize("name,codec", ENCODINGS)
def test_doctype_is_refused_in_every_encoding(name, codec, dtd):
    body = DTDS[dtd] + ("<r>&x;</r>" if dtd == "internal subset" else "<r/>")
    with pytest.raises(UnsafeXml) as refused:
        parse_untrusted((DECLARED.format(name=name) + body).encode(codec))
    assert refused.value.code == "xml-doctype-forbidden"


@pytest.mark.parametrize("dtd", DTDS)
def test_doctype_is_refused_in_utf7(dtd):
    body = DTDS[dtd] + ("<r>&x;</r>" if dtd == "internal subset" else "<r/>")
    with pytest.raises(UnsafeXml) as refused:
        parse_untrusted(DECLARED.format(name="UTF-7").encode("ascii") + utf7(body))
    assert refused.value.code == "xml-doctype-forbidden"


@pytest.mark.parametrize("name,codec", ENCODINGS)
def test_documents_without_a_doctype_still_parse_in_every_encoding(name, codec):
    root = parse_untrusted((DECLARED.format(name=name) + '<r a="é">ok</r>').encode(codec))
    assert (root.tag, root.text, root.get("a")) == ("r", "ok", "é")


def reencoded(signed: bytes, codec: str, name: str, *, header_entity: bool) -> bytes:
    """A signed envelope re-encoded (the signature covers canonical XML, so it
    still verifies), with a DOCTYPE and, if asked, an entity reference in an
    unsigned header element."""
    text = signed.decode("utf-8")
    text = re.sub(r"^<\?xml[^>]*\?>", "", text)
    if header_entity:
        text = re.sub(r"(<[A-Za-z0-9_]+:Header[^>]*>)", r'\1<n:Note xmlns:n="urn:note">&x;</n:Note>', text, count=1)
    return (DECLARED.format(name=name) + '<!DOCTYPE Envelope [<!ENTITY x "boom">]>' + text).encode(codec)


@pytest.mark.parametrize("header_entity", [False, True], ids=["doctype", "entity-in-header"])
@pytest.mark.parametrize("name,codec", [("UTF-16", "utf-16"), ("UTF-32BE", "utf-32-be")])
def test_a_signed_soap_call_with_a_doctype_is_a_client_fault(soap, personas, name, codec, header_entity):
    signed = soap.signed("gp", request("GetPatientInclusions", PatientSsin=personas["patient"].niss))
    answer = soap.post(reencoded(signed, codec, name, header_entity=header_entity), action="GetPatientInclusions")
    fault = response_fault(answer)
    assert (answer.status_code, fault["faultcode"], fault["Code"]) == (500, "soapenv:Client", "xml-doctype-forbidden")
    control = soap.post(soap.signed("gp", request("GetPatientInclusions", PatientSsin=personas["patient"].niss)),
                        action="GetPatientInclusions")
    assert control.status_code == 200  # the same call without the DOCTYPE is served


def test_fhir_xml_with_a_doctype_is_refused_in_utf16(live, fhir_token):
    from pathlib import Path

    example = Path("fhir/examples/EpisodeOfCare-inclusion-pseudonymised.xml").read_text(encoding="utf-8")
    example = re.sub(r"^<\?xml[^>]*\?>", "", example)
    body = (DECLARED.format(name="UTF-16") + '<!DOCTYPE EpisodeOfCare [<!ENTITY x "boom">]>' + example).encode("utf-16")
    answer = httpx.post(f"{live.base_url}/fhir/EpisodeOfCare", content=body, timeout=30, headers={
        "Authorization": f"Bearer {fhir_token('gp')}", "Content-Type": "application/fhir+xml"})
    assert answer.status_code == 400
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome" and "xml-doctype-forbidden" in answer.text


def test_the_conformance_validator_refuses_a_doctype_in_utf16(live):
    envelope = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
                "<soapenv:Header/><soapenv:Body><r>&x;</r></soapenv:Body></soapenv:Envelope>")
    body = (DECLARED.format(name="UTF-16") + '<!DOCTYPE Envelope [<!ENTITY x "boom">]>' + envelope).encode("utf-16")
    answer = httpx.post(f"{live.base_url}/conformance/validate", content=body, timeout=30)
    assert answer.status_code in (200, 400) and answer.status_code < 500
    assert answer.headers.get("x-validation-verdict", "invalid") == "invalid"
    assert "doctype" in answer.text.lower() or "format-unknown" in answer.text


def test_suite_runner_reads_target_answers_through_the_gate():
    """The conformance runner parses what a target answers: a DOCTYPE in it is
    not read (an XPath assert then finds nothing), it was parsed before."""
    from gateway.conformance.suites.asserts import Answer
    from gateway.conformance.suites.model import Exchange

    hostile = '<!DOCTYPE r [<!ENTITY x "boom">]><r>&x;</r>'
    assert Answer(Exchange("GET", "http://target/", response_body=hostile), {}).xml is None
    assert Answer(Exchange("GET", "http://target/", response_body="<r>ok</r>"), {}).xml.text == "ok"
