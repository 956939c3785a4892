"""List and MeasureReport for return to work: the hours list (RP-F7) and
the anonymous statistics (RP-R3).

- ``List?code=https://care-gateway.be/fhir/CodeSystem/rtw-list|hours&date=ge2026-06-01&date=le2026-06-30``
  answers one List, the caller's party's hours: an entry per training, its
  item the request (ServiceRequest/rtw-<id>, display the training) and an
  rtw-hours extension (the training, hours planned, hours performed in the
  period). No medical information.
- ``POST Observation`` (code rtw-statistic#hours, basedOn the request, focus
  the training): the regional service reports hours performed (RP-F7).
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
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
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




TRAINING_SYSTEM = f"{BASE}/NamingSystem/rtw-training"
UCUM = "http://unitsofmeasure.org"


def hours_to_fhir(view: Any) -> dict[str, Any]:
    """Hours reported in a training, as the Observation the regional service posted."""
    return {"resourceType": "Observation", "id": f"rtw-hours-{view.id}", "status": "final",
            "code": {"coding": [{"system": STATISTIC, "code": "hours"}]},
            "basedOn": [{"reference": f"ServiceRequest/rtw-{view.request_id}"}],
            "focus": [{"identifier": {"system": TRAINING_SYSTEM, "value": view.training_id}}],
            "effectiveDateTime": view.performed_on.isoformat(),
            "valueQuantity": {"value": view.hours, "unit": "h", "system": UCUM, "code": "h"}}


class HoursReportHandler(ResourceHandler):
    """The regional service reports hours performed in a training (RP-F7): an Observation of code
    rtw-statistic#hours, based on the request, its focus the training, effective the day, value in hours."""

    resource_type = "Observation"
    interactions = ("create",)
    documentation = ("Hours performed in a return-to-work training, reported by the regional service the request is "
                     f"referred to (RP-F7): code {STATISTIC}#hours, basedOn ServiceRequest/rtw-<id>, focus the training "
                     f"({TRAINING_SYSTEM}|<training id>), effectiveDateTime the day, valueQuantity in h (UCUM).")
    paths = {"training": "Observation.focus", "hours": "Observation.valueQuantity", "performed_on": "Observation.effectiveDateTime"}

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        codes = [c for c in (resource.get("code") or {}).get("coding", []) if c.get("system") == STATISTIC]
        if [c.get("code") for c in codes] != ["hours"]:
            raise FhirError.simple(422, "invalid", f"Observation.code is {STATISTIC}#hours: the hours performed in a training.",
                                   expression="Observation.code", error_code="unsupported-observation", rule="RP-F7")
        training = next((f.get("identifier", {}).get("value") for f in resource.get("focus", [])
                         if (f.get("identifier") or {}).get("system") == TRAINING_SYSTEM), None)
        quantity = resource.get("valueQuantity") or {}
        if not training or quantity.get("code", "h") != "h" or not isinstance(quantity.get("value"), int):
            raise FhirError.simple(422, "required", f"Name the training in focus ({TRAINING_SYSTEM}|<id>) and the whole hours "
                                   "in valueQuantity (UCUM h).", expression="Observation", error_code="invalid-hours-report",
                                   rule="RP-F7")
        try:
            day = date.fromisoformat(str(resource.get("effectiveDateTime") or "")[:10])
        except ValueError:
            raise FhirError.simple(422, "required", "effectiveDateTime is the day the hours were performed.",
                                   expression="Observation.effectiveDateTime", error_code="invalid-date", rule="RP-F7") from None
        view = call.cases.return_to_work.lists.report_hours(call.principal, training, day, quantity["value"], channel=CHANNEL)
        return Written(hours_to_fhir(view), True)


__all__ = ["HoursListHandler", "HoursReportHandler", "MeasureReportHandler", "report_to_fhir"]
