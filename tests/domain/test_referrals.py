"""Referrals: RF-1 (requester, service, reason, validity, status over time)
and RF-4 (who sees a referral)."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.errors import AccessDenied, InvalidInput, NotFound
from gateway.domain.referrals import PerformerSpec, ReferralSpec


@pytest.fixture
def referral(gw, personas):
    spec = ReferralSpec(
        patient_niss=personas["patient"].niss, category="specialist-referral", service_requested="cardiology",
        reason="exertional chest pain", valid_from=date(2026, 6, 1), valid_until=date(2026, 9, 30),
        performers=(PerformerSpec(nihii=personas["nurse"].nihii, party_role="nurse"),),
    )
    return gw.referrals.create(personas["gp"].principal(), spec)


def test_RF_1_a_referral_names_patient_requester_service_reason_and_validity(referral, personas):
    assert referral.status == "active" and referral.service_requested == "cardiology"
    requester = referral.party("requester")[0]
    assert (requester.niss, requester.nihii, requester.party_role) == (personas["gp"].niss, personas["gp"].nihii, "doctor")
    assert referral.party("performer")[0].nihii == personas["nurse"].nihii
    assert (referral.valid_from, referral.valid_until) == (date(2026, 6, 1), date(2026, 9, 30))


def test_RF_1_status_moves_by_the_party_it_belongs_to(gw, personas, referral):
    with pytest.raises(AccessDenied) as err:
        gw.referrals.transition(personas["gp"].principal(), referral.id, "accepted")
    assert err.value.rule == "RF-1"
    accepted = gw.referrals.transition(personas["nurse"].principal(), referral.id, "accepted")
    assert (accepted.status, accepted.party("performer")[0].task_status) == ("active", "accepted")  # the Task moves
    done = gw.referrals.transition(personas["nurse"].principal(), referral.id, "completed")
    assert (done.status, done.party("performer")[0].task_status) == ("completed", "completed")  # its only Task done
    with pytest.raises(InvalidInput) as err:
        gw.referrals.transition(personas["gp"].principal(), referral.id, "revoked")
    assert (err.value.code, err.value.rule) == ("invalid-transition", "RF-1")


def test_RF_1_expired_referral_cannot_be_accepted(gw, personas, clock):
    r = gw.referrals.create(personas["gp"].principal(), ReferralSpec(
        patient_niss=personas["patient"].niss, category="specialist-referral", service_requested="dermatology",
        valid_from=date(2026, 5, 1), valid_until=date(2026, 6, 10), performers=(PerformerSpec(nihii=personas["nurse"].nihii),)))
    with pytest.raises(InvalidInput) as err:
        gw.referrals.transition(personas["nurse"].principal(), r.id, "accepted")
    assert (err.value.code, err.value.rule) == ("referral-expired", "RF-1")


def test_RF_1_only_providers_refer_and_bad_input_is_refused(gw, personas):
    spec = ReferralSpec(patient_niss=personas["patient"].niss, category="c", service_requested="cardiology")
    with pytest.raises(AccessDenied) as err:
        gw.referrals.create(personas["psi-admin"].principal(), spec)
    assert err.value.rule == "RF-1"
    with pytest.raises(InvalidInput) as err:
        gw.referrals.create(personas["gp"].principal(), ReferralSpec(**{**spec.__dict__, "valid_from": date(2026, 7, 1), "valid_until": date(2026, 6, 1)}))
    assert err.value.path == "occurrencePeriod.end"
    with pytest.raises(InvalidInput) as err:
        gw.referrals.create(personas["gp"].principal(), ReferralSpec(**{**spec.__dict__, "performers": (PerformerSpec(nihii="12345678901"),)}))
    assert err.value.path == "performer[0].identifier"


def test_RF_4_who_sees_a_referral(gw, personas, referral):
    for key in ("gp", "nurse", "patient", "pharmacist"):  # requester, performer, patient, care relationship (pharmacy)
        assert gw.referrals.get(personas[key].principal(), referral.id).id == referral.id
    for key in ("gp-no-link", "pharmacist-no-link"):
        with pytest.raises(AccessDenied) as err:
            gw.referrals.get(personas[key].principal(), referral.id)
        assert err.value.rule in ("RF-4", "IC-A9")
    with pytest.raises(NotFound) as hidden:  # IC-A3: for PSI staff a referral they are no party to does not exist
        gw.referrals.get(personas["psi-admin"].principal(), referral.id)
    assert hidden.value.code == "unknown-referral"
    assert [r.id for r in gw.referrals.for_patient(personas["gp-no-link"].principal(), personas["patient"].niss)] == []
    assert [r.id for r in gw.referrals.for_patient(personas["patient"].principal(), personas["patient"].niss)] == [referral.id]
