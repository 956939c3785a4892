"""What the domain asks of the outside world, as interfaces.

The access policy and the use cases ask these questions; the simulated
eHealth platform answers them in the sandbox (``gateway.ehealth``), a client
of the real attribute authority and national register can answer them in
production. No face ever answers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol, Sequence


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
