"""The vendor example of docs/soap.md runs as written: credentials from the
CLI, a token from the STS, IntegratedCare through zeep, over real HTTP."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gateway.cli import main as cli

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "soap_example.py"


def test_IC_F1_IC_F3_the_soap_example_runs_against_the_sandbox(live, personas, tmp_path, capsys):
    assert cli(["sandbox", "credentials", "gp", "--out", str(tmp_path)]) == 0
    spec = importlib.util.spec_from_file_location("soap_example", EXAMPLE)
    assert spec and spec.loader
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    assert (example.GP_NISS, example.GP_NIHII) == (personas["gp"].niss, personas["gp"].nihii)
    assert example.PATIENT == personas["patient-2"].niss and example.PSI == personas["psi-admin"].organisation_nihii

    result = example.main(live.base_url, tmp_path, clock=live.clock)
    assert result["status"] == "urn:be:fgov:ehealth:2.0:status:Success" and result["seen"] is True
    assert (result["stale"], result["version"], result["closed"]) == ("version-conflict", 2, live.clock.today())
    assert "closed on" in capsys.readouterr().out
    assert example.main(live.base_url, tmp_path, clock=live.clock)["version"] == 2  # it can run again
