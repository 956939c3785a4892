"""List and MeasureReport for return to work: the hours list (RP-F7) and
the anonymous statistics (RP-R3).

- ``List?code=https://care-gateway.be/fhir/CodeSystem/rtw-list|hours&date=ge2026-06-01&date=le2026-06-30``
  answers one List, the caller's party's hours: an entry per training, its
  item the request (ServiceRequest/rtw-<id>, display the training) and an
  rtw-hours extension (the training, hours planned, hours performed in the
  period). No medical information.
- ``MeasureReport?period=2026-01&period=2026-06&stratifier=region`` answers,
  to INAMI, a summary MeasureReport per month: a group per count
  (rtw-statistic: requests, decisions, trainings, hours), each stratified
  by the dimension, after the small-cell check; a suppressed count is
  absent and marked with the core data-absent-reason extension ``masked``.

The list of decisions is the search set of decision Tasks
(:mod:`gateway.fhir.resources.rtw_request`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.domain.rtw.statistics import MEASURES, Cell, Group, Release
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import instant, values_of
from gateway.fhir.resources.listing import page
from gateway.fhir.search import parse_token

BASE = "https://care-gateway.be/fhir"
LIST_SYSTEM = f"{BASE}/CodeSystem/rtw-list"
HOURS = f"{BASE}/StructureDefinition/rtw-hours"
STATISTIC = f"{BASE}/CodeSystem/rtw-statistic"
MEASURE = f"{BASE}/Measure/rtw-statistics"
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def _dates(params: list[tuple[str, str]]) -> tuple[date, date]:
    start = end = None
    for raw in values_of(params, "date"):
        prefix, value = (raw[:2], raw[2:]) if raw[:2] in ("ge", "le", "eq") else ("eq", raw)
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise FhirError.simple(400, "invalid", f"date is a day (YYYY-MM-DD) with ge or le, not {raw!r}.", expression="date",
                                   error_code="invalid-date") from None
        if prefix in ("ge", "eq"):
            start = day
        if prefix in ("le", "eq"):
            end = day
    if start is None or end is None:
        raise FhirError.simple(400, "required", "Give the period: date=ge2026-06-01&date=le2026-06-30.", expression="date",
                               error_code="period-required", rule="RP-F7")
    return start, end


class HoursListHandler(ResourceHandler):
    resource_type = "List"
    interactions = ("search-type",)
    documentation = (f"The caller's party's list of hours performed in each training in a period (RP-F7): "
                     f"code={LIST_SYSTEM}|hours&date=geYYYY-MM-DD&date=leYYYY-MM-DD; one List, an entry per training "
                     "(its request as item, the rtw-hours extension). No medical information.")
    search_params = (SearchParam("code", "token", f"{LIST_SYSTEM}|hours"),
                     SearchParam("date", "date", "The period: ge the first day, le the last"))
    paths = {"end": "date", "_count": "_count"}

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        codes = [parse_token(p) for raw in values_of(params, "code") for p in raw.split(",")]
        if [c.code for c in codes] != ["hours"]:
            raise FhirError.simple(400, "required", f"Search the hours list with code={LIST_SYSTEM}|hours.", expression="code",
                                   error_code="code-required", rule="RP-F7")
        start, end = _dates(params)
        lines, after = [], None
        lists = call.cases.return_to_work.lists
        while True:  # the whole period in one List
            found = lists.hours(call.principal, start, end, page_size=None, cursor=after, channel=CHANNEL)
            lines.extend(found.lines)
            if not found.next_cursor:
                break
            after = found.next_cursor
        resource = {
            "resourceType": "List", "id": f"rtw-hours-{start.isoformat()}-{end.isoformat()}", "status": "current",
            "mode": "snapshot", "title": f"Hours performed {start.isoformat()} to {end.isoformat()}",
            "code": {"coding": [{"system": LIST_SYSTEM, "code": "hours"}]},
            "date": instant(call.cases.clock.now()),
            "entry": [{"extension": [{"url": HOURS, "extension": [
                {"url": "training", "valueString": line.training_id}, {"url": "planned", "valuePositiveInt": line.hours_planned},
                {"url": "performed", "valueUnsignedInt": line.hours_performed}]}],
                "item": {"reference": f"ServiceRequest/rtw-{line.request_id}", "display": line.title}} for line in lines],
        }
        if not resource["entry"]:
            del resource["entry"]
            resource["emptyReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                                                   "code": "nilknown"}]}
        return page([resource], count, cursor)


def _population(count: int | None) -> dict[str, Any]:
    population: dict[str, Any] = {"code": {"coding": [{"system": POPULATION, "code": "initial-population"}]}}
    if count is None:
        population["extension"] = [{"url": ABSENT, "valueCode": "masked"}]
    else:
        population["count"] = count
    return population


def report_to_fhir(release: Release, group: Group, at: Any) -> dict[str, Any]:
    """One month of the release as a summary MeasureReport."""
    year, month = (int(x) for x in group.period.split("-"))
    last = (date(year + (month == 12), month % 12 + 1, 1).toordinal() - 1)
    groups = []
    for measure in MEASURES:
        def count(cell: Cell) -> int | None:
            return getattr(cell, measure)

        groups.append({
            "code": {"coding": [{"system": STATISTIC, "code": measure}]},
            "population": [_population(count(group.total))],
            "stratifier": [{"code": [{"text": release.dimension}], "stratum": [
                {"value": {"text": cell.value}, "population": [_population(count(cell))]} for cell in group.cells]}],
        })
    return {
        "resourceType": "MeasureReport", "id": f"rtw-statistics-{group.period}-{release.dimension}",
        "status": "complete", "type": "summary", "measure": MEASURE,
        "date": instant(at), "period": {"start": f"{group.period}-01", "end": date.fromordinal(last).isoformat()},
        "group": groups,
    }


class MeasureReportHandler(ResourceHandler):
    resource_type = "MeasureReport"
    interactions = ("search-type",)
    documentation = ("Anonymous return-to-work statistics for INAMI (RP-R3): period=YYYY-MM (twice for a range) and "
                     "stratifier=region|insurer|kind; a summary MeasureReport per month, a group per count (rtw-statistic), "
                     "stratified by the dimension, after the small-cell check (a suppressed count is absent, marked "
                     "data-absent-reason masked).")
    search_params = (SearchParam("period", "token", "The month(s), YYYY-MM: once, or twice for a range"),
                     SearchParam("stratifier", "token", "region | insurer | kind"))
    paths = {"from": "period", "to": "period", "by": "stratifier"}

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        periods = values_of(params, "period")
        if not 1 <= len(periods) <= 2:
            raise FhirError.simple(400, "required", "Give period=YYYY-MM, twice for a range.", expression="period",
                                   error_code="period-required", rule="RP-R3")
        by = (values_of(params, "stratifier") or ["region"])[0]
        release = call.cases.return_to_work.statistics.release(call.principal, min(periods), max(periods), by=by,
                                                               channel=CHANNEL)
        now = call.cases.clock.now()
        return page([report_to_fhir(release, group, now) for group in release.groups], count, cursor)


__all__ = ["HoursListHandler", "MeasureReportHandler", "report_to_fhir"]
