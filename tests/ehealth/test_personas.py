"""The personas listing (``care-gateway sandbox personas``)."""

from __future__ import annotations

import json

import pytest

from gateway.ehealth.sandbox.personas import personas, personas_main, render_personas
from gateway.ehealth.sandbox.registries import generate_registries
from gateway.domain.principal import Role

KEYS = {
    "patient", "patient-2", "gp", "nurse", "gp-no-link", "expired-visa", "excluded-profession",
    "pharmacist", "pharmacist-no-link", "psi-admin", "psi-coordinator", "psi-admin-other",
    "psi-coordinator-other", "deceased-patient", "bis-patient", "niss-changed-patient", "insurer", "auditor",
    "dpo",
}


def test_personas_have_the_stable_keys() -> None:
    cast = personas(generate_registries(2026))
    assert set(cast) == KEYS
    assert all(key == persona.key and persona.may and persona.description for key, persona in cast.items())
    assert len({p.niss for p in cast.values()}) == len(KEYS)  # one person per persona


def test_json_listing(capsys: pytest.CaptureFixture[str]) -> None:
    assert personas_main(["--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    by_key = {item["key"]: item for item in listing}
    from gateway.ehealth.rtw.personas import rtw_personas
    from gateway.ehealth.rtw.sandbox import rtw_sandbox

    assert set(by_key) == KEYS | set(rtw_personas(rtw_sandbox(2026)))  # integrated care's, then return to work's
    sandbox = generate_registries(2026)
    gp = by_key["gp"]
    assert gp["role"] == "provider" and gp["quality"] == "doctor"
    assert gp["nihii"] == sandbox.professionals_of(gp["niss"])[0].nihii
    assert "IC-F1 declare" in gp["may"]
    pharmacist = by_key["pharmacist"]
    assert pharmacist["organisation_name"] == sandbox.organisation(pharmacist["organisation_nihii"]).name  # type: ignore[union-attr]
    assert by_key["insurer"]["organisation_name"].startswith("Mutualités chrétiennes")
    assert by_key["patient"]["organisation_name"] is None and by_key["patient"]["nihii"] is None
    # every role a person holds has a persona, return to work's included; "system" and "organisation" are no one's
    assert {item["role"] for item in listing} == {r.value for r in Role} - {"system", "organisation"}  # every role has one


def test_table_listing(capsys: pytest.CaptureFixture[str]) -> None:
    assert personas_main([]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["key", "role", "NISS", "NIHII", "organisation"]
    cast = personas(generate_registries(2026))
    for key, persona in cast.items():
        row = next(line for line in lines if line.startswith(key + " "))
        assert persona.niss in row and (persona.nihii or "-") in row
    assert "Apotheek De Linde" in out and "IC-A3" in out


def test_seed_option_changes_the_people(capsys: pytest.CaptureFixture[str]) -> None:
    personas_main(["--json", "--seed", "7"])
    seven = {item["key"]: item["niss"] for item in json.loads(capsys.readouterr().out)}
    assert seven["patient"] == personas(generate_registries(7))["patient"].niss
    assert seven["patient"] != personas(generate_registries(2026))["patient"].niss
    assert render_personas(generate_registries(7), as_json=True) == render_personas(generate_registries(7), as_json=True)


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        personas_main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "care-gateway sandbox personas" in out and "--json" in out and "--seed" in out


def test_bad_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        personas_main(["--seed", "abc"])
    assert exit_.value.code == 2
