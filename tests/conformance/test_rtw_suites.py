"""The return-to-work suites (conformance/suites/rtw-*.yaml) against the
gateway itself, over real HTTP through ``care-gateway conformance run``:
both pass, twice in a row against the same gateway (the second run gets
the open dossier back), tokens from both identity providers and the STS."""

from __future__ import annotations

from pathlib import Path

from gateway.cli import main
from gateway.conformance.suites.loader import suites_dir
from tests.conformance.test_suites_against_gateway import wall_clock  # noqa: F401 - the live clock follows the wall clock


def test_rtw_suites_pass_against_the_gateway_twice(live, wall_clock, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    suites = sorted(str(p) for p in suites_dir().glob("rtw-*.yaml"))
    assert [Path(s).name for s in suites] == ["rtw-fhir.yaml", "rtw-soap.yaml"]
    for attempt in (1, 2):
        status = main(["conformance", "run", *suites, "--target", live.base_url, "--report-dir", str(tmp_path / str(attempt))])
        err = capsys.readouterr().err
        assert status == 0, f"run {attempt} failed:\n{err}"
        assert "PASSED: 2 suite(s)" in err and "✗" not in err
        for rule in ("RP-S1", "RP-A1", "RP-A4", "RP-A5", "RP-A6", "RP-F1", "RP-M1", "RP-F3", "RP-F4", "RP-F5", "RP-F6", "RP-F7",
                     "RP-F8", "RP-F9", "RP-R3", "RF-2"):
            assert rule in (tmp_path / str(attempt) / "testreport.json").read_text(encoding="utf-8")
