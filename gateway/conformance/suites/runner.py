"""Run suites against a target, in order: each suite's variables, then its
setup (a failure there skips the rest of that suite), its steps (a failure
is recorded and the next step runs), and its teardown (always, so that what
the suite opened is closed even when a step failed). One suite's failure
never stops the next suite.

The runner is a client of the target like any other: HTTP(S) only, FHIR
with httpx, SOAP with zeep, tokens from the identity provider at ``idp``
(the target by default) through the sandbox token helpers."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence
from urllib.parse import urlsplit

import httpx

from gateway.conformance.suites.actions import ActionError, Context, dispatch
from gateway.conformance.suites.asserts import Answer, capture, evaluate
from gateway.conformance.suites.model import AssertResult, RunResult, Step, StepResult, Suite, SuiteResult
from gateway.conformance.suites.progress import Progress
from gateway.conformance.suites.tokens import TokenBroker
from gateway.conformance.suites.variables import Scope, UnknownVariable, persona_values, pick_patient
from gateway.domain.clock import Clock, SystemClock


@dataclass
class RunOptions:
    target: str
    idp: str | None = None
    run_id: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2))
    sandbox_seed: int | None = None
    clock: Clock = field(default_factory=SystemClock)


class Sandbox:
    """The sandbox's personas, registries and keys: who the runner can act as."""

    def __init__(self, seed: int | None) -> None:
        from gateway.config import DEFAULT_SANDBOX_SEED
        from gateway.ehealth.pki import load_pki
        from gateway.ehealth.sandbox.personas import personas
        from gateway.ehealth.sandbox.registries import generate_registries

        self.seed = DEFAULT_SANDBOX_SEED if seed is None else seed
        self.registries = generate_registries(self.seed)
        from gateway.ehealth.rtw.personas import rtw_personas
        from gateway.ehealth.rtw.sandbox import rtw_sandbox

        self.personas = {**personas(self.registries), **rtw_personas(rtw_sandbox(self.seed))}  # return to work's too
        self.pki = load_pki(self.seed)


def run(suites: Sequence[Suite], options: RunOptions, progress: Progress | None = None) -> RunResult:
    progress = progress or Progress(quiet=True)
    target = options.target.rstrip("/")
    started = time.perf_counter()
    result = RunResult(target, options.run_id, options.clock.now().replace(microsecond=0).isoformat())
    progress.run_started(target, options.run_id, len(suites))
    sandbox = Sandbox(options.sandbox_seed)
    tokens = TokenBroker((options.idp or target).rstrip("/"), sandbox.pki, sandbox.personas, options.clock)
    with httpx.Client(timeout=60) as http:
        ctx = Context(target, tokens, http, options.clock)
        token_errors = _prefetch(suites, tokens, progress)
        scope = Scope(options.clock, options.run_id, target, {k: persona_values(p) for k, p in sandbox.personas.items()})
        for suite in suites:
            ctx.suite = suite
            result.suites.append(_run_suite(suite, ctx, scope.child(), sandbox, progress, token_errors))
    tokens.close()
    result.seconds = time.perf_counter() - started
    progress.run_done(result)
    return result


def _prefetch(suites: Sequence[Suite], tokens: TokenBroker, progress: Progress) -> dict[str, str]:
    """Named tokens first, so that short lifetimes run out while suites run."""
    errors: dict[str, str] = {}
    specs = [t for s in suites for t in s.tokens]
    if specs:
        progress.note(f"getting {len(specs)} named token(s) from the identity provider: {', '.join(t.name for t in specs)}")
    for spec in specs:
        try:
            tokens.fetch_named([spec])
        except Exception as error:  # an IdP that refuses is the target's answer: report it per suite
            errors[spec.name] = f"{type(error).__name__}: {error}"
    return errors


def _variables(suite: Suite, scope: Scope, sandbox: Sandbox, run_id: str) -> None:
    for name, value in suite.variables.items():
        if isinstance(value, dict) and "sandbox-patient" in value:
            scope.values[name] = pick_patient(sandbox.registries, sandbox.personas, value["sandbox-patient"] or {},
                                              salt=f"{run_id}/{suite.id}/{name}", today=scope.clock.today())
        else:
            scope.values[name] = scope.substitute(value)


def _run_suite(suite: Suite, ctx: Context, scope: Scope, sandbox: Sandbox, progress: Progress,
               token_errors: dict[str, str]) -> SuiteResult:
    progress.suite_started(suite)
    started = time.perf_counter()
    result = SuiteResult(suite)
    ctx.scope = scope
    missing = [f"token {t.name}: {token_errors[t.name]}" for t in suite.tokens if t.name in token_errors]
    try:
        _variables(suite, scope, sandbox, scope.run_id)
    except Exception as error:
        missing.append(f"variables: {error}")
    if missing:
        result.error = "; ".join(missing)
        result.steps = [StepResult(s, "skip", reason="the suite could not start") for s in suite.all_steps]
    else:
        blocked = ""
        for step in suite.setup + suite.steps:
            if blocked:
                outcome = StepResult(step, "skip", reason=blocked)
            else:
                outcome = run_step(step, ctx, scope, progress)
                if step.phase == "setup" and outcome.outcome in ("fail", "error"):
                    blocked = f"setup step {step.id} failed"
            result.steps.append(outcome)
            progress.step_done(outcome)
        for step in suite.teardown:
            outcome = run_step(step, ctx, scope, progress)
            result.steps.append(outcome)
            progress.step_done(outcome)
    result.seconds = time.perf_counter() - started
    progress.suite_done(result)
    return result


def run_step(step: Step, ctx: Context, scope: Scope, progress: Progress) -> StepResult:
    started = time.perf_counter()
    result = StepResult(step, "pass")
    try:
        spec = scope.substitute(step.spec)
    except UnknownVariable as error:
        result.outcome = "skip" if step.phase == "teardown" else "error"
        result.reason = str(error)
        return result
    if step.action == "wait":
        progress.note(f"{step.id}: {step.name}")
    try:
        exchange = dispatch(step.action, spec, ctx)
    except Exception as error:  # whatever the target or the suite did, the run goes on
        result.outcome = "error"
        result.reason = str(error) if isinstance(error, ActionError) else f"{type(error).__name__}: {error}"
        result.seconds = time.perf_counter() - started
        return result
    result.seconds = time.perf_counter() - started
    if exchange is None:  # wait
        return result
    assert ctx.suite is not None
    result.exchange = exchange
    result.summary = _summary(step, spec, exchange.status)
    answer = Answer(exchange, ctx.suite.namespaces)
    if exchange.note and step.action == "soap" and (exchange.status or 0) < 300:
        result.asserts.append(AssertResult("the answer fits the WSDL", False, exchange.note))
    for item in step.asserts:
        try:
            result.asserts.append(evaluate(scope.substitute(item), answer))
        except UnknownVariable as error:
            result.asserts.append(AssertResult(str(next(iter(item.values()))), False, str(error)))
    for name, expression in step.save.items():
        value = capture(scope.substitute(expression), answer)
        if value is None:
            result.asserts.append(AssertResult(f"save {name}", False, f"{expression} gave nothing ({answer.what_came()})"))
        else:
            scope.values[name] = value
    if any(not a.passed for a in result.asserts):
        result.outcome = "fail"
    return result


def _summary(step: Step, spec: dict[str, Any], status: int | None) -> str:
    answered = status if status is not None else "no answer"
    if step.action == "fhir":
        return f"{spec['method']} {str(spec['path']).split('?')[0]} -> {answered}"
    what = spec.get("operation", "")
    if step.action == "soap-raw":
        what += f" ({spec['mutation']})"
    return f"{what} at {urlsplit(str(spec.get('service', ''))).path} -> {answered}"
