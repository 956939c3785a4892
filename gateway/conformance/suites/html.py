"""The HTML report of a run, for people: per suite, per step, whether it
passed, each assert with the reason it failed, and the request and answer
(cut to an excerpt). Everything that came from the target or the suite is
escaped; the page has no script and needs nothing else to be read."""

from __future__ import annotations

from html import escape

from gateway.conformance.suites.model import RunResult, StepResult, SuiteResult

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1d1d1f}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
.pass .mark{color:#137333}.fail .mark,.error .mark{color:#b3261e}.skip .mark{color:#777}
.suite{border-top:2px solid #ddd;padding-top:.5em}.summary{font-weight:600}
table{border-collapse:collapse;width:100%}td,th{text-align:left;vertical-align:top;padding:.3em .5em;border-bottom:1px solid #eee}
.asserts{margin:.2em 0 .2em 1.5em;padding:0;list-style:none}.asserts li.failed{color:#b3261e}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:12px}
code{font-size:.95em}.muted{color:#666}
"""
MARK = {"pass": "✓", "fail": "✗", "error": "!", "skip": "–"}


def _step(step: StepResult) -> str:
    phase = "" if step.step.phase == "test" else f'<span class="muted">{escape(step.step.phase)}</span> '
    rules = f' <span class="muted">{escape(", ".join(step.step.rules))}</span>' if step.step.rules else ""
    items = []
    if step.reason:
        items.append(f'<li class="{"failed" if step.outcome in ("fail", "error") else "muted"}">{escape(step.reason)}</li>')
    for a in step.asserts:
        mark, css = ("✓", "passed") if a.passed else ("✗", "failed")
        reason = f" — {escape(a.reason)}" if a.reason else ""
        items.append(f'<li class="{css}">{mark} <code>{escape(a.label)}</code>{reason}</li>')
    exchange = ""
    if step.exchange is not None:
        opened = " open" if step.outcome in ("fail", "error") else ""
        exchange = f"<details{opened}><summary>request and answer</summary><pre>{escape(step.exchange.excerpt())}</pre></details>"
    return (f'<tr class="step {step.outcome}" id="{escape(step.step.id)}"><td class="mark">{MARK[step.outcome]}</td>'
            f"<td>{phase}<strong>{escape(step.step.id)}</strong> {escape(step.step.name)}{rules}"
            f'<div class="muted">{escape(step.summary)}</div><ul class="asserts">{"".join(items)}</ul>{exchange}</td>'
            f'<td class="muted">{step.seconds * 1000:.0f}&nbsp;ms</td></tr>')


def _suite(suite: SuiteResult) -> str:
    state = "pass" if suite.passed else "fail"
    failed = suite.count("fail") + suite.count("error")
    error = f'<p class="fail">The suite could not start: {escape(suite.error)}</p>' if suite.error else ""
    return (f'<section class="suite {state}" id="suite-{escape(suite.suite.id)}">'
            f'<h2><span class="mark">{MARK[state]}</span> {escape(suite.suite.title)} <code>{escape(suite.suite.id)}</code></h2>'
            f"<p>{escape(suite.suite.description)}</p>"
            f'<p class="muted">Rules: {escape(", ".join(suite.suite.rules))} · {escape(str(suite.suite.path))}</p>'
            f'<p class="summary">{suite.count("pass")} passed, {failed} failed, {suite.count("skip")} skipped in {suite.seconds:.1f} s</p>'
            f'{error}<table><tbody>{"".join(_step(s) for s in suite.steps)}</tbody></table></section>')


def report_html(run: RunResult) -> str:
    verdict = "passed" if run.passed else "FAILED"
    failed = run.count("fail") + run.count("error")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Conformance run {escape(run.run_id)}: {verdict}</title><style>{CSS}</style></head><body>"
            f"<h1>Conformance run {escape(run.run_id)}: {verdict}</h1>"
            f"<p>Target <code>{escape(run.target)}</code>, started {escape(run.started)}, {run.seconds:.1f} s.</p>"
            f'<p class="summary">{len(run.suites)} suite(s): {run.count("pass")} step(s) passed, {failed} failed, '
            f'{run.count("skip")} skipped.</p>'
            + (f'<p class="fail">{escape(run.error)}</p>' if run.error else "")
            + "".join(_suite(s) for s in run.suites) + "</body></html>\n")
