"""The SOAP partner-message corpus: each envelope's verdict and findings
match its sidecar exactly; the corpus covers the required cases, is what its
maintainer script makes, and its valid envelopes verify with xmlsec1 too.
Also: the XSD is found by the payload's namespace, trust and instant matter."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from gateway.conformance.reports import operation_outcome
from gateway.conformance.reports.outcome import SNIPPET_EXTENSION
from gateway.conformance.fhir import RULE_EXTENSION
from gateway.conformance.soap import RunReplayGuard, SchemaIndex, SoapValidator, Trust
from gateway.conformance.validate import MessageValidator
from gateway.conformance.verdict import Verdict
from gateway.contracts import contract
from gateway.ehealth.pki import load_pki
from gateway.soap11.envelope import SOAP11_NS, WSU_NS
from tests.conformance.corpus import Message, messages

SOAP = messages("soap")
TOOL = contract("conformance", "tools", "make_soap_corpus.py")


def soap_validator(trust: Trust | None = None) -> SoapValidator:
    return SoapValidator(SchemaIndex.default(), trust or Trust.sandbox())


def verdict(message: Message, trust: Trust | None = None) -> Verdict:
    return MessageValidator(MessageValidator.with_trust(Trust.sandbox()).fhir, soap_validator(trust)).validate(
        message.path.read_bytes(), source=str(message.path), at=message.at)


def by_name(name: str) -> Message:
    return next(m for m in SOAP if m.path.stem == name)


@pytest.mark.parametrize("message", SOAP, ids=lambda m: m.id)
def test_envelope_verdict_and_findings_match_the_sidecar(message: Message) -> None:
    assert message.valid is (message.path.parent.name == "valid")
    assert "description" in message.expected and "at" in message.expected
    result = verdict(message)
    assert result.valid is message.valid, [(f.issue.rule, f.issue.expression, f.issue.message) for f in result.findings]
    assert Counter(result.rule_paths()) == message.findings
    if not message.valid:
        assert message.findings, "an invalid envelope lists its findings"


@pytest.mark.parametrize("message", [m for m in SOAP if not m.valid], ids=lambda m: m.id)
def test_findings_are_in_the_operation_outcome_with_a_snippet(message: Message) -> None:
    outcome = operation_outcome(verdict(message))
    reported = {}
    for issue in outcome["issue"]:
        extensions = {e["url"]: e["valueString"] for e in issue["extension"]}
        reported[(extensions[RULE_EXTENSION], issue["location"][0])] = extensions.get(SNIPPET_EXTENSION, "")
        assert "expression" not in issue  # a SOAP path is not FHIRPath
    for finding in message.findings:
        assert finding in reported
    if message.path.stem not in ("not-well-formed",):
        assert all(reported.values()), "every finding quotes the part of the envelope it is about"


def test_corpus_covers_the_required_cases() -> None:
    valid = {m.path.stem for m in SOAP if m.valid}
    assert {"therlink-put-signed", "addressbook-search-signed"} <= valid
    rules = {m.path.stem: {rule for rule, _ in m.findings} for m in SOAP if not m.valid}
    assert rules["unsigned"] == {"security-header-missing"}
    assert rules["tampered-body"] == {"message-digest-mismatch"}
    assert rules["expired-assertion"] == {"assertion-expired"}
    assert rules["untrusted-sts"] == {"assertion-untrusted-signer"}
    assert rules["wrapped-body"] == {"signature-wrapping"}
    assert rules["missing-timestamp"] == {"timestamp-missing"}
    assert rules["payload-invalid-xsd"] == {"schema-invalid"}
    assert rules["not-an-envelope-soap12"] == {"malformed-envelope"}
    payloads = {etree.QName(root[-1][0]).localname for m in SOAP if m.valid
                for root in [etree.fromstring(m.path.read_bytes())]}
    assert payloads == {"PutTherapeuticLinkRequest", "SearchProfessionalsRequest", "OpenDossierRequest"}


def test_the_maintainer_script_regenerates_the_corpus_byte_for_byte(tmp_path: Path, monkeypatch) -> None:
    spec = importlib.util.spec_from_file_location("make_soap_corpus", TOOL)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, tool)  # its dataclasses look their module up
    spec.loader.exec_module(tool)
    tool.generate(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(contract("conformance", "messages", "soap"))
                     for p in contract("conformance", "messages", "soap").rglob("*")
                     if p.is_file() and p.name != "README.md")
    assert made == shipped
    stale = [str(p) for p in made if (tmp_path / p).read_bytes() != (contract("conformance", "messages", "soap") / p).read_bytes()]
    assert stale == [], f"run: python {TOOL.relative_to(contract())}"


# ------------------------------------------------------------------ independent oracle


@pytest.fixture(scope="module")
def xmlsec1() -> str:
    path = shutil.which("xmlsec1")
    if path is None:
        pytest.skip("xmlsec1 is not installed (Debian/Ubuntu package: xmlsec1); it is the independent signature oracle")
    return path


def xmlsec1_verifies(xmlsec1: str, message: Path, cert: bytes, tmp_path: Path) -> bool:
    pem = tmp_path / "holder-of-key.pem"
    pem.write_bytes(cert)
    command = [xmlsec1, "--verify", "--id-attr:Id", f"{SOAP11_NS}:Body", "--id-attr:Id", f"{WSU_NS}:Timestamp",
               "--pubkey-cert-pem", str(pem), "--node-xpath",
               "/*/*[1]/*[local-name()='Security']/*[local-name()='Signature']", str(message)]
    return subprocess.run(command, capture_output=True, text=True).returncode == 0


def test_valid_envelopes_verify_with_xmlsec1_and_the_tampered_one_does_not(xmlsec1: str, tmp_path: Path) -> None:
    pki = load_pki()
    assert xmlsec1_verifies(xmlsec1, by_name("therlink-put-signed").path, pki.persona("gp-no-link").cert_pem, tmp_path)
    assert xmlsec1_verifies(xmlsec1, by_name("addressbook-search-signed").path, pki.persona("gp").cert_pem, tmp_path)
    assert not xmlsec1_verifies(xmlsec1, by_name("tampered-body").path, pki.persona("gp-no-link").cert_pem, tmp_path)


# ------------------------------------------------------------------ instant, replay, trust


def test_the_same_envelope_judged_later_has_an_expired_timestamp() -> None:
    message = by_name("therlink-put-signed")
    findings = soap_validator().validate(message.path.read_bytes(), at=message.at + timedelta(minutes=3))
    assert [(f.issue.rule, f.issue.expression) for f in findings] == [("timestamp-expired", "/Envelope/Header/Security/Timestamp")]
    findings = soap_validator().validate(message.path.read_bytes(), at=message.at - timedelta(minutes=5))
    assert sorted(f.issue.rule for f in findings) == ["assertion-not-yet-valid", "timestamp-in-future"]


def test_a_signature_seen_twice_in_one_run_is_a_replay_and_a_new_run_forgets_it() -> None:
    message, validator = by_name("therlink-put-signed"), soap_validator()
    replay = RunReplayGuard()
    assert validator.validate(message.path.read_bytes(), at=message.at, replay=replay) == []
    again = validator.validate(message.path.read_bytes(), at=message.at, replay=replay)
    assert [(f.issue.rule, f.issue.expression) for f in again] == [("message-replayed", "/Envelope/Header/Security/Signature")]
    assert validator.validate(message.path.read_bytes(), at=message.at, replay=RunReplayGuard()) == []


def test_trusting_another_sts_replaces_the_sandbox_sts() -> None:
    pki = load_pki()
    other = Trust((pki.credential("untrusted-sts").certificate,), pki.ca.certificate)
    assert verdict(by_name("untrusted-sts"), other).valid
    refused = verdict(by_name("therlink-put-signed"), other)
    assert refused.rule_paths() == [("assertion-untrusted-signer", "/Envelope/Header/Security/Assertion")]


def test_another_ca_refuses_the_sandbox_holder_of_key_certificate() -> None:
    pki = load_pki()
    other = Trust((pki.platform("sts").certificate,), pki.credential("untrusted-sts").certificate)
    result = verdict(by_name("therlink-put-signed"), other)
    assert result.rule_paths() == [("certificate-untrusted",
                                    "/Envelope/Header/Security/Assertion/AuthenticationStatement/Subject/SubjectConfirmation")]


# ------------------------------------------------------------------ XSD found by namespace


def test_every_service_payload_finds_its_xsd_by_namespace() -> None:
    index = SchemaIndex.default()
    cases = {
        "{http://www.ehealth.fgov.be/hubservices/protocol/v2}PutTherapeuticLinkRequest": "soap/ehealth/hubservices/hubservices-protocol-v2.xsd",
        "{http://www.ehealth.fgov.be/hubservices/protocol/v2}PutPatientConsentRequest": "soap/ehealth/hubservices/hubservices-protocol-v2.xsd",
        "{urn:be:fgov:ehealth:addressbook:protocol:v1}SearchOrganizationsRequest": "soap/ehealth/addressbook/addressbook-protocol-v1.xsd",
        "{urn:be:fgov:ehealth:consultrn:protocol:v1}SearchBySSINRequest": "soap/ehealth/consultrn/consultrn-protocol-v1.xsd",
    }
    for tag, xsd in cases.items():
        found = index.schema_file(tag)
        assert found is not None and index.relative(found) == xsd, tag
    assert index.schema_file("{urn:example:ping:v1}Ping") is None


NEW_SERVICE_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:example:new-service:v1"
           xmlns:n="urn:example:new-service:v1" elementFormDefault="qualified">
  <xs:include schemaLocation="types.xsd"/>
  <xs:element name="PingRequest"><xs:complexType><xs:sequence>
    <xs:element name="Count" type="n:Small"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""
NEW_SERVICE_TYPES = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:example:new-service:v1">
  <xs:simpleType name="Small"><xs:restriction base="xs:int"><xs:maxInclusive value="9"/></xs:restriction></xs:simpleType>
</xs:schema>"""


def test_a_new_services_xsd_is_picked_up_without_code_changes(tmp_path: Path) -> None:
    shutil.copytree(contract("soap"), tmp_path / "soap")
    folder = tmp_path / "soap" / "new-service"
    folder.mkdir()
    (folder / "new-service-v1.xsd").write_text(NEW_SERVICE_XSD)
    (folder / "types.xsd").write_text(NEW_SERVICE_TYPES)
    index = SchemaIndex(tmp_path / "soap")
    ok = etree.fromstring('<n:PingRequest xmlns:n="urn:example:new-service:v1"><n:Count>3</n:Count></n:PingRequest>')
    bad = etree.fromstring('<n:PingRequest xmlns:n="urn:example:new-service:v1"><n:Count>12</n:Count></n:PingRequest>')
    assert index.validate(ok, "/Envelope/Body") == []
    [problem] = index.validate(bad, "/Envelope/Body")
    assert problem.path == "/Envelope/Body/PingRequest/Count" and "maxInclusive" in problem.message
    assert index.relative(index.schema_file(ok.tag)) == "soap/new-service/new-service-v1.xsd"  # type: ignore[arg-type]
    assert index.schema_file("{http://www.ehealth.fgov.be/hubservices/protocol/v2}PutTherapeuticLinkRequest")


def test_an_xsd_that_does_not_compile_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "broken.xsd").write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">'
                                         '<xs:element name="A" type="xs:nosuchtype"/></xs:schema>')
    validator = SoapValidator(SchemaIndex(tmp_path), Trust.sandbox())
    envelope = (f'<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body><x:A xmlns:x="urn:x">1</x:A></s:Body></s:Envelope>').encode()
    findings = validator.validate(envelope, at=by_name("unsigned").at)
    assert [(f.issue.rule, f.issue.expression) for f in findings] == [
        ("schema-unavailable", "/Envelope/Body/A"), ("security-header-missing", "/Envelope/Header")]
    assert "broken.xsd" in findings[0].issue.message


def test_an_element_the_namespace_does_not_declare_is_schema_invalid() -> None:
    envelope = (f'<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body><p:NoSuchRequest '
                'xmlns:p="urn:be:fgov:ehealth:addressbook:protocol:v1"/></s:Body></s:Envelope>').encode()
    findings = soap_validator().validate(envelope, at=by_name("unsigned").at)
    assert (findings[0].issue.rule, findings[0].issue.expression) == ("schema-invalid", "/Envelope/Body/NoSuchRequest")


def test_a_body_with_two_payloads_is_reported() -> None:
    envelope = (f'<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body><a/><b/></s:Body></s:Envelope>').encode()
    findings = soap_validator().validate(envelope, at=by_name("unsigned").at)
    assert [(f.issue.rule, f.issue.expression) for f in findings] == [
        ("body-malformed", "/Envelope/Body"), ("security-header-missing", "/Envelope/Header")]


def test_an_envelope_signed_with_an_x509_token_is_checked_in_that_mode() -> None:
    from gateway.domain.clock import FixedClock
    from gateway.identity.signing import sign_with_x509

    message = by_name("addressbook-search-signed")
    root = etree.fromstring(message.path.read_bytes())
    root.remove(root.find(f"{{{SOAP11_NS}}}Header"))  # the same payload, signed anew with a bare certificate
    for element in root.iter():
        element.attrib.pop(f"{{{WSU_NS}}}Id", None)
    pki = load_pki()
    key = pki.persona("gp")
    signed = etree.tostring(sign_with_x509(root, key.private_key, key.certificate, clock=FixedClock(message.at)))
    assert soap_validator().validate(signed, at=message.at) == []
    other_ca = Trust((pki.platform("sts").certificate,), pki.credential("untrusted-sts").certificate)
    findings = soap_validator(other_ca).validate(signed, at=message.at)
    assert [(f.issue.rule, f.issue.expression) for f in findings] == [
        ("certificate-untrusted", "/Envelope/Header/Security/BinarySecurityToken")]
