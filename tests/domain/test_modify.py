"""IC-F3 modification: IC-A5..IC-A7, IC-R3 on change, IC-R11 (who recorded
the consent), optimistic concurrency."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain.errors import AccessDenied, InvalidInput, NotFound, VersionConflict
from gateway.domain.inclusions import InclusionChanges
from gateway.domain.model import Inclusion
from tests.conftest import declaration


@pytest.fixture
def inclusion(gw, personas):
    return gw.inclusions.declare(
        personas["psi-admin"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii)
    )


def stored(gw, inclusion_id):
    with gw.db.transaction() as s:
        row = s.get(Inclusion, inclusion_id)
        return (row.status, row.start_date, row.end_date, row.version)


def test_IC_A5_provider_with_link_changes_status_dates_and_consent(gw, personas, inclusion):
    view = gw.inclusions.modify(
        personas["gp"].principal(), inclusion.id,
        InclusionChanges(status="information", start_date=date(2026, 2, 1), end_date=date(2026, 9, 30),
                         consent_decision="refuse", consent_date=date(2026, 6, 1)),
        expected_version=1,
    )
    assert (view.status, view.start_date, view.end_date, view.version) == ("information", date(2026, 2, 1), date(2026, 9, 30), 2)
    assert (view.billing_start, view.billing_end) == (date(2026, 3, 1), date(2026, 10, 31))
    assert view.last_actor_niss == personas["gp"].niss and view.last_actor_role == "provider"
    seen = gw.inclusions.consult(personas["gp"].principal(), personas["patient"].niss)
    assert seen.consent.decision == "refuse"


def test_IC_A5_pharmacist_with_pharmacy_link_may_modify(gw, personas, inclusion):
    view = gw.inclusions.close(personas["pharmacist"].principal(), inclusion.id, date(2026, 6, 30))
    assert view.end_date == date(2026, 6, 30) and view.closed_reason == "exclusion"


def test_IC_A5_provider_without_link_may_not_modify(gw, personas, inclusion):
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.modify(personas["gp-no-link"].principal(), inclusion.id, InclusionChanges(status="information"))
    assert err.value.rule == "IC-A5"
    assert stored(gw, inclusion.id) == ("principal", date(2026, 3, 10), None, 1)


def test_IC_A6_psi_admin_changes_start_date_and_consent_of_own_psi(gw, personas, inclusion):
    admin = personas["psi-admin"].principal()
    view = gw.inclusions.modify(admin, inclusion.id, InclusionChanges(start_date=date(2026, 3, 1), consent_decision="refuse"))
    assert view.start_date == date(2026, 3, 1)
    for changes in (InclusionChanges(status="information"), InclusionChanges(end_date=date(2026, 7, 1))):
        with pytest.raises(AccessDenied) as err:
            gw.inclusions.modify(admin, inclusion.id, changes)
        assert (err.value.rule, err.value.code) == ("IC-A6", "field-not-modifiable")
    with pytest.raises(NotFound) as err:  # IC-A3: another project's inclusion does not exist for them
        gw.inclusions.modify(personas["psi-admin-other"].principal(), inclusion.id, InclusionChanges(start_date=date(2026, 3, 2)))
    assert err.value.code == "unknown-inclusion"
    assert stored(gw, inclusion.id) == ("principal", date(2026, 3, 1), None, 2)


def test_IC_A7_patient_changes_only_their_consent(gw, personas, inclusion):
    me = personas["patient"].principal()
    gw.inclusions.modify(me, inclusion.id, InclusionChanges(consent_decision="refuse", consent_date=date(2026, 6, 15)))
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.modify(me, inclusion.id, InclusionChanges(start_date=date(2026, 1, 1)))
    assert err.value.rule == "IC-A7"
    assert "contact a care provider or the integrated-care project" in err.value.message
    with pytest.raises(AccessDenied):
        gw.inclusions.modify(personas["patient-2"].principal(), inclusion.id, InclusionChanges(consent_decision="refuse"))


def test_IC_A7_patient_records_consent_through_the_consent_service(gw, personas, inclusion):
    view = gw.consents.record(personas["patient"].principal(), personas["patient"].niss, "refuse", date(2026, 6, 14))
    assert view.decision == "refuse" and view.recorded_by_role == "patient"


def test_IC_A9_coordinator_may_not_modify(gw, personas, inclusion):
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.modify(personas["psi-coordinator"].principal(), inclusion.id, InclusionChanges(start_date=date(2026, 3, 1)))
    assert err.value.rule == "IC-A9"


def test_IC_R3_change_that_puts_end_before_start_is_refused(gw, personas, inclusion):
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.close(personas["gp"].principal(), inclusion.id, date(2026, 3, 9))
    assert err.value.rule == "IC-R3"
    assert stored(gw, inclusion.id)[2:] == (None, 1)


def test_IC_R1_change_to_principal_that_overlaps_is_refused(gw, personas, inclusion):
    info = gw.inclusions.declare(
        personas["gp"].principal(),
        declaration(personas["patient"], personas["psi-admin-other"].organisation_nihii, status="information"),
    )
    with pytest.raises(Exception) as err:
        gw.inclusions.modify(personas["gp"].principal(), info.id, InclusionChanges(status="principal"))
    assert getattr(err.value, "rule", None) == "IC-R1"
    assert stored(gw, info.id)[0] == "information"


def test_IC_R11_consent_history_keeps_who_recorded_it_and_when(gw, personas, inclusion, clock):
    from datetime import timedelta

    clock.advance(timedelta(days=1))
    gw.consents.record(personas["gp"].principal(), personas["patient"].niss, "refuse", date(2026, 6, 16))
    history = gw.consents.history(personas["patient"].principal(), personas["patient"].niss)
    assert [(h.decision, h.recorded_by_niss, h.recorded_by_role) for h in history] == [
        ("agree", personas["psi-admin"].niss, "psi-administrative"),
        ("refuse", personas["gp"].niss, "provider"),
    ]
    assert history[0].recorded_by_organisation == personas["psi-admin"].organisation_nihii
    assert history[1].recorded_at > history[0].recorded_at


def test_optimistic_concurrency_refuses_an_outdated_version(gw, personas, inclusion):
    gp = personas["gp"].principal()
    gw.inclusions.modify(gp, inclusion.id, InclusionChanges(start_date=date(2026, 3, 2)), expected_version=1)
    with pytest.raises(VersionConflict) as err:
        gw.inclusions.modify(gp, inclusion.id, InclusionChanges(start_date=date(2026, 3, 3)), expected_version=1)
    assert err.value.path == "version"
    assert stored(gw, inclusion.id) == ("principal", date(2026, 3, 2), None, 2)


def test_IC_R8_history_keeps_the_actor_of_every_change(gw, personas, inclusion):
    gw.inclusions.modify(personas["gp"].principal(), inclusion.id, InclusionChanges(status="information"))
    gw.inclusions.close(personas["nurse"].principal(), inclusion.id, date(2026, 7, 1))
    versions = gw.inclusions.history(personas["gp"].principal(), inclusion.id)
    assert [(v.version, v.action, v.actor_niss) for v in versions] == [
        (1, "declare", personas["psi-admin"].niss),
        (2, "modify", personas["gp"].niss),
        (3, "close", personas["nurse"].niss),
    ]
    assert versions[2].items["end_date"] == "2026-07-01"
