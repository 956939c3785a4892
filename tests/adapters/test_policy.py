"""The domain's access rules decided on facts asked over the wire: every
persona against every patient persona gets the same IC-A1 / IC-A2 / IC-A3 /
IC-A4 decision (allowed, rule, code, own PSI) and the same standing as on
the sandbox's facts, and the use cases answer the same."""

from __future__ import annotations

import pytest

from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied
from gateway.domain.inclusions import InclusionService
from gateway.domain.policy import AccessPolicy
from tests.conftest import declaration


def decisions(policy: AccessPolicy, personas) -> dict:  # type: ignore[no-untyped-def]
    patients = [p for p in personas.values() if p.role.value == "patient"]
    seen = {}
    for who in personas.values():
        standing = policy.standing(who.principal())
        seen[who.key] = (standing.allowed, standing.rule, standing.code)
        for patient in patients:
            d = policy.consult(who.principal(), patient.niss)
            seen[(who.key, patient.key)] = (d.allowed, d.rule, d.code, d.own_psi)
    return seen


def test_IC_A1_IC_A2_IC_A3_IC_A4_decisions_are_the_same_through_the_adapters(side, personas):
    through = decisions(AccessPolicy(side.adapters.facts, side.clock), personas)
    direct = decisions(AccessPolicy(side.truth.facts, side.clock), personas)
    assert through == direct
    assert {v[1] for k, v in through.items() if isinstance(k, tuple) and v[0]} >= {"IC-A1", "IC-A2", "IC-A3", "IC-A4"}


@pytest.fixture
def via_adapters(gw, in_process) -> InclusionService:  # type: ignore[no-untyped-def]
    ctx = DomainContext(db=gw.db, clock=gw.clock, pseudonyms=gw.ctx.pseudonyms, facts=in_process.adapters.facts,
                        register=in_process.adapters.register, settings=gw.settings)
    return InclusionService(ctx)


def test_IC_A1_IC_A3_use_cases_through_the_adapters(gw, via_adapters, in_process, personas):
    """Declared on the adapters too (IC-F1 reads the patient from consultRN); PSI staff see their own PSI only."""
    gp, patient = personas["gp"].principal(), personas["patient"]
    b = via_adapters.declare(gp, declaration(patient, personas["psi-admin-other"].organisation_nihii))
    a = via_adapters.declare(gp, declaration(patient, personas["psi-admin"].organisation_nihii, status="information"))
    assert {i.id for i in via_adapters.consult(gp, patient.niss).inclusions} == {a.id, b.id}
    with pytest.raises(AccessDenied) as err:
        via_adapters.consult(personas["gp-no-link"].principal(), patient.niss)
    assert (err.value.rule, err.value.code) == ("IC-A1", "no-therapeutic-link")
    seen = via_adapters.consult(personas["psi-admin"].principal(), patient.niss)
    assert [i.id for i in seen.inclusions] == [a.id] and seen.principal_elsewhere is True
    assert in_process.calls.count("consultRN/v1") >= 1 and in_process.calls.count("AttributeAuthority/v1") >= 1
