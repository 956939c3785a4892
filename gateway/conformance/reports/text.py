"""The plain-text report for a terminal: a verdict line per message, then
its errors and warnings with path, rule and explanation."""

from __future__ import annotations

from typing import Sequence

from gateway.conformance.verdict import Verdict


def report_text(verdicts: Sequence[Verdict]) -> str:
    lines: list[str] = []
    for verdict in verdicts:
        about = verdict.label + (f", {', '.join(verdict.profiles)}" if verdict.profiles else "")
        lines.append(f"{'VALID' if verdict.valid else 'INVALID':8} {verdict.source}  ({about})")
        for finding in verdict.findings:
            issue = finding.issue
            if issue.severity != "information":
                lines.append(f"  {issue.severity:8} {issue.rule}  {issue.expression}")
                lines.append(f"           {issue.message}")
    valid = sum(1 for v in verdicts if v.valid)
    lines.append(f"{len(verdicts)} message(s): {valid} valid, {len(verdicts) - valid} invalid")
    return "\n".join(lines) + "\n"
