"""IC-F2 consultation: IC-A1..IC-A4, and IC-R9 (names from the register at
display time)."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.errors import AccessDenied, NotFound
from tests.conftest import declaration


@pytest.fixture
def two_psis(gw, personas):
    """The patient: principal in PSI B, information in PSI A."""
    gp = personas["gp"].principal()
    b = gw.inclusions.declare(gp, declaration(personas["patient"], personas["psi-admin-other"].organisation_nihii))
    a = gw.inclusions.declare(
        gp, declaration(personas["patient"], personas["psi-admin"].organisation_nihii, status="information")
    )
    return a, b


def test_IC_A1_provider_with_therapeutic_link_sees_everything(gw, personas, two_psis):
    seen = gw.inclusions.consult(personas["gp"].principal(), personas["patient"].niss)
    assert {i.id for i in seen.inclusions} == {two_psis[0].id, two_psis[1].id}
    assert seen.consent is not None and seen.consent.decision == "agree"


def test_IC_A1_provider_without_therapeutic_link_is_denied(gw, personas, two_psis):
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.consult(personas["gp-no-link"].principal(), personas["patient"].niss)
    assert (err.value.rule, err.value.code) == ("IC-A1", "no-therapeutic-link")
    assert "TherLink" in err.value.message


def test_IC_A2_pharmacist_relies_on_the_pharmacy_link(gw, personas, two_psis):
    seen = gw.inclusions.consult(personas["pharmacist"].principal(), personas["patient"].niss)
    assert len(seen.inclusions) == 2
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.consult(personas["pharmacist-no-link"].principal(), personas["patient"].niss)
    assert err.value.rule == "IC-A2"


def test_IC_A2_link_of_the_pharmacy_not_of_the_person(gw, personas, two_psis):
    """The pharmacist has no individual link; the pharmacy's link is what counts."""
    p = personas["pharmacist"]
    assert not gw.ctx.facts.has_therapeutic_link(p.niss, personas["patient"].niss, date(2026, 6, 15))
    assert gw.ctx.facts.pharmacy_has_therapeutic_link(p.organisation_nihii, personas["patient"].niss, date(2026, 6, 15))
    assert gw.inclusions.consult(p.principal(), personas["patient"].niss).inclusions


@pytest.mark.parametrize("key", ["psi-admin", "psi-coordinator"])
def test_IC_A3_psi_staff_see_own_psi_and_only_that_a_principal_exists_elsewhere(gw, personas, two_psis, key):
    seen = gw.inclusions.consult(personas[key].principal(), personas["patient"].niss)
    assert [i.id for i in seen.inclusions] == [two_psis[0].id]
    assert seen.principal_elsewhere is True
    other = personas["psi-admin-other"].organisation_nihii
    assert other not in repr(seen)
    assert str(two_psis[1].start_date) not in repr(seen) or two_psis[0].start_date == two_psis[1].start_date


def test_IC_A3_other_psi_learns_nothing_of_a_patient_not_included_there(gw, personas):
    """Not even that a principal inclusion exists: that bit is for the project's own patients."""
    gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient-2"], personas["psi-admin"].organisation_nihii))
    seen = gw.inclusions.consult(personas["psi-admin-other"].principal(), personas["patient-2"].niss)
    assert seen.inclusions == () and seen.patient is None and seen.consent is None
    assert seen.principal_elsewhere is False


def test_IC_A3_reading_another_psis_inclusion_by_id_answers_as_an_unknown_id(gw, personas, two_psis):
    admin = personas["psi-admin"].principal()
    with pytest.raises(NotFound) as other:
        gw.inclusions.get(admin, two_psis[1].id)
    with pytest.raises(NotFound) as unknown:
        gw.inclusions.get(admin, "0b5c9a4e-8d2f-4c1e-9a7b-3f6d2e1c0a99")
    assert other.value.as_dict() == unknown.value.as_dict()  # no existence oracle
    assert gw.inclusions.get(admin, two_psis[0].id).id == two_psis[0].id


def test_IC_A4_patient_sees_all_their_own_data(gw, personas, two_psis):
    seen = gw.inclusions.consult(personas["patient"].principal(), personas["patient"].niss)
    assert len(seen.inclusions) == 2 and seen.principal_elsewhere is False
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.consult(personas["patient"].principal(), personas["patient-2"].niss)
    assert err.value.rule == "IC-A9"


def test_IC_R9_names_and_birth_date_come_from_the_register_at_display_time(gw, personas, two_psis):
    seen = gw.inclusions.consult(personas["gp"].principal(), personas["patient"].niss)
    person = gw.platform.register.person(personas["patient"].niss)
    assert seen.patient is not None
    assert (seen.patient.last_name, seen.patient.first_name, seen.patient.birth_date) == (
        person.last_name, person.first_name, person.birth_date,
    )


def test_IC_F2_consult_is_refused_for_a_malformed_niss(gw, personas):
    from gateway.domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        gw.inclusions.consult(personas["gp"].principal(), "12345")
    assert err.value.path == "patient.niss"
