"""What the trajectory's use cases return to a face: plain values, shown as
the caller may see them (a decision only once published, except to INAMI;
medical data only to its two physicians, RP-A6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class TrainingView:
    id: str
    position: int
    title: str
    provider: str | None
    hours_planned: int
    cost_cents: int
    hours_performed: int


@dataclass(frozen=True)
class StepView:
    seq: int
    step: str
    status: str
    actor_role: str
    actor_cbe: str | None
    rule: str
    note: str | None
    at: datetime


@dataclass(frozen=True)
class DecisionView:
    id: str
    request_id: str
    outcome: str
    costs_granted_cents: int
    reason: str | None
    decided_by_role: str
    decided_at: datetime
    week: str
    published_at: datetime | None


@dataclass(frozen=True)
class RequestView:
    id: str
    version: int
    dossier_id: str
    insured_niss: str
    form_id: str | None
    kind: str
    project: str
    counsellor_name: str | None
    status: str
    filed_by_party: str
    filed_by_cbe: str
    filed_by_role: str
    insurer_cbe: str
    regional_cbe: str | None
    received_at: datetime | None
    created_at: datetime
    updated_at: datetime
    trainings: tuple[TrainingView, ...]
    steps: tuple[StepView, ...]
    decision: DecisionView | None

    @property
    def costs_requested_cents(self) -> int:
        return sum(t.cost_cents for t in self.trainings)


@dataclass(frozen=True)
class DecisionLine:
    """One line of a party's list of decisions (RP-F7): no medical data."""

    decision_id: str
    request_id: str
    dossier_id: str
    insured_niss: str
    kind: str
    outcome: str
    costs_requested_cents: int
    costs_granted_cents: int
    week: str
    published_at: datetime


@dataclass(frozen=True)
class HoursLine:
    """One training's hours in a period, for a party's list (RP-F7)."""

    request_id: str
    dossier_id: str
    insured_niss: str
    training_id: str
    title: str
    hours_planned: int
    hours_performed: int


@dataclass(frozen=True)
class MessageView:
    id: str
    dossier_id: str
    kind: str
    sender: str
    recipient: str
    sender_role: str
    subject: str | None
    body: str
    sent_at: datetime


@dataclass(frozen=True)
class HoursView:
    id: str
    training_id: str
    request_id: str
    performed_on: date
    hours: int
