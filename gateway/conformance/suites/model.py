"""What a suite is once loaded, and what running it gave.

Suites stay plain data (dicts from YAML) where the runner only passes them
on (bodies, arguments, asserts): the JSON Schema has already said they are
well formed, and keeping them as data means a template's ``${var}`` can sit
anywhere. The result classes are what every report renders."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Phase = Literal["setup", "test", "teardown"]
Outcome = Literal["pass", "fail", "error", "skip"]
ACTIONS = ("fhir", "soap", "soap-raw", "wait")


@dataclass(frozen=True)
class TokenSpec:
    """A token a suite asks for by name, obtained when the run starts
    (so that a short lifetime runs out while other suites run)."""

    name: str
    persona: str
    kind: Literal["access", "saml"]
    lifetime_seconds: float


@dataclass(frozen=True)
class Step:
    id: str
    name: str
    phase: Phase
    action: str  # one of ACTIONS
    spec: dict[str, Any]  # the action's own mapping, unsubstituted
    asserts: tuple[dict[str, Any], ...] = ()
    save: dict[str, str] = field(default_factory=dict)
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suite:
    id: str
    title: str
    description: str
    path: Path
    rules: tuple[str, ...]
    variables: dict[str, Any]
    fixtures: dict[str, Any]
    tokens: tuple[TokenSpec, ...]
    namespaces: dict[str, str]
    fhir_base: str
    setup: tuple[Step, ...]
    steps: tuple[Step, ...]
    teardown: tuple[Step, ...]

    @property
    def all_steps(self) -> tuple[Step, ...]:
        return self.setup + self.steps + self.teardown


# ------------------------------------------------------------------ results


@dataclass
class Exchange:
    """One request and its answer as they went over the wire (text, for reports)."""

    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    note: str = ""  # what the client library said (zeep's parse error, ...)
    first: "Exchange | None" = None  # a replay's first sending

    def excerpt(self, limit: int = 1500) -> str:
        """Request and response, cut to ``limit`` characters each, for people."""
        def cut(text: str) -> str:
            return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more characters)"

        parts = [f"> {self.method} {self.url}"]
        parts += [f"> {k}: {_shown(k, v)}" for k, v in self.request_headers.items()]
        if self.request_body:
            parts.append(cut(_from_body(self.request_body)))
        parts.append(f"< {self.status if self.status is not None else 'no answer'}")
        parts += [f"< {k}: {v}" for k, v in self.response_headers.items() if k.lower() in _SHOWN_HEADERS]
        if self.response_body:
            parts.append(cut(self.response_body))
        if self.note:
            parts.append(f"note: {self.note}")
        return "\n".join(parts)


_SOAP_BODY = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?Body[\s>]")


def _from_body(text: str) -> str:
    """A signed envelope from its Body on: the security header is long and
    the same every time; what a reader needs is what was asked."""
    found = _SOAP_BODY.search(text)
    if not found or found.start() < 200:
        return text
    return f"… ({found.start()} characters of envelope and header not shown)\n" + text[found.start():]


_SHOWN_HEADERS = {"content-type", "location", "etag", "www-authenticate", "last-modified"}


def _shown(name: str, value: str) -> str:
    """Never print a bearer token whole in a report."""
    if name.lower() == "authorization" and len(value) > 40:
        return value[:24] + "…" + value[-8:]
    return value


@dataclass(frozen=True)
class AssertResult:
    label: str  # what was asserted, e.g. "status 409"
    passed: bool
    reason: str = ""  # why not, in a sentence; empty when passed


@dataclass
class StepResult:
    step: Step
    outcome: Outcome
    seconds: float = 0.0
    asserts: list[AssertResult] = field(default_factory=list)
    reason: str = ""  # for error and skip: what went wrong before the asserts
    exchange: Exchange | None = None
    summary: str = ""  # e.g. "POST EpisodeOfCare -> 201"

    @property
    def failures(self) -> list[str]:
        """Readable reasons of everything that did not pass."""
        found = [self.reason] if self.reason and self.outcome in ("fail", "error") else []
        return found + [f"{a.label}: {a.reason}" for a in self.asserts if not a.passed]


@dataclass
class SuiteResult:
    suite: Suite
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""  # the suite could not be run at all (its variables, tokens)

    @property
    def passed(self) -> bool:
        return not self.error and all(s.outcome in ("pass", "skip") for s in self.steps) and not self.setup_failed

    @property
    def setup_failed(self) -> bool:
        return any(s.step.phase == "setup" and s.outcome in ("fail", "error") for s in self.steps)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for s in self.steps if s.outcome == outcome)


@dataclass
class RunResult:
    target: str
    run_id: str
    started: str  # ISO instant
    suites: list[SuiteResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""  # the run could not start (tokens, IdP)

    @property
    def passed(self) -> bool:
        return not self.error and all(s.passed for s in self.suites)

    def count(self, outcome: Outcome) -> int:
        return sum(s.count(outcome) for s in self.suites)
