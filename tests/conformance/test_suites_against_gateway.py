"""Every shipped suite against the gateway itself, over real HTTP, through
the ``care-gateway conformance run`` entry point: all pass, and pass again
when run a second time against the same gateway (fresh patients per run,
teardowns that close what the suites open). This is how CI runs the suites.

The runner is a black-box client signing with the wall clock, as a partner
would; the ``live`` gateway's clock is frozen by default, so it is made to
follow the wall clock here (the expired-token steps wait for real time)."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from lxml import etree

from gateway.cli import main
from gateway.conformance.fhir.validator import FhirValidator
from gateway.conformance.suites.loader import suites_dir


@pytest.fixture(scope="module")
def wall_clock(live) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Keep the live gateway's clock on the wall clock while the module runs."""
    stop = threading.Event()

    def follow() -> None:
        while not stop.is_set():
            live.clock.set(datetime.now(timezone.utc))
            stop.wait(0.05)

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(5)


def shipped() -> list[str]:
    """What the shell makes of ``conformance/suites/*``: the suites, this README and the schema."""
    return sorted(str(p) for p in suites_dir().glob("*"))


def test_every_shipped_suite_passes_against_the_gateway_twice(live, wall_clock, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for attempt in (1, 2):
        reports = tmp_path / f"run-{attempt}"
        status = main(["conformance", "run", *shipped(), "--target", live.base_url, "--report-dir", str(reports)])
        err = capsys.readouterr().err
        assert status == 0, f"run {attempt} failed:\n{err}"
        assert f"PASSED: {sum(p.endswith('.yaml') for p in shipped())} suite(s)" in err and " 0 failed" in err
        assert err.count("✓") >= 100 and "✗" not in err  # one progress line per step
        report = json.loads((reports / "testreport.json").read_text(encoding="utf-8"))
        assert report["result"] == "pass" and report["score"] == 100.0
        result = FhirValidator.default().validate(report)
        assert result.valid, result.findings()
        junit = etree.parse(str(reports / "junit.xml")).getroot()
        assert (junit.get("failures"), junit.get("errors"), junit.get("skipped")) == ("0", "0", "0")
        assert {s.get("name") for s in junit.iter("testsuite")} == {Path(p).stem for p in shipped() if p.endswith(".yaml")}
