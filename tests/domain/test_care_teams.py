"""Care teams: CT-1 (individual), CT-2 (clinical group), CT-3 (administrative
group), CT-4 (membership gives no access to inclusions), CT-5 (members see
the team; others need the relationship with the patient)."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.care_teams import CareTeamSpec, MemberSpec
from gateway.domain.errors import AccessDenied, InvalidInput, NotFound, VersionConflict
from tests.conftest import declaration


def individual(personas, provider="gp", patient="patient") -> CareTeamSpec:
    return CareTeamSpec(
        kind="individual", patient_niss=personas[patient].niss, name="GP follow-up",
        period_start=date(2026, 1, 1),
        members=(MemberSpec("practitioner", nihii=personas[provider].nihii, role="general practitioner"),
                 MemberSpec("patient", niss=personas[patient].niss)),
    )


def test_CT_1_individual_team_has_one_provider_and_a_patient(gw, personas):
    team = gw.care_teams.create(personas["gp"].principal(), individual(personas))
    assert team.kind == "individual" and team.patient_niss == personas["patient"].niss
    assert [(m.kind, m.nihii or m.niss) for m in team.members] == [
        ("practitioner", personas["gp"].nihii), ("patient", personas["patient"].niss)]
    assert team.members[0].niss == personas["gp"].niss  # resolved from CoBrHa
    bad = CareTeamSpec(kind="individual", patient_niss=personas["patient"].niss,
                       members=(MemberSpec("practitioner", nihii=personas["gp"].nihii), MemberSpec("practitioner", nihii=personas["nurse"].nihii)))
    with pytest.raises(InvalidInput) as err:
        gw.care_teams.create(personas["gp"].principal(), bad)
    assert err.value.rule == "CT-1"


def test_CT_2_clinical_group_needs_several_providers(gw, personas):
    spec = CareTeamSpec(kind="clinical-group", name="Diabetes group Leuven", patient_niss=personas["patient"].niss,
                        members=(MemberSpec("practitioner", nihii=personas["gp"].nihii), MemberSpec("practitioner", nihii=personas["nurse"].nihii)))
    team = gw.care_teams.create(personas["gp"].principal(), spec)
    assert team.kind == "clinical-group" and len(team.members) == 2
    with pytest.raises(InvalidInput) as err:
        gw.care_teams.create(personas["gp"].principal(), CareTeamSpec(kind="clinical-group", patient_niss=personas["patient"].niss,
                                                                     members=(MemberSpec("practitioner", nihii=personas["gp"].nihii),)))
    assert err.value.rule == "CT-2"


def test_CT_3_administrative_group_is_managed_by_an_organisation(gw, personas):
    psi = personas["psi-coordinator"].organisation_nihii
    spec = CareTeamSpec(kind="administrative-group", name="PSI A administration", managing_organisation=psi,
                        members=(MemberSpec("organisation", nihii=psi, role="psi"),))
    team = gw.care_teams.create(personas["psi-coordinator"].principal(), spec)
    assert team.managing_organisation == psi and team.patient_niss is None
    with pytest.raises(InvalidInput) as err:
        gw.care_teams.create(personas["psi-coordinator"].principal(), CareTeamSpec(kind="administrative-group", name="x"))
    assert err.value.rule == "CT-3"
    with pytest.raises(AccessDenied):
        gw.care_teams.create(personas["psi-coordinator-other"].principal(), spec)


def test_CT_4_membership_gives_no_access_to_inclusions(gw, personas):
    gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    gw.care_teams.create(personas["gp"].principal(), CareTeamSpec(
        kind="clinical-group", patient_niss=personas["patient"].niss,
        members=(MemberSpec("practitioner", nihii=personas["gp"].nihii), MemberSpec("practitioner", nihii=personas["gp-no-link"].nihii))))
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.consult(personas["gp-no-link"].principal(), personas["patient"].niss)
    assert err.value.rule == "IC-A1"


def test_CT_5_members_see_the_team_and_others_need_the_relationship(gw, personas):
    team = gw.care_teams.create(personas["gp"].principal(), CareTeamSpec(
        kind="clinical-group", patient_niss=personas["patient"].niss,
        members=(MemberSpec("practitioner", nihii=personas["gp"].nihii), MemberSpec("practitioner", nihii=personas["gp-no-link"].nihii))))
    assert gw.care_teams.get(personas["gp-no-link"].principal(), team.id).id == team.id  # member without link
    assert gw.care_teams.get(personas["nurse"].principal(), team.id).id == team.id  # link with the patient
    assert gw.care_teams.get(personas["patient"].principal(), team.id).id == team.id  # the patient (IC-A4)
    with pytest.raises(AccessDenied) as err:
        gw.care_teams.get(personas["pharmacist-no-link"].principal(), team.id)
    assert err.value.rule == "CT-5"
    assert [t.id for t in gw.care_teams.for_patient(personas["gp"].principal(), personas["patient"].niss)] == [team.id]
    with pytest.raises(AccessDenied):
        gw.care_teams.for_patient(personas["pharmacist-no-link"].principal(), personas["patient"].niss)


def test_CT_5_update_with_version_check(gw, personas):
    spec = individual(personas)
    team = gw.care_teams.create(personas["gp"].principal(), spec)
    changed = CareTeamSpec(**{**spec.__dict__, "status": "inactive", "period_end": date(2026, 6, 1)})
    updated = gw.care_teams.update(personas["gp"].principal(), team.id, changed, expected_version=1)
    assert (updated.status, updated.version) == ("inactive", 2)
    with pytest.raises(VersionConflict):
        gw.care_teams.update(personas["gp"].principal(), team.id, changed, expected_version=1)
    with pytest.raises(AccessDenied):
        gw.care_teams.update(personas["gp-no-link"].principal(), team.id, changed)


def test_CT_5_every_version_of_a_team_is_kept_and_read_under_the_current_rules(gw, personas):
    gp = personas["gp"].principal()
    team = gw.care_teams.create(gp, individual(personas))
    wider = CareTeamSpec(kind="clinical-group", patient_niss=personas["patient"].niss, name="Wound care group",
                         members=(MemberSpec("practitioner", nihii=personas["gp"].nihii),
                                  MemberSpec("practitioner", nihii=personas["nurse"].nihii)))
    gw.care_teams.update(gp, team.id, wider, expected_version=1)
    history = gw.care_teams.versions(gp, team.id)
    assert [(v.version, v.kind, v.name, len(v.members)) for v in history] == [
        (1, "individual", "GP follow-up", 2), (2, "clinical-group", "Wound care group", 2)]
    [first] = gw.care_teams.versions(personas["nurse"].principal(), team.id, 1)  # a member now: sees the team's past too
    assert first.members[1].niss == personas["patient"].niss and first.kind == "individual"
    with pytest.raises(NotFound) as err:
        gw.care_teams.versions(gp, team.id, 3)
    assert err.value.code == "unknown-version"
    with pytest.raises(AccessDenied) as denied:
        gw.care_teams.versions(personas["gp-no-link"].principal(), team.id, 1)
    assert denied.value.rule == "CT-5"
