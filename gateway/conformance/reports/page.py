"""The HTML report, for people: per message its verdict, then each finding
with severity, path, rule, explanation and the offending snippet. Every
value from the message is escaped; the page has no script. The validator
web page shows the same ``<main class="report">``."""

from __future__ import annotations

from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Sequence

from gateway.conformance.verdict import Finding, Verdict

WEB = Path(__file__).resolve().parents[2] / "web"


@lru_cache(maxsize=1)
def report_css() -> str:
    return (WEB / "report.css").read_text(encoding="utf-8")


def _row(finding: Finding) -> str:
    issue = finding.issue
    snippet = f"<pre>{escape(finding.snippet)}</pre>" if finding.snippet else ""
    return (f'<tr class="finding severity-{escape(issue.severity)}">'
            f'<td class="severity">{escape(issue.severity)}</td>'
            f'<td class="path"><code>{escape(issue.expression)}</code></td>'
            f'<td class="rule"><code>{escape(issue.rule)}</code></td>'
            f'<td class="message">{escape(issue.message)}</td>'
            f'<td class="snippet">{snippet}</td></tr>')


def _about(verdict: Verdict) -> str:
    about = [verdict.label]
    if verdict.profiles:
        about.append("profile " + ", ".join(verdict.profiles))
    if verdict.at is not None:
        about.append(f"security judged at {verdict.at.isoformat()}")
    return " · ".join(about)


def _section(verdict: Verdict) -> str:
    state = "valid" if verdict.valid else "invalid"
    head = (f'<section class="verdict {state}" data-verdict="{state}">'
            f'<h2><span class="badge">{state.capitalize()}</span> <code class="source">{escape(verdict.source)}</code></h2>'
            f'<p class="about">{escape(_about(verdict))}</p>')
    if not verdict.findings:
        return head + '<p class="ok">No issues.</p></section>'
    rows = "".join(_row(f) for f in verdict.findings)
    return (head + '<table class="findings"><thead><tr><th>Severity</th><th>Path</th><th>Rule</th>'
            f"<th>Explanation</th><th>Snippet</th></tr></thead><tbody>{rows}</tbody></table></section>")


def report_main(verdicts: Sequence[Verdict]) -> str:
    """The report's ``<main>`` element."""
    valid = sum(1 for v in verdicts if v.valid)
    summary = f"{len(verdicts)} message(s): {valid} valid, {len(verdicts) - valid} invalid"
    return (f'<main class="report"><h1>Conformance report</h1><p class="summary">{summary}</p>'
            + "".join(_section(v) for v in verdicts) + "</main>")


def report_html(verdicts: Sequence[Verdict]) -> str:
    """A standalone page (styles inlined, no script, no external resource)."""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Conformance report</title><style>{report_css()}</style></head>"
            f"<body>{report_main(verdicts)}</body></html>\n")
