"""Retention of the perinatal programme's data (DS-8, as
``profiles/perinatal-privacy.yaml`` states it): a follow-up, its screenings
and the links to its referrals are kept until ten years after it ended (the
child's third birthday) or its consent was withdrawn, then deleted together;
the referrals themselves follow the referral workflow's own retention.
Run by the gateway's ``purge`` as one act of the ``system`` principal.

:func:`renumber` moves the programme's rows to a person's new number (IC-R5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gateway.domain.acts import Act
from gateway.domain.context import DomainContext
from gateway.domain.perinatal.model import PerinatalEpisode, PerinatalReferral, PerinatalScreening
from gateway.domain.principal import system_principal

RETENTION_YEARS = 10


def ended_on(ep: PerinatalEpisode) -> date | None:
    """The day the follow-up ended: the consent's withdrawal or the child's third birthday, the earlier."""
    withdrawn = ep.consent_withdrawn_at
    if withdrawn is not None:
        withdrawn = (withdrawn if withdrawn.tzinfo else withdrawn.replace(tzinfo=timezone.utc)).date()
    days = [d for d in (withdrawn, ep.ends_on) if d is not None]
    return min(days) if days else None


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


@dataclass
class PerinatalPurgeReport:
    today: date
    dry_run: bool
    episodes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (f"perinatal programme: {verb} {len(self.episodes)} follow-up(s) with their screenings, ended more than "
                f"{RETENTION_YEARS} years before {self.today} (DS-8)")


def purge(ctx: DomainContext, *, dry_run: bool = False, today: date | None = None) -> PerinatalPurgeReport:
    report = PerinatalPurgeReport(today or ctx.clock.today(), dry_run)

    def body(act: Act) -> PerinatalPurgeReport:
        act.rule = "DS-8"
        rows = act.session.execute(select(PerinatalEpisode)).scalars().all()
        report.episodes = [ep.id for ep in rows
                           if (end := ended_on(ep)) is not None and _years_after(end, RETENTION_YEARS) <= report.today]
        act.detail.update(episodes=len(report.episodes), dry_run=dry_run)
        if report.episodes and not dry_run:
            act.session.execute(delete(PerinatalReferral).where(PerinatalReferral.episode_id.in_(report.episodes)))
            act.session.execute(delete(PerinatalScreening).where(PerinatalScreening.episode_id.in_(report.episodes)))
            act.session.execute(delete(PerinatalEpisode).where(PerinatalEpisode.id.in_(report.episodes)))
        return report

    return ctx.runner.run(system_principal("perinatal retention"), "perinatal.purge", body, resource_type="perinatal-episode")


def renumber(session: Session, old: str, new: str) -> int:
    """IC-R5: the woman's and the child's rows follow them to a new number."""
    moved = session.execute(update(PerinatalEpisode).where(PerinatalEpisode.woman_pseudonym == old)
                            .values(woman_pseudonym=new)).rowcount or 0
    moved += session.execute(update(PerinatalEpisode).where(PerinatalEpisode.child_pseudonym == old)
                             .values(child_pseudonym=new)).rowcount or 0
    return moved


__all__ = ["PerinatalPurgeReport", "ended_on", "purge", "renumber"]
