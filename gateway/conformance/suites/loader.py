"""Read suite files: YAML, checked against ``conformance/suites/suite.schema.json``
before anything runs, so that a typo in a suite is reported as the suite's
fault (with its path in the file), never as the target's."""

from __future__ import annotations

from gateway.namespaces import SOAP11_NS

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from gateway.conformance.suites.model import ACTIONS, Phase, Step, Suite, TokenSpec

DEFAULT_NAMESPACES = {
    "s": SOAP11_NS,
    "ic": "urn:be:care-gateway:integratedcare:v1",
    "cm": "urn:be:care-gateway:commons:v1",
    "cg": "urn:be:care-gateway:fault:v1",
}
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$")


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names the file and the place."""


def suites_dir() -> Path:
    """The shipped suites (``conformance/suites`` of the project)."""
    from gateway.contracts import contract

    return contract("conformance", "suites")


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads((suites_dir() / "suite.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def seconds(duration: str) -> float:
    """``"61s"`` -> 61.0 (``ms``, ``s``, ``m``)."""
    match = _DURATION.match(duration)
    if not match:
        raise SuiteError(f"not a duration: {duration!r} (write 500ms, 5s or 2m)")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


def resolve(names: Iterable[str]) -> list[Path]:
    """Suite files from paths, globs already expanded by the shell, or ids of shipped suites."""
    found: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found += sorted(path.glob("*.yaml"))
        elif path.exists():
            found.append(path)
        elif (suites_dir() / f"{name}.yaml").exists():
            found.append(suites_dir() / f"{name}.yaml")
        else:
            raise SuiteError(f"{name}: no such suite file, and no shipped suite of that id (see: care-gateway conformance list)")
    return [p for p in found if p.suffix in (".yaml", ".yml")]


def load(path: Path) -> Suite:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SuiteError(f"{path}: cannot be read as YAML: {error}") from None
    problems = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if problems:
        lines = [f"  at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in problems[:10]]
        raise SuiteError(f"{path}: not a valid suite (suite.schema.json):\n" + "\n".join(lines))
    return _suite(path, data)


def _suite(path: Path, data: dict[str, Any]) -> Suite:
    tokens = tuple(TokenSpec(name, spec["persona"], spec["kind"], seconds(spec.get("lifetime", "15m")))
                   for name, spec in (data.get("tokens") or {}).items())
    phases: dict[Phase, tuple[Step, ...]] = {
        phase: tuple(_step(s, phase) for s in data.get(key) or [])
        for phase, key in (("setup", "setup"), ("test", "steps"), ("teardown", "teardown"))
    }
    ids = [s.id for steps in phases.values() for s in steps]
    doubles = sorted({i for i in ids if ids.count(i) > 1})
    if doubles:
        raise SuiteError(f"{path}: step ids must be unique in a suite: {', '.join(doubles)}")
    return Suite(
        id=data["id"], title=data["title"], description=data["description"].strip(), path=path,
        rules=tuple(data["rules"]), variables=dict(data.get("variables") or {}), fixtures=dict(data.get("fixtures") or {}),
        tokens=tokens, namespaces={**DEFAULT_NAMESPACES, **(data.get("namespaces") or {})},
        fhir_base=data.get("fhir-base", "/fhir"), setup=phases["setup"], steps=phases["test"], teardown=phases["teardown"],
    )


def _step(data: dict[str, Any], phase: Phase) -> Step:
    action = next(a for a in ACTIONS if a in data)
    return Step(id=data["id"], name=data.get("name", data["id"]), phase=phase, action=action, spec=data[action],
                asserts=tuple(data.get("assert") or ()), save=dict(data.get("save") or {}), rules=tuple(data.get("rules") or ()))
