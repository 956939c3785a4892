"""The return-to-work sandbox data, drawn from the same seed as the
registries and AFTER every draw of theirs (the registries' builder runs
first, then this continues its random stream), so that no existing number
moves.

Insured persons are people of the registries (the national register knows
their names, deaths and NISS changes); the partners' staff are new people
known to their organisations' user management only. Every CBE is drawn
with valid check digits and is unique in the sandbox.

Situations built on purpose (``RtwCast``): an insured person with two
employers, registered with VDAB and with a TRIO dossier; a person who
changed employer; a person registered with each regional service; a person
not registered anywhere; the deceased person of the registries; the person
whose NISS changed.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from gateway.domain.ports import PersonRecord
from gateway.domain.principal import Role
from gateway.domain.rtw.ports import Employment, InsurerAffiliation, JobSeekerRegistration, PreventionService, StaffRole
from gateway.ehealth.sandbox.registries import REFERENCE_DATE, SandboxRegistries, _Builder

REGIONAL_SERVICES: tuple[tuple[str, str, str], ...] = (
    ("vdab", "VDAB - Vlaamse Dienst voor Arbeidsbemiddeling en Beroepsopleiding", "flanders"),
    ("forem", "Le Forem - Office wallon de la formation professionnelle et de l'emploi", "wallonia"),
    ("actiris", "Actiris - Office régional bruxellois de l'emploi / Brusselse Gewestelijke Dienst voor Arbeidsbemiddeling", "brussels"),
    ("adg", "ADG - Arbeitsamt der Deutschsprachigen Gemeinschaft", "german-speaking"),
)
PREVENTION_SERVICES = ("Premed", "Liantis", "Cesi", "Securex", "Mensura", "Idewe", "Attentia", "Cohezio")
EMPLOYERS = (
    "Brouwerij De Vliet NV", "Transports Meuse SA", "Bakkerij Peeters BV", "Hôpital Général de Liège ASBL",
    "Logistiek Schelde NV", "Imprimerie Delvaux SPRL", "Softwarehuis Noord BV", "Supermarchés Ardennes SA",
    "Bouwbedrijf Janssens NV", "Crèche Les Petits Pas ASBL", "Metaalbouw Kempen NV", "Café du Centre SRL",
)
TRIO_DOMAIN = "uhmep_v1"  # the name of TRIO's pseudonym domain in the sandbox


@dataclass(frozen=True)
class Organisation:
    """A partner organisation known by its CBE (no NIHII: not a care organisation)."""

    key: str
    cbe: str
    name: str
    region: str | None = None


@dataclass(frozen=True)
class StaffMember:
    """A user of a partner organisation, as its user management knows them."""

    key: str
    role: Role
    person: PersonRecord
    organisation: Organisation
    identity_provider: str  # ehealth | bcss


@dataclass(frozen=True)
class _Employment:
    niss: str
    employer_cbe: str
    start: date
    end: date | None = None


@dataclass(frozen=True)
class _Registration:
    niss: str
    service_cbe: str
    registered_on: date


@dataclass(frozen=True)
class RtwCast:
    """The insured persons built for the personas' situations (current NISS)."""

    insured: str  # two employers, VDAB, TRIO dossier
    changed_employer: str  # Dimona: an ended employment and a new one; Forem
    actiris: str  # another insurer, another employer; Actiris
    adg: str  # ADG
    unregistered: str  # same insurer and employer as insured; no registration anywhere
    deceased: str  # the registries' deceased person; employer, VDAB
    niss_changed: str  # the registries' person with a former BIS number; employer, VDAB
    former_employer: str  # CBE of the changed-employer person's former employer


@dataclass
class RtwSandbox:
    """Everything the simulated return-to-work sources know."""

    seed: int
    registries: SandboxRegistries
    regional: dict[str, Organisation]
    prevention: dict[str, Organisation]
    employers: dict[str, Organisation]
    inami: Organisation
    insurers: dict[str, Organisation]  # by insurer code
    seed_connect: dict[str, tuple[str, ...]]  # employer CBE -> prevention service CBEs
    employments: tuple[_Employment, ...]
    registrations: tuple[_Registration, ...]
    staff: dict[str, StaffMember]
    trio_niss: frozenset[str]
    trio_key: int
    cast: RtwCast
    _by_cbe: dict[str, Organisation] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for group in (self.regional, self.prevention, self.employers, self.insurers):
            for org in group.values():
                self._by_cbe[org.cbe] = org
        self._by_cbe[self.inami.cbe] = self.inami

    def organisation(self, cbe: str) -> Organisation | None:
        return self._by_cbe.get(cbe)

    def current(self, niss: str) -> str | None:
        person = self.registries.person(niss)
        return person.niss if person else None

    # -- the sources' answers (for the simulated services)

    def insurer_of(self, niss: str) -> InsurerAffiliation | None:
        current = self.current(niss)
        code = self.registries.insurer_code_of(current) if current else None
        if code is None:
            return None
        org = self.insurers[code]
        return InsurerAffiliation(code, org.name, org.cbe)

    def employments_of(self, niss: str, on: date) -> list[Employment]:
        current = self.current(niss)
        return [Employment(e.employer_cbe, self.employers_name(e.employer_cbe), e.start, e.end)
                for e in self.employments
                if e.niss == current and e.start <= on and (e.end is None or on <= e.end)]

    def employers_name(self, cbe: str) -> str:
        org = self.organisation(cbe)
        return org.name if org else cbe

    def prevention_services_of(self, employer_cbe: str) -> list[PreventionService]:
        return [PreventionService(cbe, self.prevention_by_cbe(cbe).name, employer_cbe)
                for cbe in self.seed_connect.get(employer_cbe, ())]

    def prevention_by_cbe(self, cbe: str) -> Organisation:
        org = self.organisation(cbe)
        assert org is not None
        return org

    def registrations_of(self, niss: str, on: date) -> list[JobSeekerRegistration]:
        current = self.current(niss)
        found = []
        for r in self.registrations:
            if r.niss == current and r.registered_on <= on:
                org = self.organisation(r.service_cbe)
                assert org is not None and org.region
                found.append(JobSeekerRegistration(org.cbe, org.name, org.region, r.registered_on))
        return found

    def staff_roles(self, niss: str) -> list[StaffRole]:
        return [StaffRole(s.organisation.cbe, s.role.value) for s in self.staff.values() if s.person.niss == niss]

    def roles_signing_in(self, niss: str, identity_provider: str) -> list[StaffMember]:
        """The user's roles whose partner signs in at ``identity_provider``
        (``ehealth`` or ``bcss``, RP-S1): what that provider's IdP or STS may vouch for."""
        return [s for s in self.staff.values() if s.person.niss == niss and s.identity_provider == identity_provider]


def rtw_sandbox(seed: int) -> RtwSandbox:
    return _cached(seed)


@lru_cache(maxsize=4)
def _cached(seed: int) -> RtwSandbox:
    builder = _Builder(seed)
    registries = builder.build()  # every draw of the registries first
    return _RtwBuilder(builder, registries).build()


class _RtwBuilder:
    def __init__(self, builder: _Builder, registries: SandboxRegistries) -> None:
        self.b = builder
        self.r = registries
        self.rng = builder.rng

    def organisation(self, key: str, name: str, region: str | None = None) -> Organisation:
        return Organisation(key, self.b.cbe(0), name, region)

    def build(self) -> RtwSandbox:
        r, b = self.r, self.b
        regional = {key: self.organisation(key, name, region) for key, name, region in REGIONAL_SERVICES}
        prevention = {name.lower(): self.organisation(name.lower(), name) for name in PREVENTION_SERVICES}
        employers = {f"employer-{i}": self.organisation(f"employer-{i}", name) for i, name in enumerate(EMPLOYERS)}
        services = list(prevention.values())
        employer_list = list(employers.values())
        seed_connect = {e.cbe: (services[i % len(services)].cbe,) for i, e in enumerate(employer_list)}
        authority = r.organisation(r.cast.authority)
        assert authority is not None
        inami = Organisation("inami", authority.cbe, "INAMI - RIZIV")
        insurers = {}
        for code in ("100", "200", "300", "400", "500", "600", "900"):
            org = r.insurer(code)
            assert org is not None
            insurers[code] = Organisation(f"insurer-{code}", org.cbe, org.name)

        cast_people = {r.cast.patient, r.cast.patient_2, r.cast.deceased_patient, r.cast.bis_patient,
                       r.cast.bis_sex_unknown_patient, r.cast.niss_changed_patient}
        candidates = sorted(
            p.niss for p in r.patients()
            if p.niss not in cast_people and p.death_date is None and p.birth_date and 1962 <= p.birth_date.year <= 2000
        )
        self.rng.shuffle(candidates)
        main = candidates.pop()
        main_insurer = r.insurer_code_of(main)
        others = [n for n in candidates if r.insurer_code_of(n) != main_insurer]
        actiris = others.pop()
        unregistered = next(n for n in candidates if r.insurer_code_of(n) == main_insurer)  # same insurer as main
        rest = [n for n in candidates if n not in (actiris, unregistered)]
        changed, adg = rest.pop(), rest.pop()
        generic = rest[:24]

        e = employer_list
        employments: list[_Employment] = [
            _Employment(main, e[0].cbe, date(2014, 9, 1)),
            _Employment(main, e[1].cbe, date(2021, 2, 15)),
            _Employment(changed, e[2].cbe, date(2016, 4, 1), date(2025, 8, 31)),
            _Employment(changed, e[3].cbe, date(2025, 9, 1)),
            _Employment(actiris, e[4].cbe, date(2019, 1, 7)),
            _Employment(adg, e[5].cbe, date(2012, 3, 1)),
            _Employment(unregistered, e[0].cbe, date(2023, 6, 1)),
            _Employment(r.cast.deceased_patient, e[1].cbe, date(1990, 1, 1)),
            _Employment(r.cast.niss_changed_patient, e[0].cbe, date(2020, 10, 1)),
        ]
        registrations: list[_Registration] = [
            _Registration(main, regional["vdab"].cbe, date(2025, 11, 3)),
            _Registration(changed, regional["forem"].cbe, date(2026, 1, 12)),
            _Registration(actiris, regional["actiris"].cbe, date(2025, 10, 20)),
            _Registration(adg, regional["adg"].cbe, date(2026, 2, 2)),
            _Registration(r.cast.deceased_patient, regional["vdab"].cbe, date(2024, 5, 6)),
            _Registration(r.cast.niss_changed_patient, regional["vdab"].cbe, date(2026, 3, 2)),
        ]
        for niss in generic:  # the others: an employer, sometimes a registration
            employments.append(_Employment(niss, self.rng.choice(e[6:]).cbe, b.day_between(date(2005, 1, 1), date(2025, 12, 31))))
            if self.rng.random() < 0.5:
                registrations.append(_Registration(niss, self.rng.choice(list(regional.values())).cbe,
                                                   b.day_between(date(2024, 1, 1), REFERENCE_DATE)))
        trio = frozenset({main, generic[0]})

        other_insurer = r.insurer_code_of(actiris) or "100"  # another partner's person: the Actiris one's insurer
        former_service = prevention[PREVENTION_SERVICES[2].lower()]  # serves e[2], the former employer
        staff_plan: list[tuple[str, Role, Organisation, str]] = [
            ("oa-physician", Role.OA_PHYSICIAN, insurers[main_insurer or "100"], "ehealth"),
            ("oa-team", Role.OA_TEAM, insurers[main_insurer or "100"], "ehealth"),
            ("oa-rtw-coordinator", Role.OA_RTW_COORDINATOR, insurers[main_insurer or "100"], "ehealth"),
            ("oa-admin", Role.OA_ADMIN, insurers[main_insurer or "100"], "ehealth"),
            ("oa-physician-other", Role.OA_PHYSICIAN, insurers[other_insurer], "ehealth"),
            ("prev-physician", Role.PREV_PHYSICIAN, services[0], "ehealth"),
            ("prev-nurse", Role.PREV_NURSE, services[0], "ehealth"),
            ("prev-admin", Role.PREV_ADMIN, services[0], "ehealth"),
            ("prev-physician-former", Role.PREV_PHYSICIAN, former_service, "ehealth"),
            ("reg-counsellor", Role.REG_COUNSELLOR, regional["vdab"], "bcss"),
            ("reg-list-manager", Role.REG_LIST_MANAGER, regional["vdab"], "bcss"),
            ("reg-counsellor-forem", Role.REG_COUNSELLOR, regional["forem"], "bcss"),
            ("inami-expert", Role.INAMI_EXPERT, inami, "ehealth"),
            ("inami-inspector", Role.INAMI_INSPECTOR, inami, "ehealth"),
        ]
        staff = {key: StaffMember(key, role, b.person((1965, 1998)), org, idp) for key, role, org, idp in staff_plan}
        key = int.from_bytes(hashlib.sha256(f"care-gateway sandbox trio domain|{b.seed}".encode()).digest(), "big")
        cast = RtwCast(main, changed, actiris, adg, unregistered, r.cast.deceased_patient, r.cast.niss_changed_patient,
                       e[2].cbe)
        return RtwSandbox(b.seed, r, regional, prevention, employers, inami, insurers, seed_connect, tuple(employments),
                          tuple(registrations), staff, trio, key, cast)


def group_by_person(items: list[_Employment]) -> dict[str, list[_Employment]]:
    grouped: dict[str, list[_Employment]] = defaultdict(list)
    for item in items:
        grouped[item.niss].append(item)
    return grouped
