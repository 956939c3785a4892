"""Directory reads: a patient's identity from the register at read time
(IC-R9) under the consult rules; providers and organisations from CoBrHa."""

from __future__ import annotations

import pytest

from gateway.domain.errors import AccessDenied, NotFound
from tests.conftest import declaration


def test_IC_R9_patient_read_comes_from_the_register_under_consult_rules(gw, personas):
    p = gw.directory.patient(personas["gp"].principal(), personas["patient"].niss)
    person = gw.platform.register.person(personas["patient"].niss)
    assert (p.niss, p.last_name, p.birth_date) == (person.niss, person.last_name, person.birth_date)
    with pytest.raises(AccessDenied):
        gw.directory.patient(personas["gp-no-link"].principal(), personas["patient"].niss)


def test_IC_A3_psi_staff_read_only_people_of_their_psi(gw, personas):
    with pytest.raises(NotFound) as err:
        gw.directory.patient(personas["psi-admin"].principal(), personas["patient"].niss)
    assert err.value.rule == "IC-A3"
    gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    assert gw.directory.patient(personas["psi-admin"].principal(), personas["patient"].niss).niss == personas["patient"].niss


def test_providers_and_organisations_are_read_from_cobrha(gw, personas):
    gp = gw.directory.professional(personas["nurse"].principal(), personas["gp"].nihii)
    assert gp.niss == personas["gp"].niss and gp.quality == "doctor"
    org = gw.directory.organisation(personas["patient"].principal(), personas["pharmacist"].organisation_nihii)
    assert org.kind.value == "pharmacy"
    with pytest.raises(AccessDenied):
        gw.directory.professional(personas["expired-visa"].principal(), personas["gp"].nihii)
