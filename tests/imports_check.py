"""Every third-party module the test suite imports, found by reading tests/
with ``ast`` (import statements and ``pytest.importorskip("...")``).

    python tests/imports_check.py            # list them, one a line
    python -I tests/imports_check.py --import  # import each: exit 1 naming the missing ones

CI runs the second form in a fresh virtual environment holding only
``pip install -e '.[test]'``, so a test import that the ``test`` extra of
pyproject.toml does not declare fails there, before the suite runs.
tests/test_packaging.py also checks each one against the declarations.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
OURS = {"gateway", "tests"}


def _local_modules(tests: Path) -> set[str]:
    """Helper modules of the suite itself (conftest, corpus, ...), importable by their bare name."""
    return {path.stem for path in tests.rglob("*.py")}


def imported_modules(source: str) -> set[str]:
    """Absolute module names one test file imports, as written (``lxml.etree``, ``hypothesis``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "importorskip"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def third_party_modules(tests: Path = TESTS) -> list[str]:
    """The modules of tests/ that neither the standard library, the gateway nor the suite provides."""
    local = _local_modules(tests) | OURS
    modules: set[str] = set()
    for path in tests.rglob("*.py"):
        modules |= imported_modules(path.read_text(encoding="utf-8"))
    return sorted(m for m in modules if m.split(".")[0] not in sys.stdlib_module_names | local)


def missing_modules(modules: list[str]) -> dict[str, str]:
    """Each module that cannot be imported here, with the reason."""
    missing = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as error:
            missing[name] = str(error)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--import", dest="import_", action="store_true", help="import each module; exit 1 if one is missing")
    args = parser.parse_args(argv)
    modules = third_party_modules()
    if not args.import_:
        print("\n".join(modules))
        return 0
    missing = missing_modules(modules)
    for name, reason in missing.items():
        print(
            f"error: the tests import {name}, which this environment lacks ({reason}); "
            "declare its distribution in the `test` extra of pyproject.toml",
            file=sys.stderr,
        )
    if not missing:
        print(f"all {len(modules)} third-party modules the tests import are installed")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
