"""A deliberately broken endpoint: a proxy in front of a live gateway that
accepts a principal inclusion overlapping another (IC-R1), drops the rule id
from SOAP Faults, answers a FHIR search without a token, and answers a SOAP
request that carries no WS-Security. The suites must fail exactly the steps
that prove those rules, and the reports must say why in words."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import uvicorn
import yaml
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.cli import main
from gateway.conformance.fhir.validator import FhirValidator
from gateway.conformance.suites.loader import suites_dir
from tests.conformance.test_suites_against_gateway import wall_clock  # noqa: F401  (fixture)

FAULT_NS = "urn:be:care-gateway:fault:v1"
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}
CANNED_SOAP = (b'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
               b'<s:Body><ic:GetPatientInclusionsResponse xmlns:ic="urn:be:care-gateway:integratedcare:v1"/></s:Body></s:Envelope>')

# what the broken endpoint gets wrong, and the steps that must catch it
EXPECTED_FAILURES = {
    ("inclusion-lifecycle-fhir", "second-principal"): "expected 409, got 201 with a EpisodeOfCare",
    ("inclusion-lifecycle-fhir", "second-principal-by-psi-staff"): "expected 409, got 201",
    ("inclusion-lifecycle-soap", "stranger-consult"): "the refusal names no rule (expected IC-A1)",
    ("inclusion-lifecycle-soap", "second-principal"): "the refusal names no rule (expected IC-R1)",
    ("inclusion-lifecycle-soap", "close-before-start"): "the refusal names no rule (expected IC-R3)",
    ("inclusion-lifecycle-soap", "list-not-allowed"): "the refusal names no rule (expected IC-A9)",
    ("inclusion-lifecycle-soap", "no-mass-export"): "the refusal names no rule (expected IC-A8)",
    ("research-consent", "soap-future-date"): "the refusal names no rule (expected IC-R3)",
    ("research-consent", "soap-another-patient"): "the refusal names no rule (expected IC-A9)",
    ("security-negatives", "fhir-no-token"): "expected 401, got 200 with a Bundle",
    ("security-negatives", "soap-unsigned"): "expected 500, got 200 with GetPatientInclusionsResponse",
}


def broken_app(upstream: str) -> Starlette:
    async def relay(request: Request) -> Response:
        body = await request.body()
        path, method = request.url.path, request.method
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        if method == "GET" and path.startswith("/fhir/") and path != "/fhir/metadata" and "authorization" not in request.headers:
            return Response(json.dumps({"resourceType": "Bundle", "type": "searchset", "total": 0}), 200,
                            media_type="application/fhir+json")  # no token, yet an answer
        if method == "POST" and path.startswith("/soap/") and b"Security" not in body:
            return Response(CANNED_SOAP, 200, media_type="text/xml")  # unsigned, yet an answer
        async with httpx.AsyncClient(timeout=60) as client:
            answer = await client.request(method, upstream + path + (f"?{request.url.query}" if request.url.query else ""),
                                          content=body, headers=headers)
        content, status = answer.content, answer.status_code
        if method == "POST" and path == "/fhir/EpisodeOfCare" and status == 409 and b"IC-R1" in content:
            accepted = {**json.loads(body), "id": f"overlap-{uuid.uuid4()}", "meta": {"versionId": "1"}}
            return Response(json.dumps(accepted), 201, media_type="application/fhir+json")  # IC-R1 not enforced
        if path.startswith("/soap/") and status == 500 and f"{FAULT_NS}".encode() in content:
            root = etree.fromstring(content)
            for rule in root.iter(f"{{{FAULT_NS}}}Rule"):
                rule.getparent().remove(rule)  # the rule id dropped from the Fault
            content = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        response = Response(content, status)
        response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.multi_items()
                                if k.lower() not in HOP_BY_HOP] + [(b"content-length", str(len(content)).encode())]
        return response

    return Starlette(routes=[Route("/{path:path}", relay, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])])


@pytest.fixture(scope="module")
def broken(live, wall_clock) -> Iterator[str]:  # type: ignore[no-untyped-def]  # noqa: F811
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(broken_app(live.base_url), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the broken endpoint did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def without_waits(tmp_path: Path) -> Path:
    """security-negatives without its expired-token steps: they prove nothing
    more here and would make the test wait a minute for real time to pass."""
    data: dict[str, Any] = yaml.safe_load((suites_dir() / "security-negatives.yaml").read_text(encoding="utf-8"))
    data.pop("tokens")
    data["steps"] = [s for s in data["steps"] if "wait" not in s and "token" not in (s.get("fhir") or s.get("soap-raw") or {})]
    path = tmp_path / "security-negatives.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reports(broken, tmp_path_factory) -> tuple[int, str, Path]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("broken")
    suites = [str(suites_dir() / f"{name}.yaml") for name in ("inclusion-lifecycle-fhir", "inclusion-lifecycle-soap", "research-consent")]
    suites.append(str(without_waits(folder)))
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["conformance", "run", *suites, "--target", broken, "--report-dir", str(folder / "out")])
    return status, err.getvalue(), folder / "out"


def failed_steps(junit: etree._Element) -> dict[tuple[str, str], str]:
    found = {}
    for suite in junit.iter("testsuite"):
        for case in suite.iter("testcase"):
            problem = case.find("failure") if case.find("failure") is not None else case.find("error")
            if problem is not None:
                found[(suite.get("name"), case.get("name").split(":")[0])] = problem.get("message")
    return found


def test_the_broken_endpoint_fails_exactly_the_steps_that_prove_what_it_breaks(reports) -> None:  # type: ignore[no-untyped-def]
    status, err, out = reports
    assert status == 1
    failed = failed_steps(etree.parse(str(out / "junit.xml")).getroot())
    assert set(failed) == set(EXPECTED_FAILURES), err
    for key, reason in EXPECTED_FAILURES.items():
        assert reason in failed[key], (key, failed[key])


def test_progress_names_each_failed_step_with_its_reason(reports) -> None:  # type: ignore[no-untyped-def]
    status, err, out = reports
    assert "✗ second-principal a second principal inclusion over the same days is refused" in err
    assert "status 409: expected 409, got 201 with a EpisodeOfCare" in err
    assert "FAILED: 4 suite(s)" in err and "failing: inclusion-lifecycle-fhir, inclusion-lifecycle-soap" in err


def test_the_html_report_shows_steps_reasons_and_the_exchange_escaped(reports) -> None:  # type: ignore[no-untyped-def]
    _status, _err, out = reports
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "a second principal inclusion over the same days is refused" in page
    assert "the refusal names no rule (expected IC-A1)" in page
    assert "expected 500, got 200 with GetPatientInclusionsResponse" in page
    assert "&lt;ic:GetPatientInclusionsResponse" in page  # the answer's excerpt, escaped
    assert re.search(r'<tr class="step fail" id="soap-unsigned">', page)


def test_the_testreport_is_valid_r4_and_says_fail_where_it_failed(reports) -> None:  # type: ignore[no-untyped-def]
    _status, _err, out = reports
    report = json.loads((out / "testreport.json").read_text(encoding="utf-8"))
    result = FhirValidator.default().validate(report)
    assert result.valid, result.findings()
    assert report["result"] == "fail" and 0 < report["score"] < 100
    tests = {t["name"]: t for t in report["test"]}
    operations = [a["operation"] for a in tests["security-negatives"]["action"] if "operation" in a]
    unsigned = next(o for o in operations if o["message"].startswith("soap-unsigned"))
    assert unsigned["result"] == "fail"
    asserts = [a["assert"] for a in tests["inclusion-lifecycle-fhir"]["action"] if "assert" in a]
    assert any(a["result"] == "fail" and "expected 409, got 201" in a["message"] for a in asserts)
