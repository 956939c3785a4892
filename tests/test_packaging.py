"""A wheel built from the repository runs on its own (issue 9, "packaging for
a fresh machine"): it carries the contract folders and every file read at run
time, installs into a fresh virtual environment, and serves. And every
third-party import of the test suite is declared in the ``test`` extra, so the
README's test command works in a fresh virtual environment too."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import httpx
import pytest
from lxml import etree

from gateway import contracts
from tests.imports_check import third_party_modules

PROJECT = Path(__file__).resolve().parents[1]
WSDL = "{http://schemas.xmlsoap.org/wsdl/}definitions"
# What a fresh clone would not hold, or a build leaves behind.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", "build", "dist", "var", ".venv", "*.egg-info", "__pycache__", ".pytest_cache", "*.sqlite3*", "*.pyc"
)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))  # type: ignore[union-attr]


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env() -> dict[str, str]:
    """The caller's environment without anything pointing back at the checkout."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith("CARE_GATEWAY_")}


# ------------------------------------------------------------ fast checks


def test_setup_maps_the_same_contract_folders_as_the_runtime():
    """setup.py puts into the wheel exactly the folders gateway.contracts reads."""
    tree = ast.parse((PROJECT / "setup.py").read_text(encoding="utf-8"))
    assigned = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert assigned["CONTRACT_FOLDERS"] == contracts.FOLDERS


@pytest.mark.parametrize("folder", contracts.FOLDERS)
def test_contract_folders_are_data_never_python_packages(folder):
    """A top-level fhir/ or soap/ package would shadow fhir.resources (DESIGN, Layout)."""
    assert (PROJECT / folder).is_dir()
    assert not list((PROJECT / folder).rglob("__init__.py"))


def test_contracts_are_found_by_override_else_in_the_checkout(tmp_path):
    """The override wins; an editable install (this checkout holds no
    gateway/_contracts copy) reads the checkout. The installed copy is proven
    by the fresh-venv test below."""
    assert contracts.contracts_root({"CARE_GATEWAY_CONTRACTS": str(tmp_path)}) == tmp_path
    assert not (PROJECT / "gateway" / "_contracts").exists()
    assert contracts.contracts_root({}) == PROJECT


def test_every_test_import_is_declared():
    """Each third-party module the tests import comes from a distribution named
    in the dependencies or the ``test`` extra (a transitive install is not a
    declaration: it goes away when the dependency drops it)."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_requirement_name(r) for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]}
    providers = packages_distributions()
    undeclared = {}
    for module in third_party_modules():
        top = module.split(".")[0]
        names = {_normalise(d) for d in providers.get(top, [])}
        if not names & declared:
            undeclared[module] = sorted(names) or ["(not installed here)"]
    assert undeclared == {}, f"declare these in the `test` extra of pyproject.toml: {undeclared}"


def test_layer_tooling_is_declared():
    """tests/test_layers.py runs import-linter's CLI: the extra must bring it."""
    test_extra = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]["test"]
    assert "import-linter" in {_requirement_name(r) for r in test_extra}


# ------------------------------------------------------------ the wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built the way a packager does (isolated build) from a copy of
    the work tree, so no build/ or egg-info lands in the checkout and no stale
    build output of an earlier run gets in."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(PROJECT, source, ignore=NOT_SOURCES)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(base / "dist"), str(source)], timeout=900)
    (built,) = (base / "dist").glob("care_gateway-*.whl")
    return built


@pytest.mark.slow
def test_wheel_carries_contracts_and_run_time_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for folder in contracts.FOLDERS:
        for path in (PROJECT / folder).rglob("*"):
            relative = path.relative_to(PROJECT)
            if path.is_file() and "__pycache__" not in relative.parts and relative.parts[:2] != ("conformance", "tools"):
                expected.add(f"gateway/_contracts/{relative.as_posix()}")
    for pattern in ("ehealth/data/**/*", "web/**/*", "migrations/**/*.py", "migrations/*.mako"):
        expected |= {
            f"gateway/{p.relative_to(PROJECT / 'gateway').as_posix()}"
            for p in (PROJECT / "gateway").glob(pattern)
            if p.is_file() and "__pycache__" not in p.parts
        }
    assert expected - names == set()
    # Nothing at the top level but the package: no fhir/ or soap/ to shadow fhir.resources.
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"gateway"}
    assert not any(n.startswith("gateway/_contracts/conformance/tools/") for n in names)


@pytest.mark.slow
def test_wheel_installs_and_serves_in_a_fresh_virtual_environment(wheel, tmp_path):
    venv = tmp_path / "venv"  # no --system-site-packages: only the wheel and what it declares
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=300)
    python, cli = venv / "bin" / "python", venv / "bin" / "care-gateway"
    env = _clean_env()
    # This interpreter's pip installs into the venv (pip's --python): the same
    # resolution as the venv's own pip, without bootstrapping one into it.
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile", str(wheel)]
    _run(install, env=env, cwd=tmp_path, timeout=1800)

    run_dir = tmp_path / "run"  # nothing of the checkout is reachable from here
    run_dir.mkdir()
    assert "usage: care-gateway" in _run([str(cli), "--help"], env=env, cwd=run_dir, timeout=120).stdout
    where = _run([str(python), "-c", "import gateway.contracts as c; print(c.ROOT)"], env=env, cwd=run_dir, timeout=120)
    assert Path(where.stdout.strip()).is_relative_to(venv)

    port = _free_port()
    env["CARE_GATEWAY_DATABASE_URL"] = f"sqlite:///{run_dir / 'gateway.sqlite3'}"
    log = (run_dir / "serve.log").open("w")
    server = subprocess.Popen(
        [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=run_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=5)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("care-gateway serve did not start:\n" + (run_dir / "serve.log").read_text())
                time.sleep(0.3)
        assert health.status_code == 200 and health.json()["status"] == "ok"

        metadata = httpx.get(f"{base}/fhir/metadata", headers={"Accept": "application/fhir+json"}, timeout=30)
        assert metadata.status_code == 200, metadata.text
        capability = json.loads(metadata.text)
        assert capability["resourceType"] == "CapabilityStatement" and capability["fhirVersion"] == "4.0.1"

        wsdl = httpx.get(f"{base}/soap/IntegratedCare/v1?wsdl", timeout=30)
        assert wsdl.status_code == 200, wsdl.text
        assert etree.fromstring(wsdl.content).tag == WSDL
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(30)
        log.close()
