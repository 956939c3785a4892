"""What the return-to-work use cases return to a face: plain values, the
dossier enriched from the sources at read time, the form as the caller may
see it (RP-A6 medical items, RP-M1 the incapacity start date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gateway.domain.rtw.ports import Employment, InsurerAffiliation, JobSeekerRegistration, PreventionService


@dataclass(frozen=True)
class DossierView:
    id: str
    version: int
    insured_niss: str
    status: str
    opened_via: str
    opened_by_role: str
    opened_by_cbe: str
    created_at: datetime
    updated_at: datetime
    # enrichment, looked up at read time (never stored)
    last_name: str | None = None
    first_name: str | None = None
    insurer: InsurerAffiliation | None = None
    employers: tuple[Employment, ...] = ()
    prevention_services: tuple[PreventionService, ...] = ()
    registrations: tuple[JobSeekerRegistration, ...] = ()
    trio_dossier: bool | None = None  # None: not shown to this caller (RP-F9)


@dataclass(frozen=True)
class DossierPage:
    items: tuple[DossierView, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class FormView:
    """A registration form as one caller sees it. ``incapacity_start`` is None
    for a regional service, which gets ``incapacity_one_year`` only (RP-M1);
    the physician's question is None for non-physicians (RP-A6)."""

    id: str
    version: int
    dossier_id: str
    insured_niss: str
    routing: str
    status: str
    incapacity_start: date | None
    incapacity_one_year: bool
    expectations: str | None
    work_problems: str | None
    coordinator_name: str | None
    advising_physician_name: str | None
    team_member_name: str | None
    target_group: bool | None
    occupational_physician_name: str | None
    physician_expectations: str | None
    functional_capacities: str | None
    created_by_role: str
    created_by_cbe: str
    created_at: datetime
    updated_at: datetime
    medical_shown: bool
