"""Where the contracts kept as data live: ``soap/``, ``fhir/``, ``profiles/``,
``mappings/``, ``conformance/`` at the top of the project (installed with
``pip install -e .``, as the README does)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("CARE_GATEWAY_CONTRACTS", Path(__file__).resolve().parent.parent))


def contract(*parts: str) -> Path:
    path = ROOT.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"contract file {path} is missing: run the gateway from a checkout installed with `pip install -e .`, "
            "or point CARE_GATEWAY_CONTRACTS at the project folder"
        )
    return path
