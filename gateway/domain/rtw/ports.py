"""What return to work asks of the outside world (``return-to-work.md``,
*Enrichment of a dossier from the NISS*), as interfaces.

:class:`PartnerSources` answers, about one insured person, the questions
the access rules compare a caller's CBE with: the insurer (CIN membership
data), the current employers (Dimona), each employer's prevention services
(SEED-Connect), the registrations as job seeker (JobSeeker, through a data
attribute service); and, about a user, the roles user management confirms.
:class:`TrioDirectory` says whether a TRIO dossier exists: the answer comes
from a pseudonym only, TRIO never sees the NISS.

A source that cannot answer raises
:class:`gateway.domain.ports.SourceUnavailable`: the act stops (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol, Sequence


@dataclass(frozen=True)
class InsurerAffiliation:
    """The insurer a person is affiliated to (CIN membership data)."""

    code: str  # "100" .. "900"
    name: str
    cbe: str


@dataclass(frozen=True)
class Employment:
    """One current employer of a person (Dimona)."""

    employer_cbe: str
    employer_name: str
    start: date
    end: date | None = None


@dataclass(frozen=True)
class PreventionService:
    """An external prevention service an employer is affiliated to (SEED-Connect)."""

    cbe: str
    name: str
    employer_cbe: str


@dataclass(frozen=True)
class JobSeekerRegistration:
    """A registration as job seeker with a regional employment service (JobSeeker)."""

    cbe: str
    name: str
    region: str  # flanders | wallonia | brussels | german-speaking
    registered_on: date


@dataclass(frozen=True)
class StaffRole:
    """A role a user holds in an organisation, as its user management says."""

    organisation_cbe: str
    role: str


class PartnerSources(Protocol):
    def insurer_of(self, niss: str, on: date) -> InsurerAffiliation | None: ...

    def employments_of(self, niss: str, on: date) -> Sequence[Employment]:
        """The employments current on ``on``."""
        ...

    def prevention_services_of(self, employer_cbe: str, on: date) -> Sequence[PreventionService]: ...

    def registrations_of(self, niss: str, on: date) -> Sequence[JobSeekerRegistration]:
        """The registrations as job seeker current on ``on``."""
        ...

    def staff_roles(self, niss: str) -> Sequence[StaffRole]:
        """The return-to-work roles user management confirms for this user."""
        ...


class TrioDirectory(Protocol):
    def has_dossier(self, niss: str) -> bool:
        """Whether TRIO holds a dossier for this person. An implementation
        asks TRIO with a pseudonym of the NISS in TRIO's pseudonym domain
        (blinded on the way), never with the NISS itself (RP-F9)."""
        ...
