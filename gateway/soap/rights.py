"""Rights v1, the SOAP face of the people's rights requests (``soap/rights/``):
correction (DS-2), restriction (DS-3), objection (DS-4).

The person files, reads and withdraws their requests; the provider who
declared the data, the staff of its project and the data protection
officer list and answer them. Each operation calls the use case the FHIR
Task calls (``gateway.domain.rights``, ``channel="soap"``): who may see and
answer what is the domain's, and a refusal is its code and rule id said as
a Fault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from lxml import etree

from gateway.domain.rights import RightsRequestView
from gateway.soap.commons import response
from gateway.soap.faults import RequestPaths
from gateway.soap.operations import CHANNEL, Operation, hosted, instant
from gateway.soap11.contract import ContractService, caller
from gateway.soap11.envelope import q
from gateway.soap11.service import Security, SoapRequest

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

NS = "urn:be:care-gateway:rights:v1"
ACTION = NS + ":"
PATH = "/Rights/v1"
OPERATIONS = ("FileRightsRequest", "GetMyRightsRequests", "WithdrawRightsRequest", "ListRightsRequests", "AnswerRightsRequest")


def rt(name: str) -> str:
    return q(NS, name)


def _text(parent: etree._Element, name: str) -> str | None:
    value = parent.findtext(rt(name))
    return value.strip() if value is not None else None


def _int(parent: etree._Element, name: str) -> int | None:
    value = _text(parent, name)
    return int(value) if value else None


def request_element(view: RightsRequestView, parent: etree._Element) -> etree._Element:
    """One request, in the order of RightsRequestType."""
    element = etree.SubElement(parent, rt("RightsRequest"))

    def add(to: etree._Element, name: str, value: object) -> None:
        if value is not None:
            etree.SubElement(to, rt(name)).text = value if isinstance(value, str) else (
                instant(value).isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else str(value))

    add(element, "RequestId", view.id)
    add(element, "Kind", view.kind)
    add(element, "Rule", view.rule)
    add(element, "Status", view.status)
    if view.kind != "correction":
        add(element, "InForce", "true" if view.in_force else "false")
    add(element, "PatientSsin", view.patient_niss)
    if view.target_type:
        target = etree.SubElement(element, rt("Target"))
        add(target, "Kind", view.target_type)
        add(target, "Id", view.target_id)
    add(element, "Processing", view.processing)
    add(element, "Text", view.text)
    add(element, "CreatedAt", view.created_at)
    if view.answered_at is not None:
        answer = etree.SubElement(element, rt("Answer"))
        add(answer, "Text", view.answer)
        add(answer, "At", view.answered_at)
        add(answer, "ByRole", view.answered_by_role)
        add(answer, "ByOrganisation", view.answered_by_organisation)
    add(element, "ClosedAt", view.closed_at)
    add(element, "Version", str(view.version))
    return element


class RightsRequests:
    """The five operations; each takes a verified, XSD-valid request."""

    def __init__(self, cases: "UseCases") -> None:
        self.cases = cases

    def _answer(self, name: str, *views: RightsRequestView) -> etree._Element:
        answer = response(NS, name, self.cases.clock, prefix="rt")
        for view in views:
            request_element(view, answer)
        return answer

    def file(self, request: SoapRequest) -> etree._Element:
        """DS-2..DS-4: the caller files a request about their own data."""
        payload = request.payload
        target = payload.find(rt("Target"))
        view = self.cases.rights.file(
            caller(request), _text(payload, "Kind") or "", _text(payload, "Text"),
            target_type=_text(target, "Kind") if target is not None else None,
            target_id=_text(target, "Id") if target is not None else None,
            processing=_text(payload, "Processing"), channel=CHANNEL,
        )
        return self._answer("FileRightsRequestResponse", view)

    def mine(self, request: SoapRequest) -> etree._Element:
        return self._answer("GetMyRightsRequestsResponse", *self.cases.rights.mine(caller(request), channel=CHANNEL))

    def withdraw(self, request: SoapRequest) -> etree._Element:
        payload = request.payload
        view = self.cases.rights.lift(caller(request), _text(payload, "RequestId") or "", expected_version=_int(payload, "Version"),
                                      channel=CHANNEL)
        return self._answer("WithdrawRightsRequestResponse", view)

    def concerning(self, request: SoapRequest) -> etree._Element:
        payload = request.payload
        views = self.cases.rights.concerning(caller(request), status=_text(payload, "Status"), kind=_text(payload, "Kind"),
                                             patient_niss=_text(payload, "PatientSsin"), channel=CHANNEL)
        return self._answer("ListRightsRequestsResponse", *views)

    def answer(self, request: SoapRequest) -> etree._Element:
        payload = request.payload
        view = self.cases.rights.answer(caller(request), _text(payload, "RequestId") or "", _text(payload, "Outcome") or "",
                                        _text(payload, "Reason"), expected_version=_int(payload, "Version"), channel=CHANNEL)
        return self._answer("AnswerRightsRequestResponse", view)


# the domain's paths -> the request's elements
ALIASES = {"kind": "Kind", "text": "Text", "target": "Target", "processing": "Processing", "id": "RequestId",
           "status": "Outcome", "reason": "Reason", "version": "Version", "patient": "PatientSsin"}


def operations(service: RightsRequests) -> dict[str, Operation]:
    handlers = (service.file, service.mine, service.withdraw, service.concerning, service.answer)
    return {name: (handler, RequestPaths(f"{name}Request", None, ALIASES)) for name, handler in zip(OPERATIONS, handlers)}


def soap_service(cases: "UseCases", security: Security) -> ContractService:
    return hosted(security, "Rights", "rights", NS, operations(RightsRequests(cases)))


def router(cases: "UseCases", security: Security) -> APIRouter:
    return soap_service(cases, security).router()


__all__ = ["ACTION", "NS", "OPERATIONS", "PATH", "RightsRequests", "router", "soap_service"]
