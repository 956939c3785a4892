"""``care-gateway validate``: the expected verdict and exit status for every
corpus message (FHIR and SOAP) in each report format, read back as what it
claims to be (an OperationOutcome, JUnit XML, an HTML page); --out,
--profile, --at, trust options, autodetection, unreadable files, --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from lxml import etree

from gateway.cli import build_parser, main
from gateway.conformance.cli import REPORT_FORMATS
from gateway.conformance.fhir import RULE_EXTENSION, FhirValidator
from gateway.conformance.reports import RENDERERS
from gateway.conformance.reports.outcome import SNIPPET_EXTENSION
from gateway.ehealth.pki import load_pki
from tests.conformance.corpus import DEFAULT_AT, Message, messages

CORPUS = messages()
SD = "https://care-gateway.be/fhir/StructureDefinition"


def validate(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    status = main(["validate", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def by_name(name: str) -> Message:
    return next(m for m in CORPUS if m.path.name == name)


REPORT_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "section", "span", "code",
               "table", "thead", "tbody", "tr", "th", "td", "pre"}


def cells(row: Any) -> tuple[str, str, str]:
    """(rule, path, severity) of an HTML report's finding row."""
    def text(cell: str) -> str:
        return str(row.xpath(f"string(td[@class='{cell}'])"))
    return text("rule"), text("path"), text("severity")


def expected_kind(message: Message) -> str:
    if message.family == "fhir":
        return "fhir-" + message.path.suffix[1:]
    return "unknown" if message.path.stem == "not-well-formed" else "soap"  # cut-off XML is not recognisably SOAP


def outcome_findings(outcome: dict[str, Any]) -> Counter[tuple[str, str]]:
    """(rule, path) of the errors and warnings of an OperationOutcome we wrote."""
    found: Counter[tuple[str, str]] = Counter()
    for issue in outcome["issue"]:
        if issue["severity"] in ("fatal", "error", "warning"):
            rule = next(e["valueString"] for e in issue["extension"] if e["url"] == RULE_EXTENSION)
            found[(rule, (issue.get("expression") or issue["location"])[0])] += 1
    return found


def snippets(outcome: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(next(e["valueString"] for e in i["extension"] if e["url"] == RULE_EXTENSION),
             (i.get("expression") or i["location"])[0]):
            next((e["valueString"] for e in i["extension"] if e["url"] == SNIPPET_EXTENSION), "")
            for i in outcome["issue"] if "extension" in i}


# ------------------------------------------------------------------ every corpus message, every format


@pytest.mark.parametrize("message", CORPUS, ids=lambda m: m.id)
def test_json_report_is_an_operation_outcome_with_the_expected_findings(message: Message, capsys) -> None:
    status, out, _ = validate(capsys, "--report", "json", "--at", message.at_text, message.path)
    assert status == (0 if message.valid else 1)
    outcome = json.loads(out)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome_findings(outcome) == message.findings
    if message.valid:
        assert all(i["severity"] in ("information", "warning") for i in outcome["issue"])
    core = FhirValidator.default().validate(outcome)  # a valid R4 OperationOutcome
    # a report quotes markup (snippets of the message, R4's txt-1 text naming <a>): the embedded-HTML warning is expected
    assert [i for i in core.issues if i.severity in ("fatal", "error", "warning")
            and i.rule != "SECURITY_STRING_CONTENT_WARNING"] == []


@pytest.mark.parametrize("message", CORPUS, ids=lambda m: m.id)
def test_junit_report_has_one_testcase_failing_with_the_findings(message: Message, capsys) -> None:
    status, out, _ = validate(capsys, "--report", "junit", "--at", message.at_text, message.path)
    assert status == (0 if message.valid else 1)
    root = etree.fromstring(out.encode("utf-8"))
    assert root.tag == "testsuites" and root.get("tests") == "1"
    [suite] = root.findall("testsuite")
    [case] = suite.findall("testcase")
    assert case.get("name") == str(message.path)
    assert case.get("classname") == f"conformance.{expected_kind(message)}"
    failures = case.findall("failure")
    assert root.get("failures") == suite.get("failures") == ("0" if message.valid else "1")
    assert root.get("errors") == "0" and case.find("error") is None
    if message.valid:
        assert failures == []
    else:
        [failure] = failures
        out = case.findtext("system-out") or ""
        for rule, path in message.findings:  # errors in the failure, warnings beside it
            in_failure = f"{rule} at {path}" in failure.get("message", "")
            assert in_failure or f"warning {rule} at {path}:" in out
            assert not in_failure or f"{rule} at {path}:" in (failure.text or "")


@pytest.mark.parametrize("message", CORPUS, ids=lambda m: m.id)
def test_html_report_shows_each_finding_with_path_rule_and_escaped_snippet(message: Message, capsys) -> None:
    status, out, _ = validate(capsys, "--report", "html", "--at", message.at_text, message.path)
    assert status == (0 if message.valid else 1)
    assert out.startswith("<!DOCTYPE html>") and "<script" not in out and "http://" not in out.split("</style>")[0]
    page = lxml.html.fromstring(out)
    [section] = page.xpath("//section[contains(@class, 'verdict')]")
    assert section.get("data-verdict") == ("valid" if message.valid else "invalid")
    rows = page.xpath("//tr[contains(@class, 'finding')]")
    shown = Counter(cells(r)[:2] for r in rows if cells(r)[2] != "information")
    assert shown == message.findings
    _, json_out, _ = validate(capsys, "--report", "json", "--at", message.at_text, message.path)
    quoted = snippets(json.loads(json_out))
    for row in rows:
        key = cells(row)[:2]
        pre = row.xpath("td[@class='snippet']/pre")
        assert (pre[0].text_content() if pre else "") == quoted[key]  # the snippet, as text
        if quoted[key]:
            assert escape(quoted[key]) in out  # escaped in the page source
    assert {e.tag for e in page.iter() if isinstance(e.tag, str)} <= REPORT_TAGS  # no markup of a message became page markup


@pytest.mark.parametrize("message", CORPUS, ids=lambda m: m.id)
def test_text_report_says_the_verdict(message: Message, capsys) -> None:
    status, out, _ = validate(capsys, "--at", message.at_text, message.path)
    assert status == (0 if message.valid else 1)
    verdict = "VALID" if message.valid else "INVALID"
    assert out.splitlines()[0].startswith(f"{verdict:8} {message.path}  (")
    for rule, path in message.findings:
        assert f"{rule}  {path}" in out


def test_the_whole_corpus_in_one_run(capsys) -> None:
    soap = [m for m in CORPUS if m.family == "soap"]
    assert {m.at for m in soap} == {DEFAULT_AT}  # one instant for the lot
    status, out, _ = validate(capsys, "--report", "json", "--at", DEFAULT_AT.isoformat(), *[m.path for m in CORPUS])
    assert status == 1
    bundle = json.loads(out)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection" and bundle["total"] == len(CORPUS)
    for message, entry in zip(CORPUS, bundle["entry"]):
        assert entry["fullUrl"] == message.path.resolve().as_uri()
        assert outcome_findings(entry["resource"]) == message.findings
    status, out, _ = validate(capsys, "--report", "junit", "--at", DEFAULT_AT.isoformat(), *[m.path for m in CORPUS])
    root = etree.fromstring(out.encode())
    assert root.get("tests") == str(len(CORPUS)) and root.get("failures") == str(sum(not m.valid for m in CORPUS))
    assert [c.get("name") for c in root.iter("testcase") if c.find("failure") is None] == [str(m.path) for m in CORPUS if m.valid]
    valid = [m.path for m in CORPUS if m.valid]
    assert validate(capsys, "--at", DEFAULT_AT.isoformat(), *valid)[0] == 0


def test_report_formats_are_the_renderers() -> None:
    assert tuple(RENDERERS) == REPORT_FORMATS


# ------------------------------------------------------------------ options


def test_out_writes_the_report_to_a_file_and_summarises_on_stderr(capsys, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "validation.xml"
    message = by_name("tampered-body.xml")
    status, out, err = validate(capsys, "--report", "junit", "--out", target, "--at", message.at_text, message.path)
    assert status == 1 and out == ""
    assert f"junit report written to {target}" in err and "1 invalid" in err
    assert etree.fromstring(target.read_bytes()).find("testsuite/testcase/failure") is not None


def test_out_to_an_unwritable_place_is_an_error(capsys, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    status, _, err = validate(capsys, "--out", tmp_path / "file" / "report.txt", by_name("inclusion.xml").path)
    assert status == 2 and "cannot write" in err


def test_profile_forces_the_profile(capsys, tmp_path: Path) -> None:
    resource = json.loads(by_name("inclusion-niss-check-digits.json").path.read_text())
    del resource["meta"]  # no meta.profile: R4 core only, which knows no check digits
    path = tmp_path / "inclusion.json"
    path.write_text(json.dumps(resource))
    assert validate(capsys, "--report", "json", path)[0] == 0
    status, out, _ = validate(capsys, "--report", "json", "--profile", f"{SD}/be-cg-inclusion", path)
    assert status == 1
    assert outcome_findings(json.loads(out)) == Counter({("cg-niss-1", "EpisodeOfCare.patient.identifier"): 1})
    status, out, _ = validate(capsys, "--report", "json", "--profile", f"{SD}/be-cg-research-consent", by_name("inclusion.xml").path)
    assert status == 1 and outcome_findings(json.loads(out)) == Counter({("Validation_VAL_Profile_WrongType", "EpisodeOfCare"): 1})
    status, out, _ = validate(capsys, "--profile", f"{SD}/be-cg-inclusion", "--at", DEFAULT_AT.isoformat(),
                              by_name("therlink-put-signed.xml").path)
    assert status == 0  # SOAP ignores --profile


def test_at_is_an_iso_instant_and_defaults_to_now(capsys) -> None:
    message = by_name("therlink-put-signed.xml")
    assert validate(capsys, "--at", "2026-06-15T12:00:00", message.path)[0] == 0  # no zone: UTC
    assert validate(capsys, "--at", "2026-06-15T14:00:00+02:00", message.path)[0] == 0
    status, out, _ = validate(capsys, message.path)  # now is not 2026-06-15T12:00Z
    assert status == 1 and ("timestamp-expired" in out or "timestamp-in-future" in out)
    with pytest.raises(SystemExit) as exit_:
        main(["validate", "--at", "yesterday", str(message.path)])
    assert exit_.value.code == 2 and "not an ISO 8601 instant" in capsys.readouterr().err


def test_trust_sts_and_ca_replace_the_sandbox_trust(capsys, tmp_path: Path) -> None:
    pki = load_pki()
    other_sts = tmp_path / "other-sts.pem"
    other_sts.write_bytes(pki.credential("untrusted-sts").cert_pem)
    at = DEFAULT_AT.isoformat()
    untrusted, signed = by_name("untrusted-sts.xml").path, by_name("therlink-put-signed.xml").path
    assert validate(capsys, "--at", at, untrusted)[0] == 1
    assert validate(capsys, "--at", at, "--trust-sts", other_sts, untrusted)[0] == 0
    status, out, _ = validate(capsys, "--at", at, "--trust-sts", other_sts, signed)
    assert status == 1 and "assertion-untrusted-signer" in out
    both = tmp_path / "both.pem"
    both.write_bytes(pki.platform("sts").cert_pem + pki.credential("untrusted-sts").cert_pem)
    assert validate(capsys, "--at", at, "--trust-sts", both, untrusted, signed)[0] == 0
    status, out, _ = validate(capsys, "--at", at, "--ca", other_sts, signed)
    assert status == 1 and "certificate-untrusted" in out
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    status, _, err = validate(capsys, "--trust-sts", not_pem, signed)
    assert status == 2 and "holds no PEM certificate" in err
    status, _, err = validate(capsys, "--ca", tmp_path / "missing.pem", signed)
    assert status == 2 and "cannot read" in err


# ------------------------------------------------------------------ what a file is


def kind_of(capsys, path: Path) -> str:
    _, out, _ = validate(capsys, "--report", "junit", "--at", DEFAULT_AT.isoformat(), path)
    case = etree.fromstring(out.encode()).find("testsuite/testcase")
    assert case is not None
    return case.get("classname", "")


def test_content_not_the_file_name_says_what_a_message_is(capsys, tmp_path: Path) -> None:
    copies = {
        "fhir-json.xml": by_name("inclusion-niss-check-digits.json").path.read_bytes(),
        "fhir-xml.json": by_name("inclusion.xml").path.read_bytes(),
        "soap.txt": by_name("therlink-put-signed.xml").path.read_bytes(),
        "bom.json": b"\xef\xbb\xbf\n  " + by_name("inclusion-nihii-mod89.json").path.read_bytes(),
        "blank-first.xml": b"\n\n  " + by_name("inclusion.xml").path.read_bytes(),  # before <?xml ...?>
    }
    for name, data in copies.items():
        (tmp_path / name).write_bytes(data)
    assert kind_of(capsys, tmp_path / "fhir-json.xml") == "conformance.fhir-json"
    assert kind_of(capsys, tmp_path / "fhir-xml.json") == "conformance.fhir-xml"
    assert kind_of(capsys, tmp_path / "soap.txt") == "conformance.soap"
    assert kind_of(capsys, tmp_path / "bom.json") == "conformance.fhir-json"
    assert validate(capsys, tmp_path / "bom.json")[0] == 0
    assert validate(capsys, tmp_path / "blank-first.xml")[0] == 0


def test_an_oversized_message_is_refused_not_read_whole(capsys, tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(b"<Bundle xmlns='http://hl7.org/fhir'>" + b" " * (3 * 1024 * 1024) + b"</Bundle>")
    status, out, _ = validate(capsys, "--report", "json", path)
    assert status == 1 and outcome_findings(json.loads(out)) == Counter({("xml-too-large", "/"): 1})
    path = tmp_path / "big.json"
    path.write_bytes(b'{"resourceType": "Patient", "x": "' + b"a" * (11 * 1024 * 1024) + b'"}')
    status, out, _ = validate(capsys, "--report", "json", path)
    assert status == 1 and outcome_findings(json.loads(out)) == Counter({("structure", "$"): 1})
    assert "larger than" in out


def test_a_bundle_is_validated_entry_by_entry(capsys) -> None:
    bundle = by_name("bundle-entry-invalid.json")
    status, out, _ = validate(capsys, "--report", "json", bundle.path)
    assert status == 1
    outcome = json.loads(out)
    assert outcome_findings(outcome) == Counter({("cg-niss-1", "Bundle.entry[1].resource.patient.identifier"): 1})
    snippet = snippets(outcome)[("cg-niss-1", "Bundle.entry[1].resource.patient.identifier")]
    assert json.loads("{" + snippet + "}")["identifier"]["value"] == "8507300332"
    assert validate(capsys, by_name("bundle-declare-inclusion.json").path)[0] == 0


def test_an_xml_bundle_quotes_the_element_inside_its_entry(capsys, tmp_path: Path) -> None:
    path = tmp_path / "bundle.xml"
    path.write_text('<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/><entry><resource><Patient>'
                    '<id value="p1"/><gender value="nope"/></Patient></resource></entry></Bundle>')
    status, out, _ = validate(capsys, "--report", "json", path)
    assert status == 1
    outcome = json.loads(out)
    assert outcome_findings(outcome) == Counter({("binding", "Bundle.entry[0].resource.gender"): 1})
    assert snippets(outcome)[("binding", "Bundle.entry[0].resource.gender")] == \
        '<gender xmlns="http://hl7.org/fhir" value="nope"/>'
    assert kind_of(capsys, path) == "conformance.fhir-xml"


def test_what_is_neither_fhir_nor_soap_is_said_so(capsys, tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_text("Dear partner, here is the inclusion.")
    (tmp_path / "other.xml").write_text('<?xml version="1.0"?><Patient xmlns="urn:example"/>')
    (tmp_path / "broken.json").write_text('{"resourceType": "EpisodeOfCare",')
    (tmp_path / "doctype.xml").write_text('<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>')
    status, out, _ = validate(capsys, "--report", "json", tmp_path / "note.txt")
    assert status == 1 and outcome_findings(json.loads(out)) == Counter({("format-unknown", "/"): 1})
    status, out, _ = validate(capsys, "--report", "json", tmp_path / "other.xml")
    assert status == 1 and outcome_findings(json.loads(out)) == Counter({("format-unknown", "/Patient"): 1})
    status, out, _ = validate(capsys, "--report", "json", tmp_path / "broken.json")
    assert status == 1 and outcome_findings(json.loads(out)) == Counter({("structure", "$"): 1})
    status, out, _ = validate(capsys, "--report", "json", tmp_path / "doctype.xml")
    assert status == 1 and outcome_findings(json.loads(out)) == Counter({("xml-doctype-forbidden", "/"): 1})


def test_unreadable_files_are_reported_and_exit_2(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    good = by_name("inclusion.xml").path
    status, out, err = validate(capsys, "--report", "junit", missing, tmp_path, good)
    assert status == 2
    assert f"cannot read {missing}" in err and f"cannot read {tmp_path}" in err
    root = etree.fromstring(out.encode())
    assert root.get("tests") == "3" and root.get("errors") == "2" and root.get("failures") == "0"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases[str(missing)].find("error").get("type") == "file-unreadable"  # type: ignore[union-attr]
    assert cases[str(good)].find("error") is None and cases[str(good)].find("failure") is None
    status, out, _ = validate(capsys, missing)
    assert status == 2 and "file-unreadable" in out and "INVALID" in out


def test_a_failure_of_the_validator_is_that_messages_finding_not_the_end_of_the_run(capsys, monkeypatch) -> None:
    from gateway.conformance.soap import SoapValidator

    def broken(self, data, **options):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(SoapValidator, "validate", broken)
    soap, fhir = by_name("therlink-put-signed.xml"), by_name("inclusion.xml")
    status, out, _ = validate(capsys, "--report", "json", "--at", soap.at_text, soap.path, fhir.path)
    assert status == 1
    first, second = (e["resource"] for e in json.loads(out)["entry"])
    assert outcome_findings(first) == Counter({("validator-failed", "/"): 1})
    assert "RuntimeError" in first["issue"][0]["details"]["text"]
    assert outcome_findings(second) == Counter()


def test_help_says_what_is_checked_and_the_exit_statuses(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["validate", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: care-gateway validate")
    for option in ("--profile", "--report", "--out", "--at", "--trust-sts", "--ca", "json", "html", "junit"):
        assert option in text
    assert "exit status: 0 every message is valid, 1 at least one is not, 2 a file" in text
    with pytest.raises(SystemExit):
        main(["validate"])  # a PATH is required
    assert "the following arguments are required: PATH" in capsys.readouterr().err


def test_the_installed_command_runs(tmp_path: Path) -> None:
    message = by_name("tampered-body.xml")
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    done = subprocess.run([sys.executable, "-m", "gateway", "validate", "--at", message.at_text, str(message.path),
                           str(by_name("inclusion.xml").path)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1, done.stderr
    assert f"INVALID  {message.path}" in done.stdout and f"VALID    {by_name('inclusion.xml').path}" in done.stdout
    assert "message-digest-mismatch  /Envelope/Header/Security/Signature" in done.stdout


# ------------------------------------------------------------------ --ig: any FHIR package


PARTNER = "https://fhir.azsintjan.be/ig"


def _package(path: Path, resources: list[dict[str, Any]], *, index: bool, dependencies: dict[str, str]) -> Path:
    """A FHIR npm package (.tgz) of differential-only resources, as a partner's guide may publish it."""
    import io
    import tarfile

    manifest = {"name": "be.azsintjan.referrals", "version": "0.3.0", "canonical": PARTNER, "fhirVersions": ["4.0.1"],
                "dependencies": dependencies}
    files = {"package/package.json": manifest}
    for resource in resources:
        files[f"package/{resource['resourceType']}-{resource['id']}.json"] = resource
    if index:
        files["package/.index.json"] = {"index-version": 2, "files": [
            {"filename": f"{r['resourceType']}-{r['id']}.json", "resourceType": r["resourceType"], "id": r["id"],
             "url": r["url"], **({"kind": r["kind"], "type": r["type"]} if "kind" in r else {})} for r in resources]}
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _partner_guide() -> list[dict[str, Any]]:
    sd = {"resourceType": "StructureDefinition", "status": "active", "fhirVersion": "4.0.1", "abstract": False,
          "derivation": "constraint"}
    extension = {**sd, "id": "contact-time", "url": f"{PARTNER}/StructureDefinition/contact-time", "name": "ContactTime",
                 "kind": "complex-type", "type": "Extension", "context": [{"type": "element", "expression": "Patient"}],
                 "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
                 "differential": {"element": [
                     {"id": "Extension", "path": "Extension", "max": "1"},
                     {"id": "Extension.url", "path": "Extension.url", "fixedUri": f"{PARTNER}/StructureDefinition/contact-time"},
                     {"id": "Extension.value[x]", "path": "Extension.value[x]", "type": [{"code": "time"}]}]}}
    patient = {**sd, "id": "az-patient", "url": f"{PARTNER}/StructureDefinition/az-patient", "name": "AzPatient",
               "kind": "resource", "type": "Patient",
               "baseDefinition": "https://www.ehealth.fgov.be/standards/fhir/core/StructureDefinition/be-patient",
               "differential": {"element": [
                   {"id": "Patient.extension:contactTime", "path": "Patient.extension", "sliceName": "contactTime",
                    "max": "1", "type": [{"code": "Extension", "profile": [extension["url"]]}]},
                   {"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}]}}
    return [extension, patient]


def _az_patient(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "az-1", "meta": {"profile": [f"{PARTNER}/StructureDefinition/az-patient"]},
            "identifier": [{"system": "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin",
                            "value": "85073003328"}],
            "extension": [{"url": f"{PARTNER}/StructureDefinition/contact-time", "valueTime": "18:30:00"}], **fields}


@pytest.mark.parametrize("index", [True, False], ids=["with-index", "without-index"])
def test_ig_validates_against_a_differential_only_package(capsys, tmp_path: Path, index: bool) -> None:
    package = _package(tmp_path / "guide.tgz", _partner_guide(), index=index,
                       dependencies={"hl7.fhir.r4.core": "4.0.1", "hl7.fhir.be.core": "2.1.2"})
    message = tmp_path / "patient.json"
    message.write_text(json.dumps(_az_patient()))
    status, out, _ = validate(capsys, "--report", "json", message)  # without the guide: unknown profile and extension
    assert status == 1 and outcome_findings(json.loads(out)) == Counter({
        ("Validation_VAL_Profile_Unknown", "Patient.meta.profile[0]"): 1,
        ("Extension_EXT_Unknown_NotHere", "Patient.extension[0]"): 1})
    status, out, err = validate(capsys, "--ig", package, "--report", "json", message)
    assert status == 1 and err == ""
    assert outcome_findings(json.loads(out)) == Counter({("cardinality", "Patient.birthDate"): 1})  # the guide's rule
    message.write_text(json.dumps(_az_patient(birthDate="1985-07-30")))
    assert validate(capsys, "--ig", package, message)[0] == 0
    message.write_text(json.dumps(_az_patient(birthDate="1985-07-30", extension=[
        {"url": f"{PARTNER}/StructureDefinition/contact-time", "valueString": "evening"}])))
    status, out, _ = validate(capsys, "--ig", package, "--report", "json", message)
    assert status == 1 and ("type", "Patient.extension[0].valueString") in outcome_findings(json.loads(out))


def test_ig_says_which_dependencies_are_missing_and_refuses_what_is_no_package(capsys, tmp_path: Path) -> None:
    package = _package(tmp_path / "guide.tgz", _partner_guide(), index=True,
                       dependencies={"hl7.fhir.r4.core": "4.0.1", "be.azsintjan.base": "1.0.0"})
    message = tmp_path / "patient.json"
    message.write_text(json.dumps(_az_patient(birthDate="1985-07-30")))
    status, _, err = validate(capsys, "--ig", package, message)
    assert status == 0 and "be.azsintjan.base#1.0.0" in err and "not loaded" in err
    not_a_package = tmp_path / "notes.tgz"
    not_a_package.write_text("these are notes")
    status, out, err = validate(capsys, "--ig", not_a_package, message)
    assert status == 2 and out == "" and "not a readable FHIR package" in err


def test_extension_domain_accepts_a_partner_s_extensions(capsys, tmp_path: Path) -> None:
    message = tmp_path / "patient.json"
    message.write_text(json.dumps({"resourceType": "Patient", "extension": [
        {"url": "https://fhir.azsintjan.be/ext/ward", "valueString": "3B"}]}))
    assert validate(capsys, message)[0] == 1
    assert validate(capsys, "--extension-domain", "https://fhir.azsintjan.be/", message)[0] == 0


# ------------------------------------------------------------------ --compare: beside another validator


def _their_outcome(*issues: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


def _issue(severity: str, path: str, text: str, message_id: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": "invalid", "details": {"text": text}, "expression": [path],
                             "location": [path, "Line[3] Col[5]"]}
    if message_id:
        issue["extension"] = [{"url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id",
                               "valueString": message_id}]
    return issue


def test_compare_lines_findings_up_by_element_path(capsys, tmp_path: Path) -> None:
    message = by_name("period-reversed-across-zones.json").path
    outcome = tmp_path / "hl7.json"
    outcome.write_text(json.dumps(_their_outcome(
        _issue("error", "Encounter.period", "Constraint failed: per-1", "http://hl7.org/fhir/StructureDefinition/Period#per-1"))))
    status, out, _ = validate(capsys, "--compare", outcome, message)
    assert status == 0
    assert "the verdicts agree" in out and "1 agreement(s), 0 difference(s)" in out
    assert "Encounter.period: both report an error, same rule" in out
    outcome.write_text(json.dumps(_their_outcome(
        _issue("warning", "Encounter.period", "per-1 (as a warning)"),
        _issue("error", "Encounter.class", "The value provided ('HH') was not found in the value set"))))
    status, out, _ = validate(capsys, "--compare", outcome, "--report", "json", message)
    assert status == 1
    report = json.loads(out)
    assert report["verdicts"] == {"care-gateway": "invalid", "other": "invalid"} and report["agree"] is False
    assert [(d["path"], d["summary"]) for d in report["differences"]] == [
        ("Encounter.class", "error from the other validator only"),
        ("Encounter.period", "care-gateway: error, the other validator: warning")]


def test_compare_normalises_the_hl7_validator_s_paths() -> None:
    from gateway.conformance.fhir.compare import normalise

    assert normalise("Bundle.entry[2].resource/*Patient/p*/.name[0]") == "Bundle.entry[2].resource.name[0]"
    assert normalise("Bundle.entry[0].resource.ofType(Observation).value.ofType(Quantity)") == (
        "Bundle.entry[0].resource.valueQuantity")
    assert normalise("Patient.contained[1].ofType(Organization).name") == "Patient.contained[1].name"


def test_compare_wants_one_fhir_message_and_an_operation_outcome(capsys, tmp_path: Path) -> None:
    outcome = tmp_path / "hl7.json"
    outcome.write_text(json.dumps(_their_outcome()))
    fhir = by_name("period-reversed-across-zones.json").path
    assert validate(capsys, "--compare", outcome, fhir, fhir)[0] == 2
    assert validate(capsys, "--compare", outcome, by_name("therlink-put-signed.xml").path)[0] == 2
    outcome.write_text(json.dumps({"resourceType": "Patient"}))
    status, _, err = validate(capsys, "--compare", outcome, fhir)
    assert status == 2 and "OperationOutcome" in err
