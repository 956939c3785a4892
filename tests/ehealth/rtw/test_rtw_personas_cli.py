"""``care-gateway sandbox personas`` lists the return-to-work personas beside
the integrated-care ones: one per role of the spec's table, with the
partner's name and CBE and what each may do (rule ids)."""

from __future__ import annotations

import json

from gateway.cli import main
from gateway.domain.rtw.roles import ROLES


def test_the_personas_command_lists_every_return_to_work_role(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["sandbox", "personas", "--json"]) == 0
    listed = {p["key"]: p for p in json.loads(capsys.readouterr().out)}
    assert {role.value for role in ROLES} <= {p["role"] for p in listed.values()}
    counsellor = listed["reg-counsellor"]
    assert counsellor["organisation_cbe"] and counsellor["organisation_name"].startswith("VDAB")
    assert any("RP-M1" in may for may in counsellor["may"])
    assert "gp" in listed  # the integrated-care personas are still there


def test_the_personas_table_names_the_partner_by_cbe(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["sandbox", "personas"]) == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith("inami-inspector "))
    assert "(CBE " in line and "RP-A6" in line
