"""What use cases return: plain values, with plaintext NISS and register
names filled in at read time (IC-R9), for the faces to map to the wire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class PersonView:
    """A person as the national register shows them now (never stored)."""

    niss: str
    last_name: str
    first_name: str
    birth_date: date | None
    death_date: date | None = None


@dataclass(frozen=True)
class ConsentView:
    """The research-consent decision in force, and who recorded it (IC-R11)."""

    decision: str
    decision_date: date
    recorded_at: datetime
    recorded_by_niss: str
    recorded_by_role: str
    recorded_by_organisation: str | None
    id: str | None = None  # the public id (random), never the internal sequence
    patient_niss: str | None = None
    in_force: bool = True
    resource_id: str | None = None  # DS-5: the Consent this decision is a version of (None: its own id)
    version: int = 1  # its version there
    withdrawn: bool = False  # recorded by withdrawing the consent (stored as refuse)


@dataclass(frozen=True)
class InclusionView:
    id: str
    version: int
    patient_niss: str
    psi_nihii: str
    status: str
    start_date: date
    end_date: date | None
    billing_start: date
    billing_end: date | None
    declared_by_nihii: str | None
    declared_by_niss: str
    declared_by_role: str
    last_actor_niss: str
    last_actor_role: str
    closed_reason: str | None
    created_at: datetime
    updated_at: datetime
    restricted: bool = False  # DS-3: shown under a restriction of its use, to whom the law requires

    def active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


@dataclass(frozen=True)
class InclusionVersionView:
    """One past version of an inclusion, for history and provenance."""

    inclusion_id: str
    version: int
    action: str
    at: datetime
    actor_niss: str
    actor_role: str
    actor_organisation: str | None
    items: dict[str, object]


@dataclass(frozen=True)
class PatientInclusions:
    """A patient's inclusions as one caller may see them.

    For PSI staff (IC-A3) ``inclusions`` holds only their own PSI's, and
    ``principal_elsewhere`` says whether a principal inclusion exists in
    another PSI, and nothing more.
    """

    patient: PersonView | None
    inclusions: tuple[InclusionView, ...]
    principal_elsewhere: bool
    consent: ConsentView | None


@dataclass(frozen=True)
class PatientListItem:
    patient: PersonView
    inclusion: InclusionView


@dataclass(frozen=True)
class Page:
    items: tuple[PatientListItem, ...]
    page_size: int
    next_cursor: str | None


@dataclass(frozen=True)
class MemberView:
    kind: str
    niss: str | None
    nihii: str | None
    role: str | None
    period_start: date | None
    period_end: date | None


@dataclass(frozen=True)
class CareTeamView:
    id: str
    version: int
    kind: str
    patient_niss: str | None
    name: str | None
    managing_organisation: str | None
    status: str
    period_start: date | None
    period_end: date | None
    members: tuple[MemberView, ...]
    updated_at: datetime


@dataclass(frozen=True)
class PartyView:
    role: str
    niss: str | None
    nihii: str | None
    cbe: str | None
    party_role: str | None
    task_status: str | None = None  # a performer's Task: requested, received, accepted, ... (FHIR task-status)
    task_reason: str | None = None  # why it was rejected, failed or cancelled
    task_id: str | None = None  # its Task's id: task-<referral id> for the first performer, task-<referral id>-<n> after


@dataclass(frozen=True)
class ReferralView:
    id: str
    version: int
    patient_niss: str
    programme: str
    category: str
    service_requested: str
    reason: str | None
    status: str
    valid_from: date | None
    valid_until: date | None
    parties: tuple[PartyView, ...]
    created_at: datetime
    updated_at: datetime
    status_reason: str | None = None  # why the requester revoked or completed it
    expired: bool = False  # still open (draft, active, on-hold) but past its validity period: computed when read (RF-1)
    basis: tuple[tuple[str, str], ...] = ()  # what a programme rests it on, e.g. RF-3's (episode, screening, domain)

    def party(self, role: str) -> list[PartyView]:
        return [p for p in self.parties if p.role == role]

    def task(self, task_id: str) -> PartyView | None:
        """The performer whose Task has this id."""
        return next((p for p in self.parties if p.task_id == task_id), None)
