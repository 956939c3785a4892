"""RP-R1: a dossier's data stay available for 3 years from 1 January of the
year after their last change, then are deleted (dossier and forms together).

Run by the gateway's ``purge`` (with IC-R6), as one act of the ``system``
principal, audited like any other (RP-R2). A person the gateway then keeps
nothing for is cut from the audit trail as IC-R6's purge cuts them (DS-8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from sqlalchemy import delete, select

from gateway.domain import person_data
from gateway.domain.acts import Act
from gateway.domain.clock import BRUSSELS
from gateway.domain.context import DomainContext
from gateway.domain.principal import system_principal
from gateway.domain.rtw.model import RtwDossier, RtwForm
from gateway.domain.rtw.trajectory_model import delete_trajectory

RETENTION_YEARS = 3


def deleted_from(last_change: datetime) -> date:
    """The day from which a dossier last changed at ``last_change`` is deleted:
    1 January of the year after the change, plus 3 years."""
    return date(last_change.astimezone(BRUSSELS).year + 1 + RETENTION_YEARS, 1, 1)


def cutoff_for(today: date) -> datetime:
    """Dossiers whose last change is before this instant are past RP-R1 on ``today``:
    last changed in year Y, they go on 1 January of Y + 4."""
    start_of_year = datetime.combine(date(today.year - RETENTION_YEARS, 1, 1), time(0), tzinfo=BRUSSELS)
    return start_of_year.astimezone(timezone.utc)


@dataclass
class RtwPurgeReport:
    cutoff: datetime
    dry_run: bool
    dossiers: list[str] = field(default_factory=list)
    forms: int = 0
    audit_subjects: int = 0  # audit tokens cut: people the gateway keeps nothing else for

    def describe(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (f"return to work: {verb} {len(self.dossiers)} dossier(s) and {self.forms} form(s) last changed before "
                f"{self.cutoff.astimezone(BRUSSELS).date()} (RP-R1: 3 years from 1 January after the last change)"
                + (f"; cut the audit trail's link to the people concerned ({self.audit_subjects} token(s))"
                   if self.audit_subjects else ""))


def purge(ctx: DomainContext, *, dry_run: bool = False, today: date | None = None) -> RtwPurgeReport:
    """Delete the dossiers past RP-R1, with their forms."""
    cutoff = cutoff_for(today or ctx.clock.today())
    report = RtwPurgeReport(cutoff, dry_run)

    def body(act: Act) -> RtwPurgeReport:
        act.rule = "RP-R1"
        found = act.session.execute(select(RtwDossier.id, RtwDossier.insured_pseudonym).where(RtwDossier.updated_at < cutoff)
                                    .order_by(RtwDossier.updated_at)).all()
        rows = [row.id for row in found]
        report.dossiers = list(rows)
        if rows:
            report.forms = len(act.session.execute(select(RtwForm.id).where(RtwForm.dossier_id.in_(rows))).all())
        act.detail.update(cutoff=cutoff.isoformat(), dossiers=len(rows), forms=report.forms, dry_run=dry_run)
        if rows and not dry_run:
            delete_trajectory(act.session, list(rows))  # requests, decisions, hours, messages (RP-R1)
            act.session.execute(delete(RtwForm).where(RtwForm.dossier_id.in_(rows)))
            act.session.execute(delete(RtwDossier).where(RtwDossier.id.in_(rows)))
            report.audit_subjects = _forget(ctx, act, {row.insured_pseudonym for row in found})
            act.detail["audit_subjects"] = report.audit_subjects
        return report

    return ctx.runner.run(system_principal("retention"), "rtw.retention.purge" + (".dry-run" if dry_run else ""), body,
                          channel="maintenance")


def _forget(ctx: DomainContext, act: Act, people: set[str]) -> int:
    """DS-8, as the integrated-care purge does: a person the gateway keeps
    nothing else for is cut from the audit trail (their tokens, under every
    number they had, go; the sealed records stay, about no one nameable)."""
    gone = people - person_data.still_kept(act.session, people)
    former: dict[str, list[str]] = {}
    for pseudonym in gone:
        try:
            person = ctx.register.person(ctx.pseudonyms.reveal(pseudonym))
        except ValueError:
            continue
        if person is not None:
            former[pseudonym] = [ctx.pseudonyms.pseudonymise(n) for n in (person.niss, *person.previous_niss)]
    return person_data.erase(act.session, gone, former)
