"""Use cases of inclusions: declare (IC-F1), consult (IC-F2), modify and
close (IC-F3), list a PSI's patients (IC-F4).

Each runs as one act (:mod:`gateway.domain.acts`): one policy decision, the
rules IC-R1 to IC-R3, the write, the history row, the audit record, in one
transaction. Changes to one patient's inclusions are serialised by locking
the patient row, so IC-R1 holds under concurrency on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Callable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.domain import billing, rights
from gateway.domain.acts import Act, well_formed_id
from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied, Concealed, Conflict, InvalidInput, NotFound, VersionConflict
from gateway.domain.identifiers import InvalidIdentifier, check_nihii, check_niss
from gateway.domain.model import ConsentDecision, Inclusion, InclusionChange, Patient
from gateway.domain.policy import PSI_ROLES, Decision, Field
from gateway.domain.ports import OrganisationKind, PersonRecord
from gateway.domain.views import (
    ConsentView,
    InclusionVersionView,
    InclusionView,
    Page,
    PatientInclusions,
    PatientListItem,
    PersonView,
)
from gateway.domain.visibility import in_project, principal_elsewhere, visible_consents
from gateway.domain.principal import Principal, Role

PRINCIPAL = "principal"
INFORMATION = "information"
STATUSES = (PRINCIPAL, INFORMATION)
DECISIONS = ("agree", "refuse")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class DeclareInclusion:
    """IC-F1: what a declaration must carry."""

    patient_niss: str
    psi_nihii: str
    status: str
    start_date: date
    consent_decision: str | None = None  # may be left out when a decision is in force
    consent_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True)
class InclusionChanges:
    """IC-F3: the items to change; fields left UNSET stay as they are."""

    status: Any = UNSET
    start_date: Any = UNSET
    end_date: Any = UNSET
    consent_decision: Any = UNSET
    consent_date: Any = UNSET

    def policy_fields(self) -> set[Field]:
        wanted: set[Field] = set()
        for name, f in (("status", Field.STATUS), ("start_date", Field.START_DATE), ("end_date", Field.END_DATE)):
            if getattr(self, name) is not UNSET:
                wanted.add(f)
        if self.consent_decision is not UNSET or self.consent_date is not UNSET:
            wanted.add(Field.CONSENT)
        return wanted

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is UNSET for f in fields(self))


@dataclass(frozen=True)
class InclusionQuery:
    """A search over the inclusions the caller may see (IC-F2, IC-F4).

    ``period`` and ``updated`` are predicates the face builds from search
    prefixes; they are applied before paging.
    """

    patient_niss: str | None = None
    psi_nihii: str | None = None
    status: str | None = None
    period: Callable[[date, date | None], bool] | None = None
    updated: Callable[[datetime], bool] | None = None
    page_size: int | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class InclusionPage:
    items: tuple[InclusionView, ...]
    next_cursor: str | None
    principal_elsewhere: bool = False


# ------------------------------------------------------------------ checks


def check_patient_niss(value: str, path: str = "patient.niss") -> str:
    try:
        return check_niss(value).value
    except InvalidIdentifier as exc:
        raise InvalidInput("invalid-niss", exc.message, path=path) from None


def _check_psi(ctx: DomainContext, value: str) -> str:
    try:
        psi = check_nihii(value).value
    except InvalidIdentifier as exc:
        raise InvalidInput("invalid-nihii", exc.message, rule="IC-F1", path="psi.nihii") from None
    org = ctx.facts.organisation(psi)
    if org is None or org.kind is not OrganisationKind.PSI:
        raise InvalidInput(
            "unknown-psi", f"{psi} is not the NIHII of an integrated-care project known in CoBrHa.",
            rule="IC-F1", path="psi.nihii",
        )
    return psi


def _check_status(value: str) -> str:
    if value not in STATUSES:
        raise InvalidInput(
            "invalid-status", f"The status must be 'principal' or 'information', not {value!r}.",
            rule="IC-F1", path="status",
        )
    return value


def check_decision(value: str) -> str:
    if value not in DECISIONS:
        raise InvalidInput(
            "invalid-consent-decision", f"The consent decision must be 'agree' or 'refuse', not {value!r}.",
            rule="IC-F1", path="consent.decision",
        )
    return value


EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def check_dates(start: date, end: date | None) -> None:
    """IC-R3: coherent dates. Within what a care record can mean (billing
    counts months past the end: a year-9999 date is no date of care), and the
    end date is not before the start date."""
    for name, day in (("start_date", start), ("end_date", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidInput(
                "date-out-of-range", f"The date {day} is not a date of care; give one between {EARLIEST} and {LATEST}.",
                rule="IC-R3", path=name,
            )
    if end is not None and end < start:
        raise InvalidInput(
            "end-before-start", f"The end date {end} is before the start date {start}; correct one of them.",
            rule="IC-R3", path="end_date",
        )


def check_consent_date(day: date, today: date) -> None:
    """IC-R3: a consent decision is not recorded in the future."""
    if day > today:
        raise InvalidInput(
            "consent-date-in-future", f"The consent date {day} is in the future; give the date the patient decided.",
            rule="IC-R3", path="consent.date",
        )


# ------------------------------------------------------------------ helpers


def unknown_inclusion(inclusion_id: str) -> NotFound:
    """The one answer for an inclusion id the caller cannot use: unknown, or
    another project's (IC-A3). It does not echo the id."""
    return NotFound("unknown-inclusion", "No inclusion with this id.", path="id")


def project_scope(ctx: DomainContext, act: Act) -> str | None:
    """The project a PSI member's view is limited to (IC-A3), None for every
    other role. A PSI member without standing is refused here, before any
    record is looked up, so the refusal says nothing about the record."""
    if act.principal.role not in PSI_ROLES:
        return None
    return act.require(ctx.policy.standing(act.principal), names_rule=False).own_psi


def living_person(ctx: DomainContext, niss: str) -> PersonRecord:
    """IC-F1: the patient exists in the national register and is alive."""
    person = ctx.register.person(niss)
    if person is None:
        raise NotFound(
            "unknown-patient", f"No person with NISS {niss} in the national register; check the number.",
            rule="IC-F1", path="patient.niss",
        )
    if person.deceased:
        raise InvalidInput(
            "deceased-patient", f"The national register records this patient's death on {person.death_date}; "
            "a deceased patient cannot be included.", rule="IC-F1", path="patient.niss",
        )
    return person


def lock_patient(ctx: DomainContext, session: Session, pseudonym: str, now: Any) -> None:
    """Take the per-patient lock: the row is created if needed, then updated,
    which serialises concurrent changes to one patient (IC-R1)."""
    dialect = session.get_bind().dialect.name
    values = {"pseudonym": pseudonym, "lock_counter": 0, "created_at": now}
    if dialect == "postgresql":
        session.execute(postgresql.insert(Patient).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(Patient).values(**values).on_conflict_do_nothing())
    elif session.get(Patient, pseudonym) is None:
        session.add(Patient(**values))
        session.flush()
    session.execute(
        update(Patient).where(Patient.pseudonym == pseudonym).values(lock_counter=Patient.lock_counter + 1)
    )


def overlapping_principal(
    session: Session, pseudonym: str, start: date, end: date | None, exclude_id: str | None = None
) -> Inclusion | None:
    """IC-R1: a principal inclusion of this patient overlapping [start, end]."""
    conditions = [
        Inclusion.patient_pseudonym == pseudonym,
        Inclusion.status == PRINCIPAL,
        or_(Inclusion.end_date.is_(None), Inclusion.end_date >= start),
    ]
    if end is not None:
        conditions.append(Inclusion.start_date <= end)
    if exclude_id is not None:
        conditions.append(Inclusion.id != exclude_id)
    return session.execute(select(Inclusion).where(and_(*conditions)).limit(1)).scalar_one_or_none()


def principal_overlap_error(ctx: DomainContext, act: Act, other: Inclusion, patient_niss: str) -> Conflict:
    """The IC-R1 refusal, revealing the other PSI only to whom may consult it."""
    reveal = act.principal.role in (Role.PROVIDER, Role.PHARMACIST) and ctx.policy.consult(
        act.principal, patient_niss
    ).allowed
    own = ctx.policy.standing(act.principal).own_psi
    if reveal or (own is not None and own == other.psi_nihii):
        where = f"in project {other.psi_nihii} (inclusion {other.id}) from {other.start_date}"
    else:
        where = "in another integrated-care project"
    return Conflict(
        "principal-overlap",
        f"The patient already has a principal inclusion {where} for this period: a patient has one principal "
        "inclusion at a time. Declare this one with status 'information', or have the other one closed first.",
        rule="IC-R1", path="status",
    )


def snapshot(inc: Inclusion) -> dict[str, object]:
    return {
        "patient": inc.patient_pseudonym,
        "psi": inc.psi_nihii,
        "status": inc.status,
        "start_date": inc.start_date.isoformat(),
        "end_date": inc.end_date.isoformat() if inc.end_date else None,
        "billing_start": inc.billing_start.isoformat(),
        "billing_end": inc.billing_end.isoformat() if inc.billing_end else None,
        "declared_by_nihii": inc.declared_by_nihii,
        "closed_reason": inc.closed_reason,
    }


def record_change(act: Act, inc: Inclusion, action: str) -> None:
    act.session.add(
        InclusionChange(
            inclusion_id=inc.id,
            version=inc.version,
            action=action,
            at=act.now,
            actor_pseudonym=act.actor_pseudonym,
            actor_role=act.principal.role.value,
            actor_organisation=act.principal.organisation,
            snapshot=snapshot(inc),
        )
    )


def add_consent(act: Act, pseudonym: str, decision: str, day: date, inclusion_id: str | None) -> ConsentDecision:
    """Record a decision; ``inclusion_id`` names the project it was recorded
    with (None: outside any project, by the patient or a care provider)."""
    row = ConsentDecision(
        public_id=str(uuid.uuid4()),
        patient_pseudonym=pseudonym,
        decision=decision,
        decision_date=day,
        recorded_at=act.now,
        recorded_by_pseudonym=act.actor_pseudonym,
        recorded_by_role=act.principal.role.value,
        recorded_by_organisation=act.principal.organisation,
        inclusion_id=inclusion_id,
    )
    act.session.add(row)
    return row


def current_consent(session: Session, pseudonym: str) -> ConsentDecision | None:
    return session.execute(
        select(ConsentDecision)
        .where(ConsentDecision.patient_pseudonym == pseudonym)
        .order_by(ConsentDecision.id.desc())
        .limit(1)
    ).scalar_one_or_none()


# --------------------------------------------------------------------- views


def person_view(person: PersonRecord) -> PersonView:
    return PersonView(person.niss, person.last_name, person.first_name, person.birth_date, person.death_date)


def inclusion_view(ctx: DomainContext, inc: Inclusion, *, restricted: bool = False) -> InclusionView:
    reveal = ctx.pseudonyms.reveal
    return InclusionView(
        id=inc.id,
        version=inc.version,
        patient_niss=reveal(inc.patient_pseudonym),
        psi_nihii=inc.psi_nihii,
        status=inc.status,
        start_date=inc.start_date,
        end_date=inc.end_date,
        billing_start=inc.billing_start,
        billing_end=inc.billing_end,
        declared_by_nihii=inc.declared_by_nihii,
        declared_by_niss=reveal(inc.declared_by_pseudonym),
        declared_by_role=inc.declared_by_role,
        last_actor_niss=reveal(inc.last_actor_pseudonym),
        last_actor_role=inc.last_actor_role,
        closed_reason=inc.closed_reason,
        created_at=inc.created_at,
        updated_at=inc.updated_at,
        restricted=restricted,
    )


def consent_view(ctx: DomainContext, row: ConsentDecision | None, *, in_force: bool = True) -> ConsentView | None:
    if row is None:
        return None
    return ConsentView(
        decision=row.decision,
        decision_date=row.decision_date,
        recorded_at=row.recorded_at,
        recorded_by_niss=ctx.pseudonyms.reveal(row.recorded_by_pseudonym),
        recorded_by_role=row.recorded_by_role,
        recorded_by_organisation=row.recorded_by_organisation,
        id=row.public_id,
        patient_niss=ctx.pseudonyms.reveal(row.patient_pseudonym),
        in_force=in_force,
    )


# ----------------------------------------------------------------- use cases


class InclusionService:
    """The inclusion use cases, for both faces."""

    def __init__(self, ctx: DomainContext) -> None:
        self.ctx = ctx

    # IC-F1 -----------------------------------------------------------------
    def declare(self, principal: Principal, cmd: DeclareInclusion, *, channel: str = "internal") -> InclusionView:
        ctx = self.ctx

        def body(act: Act) -> InclusionView:
            niss = check_patient_niss(cmd.patient_niss)
            act.patient_pseudonym = ctx.pseudonyms.pseudonymise(niss)
            psi = _check_psi(ctx, cmd.psi_nihii)
            act.detail["psi"] = psi
            act.require(ctx.policy.declare(principal, psi))
            status = _check_status(cmd.status)
            decision = check_decision(cmd.consent_decision) if cmd.consent_decision is not None else None
            if decision is not None and cmd.consent_date is None:
                raise InvalidInput("missing-consent-date", "Give the date the consent decision was recorded.", rule="IC-F1", path="consent.date")
            check_dates(cmd.start_date, cmd.end_date)
            if cmd.consent_date is not None:
                check_consent_date(cmd.consent_date, act.today)
            person = living_person(ctx, niss)
            pseudonym = ctx.pseudonyms.pseudonymise(person.niss)
            act.patient_pseudonym = pseudonym
            lock_patient(ctx, act.session, pseudonym, act.now)
            scope = psi if principal.role in PSI_ROLES else None  # IC-A3: another project's decision is not theirs to rely on
            if decision is None and not visible_consents(act.session, pseudonym, scope):
                raise InvalidInput(
                    "consent-required", "The patient has no research consent decision on record: give it with the declaration "
                    "(agree or refuse, and the date it was recorded).", rule="IC-F1", path="consent.decision",
                )
            if status == PRINCIPAL:
                other = overlapping_principal(act.session, pseudonym, cmd.start_date, cmd.end_date)
                if other is not None:
                    raise principal_overlap_error(ctx, act, other, person.niss)
            inc = Inclusion(
                id=str(uuid.uuid4()),
                patient_pseudonym=pseudonym,
                psi_nihii=psi,
                status=status,
                start_date=cmd.start_date,
                end_date=cmd.end_date,
                billing_start=billing.billing_start(cmd.start_date),
                billing_end=billing.billing_end(cmd.end_date),
                declared_by_nihii=principal.nihii if principal.role in (Role.PROVIDER, Role.PHARMACIST) else None,
                declared_by_pseudonym=act.actor_pseudonym,
                declared_by_role=principal.role.value,
                last_actor_pseudonym=act.actor_pseudonym,
                last_actor_role=principal.role.value,
                closed_reason="exclusion" if cmd.end_date else None,
                created_at=act.now,
                updated_at=act.now,
            )
            act.session.add(inc)
            act.session.flush()
            record_change(act, inc, "declare")
            if decision is not None and cmd.consent_date is not None:
                add_consent(act, pseudonym, decision, cmd.consent_date, inc.id)
            act.resource_type, act.resource_id = "inclusion", inc.id
            act.detail.update(status=status)
            return inclusion_view(ctx, inc)

        return ctx.runner.run(principal, "inclusion.declare", body, channel=channel, resource_type="inclusion")

    # IC-F2 -----------------------------------------------------------------
    def consult(self, principal: Principal, patient_niss: str, *, channel: str = "internal") -> PatientInclusions:
        ctx = self.ctx

        def body(act: Act) -> PatientInclusions:
            niss = check_patient_niss(patient_niss)
            person = ctx.register.person(niss)
            current = person.niss if person else niss
            same = person is not None and (principal.niss == person.niss or principal.niss in person.previous_niss)
            pseudonym = ctx.pseudonyms.pseudonymise(current)
            act.patient_pseudonym = pseudonym
            decision = act.require(ctx.policy.consult(principal, current, same_person=same))
            return self._patient_inclusions(act, decision, pseudonym, person)

        return ctx.runner.run(principal, "inclusion.consult", body, channel=channel, resource_type="patient", reads=True)

    def _patient_inclusions(
        self, act: Act, decision: Decision, pseudonym: str, person: PersonRecord | None
    ) -> PatientInclusions:
        query = select(Inclusion).where(Inclusion.patient_pseudonym == pseudonym)
        elsewhere = False
        if decision.own_psi is not None:  # IC-A3: own PSI only, plus one bit about the others for its own patients
            query = query.where(Inclusion.psi_nihii == decision.own_psi)
            elsewhere = principal_elsewhere(act.session, pseudonym, decision.own_psi, act.today)
        rows = act.session.execute(query.order_by(Inclusion.start_date, Inclusion.id)).scalars().all()
        rows, restricted = rights.shown_under_restriction(act, decision, list(rows))  # DS-3
        act.detail["returned"] = len(rows)
        visible = person is not None and (decision.own_psi is None or bool(rows))
        consents = visible_consents(act.session, pseudonym, decision.own_psi) if visible else []
        consent = consent_view(self.ctx, consents[-1]) if consents else None
        return PatientInclusions(
            patient=person_view(person) if visible and person else None,
            inclusions=tuple(inclusion_view(self.ctx, r, restricted=r.id in restricted) for r in rows),
            principal_elsewhere=elsewhere,
            consent=consent,
        )

    def get(self, principal: Principal, inclusion_id: str, *, channel: str = "internal") -> InclusionView:
        """Read one inclusion by id, under the consult rules (IC-F2)."""
        ctx = self.ctx

        def body(act: Act) -> InclusionView:
            inc = self._load(act, inclusion_id)
            decision = act.require(ctx.policy.consult(principal, ctx.pseudonyms.reveal(inc.patient_pseudonym)))
            return inclusion_view(ctx, inc, restricted=rights.guard_restricted(act, decision, inc))

        return ctx.runner.run(principal, "inclusion.read", body, channel=channel, resource_type="inclusion", resource_id=inclusion_id, reads=True)

    def history(self, principal: Principal, inclusion_id: str, *, channel: str = "internal") -> list[InclusionVersionView]:
        """Every version of one inclusion, oldest first (who changed what, IC-R8 item 10)."""
        ctx = self.ctx

        def body(act: Act) -> list[InclusionVersionView]:
            inc = self._load(act, inclusion_id)
            rights.guard_restricted(act, act.require(ctx.policy.consult(principal, ctx.pseudonyms.reveal(inc.patient_pseudonym))), inc)
            return [
                InclusionVersionView(
                    inclusion_id=c.inclusion_id, version=c.version, action=c.action, at=c.at,
                    actor_niss=ctx.pseudonyms.reveal(c.actor_pseudonym), actor_role=c.actor_role,
                    actor_organisation=c.actor_organisation, items=dict(c.snapshot),
                )
                for c in inc.changes
            ]

        return ctx.runner.run(principal, "inclusion.history", body, channel=channel, resource_type="inclusion", resource_id=inclusion_id, reads=True)

    def _load(self, act: Act, inclusion_id: str) -> Inclusion:
        """The inclusion an act names by id. For PSI staff an inclusion of
        another project does not exist (IC-A3): they get the answer of an
        unknown id, and the trail records the refusal."""
        own_psi = project_scope(self.ctx, act)
        inc = act.session.get(Inclusion, inclusion_id) if well_formed_id(inclusion_id) else None
        if inc is None:
            raise unknown_inclusion(inclusion_id)
        if own_psi is not None and inc.psi_nihii != own_psi:
            act.rule = "IC-A3"
            raise Concealed(unknown_inclusion(inclusion_id), AccessDenied(
                "not-own-psi", "An inclusion of another integrated-care project: PSI staff see their own project's only.",
                rule="IC-A3"))
        act.patient_pseudonym = inc.patient_pseudonym
        return inc

    # IC-F3 -----------------------------------------------------------------
    def modify(
        self,
        principal: Principal,
        inclusion_id: str,
        changes: InclusionChanges,
        *,
        expected_version: int | None = None,
        channel: str = "internal",
        action: str = "inclusion.modify",
    ) -> InclusionView:
        ctx = self.ctx

        def body(act: Act) -> InclusionView:
            if changes.is_empty():
                raise InvalidInput("nothing-to-change", "The request changes nothing; name at least one item to change.")
            inc = self._load(act, inclusion_id)
            lock_patient(ctx, act.session, inc.patient_pseudonym, act.now)
            act.session.refresh(inc)
            return self._change(act, inc, changes, expected_version)

        return ctx.runner.run(principal, action, body, channel=channel, resource_type="inclusion", resource_id=inclusion_id)

    def replace(
        self,
        principal: Principal,
        inclusion_id: str,
        *,
        status: str,
        start_date: date,
        end_date: date | None,
        patient_niss: str | None = None,
        psi_nihii: str | None = None,
        consent_decision: Any = UNSET,
        consent_date: Any = UNSET,
        expected_version: int | None = None,
        channel: str = "internal",
    ) -> InclusionView:
        """IC-F3 from a whole new state (a FHIR update): the items that differ
        from what is stored are the change the policy decides on, so each
        caller's rights apply to what they really change. The patient and the
        PSI of an inclusion never change."""
        ctx = self.ctx

        def body(act: Act) -> InclusionView:
            inc = self._load(act, inclusion_id)
            lock_patient(ctx, act.session, inc.patient_pseudonym, act.now)
            act.session.refresh(inc)
            changes = InclusionChanges(
                status=status if status != inc.status else UNSET,
                start_date=start_date if start_date != inc.start_date else UNSET,
                end_date=end_date if end_date != inc.end_date else UNSET,
                consent_decision=consent_decision, consent_date=consent_date,
            )
            niss = ctx.pseudonyms.reveal(inc.patient_pseudonym)
            rights.guard_restricted(act, act.require(ctx.policy.modify(principal, niss, inc.psi_nihii, changes.policy_fields())), inc)
            if patient_niss is not None and check_patient_niss(patient_niss) not in (niss, *self._numbers(niss)):
                raise InvalidInput("immutable-element", "The patient of an inclusion cannot change; declare a new inclusion.",
                                   rule="IC-F3", path="patient.niss")
            if psi_nihii is not None and psi_nihii != inc.psi_nihii:
                raise InvalidInput("immutable-element", "The PSI of an inclusion cannot change; declare a new inclusion.",
                                   rule="IC-F3", path="psi.nihii")
            if changes.is_empty():
                if expected_version is not None and expected_version != inc.version:
                    raise VersionConflict("version-conflict", f"Inclusion {inc.id} is at version {inc.version}, not {expected_version}.",
                                          path="version")
                return inclusion_view(ctx, inc)
            return self._change(act, inc, changes, expected_version, decided=True)

        return ctx.runner.run(principal, "inclusion.modify", body, channel=channel, resource_type="inclusion", resource_id=inclusion_id)

    def _numbers(self, niss: str) -> tuple[str, ...]:
        person = self.ctx.register.person(niss)
        return (person.niss, *person.previous_niss) if person else ()

    def _change(
        self, act: Act, inc: Inclusion, changes: InclusionChanges, expected_version: int | None, *, decided: bool = False
    ) -> InclusionView:
        """The common part of IC-F3: the policy decision (unless the caller
        already made it), the version check, the rules, the write."""
        niss = self.ctx.pseudonyms.reveal(inc.patient_pseudonym)
        if not decided:
            rights.guard_restricted(act, act.require(self.ctx.policy.modify(act.principal, niss, inc.psi_nihii, changes.policy_fields())), inc)
        if expected_version is not None and expected_version != inc.version:
            raise VersionConflict(
                "version-conflict",
                f"Inclusion {inc.id} is at version {inc.version}, not {expected_version}; read it again and retry.",
                path="version",
            )
        self._apply(act, inc, niss, changes)
        act.detail["fields"] = sorted(f.value for f in changes.policy_fields())
        return inclusion_view(self.ctx, inc, restricted=rights.is_restricted(act.session, inc))

    def close(
        self,
        principal: Principal,
        inclusion_id: str,
        end_date: date,
        *,
        expected_version: int | None = None,
        channel: str = "internal",
    ) -> InclusionView:
        """Exclude a patient: set the end date (IC-F3)."""
        return self.modify(
            principal, inclusion_id, InclusionChanges(end_date=end_date),
            expected_version=expected_version, channel=channel, action="inclusion.close",
        )

    def _apply(self, act: Act, inc: Inclusion, niss: str, changes: InclusionChanges) -> None:
        status = inc.status if changes.status is UNSET else _check_status(changes.status)
        start = inc.start_date if changes.start_date is UNSET else changes.start_date
        end = inc.end_date if changes.end_date is UNSET else changes.end_date
        if start is None:
            raise InvalidInput("missing-start-date", "An inclusion needs a start date.", rule="IC-F1", path="start_date")
        check_dates(start, end)
        if status == PRINCIPAL and (status, start, end) != (inc.status, inc.start_date, inc.end_date):
            other = overlapping_principal(act.session, inc.patient_pseudonym, start, end, exclude_id=inc.id)
            if other is not None:
                raise principal_overlap_error(self.ctx, act, other, niss)
        if changes.consent_decision is not UNSET or changes.consent_date is not UNSET:
            seen = visible_consents(act.session, inc.patient_pseudonym, inc.psi_nihii if act.principal.role in PSI_ROLES else None)
            existing = seen[-1] if seen else None
            decision = changes.consent_decision if changes.consent_decision is not UNSET else (
                existing.decision if existing else None
            )
            if decision is None:
                raise InvalidInput("missing-consent-decision", "Give the consent decision.", rule="IC-F1", path="consent.decision")
            day = changes.consent_date if changes.consent_date is not UNSET else act.today
            check_decision(decision)
            check_consent_date(day, act.today)
            add_consent(act, inc.patient_pseudonym, decision, day, inc.id)
        # Every accepted change makes a new version (a consent alone too), so
        # that item 10 (who changed what) is kept for each of them.
        inc.status, inc.start_date, inc.end_date = status, start, end
        inc.billing_start = billing.billing_start(start)
        inc.billing_end = billing.billing_end(end)
        if changes.end_date is not UNSET:
            inc.closed_reason = "exclusion" if end is not None else None
        inc.last_actor_pseudonym = act.actor_pseudonym
        inc.last_actor_role = act.principal.role.value
        inc.updated_at = act.now
        act.session.flush()
        record_change(act, inc, act.action.split(".")[-1])

    # IC-F4 -----------------------------------------------------------------
    def list_patients(
        self,
        principal: Principal,
        *,
        psi_nihii: str | None = None,
        page_size: int | None = None,
        cursor: str | None = None,
        channel: str = "internal",
    ) -> Page:
        """The patients currently included in the coordinator's PSI, a page at a
        time (IC-A8: bounded page size, no mass export)."""
        ctx = self.ctx
        size = ctx.settings.default_page_size if page_size is None else page_size

        def body(act: Act) -> Page:
            if not 1 <= size <= ctx.settings.max_page_size:
                raise InvalidInput(
                    "page-size-out-of-range",
                    f"The page size must be between 1 and {ctx.settings.max_page_size}; there is no mass export.",
                    rule="IC-A8", path="_count",
                )
            decision = act.require(ctx.policy.list_patients(principal, psi_nihii))
            psi = decision.own_psi
            act.detail.update(psi=psi, page_size=size)
            query = (
                select(Inclusion)
                .where(
                    Inclusion.psi_nihii == psi,
                    or_(Inclusion.end_date.is_(None), Inclusion.end_date >= act.today),
                )
                .order_by(Inclusion.id)
                .limit(size + 1)
            )
            if cursor:  # the last inclusion id of the page before: says nothing about anyone
                query = query.where(Inclusion.id > cursor)
            rows = act.session.execute(query).scalars().all()
            more = len(rows) > size
            rows = rows[:size]
            marked = rights.restricted_among(act.session, rows)  # DS-3: the project sees them (billing), marked
            items = []
            for inc in rows:
                niss = ctx.pseudonyms.reveal(inc.patient_pseudonym)
                person = ctx.register.person(niss)
                view = person_view(person) if person else PersonView(niss, "", "", None)
                items.append(PatientListItem(view, inclusion_view(ctx, inc, restricted=inc.id in marked)))
            next_cursor = rows[-1].id if more and rows else None
            act.detail["returned"] = len(items)
            return Page(tuple(items), size, next_cursor)

        return ctx.runner.run(principal, "inclusion.list-patients", body, channel=channel, resource_type="inclusion", reads=True)

    # IC-F2 / IC-F4: search ----------------------------------------------------
    def search(self, principal: Principal, query: InclusionQuery, *, channel: str = "internal") -> InclusionPage:
        """Inclusions matching ``query`` among those the caller may see.

        With a patient: the consult rules decide (IC-A1..IC-A4). Without one:
        a coordinator searches their own PSI (IC-F4), a patient their own
        inclusions (IC-A4); others must name the patient.
        """
        ctx = self.ctx
        size = ctx.settings.default_page_size if query.page_size is None else query.page_size

        def body(act: Act) -> InclusionPage:
            if not 1 <= size <= ctx.settings.max_page_size:
                raise InvalidInput("page-size-out-of-range", f"The page size must be between 1 and {ctx.settings.max_page_size}.",
                                   rule="IC-A8", path="_count")
            if query.status is not None:
                _check_status(query.status)
            conditions = []
            own_psi: str | None = None
            if query.patient_niss:
                niss = check_patient_niss(query.patient_niss, "patient")
                person = ctx.register.person(niss)
                current = person.niss if person else niss
                same = person is not None and principal.niss in (person.niss, *person.previous_niss)
                pseudonym = ctx.pseudonyms.pseudonymise(current)
                act.patient_pseudonym = pseudonym
                seen = act.require(ctx.policy.consult(principal, current, same_person=same))
                own_psi = seen.own_psi
                conditions.append(Inclusion.patient_pseudonym == pseudonym)
            elif principal.role is Role.PSI_COORDINATOR:
                seen = act.require(ctx.policy.list_patients(principal, query.psi_nihii))
                own_psi = seen.own_psi
                act.detail.update(psi=own_psi, page_size=size)  # as the list act records it (IC-F4)
            elif principal.role is Role.PATIENT:
                seen = act.require(ctx.policy.consult(principal, principal.niss))
                person = ctx.register.person(principal.niss)
                act.patient_pseudonym = ctx.pseudonyms.pseudonymise(person.niss if person else principal.niss)
                conditions.append(Inclusion.patient_pseudonym == act.patient_pseudonym)
            else:
                act.require(ctx.policy.standing(principal))
                raise InvalidInput(
                    "patient-required", "Name the patient (patient.identifier=system|NISS): inclusions are searched patient by patient.",
                    rule="IC-A1", path="patient",
                )
            elsewhere = False
            if own_psi is not None and query.patient_niss and act.patient_pseudonym:  # IC-A3: one bit, for its own patients
                elsewhere = principal_elsewhere(act.session, act.patient_pseudonym, own_psi, act.today)
            if own_psi is not None:
                if query.psi_nihii and query.psi_nihii != own_psi:
                    return InclusionPage((), None, elsewhere)
                conditions.append(Inclusion.psi_nihii == own_psi)
            elif query.psi_nihii:
                conditions.append(Inclusion.psi_nihii == query.psi_nihii)
            if query.status:
                conditions.append(Inclusion.status == query.status)
            items: list[Inclusion] = []
            after = query.cursor or ""
            more = False
            while len(items) <= size:
                batch = act.session.execute(
                    select(Inclusion).where(*conditions, Inclusion.id > after).order_by(Inclusion.id).limit(500)
                ).scalars().all()
                for inc in batch:
                    if query.period and not query.period(inc.start_date, inc.end_date):
                        continue
                    if query.updated and not query.updated(inc.updated_at):
                        continue
                    items.append(inc)
                    if len(items) > size:
                        break
                if len(batch) < 500 or len(items) > size:
                    break
                after = batch[-1].id
            more = len(items) > size
            items = items[:size]
            cursor_after = items[-1].id if more and items else None
            items, restricted = rights.shown_under_restriction(act, seen, items)  # DS-3
            act.rule = act.rule or "IC-F2"
            act.detail.update(returned=len(items))
            return InclusionPage(tuple(inclusion_view(ctx, i, restricted=i.id in restricted) for i in items), cursor_after, elsewhere)

        # Searching one patient's inclusions (a patient's own, without naming
        # themselves) is consulting them (IC-F2); a coordinator's search of
        # the project is listing its patients (IC-F4): the same act, audited
        # the same way, whichever face asks.
        if query.patient_niss or principal.role is Role.PATIENT:
            return ctx.runner.run(principal, "inclusion.consult", body, channel=channel, resource_type="patient", reads=True)
        if principal.role is Role.PSI_COORDINATOR:
            return ctx.runner.run(principal, "inclusion.list-patients", body, channel=channel, resource_type="inclusion", reads=True)
        return ctx.runner.run(principal, "inclusion.search", body, channel=channel, resource_type="inclusion", reads=True)
