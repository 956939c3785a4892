"""Anonymous statistics for INAMI (RP-R3), with a small-cell check before release.

Counts of requests, decisions, trainings and hours performed, by month of
filing and by one dimension (region, insurer or kind of request). Each
month is a group of cells and its total. A cell counts requests, so people:

- a cell with fewer than ``threshold`` requests (but not none) is
  suppressed (*primary*), all its measures with it;
- if a month has suppressed cells, more are suppressed, smallest first,
  until the suppressed cells together count at least ``threshold``
  requests and number at least two: otherwise one of them could be
  recomputed from the total and the released cells (*complementary*);
  when no other cell is left to hide, the total is suppressed too;
- a month whose total is below the threshold is released as suppressed.

Nothing released names a person, a dossier or an organisation smaller
than an insurer or a region.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timezone

from sqlalchemy import func, select

from gateway.domain.acts import Act
from gateway.domain.clock import BRUSSELS
from gateway.domain.errors import InvalidInput
from gateway.domain.principal import Principal
from gateway.domain.rtw import trajectory_policy as rules
from gateway.domain.rtw.dossiers import RtwCore
from gateway.domain.rtw.trajectory_model import RtwDecision, RtwHours, RtwRequest, RtwTraining

DIMENSIONS = ("region", "insurer", "kind")
MEASURES = ("requests", "decisions", "trainings", "hours")
DEFAULT_THRESHOLD = 5
PRIMARY, COMPLEMENTARY = "primary", "complementary"


@dataclass(frozen=True)
class Cell:
    value: str  # the dimension's value, or "total"
    requests: int | None
    decisions: int | None
    trainings: int | None
    hours: int | None
    suppressed: str | None = None  # primary | complementary


@dataclass(frozen=True)
class Group:
    period: str  # YYYY-MM
    cells: tuple[Cell, ...]
    total: Cell


@dataclass(frozen=True)
class Release:
    period_from: str
    period_to: str
    dimension: str
    threshold: int
    groups: tuple[Group, ...] = field(default_factory=tuple)


def _hidden(cell: Cell, why: str) -> Cell:
    return replace(cell, requests=None, decisions=None, trainings=None, hours=None, suppressed=why)


def suppress(cells: list[Cell], total: Cell, threshold: int) -> tuple[list[Cell], Cell]:
    """The small-cell check of one group (RP-R3): primary, then complementary suppression."""
    assert total.requests is not None
    if 0 < total.requests < threshold:
        return [_hidden(c, PRIMARY) if c.requests else c for c in cells], _hidden(total, PRIMARY)
    kept = {c.value: c for c in cells}
    hidden: dict[str, str] = {c.value: PRIMARY for c in cells if c.requests and c.requests < threshold}
    if hidden:
        while True:
            amount = sum(kept[v].requests or 0 for v in hidden)
            if len(hidden) >= 2 and amount >= threshold:
                break
            candidates = sorted((c for c in cells if c.value not in hidden and c.requests), key=lambda c: (c.requests, c.value))
            if not candidates:
                total = _hidden(total, COMPLEMENTARY)
                break
            hidden[candidates[0].value] = COMPLEMENTARY
    return [_hidden(c, hidden[c.value]) if c.value in hidden else c for c in cells], total


def _month(value: str, path: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except (ValueError, AttributeError):
        raise InvalidInput("invalid-period", f"A period is a month, YYYY-MM, not {value!r}.", rule="RP-R3", path=path) from None


def _next(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BRUSSELS).astimezone(timezone.utc)


class StatisticsService:
    def __init__(self, core: RtwCore, threshold: int = DEFAULT_THRESHOLD) -> None:
        self.core = core
        self.threshold = threshold

    def release(self, principal: Principal, period_from: str, period_to: str | None = None, *, by: str = "region",
                channel: str = "internal") -> Release:
        core = self.core

        def body(act: Act) -> Release:
            act.require(core.policy.standing(principal), names_rule=False)
            act.require(rules.statistics(principal))
            act.detail.update(by=by, period_from=period_from, period_to=period_to or period_from)
            return self.compute(act.session, period_from, period_to, by=by)

        return core.ctx.runner.run(principal, "rtw.statistics.release", body, channel=channel, resource_type="rtw-statistics")

    def export(self, period_from: str, period_to: str | None = None, *, by: str = "region") -> Release:
        """The same release for INAMI's export (``care-gateway rtw statistics``): an act of the system, audited,
        after the same small-cell check."""
        from gateway.domain.principal import system_principal

        def body(act: Act) -> Release:
            act.rule = "RP-R3"
            act.detail.update(by=by, period_from=period_from, period_to=period_to or period_from, export=True)
            return self.compute(act.session, period_from, period_to, by=by)

        return self.core.ctx.runner.run(system_principal("statistics-export"), "rtw.statistics.export", body,
                                        channel="maintenance", resource_type="rtw-statistics")

    def compute(self, session, period_from: str, period_to: str | None = None, *, by: str = "region") -> Release:  # type: ignore[no-untyped-def]
        """The release itself, for the use case and the CLI export (both after the same check)."""
        if by not in DIMENSIONS:
            raise InvalidInput("invalid-dimension", f"Statistics are broken down by {', '.join(DIMENSIONS)}, not {by!r}.",
                               rule="RP-R3", path="by")
        first, last = _month(period_from, "from"), _month(period_to or period_from, "to")
        if last < first or (last.year - first.year) * 12 + last.month - first.month > 120:
            raise InvalidInput("invalid-period", "The period runs from one month to a later one, ten years at most.",
                               rule="RP-R3", path="to")
        start, end = _instant(first), _instant(_next(last))
        column = {"region": RtwRequest.region, "insurer": RtwRequest.insurer_code, "kind": RtwRequest.kind}[by]
        window = (RtwRequest.created_at >= start, RtwRequest.created_at < end)
        requests = session.execute(select(RtwRequest.id, RtwRequest.created_at, column).where(*window)).all()
        decided = set(session.execute(select(RtwDecision.request_id).join(RtwRequest, RtwRequest.id == RtwDecision.request_id)
                                      .where(*window, RtwDecision.published_at.is_not(None))).scalars())
        trainings = dict(session.execute(select(RtwTraining.request_id, func.count(RtwTraining.id))
                                         .join(RtwRequest, RtwRequest.id == RtwTraining.request_id).where(*window)
                                         .group_by(RtwTraining.request_id)).all())
        hours = dict(session.execute(select(RtwHours.request_id, func.sum(RtwHours.hours))
                                     .join(RtwRequest, RtwRequest.id == RtwHours.request_id).where(*window)
                                     .group_by(RtwHours.request_id)).all())
        counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
        for rid, created, value in requests:
            created = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
            local = created.astimezone(BRUSSELS)
            cell = counts[f"{local.year}-{local.month:02d}"][value or "unknown"]
            cell[0] += 1
            cell[1] += rid in decided
            cell[2] += int(trainings.get(rid) or 0)
            cell[3] += int(hours.get(rid) or 0)
        groups = []
        month = first
        while month <= last:
            period = f"{month.year}-{month.month:02d}"
            found = counts.get(period, {})
            cells = [Cell(v, *found[v]) for v in sorted(found)]
            total = Cell("total", *(sum(c[i] for c in found.values()) for i in range(4)))
            cells, total = suppress(cells, total, self.threshold)
            groups.append(Group(period, tuple(cells), total))
            month = _next(month)
        return Release(f"{first.year}-{first.month:02d}", f"{last.year}-{last.month:02d}", by, self.threshold, tuple(groups))


__all__ = ["COMPLEMENTARY", "Cell", "DIMENSIONS", "Group", "PRIMARY", "Release", "StatisticsService", "suppress"]
