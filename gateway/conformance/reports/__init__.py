"""Reports of a validation run, one module per format: ``text`` (terminal),
``json`` (OperationOutcome), ``html`` (people), ``junit`` (CI systems)."""

from __future__ import annotations

from typing import Callable, Sequence

from gateway.conformance.reports.junit import report_junit
from gateway.conformance.reports.outcome import operation_outcome, report_json
from gateway.conformance.reports.page import report_html
from gateway.conformance.reports.text import report_text
from gateway.conformance.verdict import Verdict

RENDERERS: dict[str, Callable[[Sequence[Verdict]], str]] = {
    "text": report_text,
    "json": report_json,
    "html": report_html,
    "junit": report_junit,
}
MEDIA_TYPES = {
    "text": "text/plain; charset=utf-8",
    "json": "application/fhir+json",
    "html": "text/html; charset=utf-8",
    "junit": "application/xml",
}


def render(fmt: str, verdicts: Sequence[Verdict]) -> str:
    return RENDERERS[fmt](verdicts)


__all__ = ["RENDERERS", "MEDIA_TYPES", "render", "operation_outcome"]
