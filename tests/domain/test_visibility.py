"""IC-A3 in the domain: PSI staff see their own project's data, and of the
other projects only that a principal inclusion exists, for a patient of
their own project. A research-consent decision recorded with another
project's inclusion, its date and who recorded it are that project's data.
An id they may not see answers as an unknown one; consent ids are random."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.model import AuditRecord
from tests.conftest import declaration


@pytest.fixture
def psis(personas):
    return personas["psi-admin"].organisation_nihii, personas["psi-admin-other"].organisation_nihii


@pytest.fixture
def leak_setting(gw, personas, psis):
    """The setting of the finding: PSI B's staff declare the patient as
    principal with a consent decision; a provider then declares the same
    patient as information in PSI A (the decision in force serves him)."""
    psi_a, psi_b = psis
    b = gw.inclusions.declare(personas["psi-admin-other"].principal(),
                              declaration(personas["patient"], psi_b, consent_decision="refuse", consent_date=date(2026, 2, 3)))
    a = gw.inclusions.declare(personas["gp"].principal(),
                              declaration(personas["patient"], psi_a, status="information", consent_decision=None, consent_date=None))
    b_consent = gw.consents.history(personas["psi-admin-other"].principal(), personas["patient"].niss)[-1]
    return a, b, b_consent


@pytest.mark.parametrize("key", ["psi-admin", "psi-coordinator"])
def test_IC_A3_other_projects_consent_decision_is_not_seen(gw, personas, leak_setting, key):
    a, b, b_consent = leak_setting
    staff = personas[key].principal()
    seen = gw.inclusions.consult(staff, personas["patient"].niss)
    assert [i.id for i in seen.inclusions] == [a.id] and seen.principal_elsewhere is True
    assert seen.consent is None  # PSI B's decision, its date and its recorder stay PSI B's
    assert gw.consents.history(staff, personas["patient"].niss) == []
    text = repr(seen)
    for secret in (personas["psi-admin-other"].niss, personas["psi-admin-other"].organisation_nihii, "2026-02-03", "refuse"):
        assert secret not in text


def test_IC_A3_other_projects_consent_id_answers_as_an_unknown_id(gw, personas, leak_setting):
    _, _, b_consent = leak_setting
    admin = personas["psi-admin"].principal()
    with pytest.raises(NotFound) as other:
        gw.consents.get(admin, b_consent.id)
    with pytest.raises(NotFound) as unknown:
        gw.consents.get(admin, str(uuid.uuid4()))
    assert other.value.as_dict() == unknown.value.as_dict()
    with gw.db.transaction() as s:  # the trail keeps what really happened
        last = s.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(2)).scalars().all()
    assert [(r.outcome, r.rule, r.code) for r in last] == [("refused", None, "unknown-consent"), ("denied", "IC-A3", "not-own-psi")]


def test_IC_A3_consent_ids_are_random(gw, personas, leak_setting):
    _, _, b_consent = leak_setting
    mine = gw.consents.record(personas["psi-admin"].principal(), personas["patient"].niss, "agree", date(2026, 6, 1))
    for value in (b_consent.id, mine.id):
        assert uuid.UUID(value).version == 4
    assert not mine.id.isdigit()


def test_IC_A3_each_project_sees_its_own_decisions_and_those_made_outside_any(gw, personas, leak_setting, psis):
    admin_a, admin_b = personas["psi-admin"].principal(), personas["psi-admin-other"].principal()
    patient = personas["patient"]
    own = gw.consents.record(admin_a, patient.niss, "agree", date(2026, 6, 1))
    assert [v.id for v in gw.consents.history(admin_a, patient.niss)] == [own.id]
    assert gw.consents.history(admin_a, patient.niss)[-1].in_force
    assert own.id not in [v.id for v in gw.consents.history(admin_b, patient.niss)]  # and the other way round
    by_patient = gw.consents.record(patient.principal(), patient.niss, "refuse", date(2026, 6, 10))
    for staff in (admin_a, admin_b):  # the patient decides outside any project: every project sees it
        assert gw.consents.history(staff, patient.niss)[-1].id == by_patient.id
    assert len(gw.consents.history(personas["gp"].principal(), patient.niss)) == 3  # IC-A1: everything


def test_IC_A3_no_principal_elsewhere_bit_for_a_person_outside_the_project(gw, personas, psis):
    psi_a, psi_b = psis
    gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient-2"], psi_b))
    for key in ("psi-admin", "psi-coordinator"):
        seen = gw.inclusions.consult(personas[key].principal(), personas["patient-2"].niss)
        assert (seen.inclusions, seen.principal_elsewhere, seen.patient, seen.consent) == ((), False, None, None)
    from gateway.domain.inclusions import InclusionQuery

    page = gw.inclusions.search(personas["psi-admin"].principal(), InclusionQuery(patient_niss=personas["patient-2"].niss))
    assert (page.items, page.principal_elsewhere) == ((), False)


def test_IC_A3_a_declaration_cannot_lean_on_another_projects_decision(gw, personas, leak_setting, psis):
    """Were it allowed, the absence of 'consent-required' would tell PSI A that
    someone recorded a decision for this person elsewhere."""
    psi_a, _ = psis
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.declare(personas["psi-admin"].principal(), declaration(
            personas["patient"], psi_a, status="information", start_date=date(2026, 5, 1), consent_decision=None, consent_date=None))
    assert err.value.code == "consent-required"


def test_IC_A3_care_teams_of_a_person_outside_the_project_are_not_seen(gw, personas, psis):
    from gateway.domain.care_teams import CareTeamSpec, MemberSpec

    _, psi_b = psis
    gp, nurse = personas["gp"], personas["nurse"]
    team = gw.care_teams.create(personas["psi-admin-other"].principal(), CareTeamSpec(
        kind="administrative-group", patient_niss=personas["patient-2"].niss, managing_organisation=psi_b,
        members=(MemberSpec("practitioner", nihii=gp.nihii), MemberSpec("practitioner", nihii=nurse.nihii))))
    admin_a = personas["psi-admin"].principal()
    assert gw.care_teams.for_patient(admin_a, personas["patient-2"].niss) == []
    with pytest.raises(NotFound) as other:
        gw.care_teams.get(admin_a, team.id)
    with pytest.raises(NotFound) as unknown:
        gw.care_teams.get(admin_a, str(uuid.uuid4()))
    assert other.value.as_dict() == unknown.value.as_dict()
    assert gw.care_teams.get(personas["psi-admin-other"].principal(), team.id).id == team.id
