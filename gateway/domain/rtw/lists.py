"""The parties' lists (RP-F7): the decisions of a period and the hours
performed in each training, and the regional service's report of hours.

Each party sees its own lines only: an insurer or a regional service the
decisions published to it (RP-F5) and the hours of the requests it is a
party to; INAMI every line. A list carries no medical information: no
form item, no message, no reason written by a physician.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.principal import Principal
from gateway.domain.rtw import trajectory_policy as rules
from gateway.domain.rtw.decisions import check_week
from gateway.domain.rtw.model import RtwDossier
from gateway.domain.rtw.requests import APPROVED, Trajectory
from gateway.domain.rtw.roles import PartnerKind, partner_kind
from gateway.domain.rtw.trajectory_model import RtwDecision, RtwHours, RtwPublication, RtwRequest, RtwTraining
from gateway.domain.rtw.trajectory_views import DecisionLine, HoursLine, HoursView

RESOURCE = "rtw-list"


@dataclass(frozen=True)
class ListPage:
    lines: tuple  # DecisionLine or HoursLine
    next_cursor: str | None


class ListService:
    def __init__(self, trajectory: Trajectory) -> None:
        self.t = trajectory
        self.core = trajectory.core

    def _size(self, page_size: int | None) -> int:
        settings = self.core.ctx.settings
        size = settings.default_page_size if page_size is None else page_size
        if not 1 <= size <= settings.max_page_size:
            raise InvalidInput("page-size-out-of-range", f"The page size must be between 1 and {settings.max_page_size}.",
                               path="_count")
        return size

    def decisions(self, principal: Principal, week_from: str, week_to: str | None = None, *, page_size: int | None = None,
                  cursor: str | None = None, channel: str = "internal") -> ListPage:
        """The decisions published to the caller's party in the weeks ``week_from``..``week_to`` (RP-F7)."""
        core = self.core
        size = self._size(page_size)

        def body(act: Act) -> ListPage:
            act.require(core.policy.standing(principal), names_rule=False)
            act.require(rules.read_lists(principal))
            first, last = check_week(week_from), check_week(week_to or week_from)
            party = rules.party_of(principal)
            after = cursor or ""
            if party == rules.INAMI_PARTY:
                query = (select(RtwDecision.id, RtwDecision.request_id, RtwDecision.outcome, RtwDecision.costs_granted_cents,
                                RtwDecision.week, RtwDecision.published_at, RtwDecision.id)
                         .where(RtwDecision.published_at.is_not(None), RtwDecision.week >= first, RtwDecision.week <= last,
                                RtwDecision.id > after).order_by(RtwDecision.id))
            else:
                query = (select(RtwPublication.decision_id, RtwPublication.request_id, RtwDecision.outcome,
                                RtwDecision.costs_granted_cents, RtwPublication.week, RtwPublication.published_at,
                                RtwPublication.id)
                         .join(RtwDecision, RtwDecision.id == RtwPublication.decision_id)
                         .where(RtwPublication.recipient == party, RtwPublication.week >= first,
                                RtwPublication.week <= last, RtwPublication.id > after).order_by(RtwPublication.id))
            rows = act.session.execute(query.limit(size + 1)).all()
            more = len(rows) > size
            rows = rows[:size]
            requests = {r.id: r for r in act.session.execute(
                select(RtwRequest.id, RtwRequest.kind, RtwRequest.dossier_id)
                .where(RtwRequest.id.in_([r[1] for r in rows]))).all()} if rows else {}
            costs = dict(act.session.execute(select(RtwTraining.request_id, func.sum(RtwTraining.cost_cents))
                                             .where(RtwTraining.request_id.in_(list(requests)))
                                             .group_by(RtwTraining.request_id)).all()) if rows else {}
            people = self._people(act, {r.dossier_id for r in requests.values()})
            lines = tuple(DecisionLine(
                decision_id=d, request_id=rq, dossier_id=requests[rq].dossier_id, insured_niss=people[requests[rq].dossier_id],
                kind=requests[rq].kind, outcome=outcome, costs_requested_cents=int(costs.get(rq) or 0),
                costs_granted_cents=granted, week=week, published_at=at) for d, rq, outcome, granted, week, at, _ in rows)
            act.detail.update(list="decisions", party=party, weeks=f"{first}..{last}", returned=len(lines))
            return ListPage(lines, rows[-1][6] if more and rows else None)

        return core.ctx.runner.run(principal, "rtw.list.decisions", body, channel=channel, resource_type=RESOURCE)

    def hours(self, principal: Principal, start: date, end: date, *, page_size: int | None = None,
              cursor: str | None = None, channel: str = "internal") -> ListPage:
        """The hours performed in each training between ``start`` and ``end`` (RP-F7), for the caller's party."""
        core = self.core
        size = self._size(page_size)

        def body(act: Act) -> ListPage:
            act.require(core.policy.standing(principal), names_rule=False)
            act.require(rules.read_lists(principal))
            if end < start:
                raise InvalidInput("invalid-period", "The period ends before it starts.", rule="RP-F7", path="end")
            party = rules.party_of(principal)
            conditions = [RtwHours.performed_on >= start, RtwHours.performed_on <= end, RtwTraining.id > (cursor or "")]
            if party != rules.INAMI_PARTY:
                conditions.append(or_(RtwRequest.regional_cbe == party, RtwRequest.insurer_cbe == party,
                                      RtwRequest.filed_by_cbe == party))
            rows = act.session.execute(
                select(RtwTraining.id, RtwTraining.title, RtwTraining.hours_planned, RtwRequest.id, RtwRequest.dossier_id,
                       func.sum(RtwHours.hours))
                .join(RtwHours, RtwHours.training_id == RtwTraining.id).join(RtwRequest, RtwRequest.id == RtwTraining.request_id)
                .where(*conditions).group_by(RtwTraining.id, RtwTraining.title, RtwTraining.hours_planned, RtwRequest.id,
                                             RtwRequest.dossier_id)
                .order_by(RtwTraining.id).limit(size + 1)).all()
            more = len(rows) > size
            rows = rows[:size]
            people = self._people(act, {r[4] for r in rows})
            lines = tuple(HoursLine(request_id=rq, dossier_id=d, insured_niss=people[d], training_id=tid, title=title,
                                    hours_planned=planned, hours_performed=int(total or 0))
                          for tid, title, planned, rq, d, total in rows)
            act.detail.update(list="hours", party=party, start=start.isoformat(), end=end.isoformat(), returned=len(lines))
            return ListPage(lines, rows[-1][0] if more and rows else None)

        return core.ctx.runner.run(principal, "rtw.list.hours", body, channel=channel, resource_type=RESOURCE)

    def report_hours(self, principal: Principal, training_id: str, performed_on: date, hours: int, *,
                     channel: str = "internal") -> HoursView:
        """RP-F7: the regional service reports hours performed in a training of an approved request."""
        t, core = self.t, self.core

        def body(act: Act) -> HoursView:
            act.require(core.policy.standing(principal), names_rule=False)
            training = act.session.get(RtwTraining, training_id) if well_formed_id(training_id) else None
            if training is None:
                raise NotFound("unknown-training", "No training with this id.", path="training")
            row = t.load_request(act, training.request_id)
            t.dossier_rule(act, act.session.get(RtwDossier, row.dossier_id),
                           lambda p, seen, *_: seen if not seen.allowed else rules.report_hours(p, row.regional_cbe))
            if row.status != APPROVED:
                raise InvalidInput("not-approved", f"The request is {row.status}: hours are reported on an approved "
                                   "request's trainings.", rule="RP-F7", path="training")
            if not 0 < hours <= 24 * 7:
                raise InvalidInput("invalid-hours", "Report between 1 and 168 hours at a time.", rule="RP-F7", path="hours")
            if performed_on > act.today:
                raise InvalidInput("hours-in-future", "Hours are reported once performed.", rule="RP-F7", path="performed_on")
            entry = RtwHours(id=str(uuid.uuid4()), training_id=training.id, request_id=row.id,
                             regional_cbe=row.regional_cbe or "", performed_on=performed_on, hours=hours,
                             reported_by_pseudonym=act.actor_pseudonym, reported_at=act.now)
            act.session.add(entry)
            row.updated_at = act.now
            dossier = act.session.get(RtwDossier, row.dossier_id)
            if dossier is not None:
                dossier.updated_at = act.now
            act.session.flush()
            act.resource_id = entry.id
            act.detail.update(training=training.id, hours=hours)
            return HoursView(entry.id, training.id, row.id, performed_on, hours)

        return core.ctx.runner.run(principal, "rtw.hours.report", body, channel=channel, resource_type="rtw-hours")

    def _people(self, act: Act, dossier_ids: set[str]) -> dict[str, str]:
        if not dossier_ids:
            return {}
        rows = act.session.execute(select(RtwDossier.id, RtwDossier.insured_pseudonym)
                                   .where(RtwDossier.id.in_(list(dossier_ids)))).all()
        reveal = self.core.ctx.pseudonyms.reveal
        return {d: reveal(p) for d, p in rows}


def is_inami(principal: Principal) -> bool:
    return partner_kind(principal) is PartnerKind.INAMI
