"""The JUnit XML report, for CI systems: one testcase per message; an
invalid message is a ``failure`` listing its findings, a file that could not
be read an ``error``; warnings and information go to ``system-out``."""

from __future__ import annotations

from typing import Sequence

from lxml import etree

from gateway.conformance.verdict import Finding, Verdict

SUITE = "care-gateway validate"


def _line(finding: Finding) -> str:
    issue = finding.issue
    return f"{issue.severity} {issue.rule} at {issue.expression}: {issue.message}"


def _detail(findings: list[Finding]) -> str:
    parts = []
    for finding in findings:
        parts.append(_line(finding) + (f"\n{finding.snippet}" if finding.snippet else ""))
    return "\n\n".join(parts)


def _testcase(suite: etree._Element, verdict: Verdict) -> None:
    case = etree.SubElement(suite, "testcase", classname=f"conformance.{verdict.kind}", name=verdict.source)
    if verdict.kind == "unreadable":
        error = etree.SubElement(case, "error", type="file-unreadable", message=verdict.findings[0].issue.message)
        error.text = _detail(verdict.findings)
    elif not verdict.valid:
        errors = verdict.errors
        summary = "; ".join(f"{f.issue.rule} at {f.issue.expression}" for f in errors)
        failure = etree.SubElement(case, "failure", type="invalid",
                                   message=f"{verdict.label}: {len(errors)} error(s): {summary}")
        failure.text = _detail(errors)
    others = [f for f in verdict.findings if f.issue.severity in ("warning", "information")]
    if others:
        etree.SubElement(case, "system-out").text = _detail(others)


def report_junit(verdicts: Sequence[Verdict]) -> str:
    errors = sum(1 for v in verdicts if v.kind == "unreadable")
    failures = sum(1 for v in verdicts if not v.valid) - errors
    counts = {"tests": str(len(verdicts)), "failures": str(failures), "errors": str(errors)}
    root = etree.Element("testsuites", name=SUITE, **counts)
    suite = etree.SubElement(root, "testsuite", name=SUITE, skipped="0", **counts)
    for verdict in verdicts:
        _testcase(suite, verdict)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")
