"""INAMI's weekly decisions (RP-F5).

INAMI's social expert or medical inspector records a decision (approved or
refused, the costs granted) on a request it received; until the week's
run publishes it, only INAMI sees it. The run (``care-gateway rtw
decision-run --week 2026-W49``) publishes each decision of the week: in
the dossier (the request becomes ``approved`` or ``refused``, with a
history step) and in the global list, one line per recipient (the party
that filed it and the insurer), each recipient seeing only its own lines.

The run works in batches, each one act in one transaction: a run killed
midway leaves whole batches published and none half-done; run again, it
publishes what is left, and a run of a week already published changes
nothing (a publication is unique per decision and recipient).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from gateway.domain.acts import Act
from gateway.domain.errors import InvalidInput
from gateway.domain.principal import Principal, system_principal
from gateway.domain.rtw import trajectory_policy as rules
from gateway.domain.rtw.requests import APPROVED, DECIDED, REFUSED, SUBMITTED, Trajectory, iso_week
from gateway.domain.rtw.model import RtwDossier
from gateway.domain.rtw.trajectory_model import RtwDecision, RtwPublication, RtwRequest, RtwRequestStep
from gateway.domain.rtw.trajectory_views import RequestView

OUTCOMES = (APPROVED, REFUSED)
WEEK = re.compile(r"(\d{4})-W(\d{2})")
RESOURCE = "rtw-decision"


def check_week(week: str) -> str:
    match = WEEK.fullmatch(week or "")
    if match is None or not 1 <= int(match.group(2)) <= 53:
        raise InvalidInput("invalid-week", f"A week is written as an ISO week, e.g. 2026-W49, not {week!r}.", rule="RP-F5",
                           path="week")
    return week


@dataclass(frozen=True)
class RecordDecision:
    request_id: str
    outcome: str  # approved | refused
    costs_granted_cents: int = 0
    reason: str | None = None


@dataclass
class RunReport:
    """What a decision run did: decisions published now, and those already published before."""

    week: str
    published: int = 0
    already: int = 0
    batches: int = 0
    decisions: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (f"decision run {self.week}: published {self.published} decision(s) in {self.batches} batch(es); "
                f"{self.already} already published (RP-F5)")


class DecisionService:
    def __init__(self, trajectory: Trajectory) -> None:
        self.t = trajectory
        self.core = trajectory.core

    def record(self, principal: Principal, cmd: RecordDecision, *, channel: str = "internal") -> RequestView:
        """RP-F5: INAMI records its decision on a request it received (not yet published)."""
        t, core = self.t, self.core

        def body(act: Act) -> RequestView:
            row = t.load_request(act, cmd.request_id)
            from gateway.domain.rtw.model import RtwDossier

            t.dossier_rule(act, act.session.get(RtwDossier, row.dossier_id), lambda p, seen, *_: rules.decide_request(p, seen))
            if cmd.outcome not in OUTCOMES:
                raise InvalidInput("invalid-outcome", f"A decision approves or refuses, not {cmd.outcome!r}.", rule="RP-F5",
                                   path="outcome")
            if row.status != SUBMITTED:
                raise InvalidInput("not-received", f"The request is {row.status}: INAMI decides on requests it received "
                                   "(validated by the insurer, or filed by it).", rule="RP-F5", path="status")
            requested = sum(x.cost_cents for x in row.trainings)
            granted = cmd.costs_granted_cents if cmd.outcome == APPROVED else 0
            if not 0 <= granted <= requested:
                raise InvalidInput("invalid-costs-granted", f"The costs granted are between 0 and the costs requested "
                                   f"({requested / 100:.2f} euro).", rule="RP-F5", path="costs_granted")
            act.session.add(RtwDecision(
                id=str(uuid.uuid4()), request_id=row.id, outcome=cmd.outcome, costs_granted_cents=granted,
                reason=cmd.reason, decided_by_role=principal.role.value, decided_by_pseudonym=act.actor_pseudonym,
                decided_at=act.now, week=iso_week(act.now)))
            t.step(act, row, "decided", DECIDED, "RP-F5")
            act.detail.update(outcome=cmd.outcome)
            return t.view(act, row)

        return core.ctx.runner.run(principal, "rtw.decision.record", body, channel=channel, resource_type=RESOURCE,
                                   resource_id=cmd.request_id)

    def run(self, week: str, *, batch_size: int = 200, progress: Callable[[int, int], None] | None = None,
            after_publication: Callable[[int], None] | None = None) -> RunReport:
        """Publish the decisions of ``week`` (RP-F5), batch by batch, each batch one act.

        ``progress(done, total)`` is called after each batch; ``after_publication(n)``
        after each decision published in a batch (a test makes it fail to kill the run)."""
        check_week(week)
        core = self.core
        report = RunReport(week)
        principal = system_principal("decision-run")
        with core.ctx.db.transaction() as session:
            total = session.execute(select(func.count()).select_from(RtwDecision).where(RtwDecision.week == week)).scalar_one()
            report.already = session.execute(select(func.count()).select_from(RtwDecision).where(
                RtwDecision.week == week, RtwDecision.published_at.is_not(None))).scalar_one()
        done = report.already
        if progress:
            progress(done, total)
        count = 0
        while True:
            def body(act: Act) -> int:
                nonlocal count
                act.rule = "RP-F5"
                batch = act.session.execute(select(RtwDecision).where(RtwDecision.week == week,
                                                                      RtwDecision.published_at.is_(None))
                                            .order_by(RtwDecision.decided_at, RtwDecision.id).limit(batch_size)
                                            .with_for_update(skip_locked=True)).scalars().all()
                self._publish(act, batch, week)
                for _ in batch:
                    count += 1
                    if after_publication:
                        after_publication(count)
                act.detail.update(week=week, published=len(batch))
                return len(batch)

            published = core.ctx.runner.run(principal, "rtw.decision.publish", body, channel="maintenance",
                                            resource_type=RESOURCE)
            if not published:
                break
            report.published += published
            report.batches += 1
            done += published
            if progress:
                progress(done, total)
        return report

    def _publish(self, act: Act, batch: list[RtwDecision], week: str) -> None:
        """Publish a batch: a line per recipient (the party that filed and the insurer), the request's status and
        history step, the dossier's last change (RP-R1). The requests, their history and dossiers are read at once."""
        if not batch:
            return
        requests = {r.id: r for r in act.session.execute(
            select(RtwRequest).where(RtwRequest.id.in_([d.request_id for d in batch]))
            .options(selectinload(RtwRequest.steps))).scalars()}
        dossiers = {d.id: d for d in act.session.execute(
            select(RtwDossier).where(RtwDossier.id.in_({r.dossier_id for r in requests.values()}))).scalars()}
        for decision in batch:
            row = requests[decision.request_id]
            for recipient in sorted({row.filed_by_cbe, row.insurer_cbe}):
                act.session.add(RtwPublication(id=str(uuid.uuid4()), decision_id=decision.id, request_id=row.id,
                                               recipient=recipient, week=week, published_at=act.now))
            decision.published_at = act.now
            row.steps.append(RtwRequestStep(id=str(uuid.uuid4()), seq=len(row.steps) + 1, step="published",
                                            status=decision.outcome, actor_role=act.principal.role.value, actor_cbe=None,
                                            rule="RP-F5", note=None, at=act.now))
            row.status, row.updated_at = decision.outcome, act.now
            dossiers[row.dossier_id].updated_at = act.now
        act.session.flush()


__all__ = ["DecisionService", "RecordDecision", "RunReport", "check_week"]
