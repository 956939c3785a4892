"""What happens to inclusions without anyone asking: national-register
mutations (IC-R4 death, IC-R5 NISS change) and retention (IC-R6). A NISS
change and a purge reach every entity that names the person
(:mod:`gateway.domain.person_data`), not only inclusions.

Each mutation is applied as one act of the ``system`` principal, so it is
audited and versioned like any change; the feed cursor moves in the same
transaction, so a crash never applies a mutation twice or skips one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, or_, select

from gateway.domain import billing, person_data
from gateway.domain.acts import Act
from gateway.domain.context import DomainContext
from gateway.domain.inclusions import PRINCIPAL, lock_patient, record_change
from gateway.domain.model import ConsentDecision, FeedCursor, Inclusion, InclusionChange, Patient
from gateway.domain.ports import MutationKind, RegisterMutation
from gateway.domain.principal import system_principal

log = logging.getLogger("gateway.lifecycle")

REGISTER_FEED = "national-register"
RETENTION_YEARS = 10  # IC-R6


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February becomes 28)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass
class MutationReport:
    applied: int = 0
    inclusions_closed: int = 0
    inclusions_moved: int = 0
    last_seq: int = 0
    notes: list[str] = field(default_factory=list)


class Lifecycle:
    def __init__(self, ctx: DomainContext) -> None:
        self.ctx = ctx

    # IC-R4, IC-R5 ------------------------------------------------------------
    def cursor(self) -> int:
        with self.ctx.db.transaction() as session:
            row = session.get(FeedCursor, REGISTER_FEED)
            return row.position if row else 0

    def sync_register(self, *, limit: int = 500) -> MutationReport:
        """Read the register's mutation feed from where we stopped and apply it."""
        report = MutationReport(last_seq=self.cursor())
        while True:
            batch = self.ctx.register.mutations_after(report.last_seq, limit)
            if not batch:
                return report
            for mutation in batch:
                self._apply(mutation, report)
                report.applied += 1
                report.last_seq = mutation.seq

    def _apply(self, mutation: RegisterMutation, report: MutationReport) -> None:
        ctx = self.ctx
        system = system_principal("national-register feed")

        def body(act: Act) -> None:
            act.detail.update(mutation=mutation.seq, kind=mutation.kind.value)
            act.rule = "IC-R4" if mutation.kind is MutationKind.DEATH else "IC-R5"
            if mutation.kind is MutationKind.DEATH:
                report.inclusions_closed += self._close_for_death(act, mutation)
            else:
                report.inclusions_moved += self._move(act, mutation, report)
            row = act.session.get(FeedCursor, REGISTER_FEED)
            if row is None:
                act.session.add(FeedCursor(name=REGISTER_FEED, position=mutation.seq, updated_at=act.now))
            else:
                row.position, row.updated_at = mutation.seq, act.now

        ctx.runner.run(system, f"register.{mutation.kind.value}", body, channel="register-feed", resource_type="patient")

    def _close_for_death(self, act: Act, mutation: RegisterMutation) -> int:
        """IC-R4: every open inclusion ends on the date of death, done by the system."""
        pseudonym = self.ctx.pseudonyms.pseudonymise(mutation.niss)
        act.patient_pseudonym = pseudonym
        lock_patient(self.ctx, act.session, pseudonym, act.now)
        open_rows = act.session.execute(
            select(Inclusion).where(
                Inclusion.patient_pseudonym == pseudonym,
                or_(Inclusion.end_date.is_(None), Inclusion.end_date > mutation.effective),
            )
        ).scalars().all()
        for inc in open_rows:
            inc.end_date = max(mutation.effective, inc.start_date)
            inc.billing_end = billing.billing_end(inc.end_date)
            inc.closed_reason = "death"
            inc.last_actor_pseudonym, inc.last_actor_role = act.actor_pseudonym, act.principal.role.value
            inc.updated_at = act.now
            act.session.flush()
            record_change(act, inc, "death")
        act.detail["closed"] = [i.id for i in open_rows]
        return len(open_rows)

    def _move(self, act: Act, mutation: RegisterMutation, report: MutationReport) -> int:
        """IC-R5: inclusions and consent follow the person to the new number;
        their history keeps the old pseudonym where it was written."""
        assert mutation.new_niss is not None
        old = self.ctx.pseudonyms.pseudonymise(mutation.niss)
        new = self.ctx.pseudonyms.pseudonymise(mutation.new_niss)
        act.patient_pseudonym = new
        for pseudonym in sorted((old, new)):  # one lock order: no deadlock between two moves
            lock_patient(self.ctx, act.session, pseudonym, act.now)
        rows = act.session.execute(select(Inclusion).where(Inclusion.patient_pseudonym == old)).scalars().all()
        for inc in rows:
            if inc.status == PRINCIPAL:
                clash = act.session.execute(
                    select(Inclusion.id).where(
                        Inclusion.patient_pseudonym == new,
                        Inclusion.status == PRINCIPAL,
                        or_(Inclusion.end_date.is_(None), Inclusion.end_date >= inc.start_date),
                        *( [Inclusion.start_date <= inc.end_date] if inc.end_date else [] ),
                    )
                ).first()
                if clash:
                    report.notes.append(
                        f"inclusion {inc.id} moved to the new number overlaps principal inclusion {clash[0]} (IC-R1): to be resolved by a provider"
                    )
            inc.patient_pseudonym = new
            inc.last_actor_pseudonym, inc.last_actor_role = act.actor_pseudonym, act.principal.role.value
            inc.updated_at = act.now
            act.session.flush()
            record_change(act, inc, "niss-change")
        consents = act.session.execute(select(ConsentDecision).where(ConsentDecision.patient_pseudonym == old)).scalars().all()
        for consent in consents:
            consent.patient_pseudonym = new
        others = person_data.renumber(act.session, old, new)  # care teams, referrals, rights requests, audit tokens
        act.session.execute(delete(Patient).where(Patient.pseudonym == old))
        # The record names the mutation (the register knows both numbers), never the former pseudonym.
        act.detail.update(moved=[i.id for i in rows], care_teams=others.care_teams, memberships=others.memberships,
                          referrals=others.referrals, rights_requests=others.rights_requests)
        return len(rows)

    # IC-R6 -----------------------------------------------------------------
    def purge(self, *, dry_run: bool = False, today: date | None = None) -> "PurgeReport":
        """Delete what has been kept 10 years past its end date (IC-R6)."""
        ctx = self.ctx
        system = system_principal("retention")
        day = today or ctx.clock.today()
        cutoff = years_before(day, RETENTION_YEARS)
        report = PurgeReport(cutoff=cutoff, dry_run=dry_run)

        def body(act: Act) -> PurgeReport:
            act.rule = "IC-R6"
            expired = act.session.execute(
                select(Inclusion).where(Inclusion.end_date.is_not(None), Inclusion.end_date < cutoff).order_by(Inclusion.end_date)
            ).scalars().all()
            report.inclusions = [(i.id, i.psi_nihii, i.end_date) for i in expired]  # type: ignore[misc]
            patients = {i.patient_pseudonym for i in expired}
            others = person_data.expired(act.session, cutoff)  # care teams, referrals, rights requests past theirs
            report.care_teams, report.referrals, report.rights_requests = (
                len(others.care_teams), len(others.referrals), len(others.rights_requests))
            ids = [i.id for i in expired]
            candidates = patients | others.people
            # A person the gateway keeps nothing else for is gone: nothing may name them any more (DS-8).
            gone = candidates - person_data.still_kept(act.session, candidates, others, ids)
            if not dry_run:
                if ids:
                    act.session.execute(delete(InclusionChange).where(InclusionChange.inclusion_id.in_(ids)))
                    act.session.execute(delete(Inclusion).where(Inclusion.id.in_(ids)))
                person_data.delete_expired(act.session, others)
            report.patients = len(gone)
            if gone:
                report.consents = len(
                    act.session.execute(select(ConsentDecision.id).where(ConsentDecision.patient_pseudonym.in_(gone))).all()
                )
            if not dry_run and gone:
                act.session.execute(delete(ConsentDecision).where(ConsentDecision.patient_pseudonym.in_(gone)))
                report.audit_subjects = person_data.erase(act.session, gone, self._former(gone))
            act.detail.update(cutoff=cutoff.isoformat(), inclusions=len(expired), care_teams=report.care_teams,
                              referrals=report.referrals, rights_requests=report.rights_requests, people=len(gone),
                              dry_run=dry_run)
            return report

        return ctx.runner.run(system, "retention.purge" + (".dry-run" if dry_run else ""), body, channel="maintenance")

    def _former(self, people: set[str]) -> dict[str, list[str]]:
        """The pseudonyms of each person's former numbers (a patient may have
        acted under one, and audit tokens were made for it)."""
        former: dict[str, list[str]] = {}
        for pseudonym in people:
            try:
                person = self.ctx.register.person(self.ctx.pseudonyms.reveal(pseudonym))
            except ValueError:
                continue
            if person is not None:
                former[pseudonym] = [self.ctx.pseudonyms.pseudonymise(n) for n in (person.niss, *person.previous_niss)]
        return former


@dataclass
class PurgeReport:
    cutoff: date
    dry_run: bool
    inclusions: list[tuple[str, str, date]] = field(default_factory=list)
    patients: int = 0
    consents: int = 0
    care_teams: int = 0
    referrals: int = 0
    rights_requests: int = 0
    audit_subjects: int = 0

    def describe(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        lines = [
            f"retention cut-off {self.cutoff} (end dates before it are past the {RETENTION_YEARS}-year retention, IC-R6)",
            f"{verb} {len(self.inclusions)} inclusion(s), {self.consents} consent decision(s) of {self.patients} patient(s) left with no inclusion",
            f"{verb} {self.care_teams} care team(s), {self.referrals} referral(s) and {self.rights_requests} rights request(s) "
            "past the same retention",
        ]
        if not self.dry_run:
            lines.append(f"cut the audit trail's link to {self.patients} person(s) ({self.audit_subjects} token(s)): "
                         "their records stay, about no one who can be named (DS-8)")
        lines += [f"  inclusion {iid}  PSI {psi}  ended {end}" for iid, psi, end in self.inclusions[:50]]
        if len(self.inclusions) > 50:
            lines.append(f"  ... and {len(self.inclusions) - 50} more")
        return "\n".join(lines)
