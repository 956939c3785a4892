"""What the domain asks of the outside world, as interfaces.

The access policy and the use cases ask these questions: :class:`CareFacts`
(CoBrHa records, the attribute authority's facts), :class:`NationalRegister`
(look-ups and the mutation feed) and :class:`CareDirectory` (the provider
directory as a searchable list). The sandbox registries answer them in
process (``gateway.ehealth.sandbox``); the clients of the eHealth
platform's web services answer them over the wire (``gateway.adapters``).
No face ever answers them.

A source that cannot give a trustworthy answer raises
:class:`SourceUnavailable`: the act stops there (fail closed) and the faces
say so (HTTP 503, a SOAP Server fault); it is never read as "no".
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Protocol, Sequence

from gateway.domain.errors import DomainError


class SourceUnavailable(DomainError):
    """A fact source (the platform's services) could not be asked, or gave an
    answer that cannot be believed. ``code`` is stable (``platform-unreachable``,
    ``platform-fault``, ...), ``details["service"]`` names the service. The
    caller's act is refused as a whole, never decided on a guess."""

    category = "unavailable"


class OrganisationKind(StrEnum):
    PSI = "psi"
    PHARMACY = "pharmacy"
    HOSPITAL = "hospital"
    INSURER = "insurer"
    AUTHORITY = "authority"  # INAMI and other public authorities (auditors)


@dataclass(frozen=True)
class ProfessionalRecord:
    """A care professional as CoBrHa knows them."""

    niss: str
    nihii: str
    quality: str
    last_name: str
    first_name: str
    visa_valid_until: date | None  # None: no visa at all

    def visa_valid_on(self, day: date) -> bool:
        return self.visa_valid_until is not None and day <= self.visa_valid_until


@dataclass(frozen=True)
class OrganisationRecord:
    """A care organisation as CoBrHa knows it."""

    nihii: str
    cbe: str
    kind: OrganisationKind
    name: str
    insurer_code: str | None = None  # "100".."900" for insurers


@dataclass(frozen=True)
class Membership:
    """A person's role in an organisation (PSI user management, pharmacy staff)."""

    organisation_nihii: str
    role: str  # "psi-administrative" | "psi-coordinator" | "pharmacist"


class CareFacts(Protocol):
    """Facts the policy must not decide alone: provider registry, attribute
    authority (therapeutic links, memberships) and insurer affiliation."""

    def professional(self, nihii: str) -> ProfessionalRecord | None: ...

    def organisation(self, nihii: str) -> OrganisationRecord | None: ...

    def memberships(self, niss: str) -> Sequence[Membership]: ...

    def has_therapeutic_link(self, professional_niss: str, patient_niss: str, on: date) -> bool: ...

    def pharmacy_has_therapeutic_link(self, pharmacy_nihii: str, patient_niss: str, on: date) -> bool: ...

    def insurer_of(self, patient_niss: str, on: date) -> str | None:
        """The insurer code ("100".."900") the patient is affiliated to."""
        ...


@dataclass(frozen=True)
class PersonRecord:
    """A person in the national register, as read at display time (IC-R9)."""

    niss: str  # the current number
    last_name: str
    first_name: str
    birth_date: date | None
    sex: str | None
    death_date: date | None
    previous_niss: tuple[str, ...] = ()

    @property
    def deceased(self) -> bool:
        return self.death_date is not None


class MutationKind(StrEnum):
    DEATH = "death"
    NISS_CHANGE = "niss-change"


@dataclass(frozen=True)
class RegisterMutation:
    """One event of the national register's mutation feed."""

    seq: int
    kind: MutationKind
    niss: str
    effective: date
    new_niss: str | None = None


class NationalRegister(Protocol):
    """The national register: look-ups (IC-R9) and the mutation feed (IC-R4, IC-R5)."""

    def person(self, niss: str) -> PersonRecord | None:
        """The person with this number, current or former; ``None`` if unknown."""
        ...

    def mutations_after(self, seq: int, limit: int = 500) -> Sequence[RegisterMutation]:
        """Mutations with a sequence number above ``seq``, oldest first."""
        ...


# ------------------------------------------------------------------ the directory


@dataclass(frozen=True)
class ProfessionalQuery:
    """Criteria, all optional, combined with AND; names match as prefixes,
    without case, accents or spaces. ``name`` matches the family or the given name."""

    nihii: str | None = None
    ssin: str | None = None
    family: str | None = None
    given: str | None = None
    name: str | None = None
    quality: str | None = None

    def criteria(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name)]


@dataclass(frozen=True)
class OrganisationQuery:
    """Criteria, all optional, combined with AND; ``name`` matches anywhere in the name."""

    nihii: str | None = None
    cbe: str | None = None
    ehp: str | None = None
    kind: OrganisationKind | None = None
    name: str | None = None

    def criteria(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name)]


class CareDirectory(Protocol):
    """The provider directory as a list (CoBrHa / AddressBook): every match,
    in a stable order (family name, given name, NIHII; organisations by
    name, NIHII), for the domain to page over (IC-A8)."""

    def find_professionals(self, query: ProfessionalQuery) -> Sequence[ProfessionalRecord]: ...

    def find_organisations(self, query: OrganisationQuery) -> Sequence[OrganisationRecord]: ...

    def ehp_number(self, organisation: OrganisationRecord) -> str | None:
        """The organisation's eHealth-partner number, if the directory knows one."""
        ...
