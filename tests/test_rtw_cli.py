"""``care-gateway rtw``: its help, the weekly decision run (RP-F5) with its
progress, and the statistics export (RP-R3), on a fresh database."""

from __future__ import annotations

import csv
import io
import json

import pytest

from gateway.cli import build_parser, main


@pytest.mark.parametrize("words", [["rtw"], ["rtw", "decision-run"], ["rtw", "statistics"]], ids=" ".join)
def test_rtw_commands_have_help(words, capsys):  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*words, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: care-gateway rtw" in out


def test_rp_f5_the_decision_run_shows_progress_and_refuses_a_malformed_week(tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CARE_GATEWAY_SANDBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'sandbox.sqlite3'}")
    url = f"sqlite:///{tmp_path / 'gw.sqlite3'}"
    assert main(["rtw", "decision-run", "--week", "2026-W25", "--database", url]) == 0
    captured = capsys.readouterr()
    assert "0/0 published" in captured.err and "decision run 2026-W25: published 0" in captured.out
    assert main(["rtw", "decision-run", "--week", "2026-25", "--database", url]) == 1
    assert "invalid-week (RP-F5)" in capsys.readouterr().err


def test_rp_r3_the_statistics_export_writes_the_released_table(tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CARE_GATEWAY_SANDBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'sandbox.sqlite3'}")
    url = f"sqlite:///{tmp_path / 'gw.sqlite3'}"
    assert main(["rtw", "statistics", "--from", "2026-05", "--to", "2026-06", "--by", "kind", "--database", url]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["period"], r["kind"], r["requests"]) for r in rows] == [("2026-05", "total", "0"), ("2026-06", "total", "0")]
    out = tmp_path / "stats.json"
    assert main(["rtw", "statistics", "--from", "2026-06", "--format", "json", "--out", str(out), "--database", url]) == 0
    assert json.loads(out.read_text())["threshold"] == 5
