"""The perinatal programme's sandbox cast: patient-2 is the pregnant woman,
gp (her general practitioner) and nurse (acting as her midwife) her care
team, gp-no-link a professional outside it; the child is the register's
person born on 2025-04-01."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.care_teams import CareTeamSpec, MemberSpec
from gateway.domain.perinatal.service import OpenEpisode

DECLARED = date(2024, 8, 20)
CHILD_BORN = date(2025, 4, 1)
ALL_CLEAR = {d: "no-concern" for d in ("social-isolation", "financial", "housing", "mental-health", "violence", "substance-use",
                                      "language-literacy", "pregnancy-history")}


@pytest.fixture
def child(registries) -> str:
    return next(p.niss for p in registries.people if p.birth_date == CHILD_BORN)


def perinatal_team(personas) -> CareTeamSpec:
    return CareTeamSpec(kind="clinical-group", patient_niss=personas["patient-2"].niss, name="Perinatal care team",
                        members=(MemberSpec("practitioner", nihii=personas["gp"].nihii, role="gp"),
                                 MemberSpec("practitioner", nihii=personas["nurse"].nihii, role="midwife"),
                                 MemberSpec("patient", niss=personas["patient-2"].niss)))


@pytest.fixture
def team(gw, personas):
    return gw.care_teams.create(personas["gp"].principal(), perinatal_team(personas))


@pytest.fixture
def episode(gw, personas, team):
    return gw.perinatal.open(personas["nurse"].principal(), OpenEpisode(
        woman_niss=personas["patient-2"].niss, care_team_id=team.id, pregnancy_declared_on=DECLARED,
        consent_given_on=DECLARED))
