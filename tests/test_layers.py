"""The layers of docs/architecture.md hold: import-linter's CLI checks the
contracts of ``[tool.importlinter]`` in pyproject.toml (issue 9, "one
composition root"), indirect import chains included."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path


PROJECT = Path(__file__).resolve().parents[1]
CONTRACT_IDS = {"domain", "identity", "faces-independent", "faces-no-simulation", "simulation-no-face", "adapters"}


def lint_imports() -> str:
    """The ``lint-imports`` beside this interpreter (the one the test extra installed), else on PATH."""
    beside = Path(sys.executable).parent / "lint-imports"
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert found, "lint-imports is missing: run `python3 -m pip install -e '.[test]'` (the test extra brings import-linter)"
    return found


def test_every_layer_of_the_design_has_its_contract():
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert config["root_package"] == "gateway"
    assert {contract["id"] for contract in config["contracts"]} == CONTRACT_IDS


def test_import_contracts_are_kept():
    done = subprocess.run(
        [lint_imports(), "--no-cache", "--no-logo"], cwd=PROJECT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
