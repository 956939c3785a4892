"""Rights of the people concerned: DS-1 (consult: who looked at my data),
DS-5 (withdraw a consent), DS-6 (personal data from the national register),
DS-8 (identifiable only as long as needed)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain.errors import AccessDenied
from gateway.domain.model import Base
from tests.conftest import declaration


def test_DS_1_patient_sees_who_looked_at_their_data(gw, personas):
    patient, gp = personas["patient"], personas["gp"]
    gw.inclusions.declare(gp.principal(), declaration(patient, personas["psi-admin"].organisation_nihii))
    gw.inclusions.consult(personas["pharmacist"].principal(), patient.niss)
    with pytest.raises(AccessDenied):
        gw.inclusions.consult(personas["gp-no-link"].principal(), patient.niss)
    gw.inclusions.consult(personas["patient-2"].principal(), personas["patient-2"].niss)  # about someone else
    log = gw.access_log.about_me(patient.principal())
    assert [(e.action, e.actor_niss, e.outcome) for e in log] == [
        ("inclusion.consult", personas["gp-no-link"].niss, "denied"),
        ("inclusion.consult", personas["pharmacist"].niss, "allowed"),
        ("inclusion.declare", gp.niss, "allowed"),
    ]
    assert log[1].actor_organisation == personas["pharmacist"].organisation_nihii
    assert gw.access_log.about_me(patient.principal())[0].action == "inclusion.consult"  # reading the log is not listed
    with pytest.raises(AccessDenied) as err:
        gw.access_log.about_me(gp.principal())
    assert err.value.rule == "DS-1"


def test_DS_5_withdrawing_research_consent_stops_research_use_from_then(gw, personas):
    patient = personas["patient"]
    gw.inclusions.declare(personas["gp"].principal(), declaration(patient, personas["psi-admin"].organisation_nihii))
    insurer = personas["insurer"].principal()
    assert [l.patient_niss for l in gw.exports.for_insurer(insurer, "100").research] == [patient.niss]
    gw.consents.record(patient.principal(), patient.niss, "refuse", date(2026, 6, 15))
    export = gw.exports.for_insurer(insurer, "100")
    assert export.research == () and export.billing[0].consent_decision == "refuse"  # billing, a legal obligation, remains


def test_DS_6_personal_data_are_read_from_the_national_register(gw, personas):
    patient = personas["patient"]
    gw.inclusions.declare(personas["gp"].principal(), declaration(patient, personas["psi-admin"].organisation_nihii))
    shown = gw.inclusions.consult(personas["gp"].principal(), patient.niss).patient
    person = gw.platform.register.person(patient.niss)
    assert (shown.last_name, shown.first_name, shown.birth_date) == (person.last_name, person.first_name, person.birth_date)


def test_DS_8_identifiable_data_go_with_retention(gw, personas):
    patient = personas["patient"]
    gw.inclusions.declare(personas["gp"].principal(), declaration(
        patient, personas["psi-admin"].organisation_nihii, start_date=date(2010, 1, 1), end_date=date(2015, 1, 1), consent_date=date(2010, 1, 1)))
    gw.lifecycle.purge()
    pseudonym = gw.ctx.pseudonyms.pseudonymise(patient.niss)
    with gw.db.transaction() as s:
        for table in Base.metadata.sorted_tables:  # the security log too: its records name the person by a cut token
            rows = s.execute(select(table)).all()
            assert all(pseudonym not in repr(tuple(r)) and patient.niss not in repr(tuple(r)) for r in rows), table.name


def test_DS_2_correction_request_is_recorded_not_applied(gw, personas):
    patient = personas["patient"]
    inc = gw.inclusions.declare(personas["gp"].principal(), declaration(patient, personas["psi-admin"].organisation_nihii))
    req = gw.rights.file(patient.principal(), "correction", "My inclusion started on 1 April, not 10 March.")
    assert (req.kind, req.rule, req.status) == ("correction", "DS-2", "active")
    assert gw.inclusions.get(personas["gp"].principal(), inc.id).start_date == date(2026, 3, 10)  # billing items stay (IC-A7)
    from gateway.domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        gw.rights.file(patient.principal(), "correction", "  ")
    assert err.value.rule == "DS-2"


@pytest.mark.parametrize(("kind", "rule"), [("restriction", "DS-3"), ("objection", "DS-4")])
def test_DS_3_DS_4_restriction_and_objection_stop_research_use(gw, personas, kind, rule):
    patient = personas["patient"]
    gw.inclusions.declare(personas["gp"].principal(), declaration(patient, personas["psi-admin"].organisation_nihii))
    insurer = personas["insurer"].principal()
    req = gw.rights.file(patient.principal(), kind)
    assert req.rule == rule
    export = gw.exports.for_insurer(insurer, "100")
    assert export.research == () and len(export.billing) == 1
    gw.rights.lift(patient.principal(), req.id)
    assert len(gw.exports.for_insurer(insurer, "100").research) == 1
    assert [r.status for r in gw.rights.mine(patient.principal())] == ["closed"]
    with pytest.raises(AccessDenied):
        gw.rights.file(personas["gp"].principal(), kind)
