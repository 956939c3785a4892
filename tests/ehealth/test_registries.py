"""The sandbox registries: reproducible, valid numbers, the edge cases, and
the facts behind every persona, as the attribute authority reports them."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from gateway.domain.identifiers import NihiiVariant, NissKind, check_cbe, check_nihii, check_niss
from gateway.domain.ports import CareFacts, Membership, OrganisationKind
from gateway.domain.professions import PROFESSIONS, may_act_as_provider
from gateway.ehealth.sandbox.facts import SandboxCareFacts
from gateway.ehealth.sandbox.personas import Persona, personas
from gateway.ehealth.sandbox.registries import (
    EXPIRED_VISA_UNTIL,
    REFERENCE_DATE,
    SandboxRegistries,
    build_registries,
    generate_registries,
)
from gateway.domain.principal import Role

TODAY = date(2026, 6, 15)
INSURER_CODES = {"100", "200", "300", "400", "500", "600", "900"}


@pytest.fixture(scope="module")
def sandbox() -> SandboxRegistries:
    return generate_registries(2026)


@pytest.fixture(scope="module")
def facts(sandbox: SandboxRegistries) -> CareFacts:
    return SandboxCareFacts(sandbox)


@pytest.fixture(scope="module")
def cast(sandbox: SandboxRegistries) -> dict[str, Persona]:
    return personas(sandbox)


# ------------------------------------------------------------ determinism


def test_same_seed_same_registries_and_global_random_untouched() -> None:
    build = build_registries  # uncached: really build twice
    random.seed(1)
    state = random.getstate()
    first = build(2026)
    assert random.getstate() == state  # the generator never draws from the global generator
    random.seed(99)
    second = build(2026)
    assert first == second
    assert [p.niss for p in first.people] == [p.niss for p in second.people]
    assert build(7) != first
    assert build(7).cast.patient != first.cast.patient


def test_generate_registries_is_cached(sandbox: SandboxRegistries) -> None:
    assert generate_registries(2026) is sandbox
    assert generate_registries() is sandbox  # 2026 is the default seed


@pytest.mark.parametrize("seed", [2026, 1, 42])
def test_every_seed_yields_the_persona_facts(seed: int) -> None:
    sandbox = generate_registries(seed)
    cast = personas(sandbox)
    facts = SandboxCareFacts(sandbox)
    assert facts.has_therapeutic_link(cast["gp"].niss, cast["patient"].niss, TODAY)
    assert not facts.has_therapeutic_link(cast["gp-no-link"].niss, cast["patient"].niss, TODAY)
    assert facts.pharmacy_has_therapeutic_link(cast["pharmacist"].organisation_nihii or "", cast["patient"].niss, TODAY)
    assert facts.insurer_of(cast["patient"].niss, TODAY) == "100"


# ------------------------------------------------------------ valid numbers


def test_every_niss_passes_its_check_and_matches_the_person(sandbox: SandboxRegistries) -> None:
    numbers = [n for p in sandbox.people for n in (p.niss, *p.previous_niss)]
    assert len(numbers) == len(set(numbers))
    for person in sandbox.people:
        niss = check_niss(person.niss)
        assert niss.birth_date == person.birth_date
        assert niss.sex == person.sex  # None only for a BIS number with sex unknown
        for former in person.previous_niss:
            assert check_niss(former).birth_date == person.birth_date


def test_every_nihii_and_cbe_passes_its_check(sandbox: SandboxRegistries) -> None:
    nihiis = [p.nihii for p in sandbox.professionals] + [o.nihii for o in sandbox.organisations]
    assert len(nihiis) == len(set(nihiis))
    for professional in sandbox.professionals:
        nihii = check_nihii(professional.nihii)
        assert int(nihii.value[0]) == PROFESSIONS[professional.quality].nihii_group
    cbes = [o.cbe for o in sandbox.organisations]
    assert len(cbes) == len(set(cbes))
    for organisation in sandbox.organisations:
        check_nihii(organisation.nihii)
        check_cbe(organisation.cbe)
    assert any(c.startswith("1") for c in cbes) and any(c.startswith("0") for c in cbes)


def test_a_mod89_nihii_is_in_cobrha(sandbox: SandboxRegistries, cast: dict[str, Persona]) -> None:
    variants = Counter(check_nihii(p.nihii).variant for p in sandbox.professionals)
    assert variants[NihiiVariant.MOD89] >= 1 and variants[NihiiVariant.MOD97] >= 10
    assert check_nihii(cast["nurse"].nihii or "").variant is NihiiVariant.MOD89


# ------------------------------------------------------------ contents and edge cases


def test_register_population(sandbox: SandboxRegistries) -> None:
    patients = sandbox.patients()
    assert len(patients) >= 120
    professionals_and_staff = {p.niss for p in sandbox.professionals} | {m.niss for m in sandbox.memberships}
    assert all(sandbox.person(n) is not None for n in professionals_and_staff)
    assert not professionals_and_staff & {p.niss for p in patients}
    years = [p.birth_date.year for p in patients if p.birth_date]
    assert min(years) < 1950 and sum(y >= 2000 for y in years) >= 10
    assert len({p.last_name for p in sandbox.people}) >= 40


def test_register_edge_cases(sandbox: SandboxRegistries) -> None:
    deceased = [p for p in sandbox.people if p.death_date]
    assert any(p.death_date.year == 2025 for p in deceased if p.death_date)
    kinds = Counter(check_niss(p.niss).kind for p in sandbox.people)
    assert kinds[NissKind.BIS_SEX_KNOWN] >= 1 and kinds[NissKind.BIS_SEX_UNKNOWN] >= 1
    changed = [p for p in sandbox.people if p.previous_niss]
    assert changed
    for person in changed:
        assert check_niss(person.niss).kind is NissKind.NATIONAL
        assert all(check_niss(n).is_bis for n in person.previous_niss)
        assert sandbox.person(person.previous_niss[0]) == person  # found by the former number too


def test_cobrha_professionals(sandbox: SandboxRegistries) -> None:
    qualities = Counter(p.quality for p in sandbox.professionals)
    assert qualities["doctor"] >= 4 and qualities["nurse"] >= 3 and qualities["pharmacist"] >= 3
    assert qualities["physiotherapist"] >= 1 and qualities["midwife"] >= 1
    assert all(q in PROFESSIONS for q in qualities)
    excluded = [p for p in sandbox.professionals if not may_act_as_provider(p.quality) and p.quality != "pharmacist"]
    assert {p.quality for p in excluded} >= {"labtechnologist", "pharmacistassistant"}
    expired = [p for p in sandbox.professionals if p.visa_valid_until == EXPIRED_VISA_UNTIL]
    assert any(p.quality == "doctor" for p in expired)
    valid = [p for p in sandbox.professionals if p.visa_valid_on(REFERENCE_DATE)]
    assert len(valid) > len(sandbox.professionals) * 0.8


def test_organisations(sandbox: SandboxRegistries) -> None:
    assert len(sandbox.organisations_of(OrganisationKind.PSI)) >= 3
    assert len(sandbox.organisations_of(OrganisationKind.PHARMACY)) >= 2
    assert len(sandbox.organisations_of(OrganisationKind.HOSPITAL)) >= 1
    insurers = sandbox.organisations_of(OrganisationKind.INSURER)
    assert {o.insurer_code for o in insurers} == INSURER_CODES
    names = {o.insurer_code: o.name for o in insurers}
    assert "Christelijke Mutualiteiten" in names["100"] and "Solidaris" in names["300"]
    assert "libres" in names["500"] and "HZIV" in names["600"] and "HR Rail" in names["900"]
    for organisation in sandbox.organisations:
        assert sandbox.organisation(organisation.nihii) == organisation
        assert sandbox.organisation_by_cbe(f"BE {organisation.cbe}") == organisation
    assert sandbox.insurer("100") is not None and sandbox.insurer("100").kind is OrganisationKind.INSURER  # type: ignore[union-attr]


def test_memberships(sandbox: SandboxRegistries) -> None:
    for psi in sandbox.organisations_of(OrganisationKind.PSI):
        roles = {m.role for m in sandbox.members_of(psi.nihii)}
        assert roles == {"psi-administrative", "psi-coordinator"}, psi.name
    for pharmacy in sandbox.organisations_of(OrganisationKind.PHARMACY):
        members = sandbox.members_of(pharmacy.nihii)
        assert members and {m.role for m in members} == {"pharmacist"}
        assert all(any(p.quality == "pharmacist" for p in sandbox.professionals_of(m.niss)) for m in members)
    for membership in sandbox.memberships:
        assert sandbox.organisation(membership.organisation_nihii) is not None


def test_affiliations_cover_every_patient_and_insurer(sandbox: SandboxRegistries) -> None:
    codes = [sandbox.insurer_code_of(p.niss) for p in sandbox.patients()]
    assert None not in codes
    assert set(codes) == INSURER_CODES


def test_therapeutic_links(sandbox: SandboxRegistries) -> None:
    patients = sandbox.patients()
    covered = [p for p in patients if any(link.active_on(REFERENCE_DATE) for link in sandbox.links_of(p.niss))]
    assert len(covered) >= len(patients) // 2
    pharmacy_covered = [p for p in patients if sandbox.pharmacy_links_of(p.niss)]
    assert len(pharmacy_covered) >= len(patients) // 3
    ended = [link for link in sandbox.therapeutic_links if link.end and link.end < REFERENCE_DATE]
    assert len(ended) >= 5
    assert any(link.end and link.end < REFERENCE_DATE for link in sandbox.pharmacy_links)
    professionals = {p.niss for p in sandbox.professionals}
    for link in sandbox.therapeutic_links:
        patient = sandbox.person(link.patient_niss)
        assert patient and patient.birth_date and link.professional_niss in professionals
        assert patient.birth_date <= link.start and (link.end is None or link.start <= link.end)
        if patient.death_date:
            assert link.end is not None and link.end <= patient.death_date
    pairs = [(link.professional_niss, link.patient_niss) for link in sandbox.therapeutic_links]
    assert len(pairs) == len(set(pairs))


# ------------------------------------------------------------ CareFacts over the registries


def test_link_checks_honour_start_and_end_dates(sandbox: SandboxRegistries, facts: CareFacts) -> None:
    link = next(link for link in sandbox.therapeutic_links if link.end and link.end < REFERENCE_DATE)
    assert link.end
    others = [x for x in sandbox.links_of(link.patient_niss) if x.professional_niss == link.professional_niss]
    assert others == [link]
    assert facts.has_therapeutic_link(link.professional_niss, link.patient_niss, link.start)
    assert facts.has_therapeutic_link(link.professional_niss, link.patient_niss, link.end)  # inclusive
    assert not facts.has_therapeutic_link(link.professional_niss, link.patient_niss, link.end.replace(year=link.end.year + 1))
    assert not facts.has_therapeutic_link(link.professional_niss, link.patient_niss, date(2000, 1, 1))
    ph = next(x for x in sandbox.pharmacy_links if x.end and x.end < REFERENCE_DATE)
    assert facts.pharmacy_has_therapeutic_link(ph.pharmacy_nihii, ph.patient_niss, ph.start)
    assert not facts.pharmacy_has_therapeutic_link(ph.pharmacy_nihii, ph.patient_niss, REFERENCE_DATE)


def test_facts_accept_separators_former_numbers_and_refuse_non_pharmacies(
    sandbox: SandboxRegistries, facts: CareFacts, cast: dict[str, Persona]
) -> None:
    gp, patient = cast["gp"].niss, cast["patient"].niss
    dotted = f"{patient[:2]}.{patient[2:4]}.{patient[4:6]}-{patient[6:9]}.{patient[9:]}"
    assert facts.has_therapeutic_link(gp, dotted, TODAY)
    changed = sandbox.person(cast["niss-changed-patient"].niss)
    assert changed and changed.previous_niss
    carer = sandbox.links_of(changed.niss)[0].professional_niss
    assert facts.has_therapeutic_link(carer, changed.previous_niss[0], TODAY)
    psi = cast["psi-admin"].organisation_nihii or ""
    assert not facts.pharmacy_has_therapeutic_link(psi, patient, TODAY)
    assert facts.insurer_of("00000000000", TODAY) is None
    assert facts.professional(cast["gp"].nihii or "") == sandbox.professionals_of(gp)[0]
    assert facts.organisation(psi) == sandbox.organisation(psi)
    assert facts.professional("19234011004") is None


# ------------------------------------------------------------ personas' facts


def test_patient_personas(sandbox: SandboxRegistries, facts: CareFacts, cast: dict[str, Persona]) -> None:
    for key in ("patient", "patient-2", "bis-patient", "niss-changed-patient"):
        person = sandbox.person(cast[key].niss)
        assert person and person.death_date is None, key
        assert cast[key].role is Role.PATIENT
    patient, patient_2 = cast["patient"].niss, cast["patient-2"].niss
    assert check_niss(patient).kind is NissKind.NATIONAL
    assert facts.insurer_of(patient, TODAY) == "100"
    assert facts.has_therapeutic_link(cast["gp"].niss, patient, TODAY)
    assert facts.has_therapeutic_link(cast["gp"].niss, patient_2, TODAY)
    assert check_niss(patient_2).born_2000_or_later
    deceased = sandbox.person(cast["deceased-patient"].niss)
    assert deceased and deceased.death_date and deceased.death_date.year == 2025
    assert check_niss(cast["bis-patient"].niss).is_bis
    changed = sandbox.person(cast["niss-changed-patient"].niss)
    assert changed and check_niss(changed.niss).kind is NissKind.NATIONAL
    assert changed.previous_niss and check_niss(changed.previous_niss[0]).is_bis


def test_provider_personas(sandbox: SandboxRegistries, facts: CareFacts, cast: dict[str, Persona]) -> None:
    patient, patient_2 = cast["patient"].niss, cast["patient-2"].niss
    for key, quality in (("gp", "doctor"), ("nurse", "nurse"), ("gp-no-link", "doctor")):
        record = facts.professional(cast[key].nihii or "")
        assert record and record.niss == cast[key].niss and record.quality == quality == cast[key].quality
        assert record.visa_valid_on(TODAY) and may_act_as_provider(record.quality)
        assert cast[key].role is Role.PROVIDER
    assert facts.has_therapeutic_link(cast["nurse"].niss, patient, TODAY)
    assert not facts.has_therapeutic_link(cast["nurse"].niss, patient_2, TODAY)
    assert facts.has_therapeutic_link(cast["nurse"].niss, patient_2, date(2026, 9, 1))  # starts later
    for day in (date(2010, 1, 1), TODAY, date(2030, 1, 1)):
        assert not facts.has_therapeutic_link(cast["gp-no-link"].niss, patient, day)
        assert not facts.has_therapeutic_link(cast["gp-no-link"].niss, patient_2, day)
    assert any(link.professional_niss == cast["gp-no-link"].niss for link in sandbox.therapeutic_links)

    expired = facts.professional(cast["expired-visa"].nihii or "")
    assert expired and expired.quality == "doctor" and expired.visa_valid_until == date(2024, 12, 31)
    assert not expired.visa_valid_on(TODAY)
    assert facts.has_therapeutic_link(expired.niss, patient, TODAY)  # only the visa is wrong
    excluded = facts.professional(cast["excluded-profession"].nihii or "")
    assert excluded and excluded.visa_valid_on(TODAY) and not may_act_as_provider(excluded.quality)
    assert facts.has_therapeutic_link(excluded.niss, patient, TODAY)  # only the profession is wrong


def test_organisation_personas(facts: CareFacts, cast: dict[str, Persona]) -> None:
    patient = cast["patient"].niss
    pharmacy_a, pharmacy_b = cast["pharmacist"].organisation_nihii, cast["pharmacist-no-link"].organisation_nihii
    assert pharmacy_a and pharmacy_b and pharmacy_a != pharmacy_b
    for key, pharmacy in (("pharmacist", pharmacy_a), ("pharmacist-no-link", pharmacy_b)):
        assert Membership(pharmacy, "pharmacist") in facts.memberships(cast[key].niss)
        record = facts.professional(cast[key].nihii or "")
        assert record and record.quality == "pharmacist" and record.visa_valid_on(TODAY)
        organisation = facts.organisation(pharmacy)
        assert organisation and organisation.kind is OrganisationKind.PHARMACY
        assert cast[key].organisation_cbe == organisation.cbe
    assert facts.pharmacy_has_therapeutic_link(pharmacy_a, patient, TODAY)
    assert not facts.pharmacy_has_therapeutic_link(pharmacy_b, patient, TODAY)

    psi_a, psi_b = cast["psi-admin"].organisation_nihii, cast["psi-admin-other"].organisation_nihii
    assert psi_a and psi_b and psi_a != psi_b
    for key, psi, role in (
        ("psi-admin", psi_a, "psi-administrative"), ("psi-coordinator", psi_a, "psi-coordinator"),
        ("psi-admin-other", psi_b, "psi-administrative"), ("psi-coordinator-other", psi_b, "psi-coordinator"),
    ):
        assert list(facts.memberships(cast[key].niss)) == [Membership(psi, role)]
        assert cast[key].role.value == role and cast[key].organisation_nihii == psi
        organisation = facts.organisation(psi)
        assert organisation and organisation.kind is OrganisationKind.PSI

    insurer = cast["insurer"]
    organisation = facts.organisation(insurer.organisation_nihii or "")
    assert organisation and organisation.insurer_code == "100"
    assert insurer.role is Role.INSURER
    assert list(facts.memberships(insurer.niss)) == [Membership(organisation.nihii, "insurer")]


def test_persona_principal(cast: dict[str, Persona]) -> None:
    principal = cast["pharmacist"].principal()
    assert principal.niss == cast["pharmacist"].niss and principal.role is Role.PHARMACIST
    assert principal.nihii == cast["pharmacist"].nihii and principal.quality == "pharmacist"
    assert principal.organisation == cast["pharmacist"].organisation_nihii
    assert principal.organisation_cbe == cast["pharmacist"].organisation_cbe
    assert cast["patient"].principal().organisation is None
