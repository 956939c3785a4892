"""Progress on stderr while a run goes: a line per suite, a line per step
(✓ passed, ✗ failed, ! error, - skipped, with its time), the reasons of what
failed under it, and a summary. Plain text: it ends up in CI logs."""

from __future__ import annotations

import sys
from typing import TextIO

from gateway.conformance.suites.model import RunResult, StepResult, Suite, SuiteResult

MARKS = {"pass": "✓", "fail": "✗", "error": "!", "skip": "-"}


class Progress:
    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet

    def _print(self, line: str) -> None:
        if not self.quiet:
            try:
                print(line, file=self.stream, flush=True)
            except UnicodeEncodeError:  # a terminal without UTF-8
                print(line.encode("ascii", "replace").decode(), file=self.stream, flush=True)

    def run_started(self, target: str, run_id: str, suites: int) -> None:
        self._print(f"conformance run {run_id}: {suites} suite(s) against {target}")

    def note(self, text: str) -> None:
        self._print(f"  … {text}")

    def suite_started(self, suite: Suite) -> None:
        self._print(f"{suite.id}: {suite.title} [{', '.join(suite.rules)}]")

    def step_done(self, result: StepResult) -> None:
        phase = "" if result.step.phase == "test" else f"{result.step.phase}: "
        timing = f"{result.seconds * 1000:.0f} ms" if result.seconds < 10 else f"{result.seconds:.1f} s"
        summary = f"  ({result.summary})" if result.summary else ""
        self._print(f"  {MARKS[result.outcome]} {phase}{result.step.id} {result.step.name} [{timing}]{summary}")
        if result.outcome == "skip" and result.reason:
            self._print(f"      skipped: {result.reason}")
        for reason in result.failures:
            self._print(f"      {reason}")

    def suite_done(self, result: SuiteResult) -> None:
        if result.error:
            self._print(f"  ! {result.error}")
        state = "passed" if result.passed else "FAILED"
        self._print(f"  {state}: {result.count('pass')} passed, {result.count('fail') + result.count('error')} failed, "
                    f"{result.count('skip')} skipped in {result.seconds:.1f} s")

    def run_done(self, run: RunResult) -> None:
        failed_suites = [s.suite.id for s in run.suites if not s.passed]
        verdict = "PASSED" if run.passed else "FAILED"
        self._print(f"{verdict}: {len(run.suites)} suite(s), {run.count('pass')} step(s) passed, "
                    f"{run.count('fail') + run.count('error')} failed, {run.count('skip')} skipped in {run.seconds:.1f} s"
                    + (f"; failing: {', '.join(failed_suites)}" if failed_suites else "")
                    + (f"; {run.error}" if run.error else ""))
