"""docs/examples/rtw_example.py runs as docs/return-to-work.md says (RP-S1, RP-M1)."""

from __future__ import annotations

import runpy
from datetime import date
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "rtw_example.py"


def test_the_example_shows_rp_m1_with_tokens_of_both_identity_providers(capsys) -> None:  # type: ignore[no-untyped-def]
    result = runpy.run_path(str(EXAMPLE))["main"]()
    assert result["insurer_sees_start"] == date(2025, 3, 3)
    assert result["counsellor_sees_start"] is None and result["counsellor_sees_one_year"] is True
    assert len(result["employers"]) == 2 and result["trio_dossier"] is True
    assert "counsellor_sees_start: None" in capsys.readouterr().out
