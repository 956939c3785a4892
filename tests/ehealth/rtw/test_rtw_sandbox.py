"""The return-to-work sandbox data: drawn after the registries (no existing
number moves), deterministic, and true to the situations the access rules
tell apart."""

from __future__ import annotations

from datetime import date

from gateway.domain.identifiers import check_cbe, check_niss
from gateway.domain.principal import Role
from gateway.domain.rtw.roles import ROLES
from gateway.ehealth.rtw.personas import rtw_personas
from gateway.ehealth.rtw.sandbox import _cached, rtw_sandbox
from gateway.ehealth.sandbox.registries import build_registries, generate_registries

TODAY = date(2026, 6, 15)


def test_drawn_after_the_registries_which_do_not_move() -> None:
    sandbox = rtw_sandbox(2026)
    assert sandbox.registries == build_registries(2026) == generate_registries(2026)


def test_same_seed_same_data_other_seed_other_data() -> None:
    first = rtw_sandbox(2026)
    again = _cached.__wrapped__(2026)  # built afresh
    assert again.cast == first.cast and again.employments == first.employments
    assert {k: s.person.niss for k, s in again.staff.items()} == {k: s.person.niss for k, s in first.staff.items()}
    assert rtw_sandbox(7).cast != first.cast


def test_numbers_are_valid_and_unique() -> None:
    sandbox = rtw_sandbox(2026)
    registries = sandbox.registries
    taken = {p.niss for p in registries.people} | {o.cbe for o in registries.organisations}
    cbes = [o.cbe for group in (sandbox.regional, sandbox.prevention, sandbox.employers) for o in group.values()]
    staff = [s.person.niss for s in sandbox.staff.values()]
    for number in cbes:
        check_cbe(number)
    for number in staff:
        check_niss(number)
    assert len(set(cbes)) == len(cbes) and not set(cbes) & taken
    assert len(set(staff)) == len(staff) and not set(staff) & taken


def test_the_situations_of_the_issue() -> None:
    sandbox = rtw_sandbox(2026)
    cast = sandbox.cast
    assert len(sandbox.employments_of(cast.insured, TODAY)) == 2  # several employers
    now = sandbox.employments_of(cast.changed_employer, TODAY)
    assert len(now) == 1 and now[0].employer_cbe != cast.former_employer  # a change of employer
    assert sandbox.employments_of(cast.changed_employer, date(2024, 1, 1))[0].employer_cbe == cast.former_employer
    regions = {sandbox.registrations_of(n, TODAY)[0].region for n in (cast.insured, cast.changed_employer, cast.actiris, cast.adg)}
    assert regions == {"flanders", "wallonia", "brussels", "german-speaking"}  # one person with each regional service
    assert sandbox.registrations_of(cast.unregistered, TODAY) == []
    assert sandbox.registries.person(cast.deceased).deceased  # type: ignore[union-attr]
    assert cast.insured in sandbox.trio_niss  # a person with a TRIO dossier
    assert sandbox.insurer_of(cast.actiris).code != sandbox.insurer_of(cast.insured).code  # type: ignore[union-attr]
    changed = sandbox.registries.person(cast.niss_changed)
    assert changed and changed.previous_niss and sandbox.registrations_of(changed.previous_niss[0], TODAY)


def test_every_role_of_the_spec_has_a_persona_confirmed_by_user_management() -> None:
    sandbox = rtw_sandbox(2026)
    personas = rtw_personas(sandbox)
    assert {p.role for p in personas.values()} == set(ROLES)
    for key, persona in personas.items():
        assert (persona.organisation_cbe, persona.role.value) in {(r.organisation_cbe, r.role) for r in sandbox.staff_roles(persona.niss)}
        expected = "bcss" if persona.role in (Role.REG_COUNSELLOR, Role.REG_LIST_MANAGER) else "ehealth"
        assert sandbox.staff[key].identity_provider == expected  # RP-S1
