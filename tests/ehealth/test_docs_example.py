"""The vendor example of docs/ehealth-sandbox.md runs as written: credentials
from the CLI, a token from the STS, TherLink through zeep, over real HTTP."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gateway.cli import main as cli

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "therlink_example.py"


def test_the_therlink_example_runs_against_the_sandbox(live, personas, tmp_path, capsys):
    assert cli(["sandbox", "credentials", "gp", "--out", str(tmp_path)]) == 0
    spec = importlib.util.spec_from_file_location("therlink_example", EXAMPLE)
    assert spec and spec.loader
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    assert (example.GP_NISS, example.GP_NIHII) == (personas["gp"].niss, personas["gp"].nihii)
    assert example.PATIENT == personas["patient"].niss and example.NEW_PATIENT == personas["niss-changed-patient"].niss

    result = example.main(live.base_url, tmp_path, clock=live.clock)
    assert result == {
        "existing_link": True,
        "declared": True,
        "after_put": True,
        "listed": [("gpconsultation", live.clock.today())],
        "revoked": 1,
        "after_revoke": False,
    }
    assert "revoked 1 link(s)" in capsys.readouterr().out
    assert example.main(live.base_url, tmp_path, clock=live.clock)["revoked"] == 1  # it can run again
