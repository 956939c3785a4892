"""ReturnToWork v1, the trajectory's operations (RP-F3..RP-F9, RP-R3, RF-2):
the same use cases as the FHIR ServiceRequest, Task, Communication, List
and MeasureReport of return to work (``gateway.domain.rtw``, channel soap).

The Request and Training elements are written and read through
mappings/rtw_request.yaml and mappings/rtw_training.yaml; amounts are euro
on the wire and cents in the domain. A regional service calls with a
token of the crossroads bank's STS (RP-S1).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Callable

from lxml import etree

from gateway.domain.errors import InvalidInput
from gateway.domain.rtw.decisions import RecordDecision
from gateway.domain.rtw.requests import FileRequest, TrainingItem
from gateway.domain.rtw.statistics import Cell
from gateway.domain.rtw.trajectory_views import DecisionView, MessageView, RequestView
from gateway.mapping.mapping import mapping
from gateway.soap.commons import response
from gateway.soap.operations import CHANNEL, instant
from gateway.soap11.contract import caller
from gateway.soap11.envelope import q
from gateway.soap11.service import SoapRequest

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

NS = "urn:be:care-gateway:returntowork:v1"
REQUEST_FIELDS = ("dossier", "form", "kind", "project", "counsellor_name", "regional_cbe")


def rtw(name: str) -> str:
    return q(NS, name)


def euro(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def cents(text: str | None, path: str) -> int:
    try:
        return int((Decimal((text or "").strip()) * 100).to_integral_value())
    except InvalidOperation:
        raise InvalidInput("invalid-amount", "An amount is in euro, e.g. 1250.00.", path=path) from None


def _text(parent: etree._Element, name: str) -> str | None:
    value = parent.findtext(rtw(name))
    return value.strip() if value is not None else None


def _add(parent: etree._Element, name: str, value: object) -> None:
    if value is None:
        return
    if hasattr(value, "isoformat"):
        value = instant(value).isoformat() if hasattr(value, "hour") else value.isoformat()  # type: ignore[union-attr]
    elif isinstance(value, bool):
        value = "true" if value else "false"
    etree.SubElement(parent, rtw(name)).text = str(value)


def decision_element(view: DecisionView, parent: etree._Element) -> None:
    element = etree.SubElement(parent, rtw("Decision"))
    for name, value in (("DecisionId", view.id), ("Outcome", view.outcome), ("CostsGranted", euro(view.costs_granted_cents)),
                        ("Reason", view.reason), ("DecidedByRole", view.decided_by_role), ("DecidedAt", view.decided_at),
                        ("Week", view.week), ("PublishedAt", view.published_at)):
        _add(element, name, value)


def request_element(view: RequestView, parent: etree._Element) -> etree._Element:
    """One request in the order of RequestType: its fields (mapping), trainings, history, decision."""
    element = mapping("rtw_request").xml_element({
        "id": view.id, "version": str(view.version), "dossier": view.dossier_id, "insured_niss": view.insured_niss,
        "form": view.form_id, "kind": view.kind, "project": view.project, "counsellor_name": view.counsellor_name,
        "status": view.status, "filed_by_party": view.filed_by_party, "filed_by_cbe": view.filed_by_cbe or None,
        "filed_by_role": view.filed_by_role, "insurer_cbe": view.insurer_cbe, "regional_cbe": view.regional_cbe,
        "received_at": instant(view.received_at) if view.received_at else None, "created_at": instant(view.created_at),
        "updated_at": instant(view.updated_at)}, parent)
    for t in view.trainings:
        training = mapping("rtw_training").xml_element({"id": t.id, "title": t.title, "provider": t.provider,
                                                        "hours_planned": t.hours_planned, "hours_performed": t.hours_performed},
                                                       element)
        _add(training, "Cost", euro(t.cost_cents))
    for s in view.steps:
        step = etree.SubElement(element, rtw("Step"))
        for name, value in (("Seq", s.seq), ("Step", s.step), ("Status", s.status), ("ActorRole", s.actor_role),
                            ("ActorCbe", s.actor_cbe), ("Rule", s.rule), ("Note", s.note), ("At", s.at)):
            _add(step, name, value)
    if view.decision is not None:
        decision_element(view.decision, element)
    return element


def message_element(view: MessageView, parent: etree._Element) -> None:
    element = etree.SubElement(parent, rtw("Message"))
    for name, value in (("MessageId", view.id), ("DossierId", view.dossier_id), ("Kind", view.kind), ("Sender", view.sender),
                        ("Recipient", view.recipient), ("SenderRole", view.sender_role), ("Subject", view.subject),
                        ("Body", view.body), ("SentAt", view.sent_at)):
        _add(element, name, value)


def cell_element(cell: Cell, parent: etree._Element, tag: str) -> None:
    element = etree.SubElement(parent, rtw(tag))
    for name, value in (("Value", cell.value), ("Requests", cell.requests), ("Decisions", cell.decisions),
                        ("Trainings", cell.trainings), ("Hours", cell.hours), ("Suppressed", cell.suppressed)):
        _add(element, name, value)


class TrajectoryOperations:
    """The trajectory's operations; each takes a verified, XSD-valid request."""

    def __init__(self, cases: "UseCases") -> None:
        self.cases = cases

    @property
    def rtw(self):  # type: ignore[no-untyped-def]
        return self.cases.return_to_work

    def _requests(self, name: str, views: list[RequestView]) -> etree._Element:
        answer = response(NS, name, self.cases.clock, prefix="rtw")
        for view in views:
            request_element(view, answer)
        return answer

    def _messages(self, name: str, views: list[MessageView]) -> etree._Element:
        answer = response(NS, name, self.cases.clock, prefix="rtw")
        for view in views:
            message_element(view, answer)
        return answer

    def file(self, request: SoapRequest) -> etree._Element:
        payload = request.payload
        values = mapping("rtw_request").from_xml(payload, only=set(REQUEST_FIELDS))
        trainings = []
        for i, element in enumerate(payload.findall(rtw("Training"))):
            t = mapping("rtw_training").from_xml(element, only={"title", "provider", "hours_planned"},
                                                 at=f"rtw:Training[{i + 1}]")
            trainings.append(TrainingItem(t["title"], t["hours_planned"], cents(_text(element, "Cost"), "Cost"), t["provider"]))
        cmd = FileRequest(dossier_id=values["dossier"], kind=values["kind"], project=values["project"],
                          trainings=tuple(trainings), counsellor_name=values["counsellor_name"], form_id=values["form"],
                          regional_cbe=values["regional_cbe"])
        return self._requests("FileRequestResponse", [self.rtw.requests.file(caller(request), cmd, channel=CHANNEL)])

    def validate(self, request: SoapRequest) -> etree._Element:
        payload = request.payload
        version = _text(payload, "Version")
        view = self.rtw.requests.validate(caller(request), _text(payload, "RequestId") or "",
                                          accept=_text(payload, "Accept") in ("true", "1"), note=_text(payload, "Note"),
                                          version=int(version) if version else None, channel=CHANNEL)
        return self._requests("ValidateRequestResponse", [view])

    def get(self, request: SoapRequest) -> etree._Element:
        view = self.rtw.requests.read(caller(request), _text(request.payload, "RequestId") or "", channel=CHANNEL)
        return self._requests("GetRequestResponse", [view])

    def of_dossier(self, request: SoapRequest) -> etree._Element:
        views = self.rtw.requests.of_dossier(caller(request), _text(request.payload, "DossierId") or "", channel=CHANNEL)
        return self._requests("GetDossierRequestsResponse", views)

    def decide(self, request: SoapRequest) -> etree._Element:
        payload = request.payload
        granted = _text(payload, "CostsGranted")
        cmd = RecordDecision(_text(payload, "RequestId") or "", _text(payload, "Outcome") or "",
                             cents(granted, "CostsGranted") if granted else 0, _text(payload, "Reason"))
        return self._requests("RecordDecisionResponse", [self.rtw.decisions.record(caller(request), cmd, channel=CHANNEL)])

    def decision_list(self, request: SoapRequest) -> etree._Element:
        payload = request.payload
        size = _text(payload, "PageSize")
        page = self.rtw.lists.decisions(caller(request), _text(payload, "WeekFrom") or "", _text(payload, "WeekTo"),
                                        page_size=int(size) if size else None, cursor=_text(payload, "Cursor"), channel=CHANNEL)
        answer = response(NS, "GetDecisionListResponse", self.cases.clock, prefix="rtw")
        for line in page.lines:
            element = etree.SubElement(answer, rtw("Line"))
            for name, value in (("DecisionId", line.decision_id), ("RequestId", line.request_id), ("DossierId", line.dossier_id),
                                ("InsuredSsin", line.insured_niss), ("Kind", line.kind), ("Outcome", line.outcome),
                                ("CostsRequested", euro(line.costs_requested_cents)),
                                ("CostsGranted", euro(line.costs_granted_cents)), ("Week", line.week),
                                ("PublishedAt", line.published_at)):
                _add(element, name, value)
        _add(answer, "NextCursor", page.next_cursor)
        return answer

    def hours_list(self, request: SoapRequest) -> etree._Element:
        payload = request.payload
        size = _text(payload, "PageSize")
        page = self.rtw.lists.hours(caller(request), date.fromisoformat(_text(payload, "From") or ""),
                                    date.fromisoformat(_text(payload, "To") or ""), page_size=int(size) if size else None,
                                    cursor=_text(payload, "Cursor"), channel=CHANNEL)
        answer = response(NS, "GetHoursListResponse", self.cases.clock, prefix="rtw")
        for line in page.lines:
            element = etree.SubElement(answer, rtw("Line"))
            for name, value in (("RequestId", line.request_id), ("DossierId", line.dossier_id),
                                ("InsuredSsin", line.insured_niss), ("TrainingId", line.training_id), ("Title", line.title),
                                ("HoursPlanned", line.hours_planned), ("HoursPerformed", line.hours_performed)):
                _add(element, name, value)
        _add(answer, "NextCursor", page.next_cursor)
        return answer

    def report_hours(self, request: SoapRequest) -> etree._Element:
        p = request.payload
        view = self.rtw.lists.report_hours(caller(request), _text(p, "TrainingId") or "",
                                           date.fromisoformat(_text(p, "PerformedOn") or ""), int(_text(p, "Hours") or 0),
                                           channel=CHANNEL)
        answer = response(NS, "ReportHoursResponse", self.cases.clock, prefix="rtw")
        for name, value in (("HoursId", view.id), ("TrainingId", view.training_id), ("RequestId", view.request_id),
                            ("PerformedOn", view.performed_on), ("Hours", view.hours)):
            _add(answer, name, value)
        return answer

    def send(self, request: SoapRequest) -> etree._Element:
        p = request.payload
        view = self.rtw.messages.send(caller(request), _text(p, "DossierId") or "", _text(p, "Recipient") or "",
                                      p.findtext(rtw("Body")) or "", subject=_text(p, "Subject"), channel=CHANNEL)
        return self._messages("SendMessageResponse", [view])

    def send_medical(self, request: SoapRequest) -> etree._Element:
        p = request.payload
        view = self.rtw.messages.send_medical(caller(request), _text(p, "DossierId") or "", p.findtext(rtw("Body")) or "",
                                              subject=_text(p, "Subject"), channel=CHANNEL)
        return self._messages("SendMedicalDataResponse", [view])

    def message(self, request: SoapRequest) -> etree._Element:
        view = self.rtw.messages.read(caller(request), _text(request.payload, "MessageId") or "", channel=CHANNEL)
        return self._messages("GetMessageResponse", [view])

    def messages(self, request: SoapRequest) -> etree._Element:
        p = request.payload
        views = self.rtw.messages.of_dossier(caller(request), _text(p, "DossierId") or "", with_party=_text(p, "WithParty"),
                                             channel=CHANNEL)
        return self._messages("GetDossierMessagesResponse", views)

    def trio(self, request: SoapRequest) -> etree._Element:
        dossier = _text(request.payload, "DossierId") or ""
        found = self.rtw.trio_link.exists(caller(request), dossier, channel=CHANNEL)
        answer = response(NS, "GetTrioLinkResponse", self.cases.clock, prefix="rtw")
        _add(answer, "DossierId", dossier)
        _add(answer, "TrioDossier", found)
        return answer

    def statistics(self, request: SoapRequest) -> etree._Element:
        p = request.payload
        release = self.rtw.statistics.release(caller(request), _text(p, "From") or "", _text(p, "To"),
                                              by=_text(p, "By") or "region", channel=CHANNEL)
        answer = response(NS, "GetStatisticsResponse", self.cases.clock, prefix="rtw")
        _add(answer, "Threshold", release.threshold)
        for group in release.groups:
            element = etree.SubElement(answer, rtw("Group"))
            _add(element, "Period", group.period)
            for cell in group.cells:
                cell_element(cell, element, "Cell")
            cell_element(group.total, element, "Total")
        return answer

    def handlers(self) -> dict[str, Callable[[SoapRequest], etree._Element]]:
        return {
            "FileRequest": self.file, "ValidateRequest": self.validate, "GetRequest": self.get,
            "GetDossierRequests": self.of_dossier, "RecordDecision": self.decide, "GetDecisionList": self.decision_list,
            "GetHoursList": self.hours_list, "ReportHours": self.report_hours, "SendMessage": self.send, "SendMedicalData": self.send_medical,
            "GetMessage": self.message, "GetDossierMessages": self.messages, "GetTrioLink": self.trio,
            "GetStatistics": self.statistics,
        }


# the domain's paths -> the request's elements
ALIASES = {"id": "RequestId", "dossier": "DossierId", "form": "FormId", "kind": "Kind", "project": "Project",
           "trainings": "Training", "regional_cbe": "RegionalCbe", "note": "Note",
           "outcome": "Outcome", "costs_granted": "CostsGranted", "week": "WeekFrom", "end": "To", "body": "Body",
           "training": "TrainingId", "by": "By", "hours": "Hours", "performed_on": "PerformedOn", "from": "From", "to": "To", "_count": "PageSize", "version": "Version"}
