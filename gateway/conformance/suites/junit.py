"""JUnit XML of a run, for CI systems: a ``testsuite`` per suite, a
``testcase`` per step; a failed assert is a ``failure`` (its message the
reasons), a step that could not be carried out an ``error``, a step not
run ``skipped``; the request and answer go to ``system-out``."""

from __future__ import annotations

from lxml import etree

from gateway.conformance.suites.model import RunResult, StepResult, SuiteResult


def _case(parent: etree._Element, suite: SuiteResult, step: StepResult) -> None:
    label = step.step.id if step.step.phase == "test" else f"{step.step.phase}: {step.step.id}"
    case = etree.SubElement(parent, "testcase", classname=f"conformance.{suite.suite.id}",
                            name=f"{label}: {step.step.name}", time=f"{step.seconds:.3f}")
    reasons = step.failures
    if step.outcome == "fail":
        failure = etree.SubElement(case, "failure", type="assert", message="; ".join(reasons))
        failure.text = "\n".join(reasons)
    elif step.outcome == "error":
        error = etree.SubElement(case, "error", type="step-error", message=step.reason)
        error.text = step.reason
    elif step.outcome == "skip":
        etree.SubElement(case, "skipped", message=step.reason or "not run")
    if step.exchange is not None:
        etree.SubElement(case, "system-out").text = step.exchange.excerpt()


def report_junit(run: RunResult) -> str:
    def counts(suites: list[SuiteResult]) -> dict[str, str]:
        steps = [s for suite in suites for s in suite.steps]
        return {"tests": str(len(steps) + sum(1 for s in suites if s.error)), "failures": str(sum(s.outcome == "fail" for s in steps)),
                "errors": str(sum(s.outcome == "error" for s in steps) + sum(1 for s in suites if s.error)),
                "skipped": str(sum(s.outcome == "skip" for s in steps)),
                "time": f"{sum(s.seconds for s in suites):.3f}"}

    root = etree.Element("testsuites", name=f"care-gateway conformance run {run.run_id}", **counts(run.suites))
    for suite in run.suites:
        element = etree.SubElement(root, "testsuite", name=suite.suite.id, **counts([suite]))
        properties = etree.SubElement(element, "properties")
        etree.SubElement(properties, "property", name="target", value=run.target)
        etree.SubElement(properties, "property", name="rules", value=" ".join(suite.suite.rules))
        if suite.error:
            error = etree.SubElement(etree.SubElement(element, "testcase", classname=f"conformance.{suite.suite.id}",
                                                      name="suite start"), "error", type="suite-error", message=suite.error)
            error.text = suite.error
        for step in suite.steps:
            _case(element, suite, step)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")
