"""Where the contracts kept as data live: ``profiles/``, ``fhir/``, ``soap/``,
``mappings/``, ``conformance/``.

In a checkout they sit at the top of the project, beside ``gateway/``; the
wheel carries them as ``gateway/_contracts/<folder>/`` (see setup.py). An
installed gateway reads its own copy; an editable install
(``pip install -e .``, as the README does) reads the checkout, since no
``_contracts`` folder exists there. ``CARE_GATEWAY_CONTRACTS`` names another
folder holding the same five and wins over both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

FOLDERS = ("profiles", "fhir", "soap", "mappings", "conformance")

PACKAGE = Path(__file__).resolve().parent
INSTALLED = PACKAGE / "_contracts"
CHECKOUT = PACKAGE.parent


def contracts_root(environ: Mapping[str, str] = os.environ) -> Path:
    """The folder holding the contract folders: the override, else the installed copy, else the checkout."""
    override = environ.get("CARE_GATEWAY_CONTRACTS")
    if override:
        return Path(override)
    return INSTALLED if INSTALLED.is_dir() else CHECKOUT


ROOT = contracts_root()


def contract(*parts: str) -> Path:
    """The path of one contract file or folder, e.g. ``contract("soap", "commons")``."""
    path = ROOT.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"contract file {path} is missing (contracts are read from {ROOT}): reinstall the care-gateway wheel, "
            "install the checkout with `pip install -e .`, or point CARE_GATEWAY_CONTRACTS at a folder holding "
            + ", ".join(f"{folder}/" for folder in FOLDERS)
        )
    return path
