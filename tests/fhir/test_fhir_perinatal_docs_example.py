"""docs/examples/perinatal_example.py runs as docs/perinatal.md says: the
care team, the follow-up opened with her consent, the screening and its
profile (PN-1), the referral to support (RF-3), her withdrawal and the
midwife refused from then on while she still reads hers (PN-2)."""

from __future__ import annotations

import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "perinatal_example.py"


def test_the_perinatal_example_shows_pn_1_rf_3_and_pn_2_over_fhir(capsys) -> None:  # type: ignore[no-untyped-def]
    result = runpy.run_path(str(EXAMPLE))["main"]()
    assert (result["care_team"], result["opened"], result["screened"], result["referred"]) == (201, 201, 201, 201)
    assert str(result["episode"]).startswith("pn-") and result["needs_action"] == ["social-isolation", "housing"]
    assert (result["consent"], result["midwife_after_withdrawal"], result["woman_reads_hers"]) == ("inactive", "403 PN-2", 200)
    assert "midwife_after_withdrawal: 403 PN-2" in capsys.readouterr().out
