"""IC-R7: each insurer receives its own members only; research exports hold
only patients who agreed, from the date they agreed."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.errors import AccessDenied
from gateway.domain.principal import system_principal
from tests.conftest import declaration


def test_IC_R7_insurer_receives_only_its_members(gw, personas, registries):
    gp = personas["gp"].principal()
    psi = personas["psi-admin"].organisation_nihii
    patient = personas["patient"]
    other = next(
        p for p in registries.patients()
        if p.death_date is None and gw.ctx.facts.insurer_of(p.niss, date(2026, 6, 15)) not in (None, "100")
    )
    gw.inclusions.declare(gp, declaration(patient, psi))
    gw.inclusions.declare(gp, declaration(other.niss, psi, status="information"))

    mine = gw.exports.for_insurer(personas["insurer"].principal(), "100")
    assert {line.patient_niss for line in mine.billing} == {patient.niss}
    everyone = {
        code: {l.patient_niss for l in gw.exports.for_insurer(system_principal(), code).billing}
        for code in ("100", "200", "300", "400", "500", "600", "900")
    }
    assert sum(len(v) for v in everyone.values()) == 2 and other.niss in everyone[gw.ctx.facts.insurer_of(other.niss, date(2026, 6, 15))]
    with pytest.raises(AccessDenied) as err:
        gw.exports.for_insurer(personas["insurer"].principal(), "200")
    assert err.value.rule == "IC-R7"


def test_IC_R7_research_export_uses_agreeing_patients_from_the_date_they_agreed(gw, personas):
    gp = personas["gp"].principal()
    psi = personas["psi-admin"].organisation_nihii
    patient = personas["patient"]
    gw.inclusions.declare(gp, declaration(patient, psi, start_date=date(2026, 1, 5), consent_decision="refuse", consent_date=date(2026, 1, 5)))
    insurer = personas["insurer"].principal()
    assert gw.exports.for_insurer(insurer, "100").research == ()
    gw.consents.record(patient.principal(), patient.niss, "agree", date(2026, 5, 20))
    export = gw.exports.for_insurer(insurer, "100")
    assert [(l.patient_niss, l.agreed_on, l.start_date) for l in export.research] == [(patient.niss, date(2026, 5, 20), date(2026, 5, 20))]
    assert export.billing[0].consent_decision == "agree"


def test_IC_A9_providers_get_no_export(gw, personas):
    with pytest.raises(AccessDenied) as err:
        gw.exports.for_insurer(personas["gp"].principal(), "100")
    assert err.value.rule == "IC-A9"
