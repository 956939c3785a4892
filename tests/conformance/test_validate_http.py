"""``POST /conformance/validate`` over real HTTP: every corpus message's
verdict as an OperationOutcome, the other report formats, form uploads, the
gateway's clock as the default instant, refusals of unusable requests; and
the validator page with its assets (no external resource)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import httpx
import pytest
from lxml import etree

from gateway.conformance.api import MAX_BYTES
from gateway.conformance.fhir import RULE_EXTENSION
from tests.conformance.corpus import Message, messages

CORPUS = messages()
URL = "/conformance/validate"


def by_name(name: str) -> Message:
    return next(m for m in CORPUS if m.path.name == name)


def findings(outcome: dict[str, Any]) -> Counter[tuple[str, str]]:
    return Counter((next(e["valueString"] for e in i["extension"] if e["url"] == RULE_EXTENSION),
                    (i.get("expression") or i["location"])[0])
                   for i in outcome["issue"] if i["severity"] in ("fatal", "error", "warning"))


@pytest.fixture(scope="module")
def http(live):
    with httpx.Client(base_url=live.base_url, timeout=60) as client:
        yield client


@pytest.mark.parametrize("message", CORPUS, ids=lambda m: m.id)
def test_each_corpus_message_gets_its_verdict(http, message: Message) -> None:
    answer = http.post(URL, params={"at": message.at_text}, content=message.path.read_bytes(),
                       headers={"Content-Type": "application/fhir+json" if message.path.suffix == ".json" else "text/xml"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/fhir+json"
    assert answer.headers["x-validation-verdict"] == ("valid" if message.valid else "invalid")
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert findings(outcome) == message.findings


def test_other_report_formats(http) -> None:
    message = by_name("payload-invalid-xsd.xml")
    data = message.path.read_bytes()
    html = http.post(URL, params={"at": message.at_text, "report": "html", "name": "partner.xml"}, content=data)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "script-src" not in html.headers["content-security-policy"]  # a report runs nothing
    assert "partner.xml" in html.text and "/Envelope/Body/PutTherapeuticLinkRequest/therapeuticlink/patient/id" in html.text
    assert "&lt;core:id" in html.text or "&lt;id" in html.text
    junit = http.post(URL, params={"at": message.at_text, "report": "junit"}, content=data)
    assert junit.headers["content-type"].startswith("application/xml")
    failure = etree.fromstring(junit.content).find("testsuite/testcase/failure")
    assert failure is not None and "schema-invalid at /Envelope/Body" in failure.get("message", "")
    text = http.post(URL, params={"at": message.at_text, "report": "text"}, content=data)
    assert text.text.startswith("INVALID  message  (SOAP envelope)")


def test_a_form_with_an_uploaded_file_or_a_pasted_message(http) -> None:
    message = by_name("therlink-put-signed.xml")
    upload = http.post(URL, files={"file": ("request.xml", message.path.read_bytes(), "text/xml")},
                       data={"at": message.at_text, "report": "html"})
    assert upload.status_code == 200 and upload.headers["x-validation-verdict"] == "valid"
    assert '<code class="source">request.xml</code>' in upload.text
    invalid = by_name("inclusion-niss-check-digits.json")
    pasted = http.post(URL, files={"file": ("", b"", "application/octet-stream")},
                       data={"message": invalid.path.read_text(), "report": "json"})
    assert pasted.headers["x-validation-verdict"] == "invalid"
    assert findings(pasted.json()) == invalid.findings
    empty = http.post(URL, files={"file": ("", b"", "application/octet-stream")}, data={"message": "  "})
    assert empty.status_code == 400 and empty.json()["issue"][0]["details"]["coding"][0]["code"] == "message-empty"


def test_profile_option(http) -> None:
    message = by_name("inclusion.xml")
    forced = http.post(URL, params={"profile": "https://care-gateway.be/fhir/StructureDefinition/be-cg-referral"},
                       content=message.path.read_bytes())
    assert forced.headers["x-validation-verdict"] == "invalid"
    assert findings(forced.json()) == Counter({("Validation_VAL_Profile_WrongType", "EpisodeOfCare"): 1})


def test_the_default_instant_is_the_gateways_clock(http, live) -> None:
    message = by_name("therlink-put-signed.xml")
    before = live.clock.now()
    try:
        assert http.post(URL, content=message.path.read_bytes()).headers["x-validation-verdict"] == "invalid"
        live.clock.set(message.at)
        answer = http.post(URL, content=message.path.read_bytes())
        assert answer.headers["x-validation-verdict"] == "valid"
        assert message.at.isoformat() in answer.json()["issue"][0]["details"]["text"]
        again = http.post(URL, content=message.path.read_bytes())  # each request is its own run: no replay
        assert again.headers["x-validation-verdict"] == "valid"
    finally:
        live.clock.set(before)


def test_unusable_requests_are_refused_with_an_operation_outcome(http) -> None:
    data = by_name("inclusion.xml").path.read_bytes()
    for params, code in (({"report": "pdf"}, "report-unknown"), ({"at": "yesterday"}, "at-invalid")):
        answer = http.post(URL, params=params, content=data)
        assert answer.status_code == 400 and answer.headers["content-type"] == "application/fhir+json"
        issue = answer.json()["issue"][0]
        assert issue["details"]["coding"][0]["code"] == code and issue["expression"] == [next(iter(params))]
    assert http.post(URL, content=b"").status_code == 400
    too_big = http.post(URL, content=b" " * (MAX_BYTES + 1))
    assert too_big.status_code == 413 and too_big.json()["issue"][0]["code"] == "too-long"


def test_the_validator_page_and_its_assets(http) -> None:
    page = http.get("/conformance/validator")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    document = etree.fromstring(page.content, etree.HTMLParser())
    references = [e.get("src") or e.get("href") for e in document.iter() if e.get("src") or e.get("href")]
    assert sorted(references) == ["report.css", "validator.css", "validator.js"]  # relative: no CDN, works under a prefix
    assert document.find(".//form").get("action") == "validate?report=html"  # works without JavaScript too
    assert {e.get("name") for e in document.iter("textarea", "input")} >= {"message", "file", "profile", "at"}
    for name, media in (("validator.js", "text/javascript"), ("validator.css", "text/css"), ("report.css", "text/css")):
        asset = http.get(f"/conformance/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(media)
        assert not re.search(r"https?://", asset.text)
    assert http.get("/conformance/nothing.js").status_code == 404


def test_the_endpoint_is_in_the_openapi_description(http) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert "post" in paths[URL]
    assert "/conformance/validator" not in paths

