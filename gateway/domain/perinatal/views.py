"""What the perinatal use cases return to a face: plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class ConsentView:
    """The woman's consent to the processing (PN-2)."""

    status: str  # given | withdrawn
    given_on: date
    recorded_by_role: str
    withdrawn_at: datetime | None
    withdrawn_by_role: str | None


@dataclass(frozen=True)
class EpisodeView:
    id: str
    version: int
    woman_niss: str
    care_team_id: str
    status: str  # active | finished (the child's third birthday passed)
    pregnancy_declared_on: date
    expected_delivery: date | None
    child_niss: str | None
    child_born_on: date | None
    ends_on: date | None
    consent: ConsentView
    opened_by_nihii: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ScreeningView:
    """A filled screening and the vulnerability profile derived from it (PN-1)."""

    id: str
    episode_id: str
    woman_niss: str
    questionnaire_version: str
    profile_version: str
    answers: dict[str, str]
    needs: dict[str, str]
    screened_by_nihii: str | None
    created_at: datetime

    @property
    def action(self) -> tuple[str, ...]:
        """The domains that need action, in the questionnaire's order."""
        return tuple(d for d, need in self.needs.items() if need == "action")
