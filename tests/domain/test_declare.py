"""IC-F1 declaration, with IC-R1 (one principal), IC-R2 (billing dates),
IC-R3 (coherent dates) and the refusals that must leave nothing behind."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gateway.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound
from gateway.domain.identifiers import make_niss
from gateway.domain.model import AuditRecord, ConsentDecision, Inclusion
from tests.conftest import declaration


def count(gw, model) -> int:
    with gw.db.transaction() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def psi_a(personas) -> str:
    return personas["psi-admin"].organisation_nihii


def psi_b(personas) -> str:
    return personas["psi-admin-other"].organisation_nihii


def test_IC_F1_provider_declares_without_therapeutic_link(gw, personas):
    view = gw.inclusions.declare(personas["gp-no-link"].principal(), declaration(personas["patient"], psi_a(personas)))
    assert view.patient_niss == personas["patient"].niss
    assert view.psi_nihii == psi_a(personas)
    assert view.status == "principal"
    assert view.declared_by_nihii == personas["gp-no-link"].nihii  # item 12
    assert view.declared_by_niss == personas["gp-no-link"].niss  # item 10
    assert view.version == 1
    assert count(gw, Inclusion) == 1 and count(gw, ConsentDecision) == 1


def test_IC_F1_pharmacist_declares(gw, personas):
    view = gw.inclusions.declare(personas["pharmacist"].principal(), declaration(personas["patient-2"], psi_a(personas)))
    assert view.declared_by_role == "pharmacist"


def test_IC_F1_psi_administrative_declares_into_own_psi_only(gw, personas):
    admin = personas["psi-admin"].principal()
    view = gw.inclusions.declare(admin, declaration(personas["patient"], psi_a(personas)))
    assert view.declared_by_nihii is None and view.declared_by_role == "psi-administrative"
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.declare(admin, declaration(personas["patient-2"], psi_b(personas), status="information"))
    assert err.value.rule == "IC-F1" and err.value.code == "not-own-psi"
    assert count(gw, Inclusion) == 1


@pytest.mark.parametrize("key", ["psi-coordinator", "patient", "insurer"])
def test_IC_A9_roles_not_listed_may_not_declare(gw, personas, key):
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.declare(personas[key].principal(), declaration(personas["patient-2"], psi_a(personas)))
    assert err.value.rule == "IC-A9"
    assert count(gw, Inclusion) == 0


def test_IC_A9_expired_visa_and_excluded_profession_are_denied(gw, personas):
    for key, code in (("expired-visa", "visa-not-valid"), ("excluded-profession", "profession-not-allowed")):
        with pytest.raises(AccessDenied) as err:
            gw.inclusions.declare(personas[key].principal(), declaration(personas["patient"], psi_a(personas)))
        assert (err.value.rule, err.value.code) == ("IC-A9", code)
    assert count(gw, Inclusion) == 0


def test_IC_F1_unknown_patient_is_refused_and_nothing_stored(gw, personas):
    stranger = make_niss(date(1961, 2, 3), 997)
    assert gw.platform.register.person(stranger) is None
    with pytest.raises(NotFound) as err:
        gw.inclusions.declare(personas["gp"].principal(), declaration(stranger, psi_a(personas)))
    assert (err.value.code, err.value.rule, err.value.path) == ("unknown-patient", "IC-F1", "patient.niss")
    assert count(gw, Inclusion) == 0 and count(gw, ConsentDecision) == 0


def test_IC_F1_deceased_patient_is_refused(gw, personas):
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.declare(personas["gp"].principal(), declaration(personas["deceased-patient"], psi_a(personas)))
    assert (err.value.code, err.value.rule) == ("deceased-patient", "IC-F1")
    assert "death" in err.value.message
    assert count(gw, Inclusion) == 0


def test_IC_F1_wrong_check_digit_is_refused_with_path(gw, personas):
    good = personas["patient"].niss
    bad = good[:9] + f"{(int(good[9:]) + 1) % 100:02d}"
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.declare(personas["gp"].principal(), declaration(bad, psi_a(personas)))
    assert (err.value.code, err.value.path) == ("invalid-niss", "patient.niss")
    assert "check digits" in err.value.message


def test_IC_F1_unknown_psi_and_bad_status_are_refused(gw, personas):
    gp = personas["gp"].principal()
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.declare(gp, declaration(personas["patient"], personas["pharmacist"].organisation_nihii))
    assert (err.value.code, err.value.rule) == ("unknown-psi", "IC-F1")
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.declare(gp, declaration(personas["patient"], psi_a(personas), status="primary"))
    assert (err.value.code, err.value.path) == ("invalid-status", "status")
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.declare(gp, declaration(personas["patient"], psi_a(personas), consent_decision="maybe"))
    assert err.value.path == "consent.decision"
    assert count(gw, Inclusion) == 0


def test_IC_R3_end_before_start_is_refused(gw, personas):
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.declare(
            personas["gp"].principal(),
            declaration(personas["patient"], psi_a(personas), start_date=date(2026, 3, 10), end_date=date(2026, 3, 9)),
        )
    assert (err.value.code, err.value.rule, err.value.path) == ("end-before-start", "IC-R3", "end_date")
    assert count(gw, Inclusion) == 0


def test_IC_R3_consent_date_in_the_future_is_refused(gw, personas):
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.declare(
            personas["gp"].principal(), declaration(personas["patient"], psi_a(personas), consent_date=date(2026, 6, 16))
        )
    assert (err.value.code, err.value.rule) == ("consent-date-in-future", "IC-R3")


def test_IC_R1_second_principal_is_refused_without_revealing_the_other_psi(gw, personas):
    gw.inclusions.declare(personas["psi-admin-other"].principal(), declaration(personas["patient"], psi_b(personas)))
    with pytest.raises(Conflict) as err:
        gw.inclusions.declare(personas["psi-admin"].principal(), declaration(personas["patient"], psi_a(personas)))
    assert (err.value.code, err.value.rule) == ("principal-overlap", "IC-R1")
    assert psi_b(personas) not in err.value.message
    assert "information" in err.value.message
    assert count(gw, Inclusion) == 1


def test_IC_R1_provider_with_link_is_told_where_the_other_principal_is(gw, personas):
    other = gw.inclusions.declare(personas["psi-admin-other"].principal(), declaration(personas["patient"], psi_b(personas)))
    with pytest.raises(Conflict) as err:
        gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], psi_a(personas)))
    assert psi_b(personas) in err.value.message and other.id in err.value.message


def test_IC_R1_information_inclusions_and_successive_principals_are_allowed(gw, personas):
    gp = personas["gp"].principal()
    first = gw.inclusions.declare(gp, declaration(personas["patient"], psi_b(personas), end_date=date(2026, 4, 30)))
    gw.inclusions.declare(gp, declaration(personas["patient"], psi_a(personas), status="information"))
    gw.inclusions.declare(gp, declaration(personas["patient"], psi_b(personas), status="information"))
    after = gw.inclusions.declare(gp, declaration(personas["patient"], psi_a(personas), start_date=date(2026, 5, 1)))
    assert first.end_date < after.start_date
    with pytest.raises(Conflict):  # touching the last day of the first one overlaps
        gw.inclusions.declare(gp, declaration(personas["patient"], psi_a(personas), start_date=date(2026, 4, 30), end_date=date(2026, 4, 30)))
    assert count(gw, Inclusion) == 4


def test_IC_R2_billing_effective_dates_are_kept_beside_the_declared_ones(gw, personas):
    view = gw.inclusions.declare(
        personas["gp"].principal(),
        declaration(personas["patient"], psi_a(personas), start_date=date(2025, 12, 31), end_date=date(2026, 1, 15)),
    )
    assert (view.start_date, view.billing_start) == (date(2025, 12, 31), date(2026, 1, 1))
    assert (view.end_date, view.billing_end) == (date(2026, 1, 15), date(2026, 2, 28))


def test_IC_R8_refusals_are_audited_with_reason_and_rule(gw, personas):
    with pytest.raises(InvalidInput):
        gw.inclusions.declare(personas["gp"].principal(), declaration(personas["deceased-patient"], psi_a(personas)))
    with pytest.raises(AccessDenied):
        gw.inclusions.declare(personas["patient"].principal(), declaration(personas["patient"], psi_a(personas)))
    with gw.db.transaction() as s:
        rows = s.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()
    assert [(r.action, r.outcome, r.code, r.rule) for r in rows] == [
        ("inclusion.declare", "refused", "deceased-patient", "IC-F1"),
        ("inclusion.declare", "denied", "declare-not-allowed", "IC-A9"),
    ]
    assert rows[0].actor_role == "provider" and rows[0].patient_pseudonym is not None


def test_IC_F1_consent_decision_required_unless_one_is_in_force(gw, personas):
    gp = personas["gp"].principal()
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.declare(gp, declaration(personas["patient"], psi_a(personas), consent_decision=None, consent_date=None))
    assert (err.value.code, err.value.rule, err.value.path) == ("consent-required", "IC-F1", "consent.decision")
    assert count(gw, Inclusion) == 0
    gw.inclusions.declare(gp, declaration(personas["patient"], psi_a(personas), status="information"))
    gw.inclusions.declare(gp, declaration(personas["patient"], psi_b(personas), consent_decision=None, consent_date=None))
    assert count(gw, Inclusion) == 2 and count(gw, ConsentDecision) == 1
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.declare(gp, declaration(personas["patient-2"], psi_a(personas), consent_date=None))
    assert err.value.code == "missing-consent-date"
