"""The perinatal suites (conformance/suites/perinatal-*.yaml) against the
gateway itself, over real HTTP through ``care-gateway conformance run``:
both pass, twice in a row against the same gateway (each run makes its
care team anew and ends with the consent withdrawn), and name PN-1, PN-2,
PN-3 and RF-3."""

from __future__ import annotations

from pathlib import Path

from gateway.cli import main
from gateway.conformance.suites.loader import suites_dir
from tests.conformance.test_suites_against_gateway import wall_clock  # noqa: F401 - the live clock follows the wall clock


def test_perinatal_suites_pass_against_the_gateway_twice(live, wall_clock, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    suites = sorted(str(p) for p in suites_dir().glob("perinatal-*.yaml"))
    assert [Path(s).name for s in suites] == ["perinatal-fhir.yaml", "perinatal-soap.yaml"]
    for attempt in (1, 2):
        status = main(["conformance", "run", *suites, "--target", live.base_url, "--report-dir", str(tmp_path / str(attempt))])
        err = capsys.readouterr().err
        assert status == 0, f"run {attempt} failed:\n{err}"
        assert "PASSED: 2 suite(s)" in err and "✗" not in err
        for rule in ("PN-1", "PN-2", "PN-3", "RF-3"):
            assert rule in (tmp_path / str(attempt) / "testreport.json").read_text(encoding="utf-8")
