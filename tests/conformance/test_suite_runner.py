"""The suite runner without a gateway: suites are checked against their
schema, templates fill in dates and personas, asserts say why they fail,
a failed setup stops its suite only, and the three reports are well formed
(the TestReport valid R4, the HTML escaped, the JUnit parseable)."""

from __future__ import annotations

import json
import socket
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml
from lxml import etree

from gateway.cli import main
from gateway.conformance.fhir.validator import FhirValidator
from gateway.conformance.suites.asserts import Answer, capture, evaluate
from gateway.conformance.suites.loader import DEFAULT_NAMESPACES, SuiteError, load, resolve, suites_dir
from gateway.conformance.suites.model import AssertResult, Exchange, RunResult, StepResult, SuiteResult
from gateway.conformance.suites.report import fhir_testreport, write_reports
from gateway.conformance.suites.runner import RunOptions, run
from gateway.conformance.suites.tokens import jwt_expiry, mutate_jwt
from gateway.conformance.suites.variables import Scope, UnknownVariable, pick_patient
from gateway.domain.clock import FixedClock

SPEC_RULES = {f"IC-A{i}" for i in range(1, 10)}


def shipped():  # type: ignore[no-untyped-def]
    return [load(p) for p in sorted(suites_dir().glob("*.yaml"))]


# ------------------------------------------------------------------ the shipped suites


def test_the_shipped_suites_are_valid_and_cover_the_issue() -> None:
    suites = {s.id: s for s in shipped()}
    assert set(suites) == {"inclusion-lifecycle-fhir", "inclusion-lifecycle-soap", "research-consent", "care-team", "referral",
                           "access-rules", "security-negatives", "rtw-fhir", "rtw-soap", "perinatal-fhir", "perinatal-soap"}
    access = suites["access-rules"]
    assert set(access.rules) == SPEC_RULES and SPEC_RULES <= {s.id for s in access.steps}  # each IC-A rule is a step
    mutations = {s.spec.get("mutation") for s in suites["security-negatives"].steps if s.action == "soap-raw"}
    assert {"unsigned", "tamper-body", "replay", "wrap-body", "wrong-key", "expired-token"} <= mutations
    assert any(s.action == "soap" for s in suites["inclusion-lifecycle-soap"].steps)
    for suite in suites.values():
        assert suite.description and suite.rules and all(s.asserts or s.action == "wait" for s in suite.steps), suite.id


def test_conformance_list_names_every_shipped_suite(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["conformance", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("access-rules", "security-negatives", "inclusion-lifecycle-soap"))


def test_a_suite_that_breaks_the_schema_is_refused_with_its_place(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"id": "bad", "title": "t", "description": "d", "rules": ["IC-A1"],
                                   "steps": [{"id": "x", "fhir": {"method": "FETCH", "path": "x"}, "assert": [{"stauts": 200}]}]}))
    with pytest.raises(SuiteError) as err:
        load(bad)
    assert "/steps/0" in str(err.value)
    assert main(["conformance", "run", str(bad), "--target", "http://127.0.0.1:9"]) == 2
    assert "not a valid suite" in capsys.readouterr().err
    with pytest.raises(SuiteError):
        resolve(["no-such-suite"])
    assert [p.stem for p in resolve(["access-rules"])] == ["access-rules"]


# ------------------------------------------------------------------ templates


def scope() -> Scope:
    clock = FixedClock(datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc))
    return Scope(clock, "run-1", "http://t", {"gp": {"niss": "75123152609", "nihii": "15461602004"}}, {"n": 3, "id": "abc"})


def test_templates_fill_dates_personas_captures_and_keep_types() -> None:
    s = scope()
    assert s.substitute("${today-30d}") == "2026-05-16"
    assert s.substitute("${today+1d|next-month}") == "2026-07-01"
    assert s.substitute("${today|next-month-end}") == "2026-07-31"
    assert s.substitute({"v": "${n}", "t": "x-${n}", "l": ["${persona.gp.nihii}"]}) == {"v": 3, "t": "x-3", "l": ["15461602004"]}
    assert s.substitute("W/\"${n}\" for ${id} at ${target} in ${run}") == 'W/"3" for abc at http://t in run-1'
    with pytest.raises(UnknownVariable) as err:
        s.substitute("${nope}")
    assert "${nope} is not set" in str(err.value)


def test_a_patient_is_picked_per_run_among_the_linked_ones(registries, personas) -> None:  # type: ignore[no-untyped-def]
    today = date(2026, 6, 15)
    first = pick_patient(registries, personas, {"linked-with": ["gp"]}, salt="run-a/s/patient", today=today)
    assert first == pick_patient(registries, personas, {"linked-with": ["gp"]}, salt="run-a/s/patient", today=today)
    picked = {pick_patient(registries, personas, {"linked-with": ["gp"]}, salt=f"run-{i}", today=today) for i in range(20)}
    assert len(picked) > 5 and not picked & {p.niss for p in personas.values()}
    gp = personas["gp"].niss
    assert all(any(l.professional_niss == gp and l.active_on(today) for l in registries.links_of(n)) for n in picked)


# ------------------------------------------------------------------ asserts


def answer(status: int, body: object, **headers: str) -> Answer:
    text = body if isinstance(body, str) else json.dumps(body)
    return Answer(Exchange("GET", "http://t/fhir/x", status=status, response_body=text, response_headers=headers), DEFAULT_NAMESPACES)


OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden", "details": {
    "coding": [{"system": "https://care-gateway.be/fhir/CodeSystem/error-code", "code": "no-therapeutic-link"},
               {"system": "https://care-gateway.be/fhir/CodeSystem/rule", "code": "IC-A1"}], "text": "Register a link."}}]}
FAULT = """<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode>
<faultstring>no</faultstring><detail><cg:Error xmlns:cg="urn:be:care-gateway:fault:v1">
<cg:Status>urn:be:fgov:ehealth:2.0:status:NotAuthorized</cg:Status><cg:Code>message-replayed</cg:Code>
<cg:Message>Sign every request anew.</cg:Message></cg:Error></detail></s:Fault></s:Body></s:Envelope>"""


def test_asserts_pass_on_what_they_say_and_fail_with_a_reason() -> None:
    refused = answer(403, OUTCOME)
    assert evaluate({"status": 403}, refused).passed and evaluate({"rule": "IC-A1"}, refused).passed
    assert evaluate({"error": ["x", "no-therapeutic-link"]}, refused).passed
    wrong = evaluate({"status": 200}, refused)
    assert not wrong.passed and wrong.reason == "expected 200, got 403 refusing with IC-A1, no-therapeutic-link: Register a link."
    assert evaluate({"rule": "IC-A3"}, refused).reason == "the refusal names rule IC-A1, expected IC-A3"
    bundle = answer(200, {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"resourceType": "Basic", "id": "a"}}]})
    assert evaluate({"fhirpath": "entry.resource.where(id = 'a').exists()"}, bundle).passed
    missing = evaluate({"fhirpath": "entry.count()", "equals": 2}, bundle)
    assert missing.reason == "FHIRPath gave [1], expected [2]" and missing.label == "fhirpath entry.count() = 2"
    assert evaluate({"rule": "IC-A1"}, bundle).reason == "expected a refusal naming rule IC-A1, got 200 with a Bundle"
    assert capture("entry.resource.id", bundle) == "a"
    fault = answer(500, FAULT)
    assert evaluate({"fault-status": "NotAuthorized"}, fault).passed and evaluate({"error": "message-replayed"}, fault).passed
    assert evaluate({"xpath": "//cg:Code", "equals": "message-replayed"}, fault).passed
    assert evaluate({"rule": "IC-A9"}, fault).reason.startswith("the refusal names no rule (expected IC-A9)")
    assert not evaluate({"validates": True}, answer(200, {"resourceType": "Patient", "gender": "robot"})).passed
    assert evaluate({"header": "ETag", "equals": 'W/"1"'}, answer(200, {}, ETag='W/"1"')).passed
    assert "could not evaluate" in evaluate({"fhirpath": "entry.nosuch()"}, bundle).reason


def test_token_mutations_keep_the_shape_of_a_jwt() -> None:
    import base64

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'RS256'})}.{part({'sub': 'x', 'exp': 1893456000})}.c2ln"
    assert jwt_expiry(token) == datetime(2030, 1, 1, tzinfo=timezone.utc)
    tampered = mutate_jwt(token, "tamper-claims")
    assert tampered.endswith(".c2ln") and jwt_expiry(tampered) != jwt_expiry(token)
    assert mutate_jwt(token, "alg-none").endswith(".") and mutate_jwt(token, "strip-signature").count(".") == 2


# ------------------------------------------------------------------ the run and its reports


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_failed_setup_stops_its_suite_and_the_next_suite_runs(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({
        "id": "a", "title": "A <b>", "description": "setup fails", "rules": ["IC-A9"],
        "setup": [{"id": "s1", "fhir": {"method": "GET", "path": "metadata"}, "assert": [{"status": 200}]},
                  {"id": "s2", "fhir": {"method": "GET", "path": "metadata"}, "assert": [{"status": 200}]}],
        "steps": [{"id": "t1", "fhir": {"method": "GET", "path": "x"}, "assert": [{"status": 200}]}],
        "teardown": [{"id": "d1", "fhir": {"method": "DELETE", "path": "x/${never-saved}"}, "assert": [{"status": 200}]}]}))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({
        "id": "b", "title": "B", "description": "waits", "rules": ["IC-A9"], "steps": [{"id": "w", "wait": {"seconds": 0}}]}))
    result = run([load(p) for p in resolve([str(tmp_path)])], RunOptions(target=f"http://127.0.0.1:{closed_port()}", run_id="r"))
    a, b = result.suites
    assert [(s.step.id, s.outcome) for s in a.steps] == [("s1", "error"), ("s2", "skip"), ("t1", "skip"), ("d1", "skip")]
    assert a.steps[0].reason.startswith("no answer from http://127.0.0.1:") and "setup step s1 failed" == a.steps[1].reason
    assert b.passed and not a.passed and not result.passed
    paths = write_reports(result, tmp_path / "out")
    assert [p.name for p in paths] == ["testreport.json", "report.html", "junit.xml"]
    assert FhirValidator.default().validate(json.loads(paths[0].read_text())).valid
    assert "A &lt;b&gt;" in paths[1].read_text() and "<b>" not in paths[1].read_text()
    junit = etree.parse(str(paths[2])).getroot()
    assert (junit.get("tests"), junit.get("errors"), junit.get("skipped")) == ("5", "1", "3")


def test_the_testreport_is_valid_r4_for_failures_and_passes() -> None:
    suite = shipped()[0]
    step = suite.steps[0]
    exchange = Exchange("POST", "http://t/fhir/EpisodeOfCare", status=201, response_body="{}")
    results = [StepResult(step, "pass", 0.01, [AssertResult("status 201", True)], exchange=exchange, summary="POST -> 201"),
               StepResult(suite.steps[1], "fail", 0.02, [AssertResult("status 200", False, "expected 200, got 404")]),
               StepResult(suite.steps[2], "error", 0.0, reason="no answer"), StepResult(suite.steps[3], "skip")]
    run_result = RunResult("http://t", "r1", "2026-06-15T10:00:00+00:00", [SuiteResult(suite, results, 0.1)])
    report = fhir_testreport(run_result)
    outcome = FhirValidator.default().validate(report)
    assert outcome.valid, outcome.findings()
    assert report["result"] == "fail" and report["score"] == pytest.approx(33.3)
    actions = report["test"][0]["action"]
    assert [a.get("operation", a.get("assert"))["result"] for a in actions] == ["pass", "pass", "fail", "fail", "error", "skip"]
    assert "expected 200, got 404" in actions[3]["assert"]["message"]
