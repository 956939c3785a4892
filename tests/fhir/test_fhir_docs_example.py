"""The FHIR example of docs/fhir.md runs against a live gateway."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "fhir_example.py"


def test_IC_F1_docs_fhir_example_runs(live, capsys):
    spec = importlib.util.spec_from_file_location("fhir_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    result = module.main(live.base_url, clock=live.clock)
    assert result["found"] >= 1 and result["consent"] == "permit"
    assert "declared EpisodeOfCare/" in capsys.readouterr().out
