"""The sandbox registries: who exists, who practises, who works where, who
cares for whom, who is insured where. Generated from a seed so that every
run, every test and every vendor sees the same people and numbers.

Every NISS, NIHII and CBE is built with :mod:`gateway.domain.identifiers`,
so every check digit is valid. The generator uses one ``random.Random(seed)``
and never the global generator.

NIHII numbering of the sandbox (11 digits ``G SSSSS CC QQQ``):

- professionals: group digit of their profession (``professions.py``: 1
  physician, 3 dentist, 4 nurse/midwife/care assistant, 5 physiotherapist or
  speech therapist, 6 pharmacist, 8 other), serial 10000-79999, an
  illustrative qualification code per profession (``QUALIFICATIONS``);
- hospitals: group 7, serial 10000-19999, qualification 000;
- public pharmacies: group 6, serial 90000-99999 (never a pharmacist's
  range), qualification 000;
- PSIs: group 9, serial 80000-89999, qualification 000;
- insurers: group 9, serial = the insurer code (``900100CC000`` for 100).

The sandbox "today" is :data:`REFERENCE_DATE` (tests use a fixed clock at
2026-06-15): links meant to be active are active then.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Callable, Iterable, TypeVar

from gateway.config import DEFAULT_SANDBOX_SEED
from gateway.domain.identifiers import (
    NihiiVariant,
    NissKind,
    check_nihii,
    compact,
    make_cbe,
    make_niss,
    make_nihii,
)
from gateway.domain.ports import Membership, OrganisationKind, OrganisationRecord, PersonRecord, ProfessionalRecord
from gateway.domain.professions import PROFESSIONS
from gateway.ehealth.sandbox.names import BRUSSELS, COMMUNITIES, Community

REFERENCE_DATE = date(2026, 6, 15)
VISA_VALID_UNTIL = date(2031, 12, 31)
EXPIRED_VISA_UNTIL = date(2024, 12, 31)

# The seven insurers ("organismes assureurs") and their codes.
INSURERS: tuple[tuple[str, str], ...] = (
    ("100", "Mutualités chrétiennes / Christelijke Mutualiteiten"),
    ("200", "Mutualités neutres / Neutrale Ziekenfondsen"),
    ("300", "Solidaris - Mutualités socialistes / Socialistische Mutualiteiten"),
    ("400", "Mutualités libérales / Liberale Mutualiteiten"),
    ("500", "Mutualités libres / Onafhankelijke Ziekenfondsen"),
    ("600", "CAAMI / HZIV - Caisse auxiliaire d'assurance maladie-invalidité"),
    ("900", "HR Rail - Caisse des soins de santé / Kas der geneeskundige verzorging"),
)
_INSURER_WEIGHTS = (40, 5, 25, 6, 20, 2, 2)  # rough market shares

# Illustrative qualification codes (last three NIHII digits) per quality.
QUALIFICATIONS: dict[str, int] = {
    "doctor": 4, "dentist": 1, "nurse": 401, "practicalnurse": 404, "midwife": 422,
    "physiotherapist": 527, "logopedist": 508, "dietician": 820, "occupationaltherapist": 830,
    "pharmacist": 1, "pharmacistassistant": 860, "labtechnologist": 870, "imagingtechnologist": 875,
}

_PROFESSIONAL_SERIALS = (10_000, 79_999)
_HOSPITAL_SERIALS = (10_000, 19_999)
_PHARMACY_SERIALS = (90_000, 99_999)
_PSI_SERIALS = (80_000, 89_999)

_LINKS_FROM = date(2015, 1, 1)
_LATEST_START = date(2026, 4, 30)
_LATEST_END = date(2026, 5, 31)

# Birth-year ranges cycled over the generic patients: every age, and people
# born in 2000 or later (the NISS 2000 rule) in any seed.
_AGE_BUCKETS: tuple[tuple[int, int], ...] = (
    (1931, 1949), (1950, 1969), (1970, 1989), (1950, 1969), (1931, 1949),
    (1990, 1999), (1970, 1989), (2000, 2025), (2000, 2012), (2013, 2025),
)
GENERIC_PATIENTS = 120

T = TypeVar("T")


@dataclass(frozen=True)
class TherapeuticLink:
    """A registered care relationship between a professional and a patient."""

    professional_niss: str
    patient_niss: str
    start: date
    end: date | None = None  # inclusive; None: open

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class PharmacyLink:
    """A therapeutic relationship between a public pharmacy and a patient (IC-A2)."""

    pharmacy_nihii: str
    patient_niss: str
    start: date
    end: date | None = None

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class StaffMembership:
    """A person's role in an organisation's user management."""

    niss: str
    organisation_nihii: str
    role: str  # psi-administrative | psi-coordinator | pharmacist | insurer

    def as_membership(self) -> Membership:
        return Membership(self.organisation_nihii, self.role)


@dataclass(frozen=True)
class Affiliation:
    """The insurer a person is affiliated to."""

    niss: str
    insurer_code: str


@dataclass(frozen=True)
class SandboxCast:
    """The people and organisations built on purpose for the personas and the
    edge cases (NISS of people, NIHII of organisations)."""

    patient: str
    patient_2: str
    deceased_patient: str
    bis_patient: str
    bis_sex_unknown_patient: str
    niss_changed_patient: str
    gp: str
    gp_no_link: str
    nurse: str
    expired_visa: str
    excluded_profession: str
    no_visa: str
    pharmacist: str
    pharmacist_no_link: str
    psi_admin: str
    psi_coordinator: str
    psi_admin_other: str
    psi_coordinator_other: str
    insurer_staff: str
    psi_a: str
    psi_b: str
    psi_c: str
    pharmacy_a: str
    pharmacy_b: str
    hospital: str
    auditor: str = ""
    authority: str = ""
    dpo: str = ""


class _Index:
    """Look-up tables over one SandboxRegistries (built once)."""

    def __init__(self, r: "SandboxRegistries") -> None:
        self.person: dict[str, PersonRecord] = {}
        for p in r.people:
            for number in (p.niss, *p.previous_niss):
                self.person[number] = p
        self.professional = {p.nihii: p for p in r.professionals}
        self.organisation = {o.nihii: o for o in r.organisations}
        self.organisation_by_cbe = {o.cbe: o for o in r.organisations}
        self.insurer = {o.insurer_code: o for o in r.organisations if o.insurer_code}
        self.insurer_of = {a.niss: a.insurer_code for a in r.affiliations}
        self.professionals_of = _group(r.professionals, lambda p: p.niss)
        self.memberships_of = _group(r.memberships, lambda m: m.niss)
        self.members_of = _group(r.memberships, lambda m: m.organisation_nihii)
        self.links_of = _group(r.therapeutic_links, lambda link: link.patient_niss)
        self.pharmacy_links_of = _group(r.pharmacy_links, lambda link: link.patient_niss)


def _group(items: Iterable[T], key: Callable[[T], str]) -> dict[str, tuple[T, ...]]:
    grouped: dict[str, list[T]] = defaultdict(list)
    for item in items:
        grouped[key(item)].append(item)
    return {k: tuple(v) for k, v in grouped.items()}


@dataclass(frozen=True)
class SandboxRegistries:
    """Everything the simulated platform knows, with look-ups.

    People are found by their current or any former NISS; look-ups accept
    numbers with the usual separators.
    """

    seed: int
    people: tuple[PersonRecord, ...]
    professionals: tuple[ProfessionalRecord, ...]
    organisations: tuple[OrganisationRecord, ...]
    memberships: tuple[StaffMembership, ...]
    therapeutic_links: tuple[TherapeuticLink, ...]
    pharmacy_links: tuple[PharmacyLink, ...]
    affiliations: tuple[Affiliation, ...]
    patient_niss: tuple[str, ...]  # the people generated as patients, personas' patients first
    cast: SandboxCast
    _index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", _Index(self))

    def patients(self) -> tuple[PersonRecord, ...]:
        """The people generated as patients (deceased ones included), personas' patients first."""
        return tuple(self._index.person[n] for n in self.patient_niss)

    def person(self, niss: str) -> PersonRecord | None:
        """The person with this current or former number."""
        return self._index.person.get(compact(niss))

    def current_niss(self, niss: str) -> str | None:
        person = self.person(niss)
        return person.niss if person else None

    def professional(self, nihii: str) -> ProfessionalRecord | None:
        return self._index.professional.get(compact(nihii))

    def professionals_of(self, niss: str) -> tuple[ProfessionalRecord, ...]:
        """The CoBrHa records of one person (usually one)."""
        return self._index.professionals_of.get(self.current_niss(niss) or compact(niss), ())

    def organisation(self, nihii: str) -> OrganisationRecord | None:
        return self._index.organisation.get(compact(nihii))

    def organisation_by_cbe(self, cbe: str) -> OrganisationRecord | None:
        return self._index.organisation_by_cbe.get(compact(cbe.upper().removeprefix("BE")))

    def insurer(self, code: str) -> OrganisationRecord | None:
        return self._index.insurer.get(code)

    def organisations_of(self, kind: OrganisationKind) -> tuple[OrganisationRecord, ...]:
        return tuple(o for o in self.organisations if o.kind is kind)

    def memberships_of(self, niss: str) -> tuple[StaffMembership, ...]:
        return self._index.memberships_of.get(self.current_niss(niss) or compact(niss), ())

    def members_of(self, organisation_nihii: str) -> tuple[StaffMembership, ...]:
        return self._index.members_of.get(compact(organisation_nihii), ())

    def links_of(self, patient_niss: str) -> tuple[TherapeuticLink, ...]:
        """Professional links of a patient, ended ones included."""
        return self._index.links_of.get(self.current_niss(patient_niss) or compact(patient_niss), ())

    def pharmacy_links_of(self, patient_niss: str) -> tuple[PharmacyLink, ...]:
        return self._index.pharmacy_links_of.get(self.current_niss(patient_niss) or compact(patient_niss), ())

    def insurer_code_of(self, niss: str) -> str | None:
        return self._index.insurer_of.get(self.current_niss(niss) or compact(niss))


def generate_registries(seed: int = DEFAULT_SANDBOX_SEED) -> SandboxRegistries:
    """The sandbox registries for a seed: same seed, same data. Cached, which
    is safe because they are immutable."""
    return _cached_registries(seed)


@lru_cache(maxsize=8)
def _cached_registries(seed: int) -> SandboxRegistries:
    return build_registries(seed)


def build_registries(seed: int) -> SandboxRegistries:
    """Build the registries for a seed afresh (uncached)."""
    return _Builder(seed).build()


class _Builder:
    """Builds one SandboxRegistries; every random draw comes from ``self.rng``
    in a fixed order, which is what makes a seed reproducible."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.people: dict[str, PersonRecord] = {}
        self.taken: set[str] = set()  # every NISS, NIHII and CBE handed out
        self.professionals: list[ProfessionalRecord] = []
        self.organisations: list[OrganisationRecord] = []
        self.memberships: list[StaffMembership] = []
        self.links: list[TherapeuticLink] = []
        self.pharmacy_links: list[PharmacyLink] = []
        self.linked: set[tuple[str, str]] = set()
        self.affiliations: dict[str, str] = {}

    # -- numbers and people

    def day_between(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=self.rng.randint(0, max(0, (hi - lo).days)))

    def niss(self, birth: date, sex: str, kind: NissKind = NissKind.NATIONAL) -> str:
        while True:
            counter = self.rng.randint(1, 998)
            if kind is not NissKind.BIS_SEX_UNKNOWN:
                if sex == "male" and counter % 2 == 0:
                    counter -= 1
                elif sex == "female" and counter % 2 == 1:
                    counter += 1
            number = make_niss(birth, counter, bis=kind)
            if number not in self.taken:
                self.taken.add(number)
                return number

    def person(
        self,
        born: tuple[int, int],
        *,
        sex: str | None = None,
        kind: NissKind = NissKind.NATIONAL,
        death: tuple[date, date] | None = None,
        community: Community | None = None,
    ) -> PersonRecord:
        sex = sex or self.rng.choice(("male", "female"))
        community = community or self.rng.choices(COMMUNITIES, weights=[c.weight for c in COMMUNITIES])[0]
        birth = self.day_between(date(born[0], 1, 1), min(date(born[1], 12, 31), REFERENCE_DATE - timedelta(days=1)))
        first_names = community.male_first_names if sex == "male" else community.female_first_names
        first, last = self.rng.choice(first_names), self.rng.choice(community.last_names)
        number = self.niss(birth, sex, kind)
        died = self.day_between(*death) if death else None
        record = PersonRecord(
            number, last, first, birth, None if kind is NissKind.BIS_SEX_UNKNOWN else sex, died
        )
        self.people[number] = record
        self.affiliations[number] = self.rng.choices([c for c, _ in INSURERS], weights=_INSURER_WEIGHTS)[0]
        return record

    def niss_changed_person(self, born: tuple[int, int]) -> PersonRecord:
        """A person first known by a BIS number, now by a national number."""
        record = self.person(born)
        assert record.birth_date and record.sex
        bis = self.niss(record.birth_date, record.sex, NissKind.BIS_SEX_KNOWN)
        record = replace(record, previous_niss=(bis,))
        self.people[record.niss] = record
        return record

    def nihii(self, group: int, qualification: int, serials: tuple[int, int],
              variant: NihiiVariant = NihiiVariant.MOD97) -> str:
        while True:
            number = make_nihii(group, self.rng.randint(*serials), qualification, variant=variant)
            # A mod-89 number whose digits also pass mod 97 would be reported as mod-97: skip it.
            if number not in self.taken and check_nihii(number).variant is variant:
                self.taken.add(number)
                return number

    def cbe(self, first: int) -> str:
        while True:
            serial = self.rng.randint(2_000_000, 9_999_999) if first == 0 else self.rng.randint(0, 999_999)
            number = make_cbe(serial, first=first)
            if number not in self.taken:
                self.taken.add(number)
                return number

    # -- CoBrHa

    def professional(
        self,
        quality: str,
        *,
        visa: date | None = VISA_VALID_UNTIL,
        variant: NihiiVariant = NihiiVariant.MOD97,
        born: tuple[int, int] = (1960, 1997),
        sex: str | None = None,
    ) -> ProfessionalRecord:
        person = self.person(born, sex=sex)
        nihii = self.nihii(PROFESSIONS[quality].nihii_group, QUALIFICATIONS[quality], _PROFESSIONAL_SERIALS, variant)
        record = ProfessionalRecord(person.niss, nihii, quality, person.last_name, person.first_name, visa)
        self.professionals.append(record)
        return record

    def organisation(
        self,
        kind: OrganisationKind,
        name: str,
        group: int,
        serials: tuple[int, int],
        *,
        insurer_code: str | None = None,
        cbe_first: int = 0,
    ) -> OrganisationRecord:
        record = OrganisationRecord(self.nihii(group, 0, serials), self.cbe(cbe_first), kind, name, insurer_code)
        self.organisations.append(record)
        return record

    def member(self, person: PersonRecord | ProfessionalRecord, organisation: OrganisationRecord, role: str) -> None:
        self.memberships.append(StaffMembership(person.niss, organisation.nihii, role))

    # -- therapeutic links

    def link(self, professional: ProfessionalRecord, patient: PersonRecord, start: date, end: date | None = None) -> None:
        if (professional.niss, patient.niss) not in self.linked:
            self.linked.add((professional.niss, patient.niss))
            self.links.append(TherapeuticLink(professional.niss, patient.niss, start, end))

    def pharmacy_link(self, pharmacy: OrganisationRecord, patient: PersonRecord, start: date, end: date | None = None) -> None:
        if (pharmacy.nihii, patient.niss) not in self.linked:
            self.linked.add((pharmacy.nihii, patient.niss))
            self.pharmacy_links.append(PharmacyLink(pharmacy.nihii, patient.niss, start, end))

    def period(self, patient: PersonRecord, ended_share: float) -> tuple[date, date | None]:
        """A random link period within the patient's life; some already ended."""
        assert patient.birth_date
        lo = max(_LINKS_FROM, patient.birth_date)
        hi = min(_LATEST_START, patient.death_date or _LATEST_START)
        start = self.day_between(lo, max(lo, hi))
        end: date | None = None
        if self.rng.random() < ended_share and (_LATEST_END - start).days > 60:
            end = self.day_between(start + timedelta(days=30), _LATEST_END)
        if patient.death_date and (end is None or end > patient.death_date):
            end = max(start, patient.death_date)
        return start, end

    # -- the whole sandbox

    def build(self) -> SandboxRegistries:
        kind = OrganisationKind
        insurers = {
            code: self.organisation(kind.INSURER, name, 9, (int(code), int(code)), insurer_code=code)
            for code, name in INSURERS
        }
        psi_a = self.organisation(kind.PSI, "Zorgzaam Leuven - geïntegreerd zorgproject", 9, _PSI_SERIALS)
        psi_b = self.organisation(kind.PSI, "Réseau Santé Namur - projet de soins intégrés", 9, _PSI_SERIALS, cbe_first=1)
        psi_c = self.organisation(kind.PSI, "Brussels Integrated Care - Bruxelles Soigne / Brussel Zorgt", 9, _PSI_SERIALS)
        pharmacy_a = self.organisation(kind.PHARMACY, "Apotheek De Linde, Leuven", 6, _PHARMACY_SERIALS)
        pharmacy_b = self.organisation(kind.PHARMACY, "Pharmacie du Marché, Namur", 6, _PHARMACY_SERIALS)
        hospital = self.organisation(kind.HOSPITAL, "AZ Sint-Rafaël / Hôpital Saint-Raphaël, Bruxelles", 7, _HOSPITAL_SERIALS)

        gp = self.professional("doctor")
        gp_no_link = self.professional("doctor")
        other_gps = [self.professional("doctor") for _ in range(3)]
        expired = self.professional("doctor", visa=EXPIRED_VISA_UNTIL, born=(1948, 1956))
        nurse = self.professional("nurse", variant=NihiiVariant.MOD89)
        nurses = [self.professional("nurse") for _ in range(3)] + [self.professional("practicalnurse")]
        midwife = self.professional("midwife", sex="female")
        others = [
            self.professional("physiotherapist", variant=NihiiVariant.MOD89),
            self.professional("physiotherapist"),
            self.professional("logopedist"),
            self.professional("dentist"),
            self.professional("dietician"),
        ]
        no_visa = self.professional("occupationaltherapist", visa=None, born=(1998, 2003))
        pharmacist = self.professional("pharmacist")
        pharmacist_a2 = self.professional("pharmacist")
        pharmacist_no_link = self.professional("pharmacist")
        pharmacist_b2 = self.professional("pharmacist")
        excluded = self.professional("labtechnologist")
        self.professional("pharmacistassistant")
        self.professional("imagingtechnologist")

        for who, where in ((pharmacist, pharmacy_a), (pharmacist_a2, pharmacy_a),
                           (pharmacist_no_link, pharmacy_b), (pharmacist_b2, pharmacy_b)):
            self.member(who, where, "pharmacist")
        staff: dict[str, PersonRecord] = {}
        for key, psi, role in (
            ("psi-admin", psi_a, "psi-administrative"), ("psi-coordinator", psi_a, "psi-coordinator"),
            ("psi-admin-a2", psi_a, "psi-administrative"),
            ("psi-admin-other", psi_b, "psi-administrative"), ("psi-coordinator-other", psi_b, "psi-coordinator"),
            ("psi-admin-c", psi_c, "psi-administrative"), ("psi-coordinator-c", psi_c, "psi-coordinator"),
        ):
            staff[key] = self.person((1965, 2000))
            self.member(staff[key], psi, role)
        for code, insurer in insurers.items():
            staff[f"insurer-{code}"] = self.person((1965, 2000))
            self.member(staff[f"insurer-{code}"], insurer, "insurer")

        patient = self.person((1950, 1968))
        self.affiliations[patient.niss] = "100"
        patient_2 = self.person((2001, 2006))
        deceased = self.person((1931, 1945), death=(date(2025, 1, 1), date(2025, 12, 31)))
        bis = self.person((1975, 1995), kind=NissKind.BIS_SEX_KNOWN, community=BRUSSELS)
        bis_unknown = self.person((1985, 1999), kind=NissKind.BIS_SEX_UNKNOWN, community=BRUSSELS)
        changed = self.niss_changed_person((1980, 1998))
        cast_patients = [patient, patient_2, deceased, bis, bis_unknown, changed]

        generic: list[PersonRecord] = []
        for i in range(GENERIC_PATIENTS):
            death = (date(2023, 1, 1), date(2023, 12, 31)) if i == 4 else None
            generic.append(self.person(_AGE_BUCKETS[i % len(_AGE_BUCKETS)], death=death))
            if i < len(INSURERS):  # every insurer has members (IC-R7 exports)
                self.affiliations[generic[-1].niss] = INSURERS[i][0]

        # The personas' facts, fixed dates.
        self.link(gp, patient, date(2019, 3, 1))
        self.link(gp, patient_2, date(2021, 9, 15))
        self.link(nurse, patient, date(2024, 2, 1))
        self.link(nurse, patient_2, date(2026, 9, 1))  # not active yet on the reference date
        self.link(expired, patient, date(2016, 5, 2))  # active: a denial can only come from the visa
        self.link(excluded, patient, date(2025, 10, 6))  # active: a denial can only come from the profession
        assert deceased.death_date
        self.link(gp, deceased, date(2017, 1, 9), deceased.death_date)
        self.link(gp, bis, date(2023, 4, 17))
        self.link(other_gps[0], changed, date(2022, 11, 3))
        self.pharmacy_link(pharmacy_a, patient, date(2020, 5, 4))
        self.pharmacy_link(pharmacy_b, patient_2, date(2022, 1, 10), date(2025, 12, 31))

        gp_pool = [gp, gp_no_link, *other_gps]
        for p in generic:
            if self.rng.random() < 0.8:
                self.link(self.rng.choice(gp_pool), p, *self.period(p, 0.15))
            if self.rng.random() < 0.3:
                self.link(self.rng.choice(nurses), p, *self.period(p, 0.25))
            if self.rng.random() < 0.15:
                self.link(self.rng.choice(others), p, *self.period(p, 0.3))
            assert p.birth_date
            if p.sex == "female" and 1985 <= p.birth_date.year <= 2005 and self.rng.random() < 0.5:
                self.link(midwife, p, *self.period(p, 0.5))
            if self.rng.random() < 0.65:
                self.pharmacy_link(self.rng.choice([pharmacy_a, pharmacy_b]), p, *self.period(p, 0.2))
        for p in generic[:4]:  # born before 1990, alive: the retired physician's links ended with his visa
            self.link(expired, p, self.day_between(date(2012, 1, 1), date(2024, 6, 30)), EXPIRED_VISA_UNTIL)

        # Drawn after everything else, so that adding them moved no earlier number.
        authority = self.organisation(kind.AUTHORITY, "INAMI - RIZIV, information security (sandbox)", 9, (90_000, 99_999))
        auditor = self.person((1965, 1990))
        self.member(auditor, authority, "auditor")
        dpo = self.person((1970, 1992))  # after the auditor, for the same reason
        self.member(dpo, authority, "dpo")

        cast = SandboxCast(
            patient=patient.niss, patient_2=patient_2.niss, deceased_patient=deceased.niss,
            bis_patient=bis.niss, bis_sex_unknown_patient=bis_unknown.niss, niss_changed_patient=changed.niss,
            gp=gp.niss, gp_no_link=gp_no_link.niss, nurse=nurse.niss, expired_visa=expired.niss,
            excluded_profession=excluded.niss, no_visa=no_visa.niss,
            pharmacist=pharmacist.niss, pharmacist_no_link=pharmacist_no_link.niss,
            psi_admin=staff["psi-admin"].niss, psi_coordinator=staff["psi-coordinator"].niss,
            psi_admin_other=staff["psi-admin-other"].niss, psi_coordinator_other=staff["psi-coordinator-other"].niss,
            insurer_staff=staff["insurer-100"].niss,
            psi_a=psi_a.nihii, psi_b=psi_b.nihii, psi_c=psi_c.nihii,
            pharmacy_a=pharmacy_a.nihii, pharmacy_b=pharmacy_b.nihii, hospital=hospital.nihii,
            auditor=auditor.niss, authority=authority.nihii, dpo=dpo.niss,
        )
        return SandboxRegistries(
            seed=self.seed,
            people=tuple(self.people.values()),
            professionals=tuple(self.professionals),
            organisations=tuple(self.organisations),
            memberships=tuple(self.memberships),
            therapeutic_links=tuple(self.links),
            pharmacy_links=tuple(self.pharmacy_links),
            affiliations=tuple(Affiliation(n, c) for n, c in self.affiliations.items()),
            patient_niss=tuple(p.niss for p in cast_patients + generic),
            cast=cast,
        )
