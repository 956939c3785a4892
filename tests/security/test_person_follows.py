"""One person followed through every entity that names them (inclusion,
consent, care team and care-team membership, referral, rights request, audit
trail) across a NISS change (IC-R5) and a retention purge (IC-R6, DS-8).

After the change, every entity is found under the new number and no row
names the former one but the history written at the time. After the purge,
nothing is left that names the person (pseudonym or NISS, in any table),
while the security log keeps its records of what was done, by whom and when
(IC-R8), about a person no one can name, and its hash chain still verifies."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain import audit
from gateway.domain.care_teams import CareTeamSpec, MemberSpec
from gateway.domain.identifiers import NissKind, make_niss
from gateway.domain.model import AuditRecord, Base
from gateway.domain.referrals import ReferralSpec
from tests.conftest import declaration

HISTORY = {"inclusion_change"}  # versions keep the number written at the time (IC-R5: "the history stays")


def rows_naming(gw, *needles: str, skip: set[str] = frozenset()) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Tables with rows that contain any of ``needles``, and how many."""
    found: dict[str, int] = {}
    with gw.db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            for row in connection.execute(select(table)):
                text = json.dumps([str(v) for v in row])
                if any(n in text for n in needles):
                    found[table.name] = found.get(table.name, 0) + 1
    return found


@pytest.fixture
def followed(gw, personas):  # type: ignore[no-untyped-def]
    """bis-patient in every entity: an ended inclusion with a consent decision,
    their own care team (ended), a membership of another patient's team as a
    relative, a referral (revoked), a rights request (lifted), acts about them
    and by them in the audit trail."""
    person, gp, nurse = personas["bis-patient"], personas["gp"], personas["nurse"]
    doctor = gp.principal()
    psi = personas["psi-admin"].organisation_nihii
    gw.inclusions.declare(doctor, declaration(person, psi, end_date=date(2026, 6, 14)))
    own = gw.care_teams.create(doctor, CareTeamSpec(kind="individual", patient_niss=person.niss, period_end=date(2026, 6, 14),
                                                    period_start=date(2026, 1, 1), members=(MemberSpec("practitioner", nihii=gp.nihii),)))
    other = gw.care_teams.create(doctor, CareTeamSpec(
        kind="clinical-group", patient_niss=personas["patient"].niss,
        members=(MemberSpec("practitioner", nihii=gp.nihii), MemberSpec("practitioner", nihii=nurse.nihii),
                 MemberSpec("related-person", niss=person.niss, role="daughter"))))
    referral = gw.referrals.create(doctor, ReferralSpec(patient_niss=person.niss, category="physiotherapy",
                                                        service_requested="knee rehabilitation"))
    gw.referrals.transition(doctor, referral.id, "revoked")
    request = gw.rights.file(person.principal(), "correction", "My first name is misspelt.")
    gw.rights.lift(person.principal(), request.id)
    gw.inclusions.consult(person.principal(), person.niss)  # an act by the person about themselves
    return {"person": person, "own_team": own, "other_team": other, "referral": referral, "request": request}


def change_number(gw, niss: str) -> str:  # type: ignore[no-untyped-def]
    register = gw.platform.register
    person = register.person(niss)
    new = make_niss(person.birth_date or date(1980, 1, 1), 613 if (person.sex or "male") == "male" else 614, bis=NissKind.NATIONAL)
    register.inject_niss_change(niss, new, date(2026, 6, 10))
    assert gw.lifecycle.sync_register().applied == 1
    return new


def test_IC_R5_every_entity_follows_the_person_to_the_new_number(gw, personas, followed):
    old = followed["person"].niss
    new = change_number(gw, old)
    pseudo = gw.ctx.pseudonyms.pseudonymise
    doctor = personas["gp"].principal()
    assert {t.id for t in gw.care_teams.for_patient(doctor, new)} == {followed["own_team"].id, followed["other_team"].id}
    assert [r.id for r in gw.referrals.for_patient(doctor, new)] == [followed["referral"].id]
    assert [r.id for r in gw.rights.mine(followed["person"].principal())] == [followed["request"].id]
    assert gw.inclusions.consult(doctor, new).consent is not None
    with gw.db.transaction() as s:  # every act about the person, before and after the change, found by the new number
        audit.seal(s)
    seen = gw.access_log.search(personas["auditor"].principal(), patient_niss=new, limit=100)
    assert {"care-team.create", "referral.create", "referral.transition", "rights.file", "inclusion.consult",
            "register.niss-change"} <= {e.action for e in seen}
    assert all(e.patient_niss == new for e in seen)
    # Nothing but history names the former number; the audit link of an act the person made signing in with
    # it (their token says who acted, IC-R8) is cut with the rest at the purge (next test).
    assert set(rows_naming(gw, pseudo(old), skip=HISTORY)) <= {"audit_subject"}


def test_IC_R6_DS_8_a_purge_leaves_nothing_that_names_the_person(gw, personas, followed):
    old = followed["person"].niss
    new = change_number(gw, old)
    pseudo = gw.ctx.pseudonyms.pseudonymise
    with gw.db.transaction() as s:
        audit.seal(s)
        kept_before = s.execute(select(AuditRecord.seq)).scalars().all()
    report = gw.lifecycle.purge(today=date(2036, 7, 1))
    assert (report.care_teams, report.referrals, report.rights_requests, report.patients) == (1, 1, 1, 1)
    assert rows_naming(gw, pseudo(old), pseudo(new), old, new) == {}  # every table, the security log included
    with gw.db.transaction() as s:
        audit.seal(s)
        assert set(kept_before) <= set(s.execute(select(AuditRecord.seq)).scalars().all())  # IC-R8: the records stay
        assert audit.verify(s).intact  # and the chain was not touched
    assert gw.access_log.search(personas["auditor"].principal(), patient_niss=new, limit=100) == []
    other = gw.care_teams.for_patient(personas["gp"].principal(), personas["patient"].niss)
    assert [m.kind for m in other[0].members] == ["practitioner", "practitioner"]  # the relative's membership went


def test_IC_R6_a_person_with_data_still_kept_is_not_erased(gw, personas, followed):
    """Only what is past retention goes: a running inclusion keeps the person named."""
    person = followed["person"]
    gw.inclusions.declare(personas["gp"].principal(), declaration(person, personas["psi-admin-other"].organisation_nihii,
                                                                  status="information", start_date=date(2026, 6, 1)))
    report = gw.lifecycle.purge(today=date(2036, 7, 1))
    assert report.patients == 0 and report.care_teams == 1
    assert gw.access_log.search(personas["auditor"].principal(), patient_niss=person.niss, limit=100) != []
