"""The run's reports in ``--report-dir``: ``testreport.json`` (an R4
TestReport, for FHIR tools), ``report.html`` (for people) and ``junit.xml``
(for CI systems).

One TestReport for the run: each suite is a ``test`` (TestScript's unit),
each step in it an ``operation`` action followed by one ``assert`` action
per assert, setup and teardown steps named as such. R4 allows one
``testScript`` per report; the run's suites are named in its display."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from gateway.conformance.suites.model import RunResult, StepResult, SuiteResult

ENGINE = "urn:care-gateway:conformance-runner"
_RESULT = {"pass": "pass", "fail": "fail", "error": "error", "skip": "skip"}


def _operation(step: StepResult) -> dict[str, Any]:
    label = step.step.id if step.step.phase == "test" else f"{step.step.phase}: {step.step.id}"
    message = f"{label}: {step.step.name}" + (f" ({step.summary})" if step.summary else "") + f" in {step.seconds * 1000:.0f} ms"
    if step.reason:
        message += f". {step.reason}"
    operation: dict[str, Any] = {"result": _RESULT[step.outcome], "message": message}
    if step.exchange is not None:
        operation["detail"] = step.exchange.url
    return {"operation": operation}


def _asserts(step: StepResult) -> list[dict[str, Any]]:
    return [{"assert": {"result": "pass" if a.passed else "fail",
                        "message": a.label if a.passed else f"{a.label}: {a.reason}"}} for a in step.asserts]


def _test(suite: SuiteResult) -> dict[str, Any]:
    actions: list[dict[str, Any]] = []
    for step in suite.steps:
        actions.append(_operation(step))
        actions += _asserts(step)
    if suite.error:
        actions.insert(0, {"operation": {"result": "error", "message": f"the suite could not start: {suite.error}"}})
    rules = f" Rules: {', '.join(suite.suite.rules)}." if suite.suite.rules else ""
    return {"name": suite.suite.id, "description": f"{suite.suite.title}.{rules}", "action": actions}


def fhir_testreport(run: RunResult) -> dict[str, Any]:
    steps = [s for suite in run.suites for s in suite.steps if s.outcome != "skip"]
    passed = sum(1 for s in steps if s.outcome == "pass")
    report: dict[str, Any] = {
        "resourceType": "TestReport",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run.target}/{run.run_id}")),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, run.run_id)}"},
        "name": f"care-gateway conformance run {run.run_id}",
        "status": "completed",
        "testScript": {"display": "care-gateway conformance suites: " + ", ".join(s.suite.id for s in run.suites)},
        "result": "pass" if run.passed else "fail",
        "score": round(100.0 * passed / len(steps), 1) if steps else 0.0,
        "tester": "care-gateway conformance run",
        "issued": run.started,
        "participant": [
            {"type": "test-engine", "uri": ENGINE, "display": "care-gateway conformance runner"},
            {"type": "server", "uri": run.target, "display": "target"},
        ],
    }
    tests = [_test(s) for s in run.suites if s.steps or s.error]
    if tests:
        report["test"] = tests
    return report


def write_reports(run: RunResult, directory: Path) -> list[Path]:
    """Write the three reports; their paths."""
    from gateway.conformance.suites.html import report_html
    from gateway.conformance.suites.junit import report_junit

    directory.mkdir(parents=True, exist_ok=True)
    written = {
        "testreport.json": json.dumps(fhir_testreport(run), ensure_ascii=False, indent=2) + "\n",
        "report.html": report_html(run),
        "junit.xml": report_junit(run),
    }
    paths = []
    for name, text in written.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
