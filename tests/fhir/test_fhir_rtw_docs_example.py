"""docs/examples/rtw_faces_example.py runs as docs/return-to-work.md says:
the dossier opened and the form filled over FHIR, the counsellor's form
without the incapacity start date (RP-M1), Forem's counsellor refused (RP-A2)."""

from __future__ import annotations

import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "rtw_faces_example.py"


def test_the_faces_example_shows_rp_m1_and_rp_a2_over_fhir(capsys) -> None:  # type: ignore[no-untyped-def]
    result = runpy.run_path(str(EXAMPLE))["main"]()
    assert result["opened"] == 201 and result["form"] == 201 and str(result["dossier"]).startswith("rtw-")
    assert "incapacity-start" not in result["counsellor_items"] and "incapacity-one-year" in result["counsellor_items"]
    assert result["forem_counsellor"] == "403 RP-A2"
    assert {"insurer", "employer", "regional-service"} <= set(result["partners"])  # type: ignore[arg-type]
    assert "forem_counsellor: 403 RP-A2" in capsys.readouterr().out
