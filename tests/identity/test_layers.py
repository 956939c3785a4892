"""The identity layer stands alone: importing every module of it loads no
face (FHIR, SOAP, the web framework), no simulated platform and no
composition root, so it verifies whatever platform the settings name."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("gateway.fhir", "gateway.soap", "gateway.ehealth", "gateway.wiring", "fastapi", "starlette")

PROBE = """
import importlib, pkgutil, sys
import gateway.identity as identity
for module in pkgutil.iter_modules(identity.__path__):
    importlib.import_module("gateway.identity." + module.name)
print("\\n".join(sorted(sys.modules)))
"""


def test_identity_imports_neither_a_face_nor_the_simulation():
    loaded = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
    offending = [name for name in loaded if name.startswith(FORBIDDEN)]
    assert offending == [], f"gateway.identity pulls in {offending}"
    assert "gateway.identity.oidc" in loaded and "gateway.identity.certstore" in loaded
