"""docs/examples/rtw_trajectory_example.py runs as docs/return-to-work.md says:
the request on hold (RP-F3), sent to INAMI (RP-F4), decided and published once
(RP-F5), listed (RP-F7), medical data for the inspector only (RP-F8, RP-A6),
the small cell suppressed (RP-R3)."""

from __future__ import annotations

import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "rtw_trajectory_example.py"


def test_the_trajectory_example_runs_rp_f3_to_rp_r3_over_fhir(capsys) -> None:  # type: ignore[no-untyped-def]
    result = runpy.run_path(str(EXAMPLE))["main"]()
    assert (result["request"], result["validated"], result["before_run"], result["after_run"]) == (
        "on-hold", "submitted", "active", "completed")
    assert result["runs_published"] == [1, 0] and result["decisions_listed"] == ["approved"]
    assert (result["medical_inspector"], result["medical_expert"]) == (200, 403)
    assert result["requests_count"] == "suppressed"
    assert "runs_published: [1, 0]" in capsys.readouterr().out
