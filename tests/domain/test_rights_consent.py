"""DS-5 in the domain: a Consent is updated as a new version (a new
decision, or its withdrawal, which stops research from its date), under the
rules for changing the consent (IC-A5..IC-A7) and If-Match; every version
stays with who recorded it (IC-R11)."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.errors import AccessDenied, InvalidInput, NotFound, VersionConflict
from tests.conftest import declaration

TODAY = date(2026, 6, 15)


@pytest.fixture
def consent(gw, personas):  # type: ignore[no-untyped-def]
    gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    return gw.consents.current(personas["patient"].principal(), personas["patient"].niss)


def research(gw, personas) -> int:  # type: ignore[no-untyped-def]
    return len(gw.exports.for_insurer(personas["insurer"].principal(), "100").research)


def test_DS_5_withdrawing_by_update_stops_research_and_keeps_every_version(gw, personas, consent):
    patient = personas["patient"].principal()
    assert (consent.resource_id, consent.version) == (consent.id, 1) and research(gw, personas) == 1
    withdrawn = gw.consents.update(patient, consent.id, "agree", TODAY, withdraw=True, expected_version=1)
    assert (withdrawn.resource_id, withdrawn.version, withdrawn.decision, withdrawn.withdrawn) == (consent.id, 2, "refuse", True)
    assert research(gw, personas) == 0
    assert gw.exports.for_insurer(personas["insurer"].principal(), "100").billing[0].consent_decision == "refuse"
    versions = gw.consents.versions(patient, consent.id)
    assert [(v.version, v.decision, v.in_force, v.recorded_by_role) for v in versions] == [
        (1, "agree", False, "provider"), (2, "refuse", True, "patient")]
    assert gw.consents.get(patient, consent.id).version == 2
    assert [v.resource_id for v in gw.consents.history(patient, personas["patient"].niss)] == [consent.id, consent.id]


def test_DS_5_an_update_needs_the_current_version_and_the_right_to_change_the_consent(gw, personas, consent):
    with pytest.raises(VersionConflict):
        gw.consents.update(personas["patient"].principal(), consent.id, "refuse", TODAY, expected_version=2)
    with pytest.raises(AccessDenied) as err:
        gw.consents.update(personas["gp-no-link"].principal(), consent.id, "refuse", TODAY)
    assert err.value.rule == "IC-A5"
    with pytest.raises(NotFound):  # another project's staff: no such Consent (IC-A3)
        gw.consents.update(personas["psi-admin-other"].principal(), consent.id, "refuse", TODAY)
    with pytest.raises(InvalidInput):
        gw.consents.update(personas["patient"].principal(), consent.id, "refuse", TODAY, patient_niss=personas["patient-2"].niss)
    by_psi = gw.consents.update(personas["psi-admin"].principal(), consent.id, "refuse", TODAY, expected_version=1)  # IC-A6
    assert by_psi.version == 2 and by_psi.recorded_by_organisation == personas["psi-admin"].organisation_nihii
    later = gw.consents.versions(personas["patient"].principal(), consent.id)[-1]
    with pytest.raises(NotFound):  # a later version's own id names no Consent
        gw.consents.get(personas["patient"].principal(), later.id)
