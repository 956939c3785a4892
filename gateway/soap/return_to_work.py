"""ReturnToWork v1, the SOAP face of the return-to-work dossier and its
registration form (``soap/return-to-work/``, return-to-work.md).

Each operation calls the use case the FHIR EpisodeOfCare (be-cg-rtw-dossier)
and QuestionnaireResponse (be-cg-rtw-form) call (``gateway.domain.rtw``,
``channel="soap"``): who may see and do what is the domain's (RP-S1,
RP-A1..RP-A7, RP-F1, RP-F2), what a caller sees of a form too (RP-M1,
RP-A6), and a refusal is its code and rule id said as a Fault. The Dossier
and Form elements are written through mappings/rtw_dossier.yaml and
mappings/rtw_form.yaml, the FillForm request read through the latter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from lxml import etree

from gateway.domain.rtw.dossiers import DossierQuery
from gateway.domain.rtw.forms import FillForm
from gateway.domain.rtw.views import DossierView, FormView
from gateway.mapping.mapping import mapping
from gateway.soap.commons import response
from gateway.soap.faults import RequestPaths
from gateway.soap.operations import CHANNEL, Operation, hosted, instant
from gateway.soap11.contract import ContractService, caller
from gateway.soap11.envelope import q
from gateway.soap11.service import Security, SoapRequest

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

NS = "urn:be:care-gateway:returntowork:v1"
ACTION = NS + ":"
PATH = "/ReturnToWork/v1"
OPERATIONS = ("OpenDossier", "GetDossier", "CloseDossier", "SearchDossiers", "FillForm", "GetForm", "GetDossierForms")
FORM_ITEMS = ("routing", "incapacity_start", "expectations", "work_problems", "coordinator_name", "advising_physician_name",
              "team_member_name", "target_group", "occupational_physician_name", "physician_expectations",
              "functional_capacities")


def rtw(name: str) -> str:
    return q(NS, name)


def _text(parent: etree._Element, name: str) -> str | None:
    value = parent.findtext(rtw(name))
    return value.strip() if value is not None else None


def dossier_element(view: DossierView, parent: etree._Element) -> etree._Element:
    """One dossier, in the order of DossierType; the partners the sources name last."""
    name = " ".join(n for n in (view.first_name, view.last_name) if n) or None
    element = mapping("rtw_dossier").xml_element({
        "id": view.id, "version": str(view.version), "insured_niss": view.insured_niss, "status": view.status,
        "opened_via": view.opened_via, "opened_by_role": view.opened_by_role, "opened_by_cbe": view.opened_by_cbe or None,
        "created_at": instant(view.created_at), "updated_at": instant(view.updated_at), "person_name": name, "trio_dossier": view.trio_dossier,
    }, parent)
    partners = ([("insurer", view.insurer.cbe, view.insurer.name, None, None)] if view.insurer else []) + [
        ("employer", e.employer_cbe, e.employer_name, e.start, e.end) for e in view.employers] + [
        ("prevention-service", s.cbe, s.name, None, None) for s in view.prevention_services] + [
        ("regional-service", r.cbe, r.name, r.registered_on, None) for r in view.registrations]
    for role, cbe, label, since, until in partners:
        partner = etree.SubElement(element, rtw("Partner"))
        for tag, value in (("Role", role), ("Cbe", cbe), ("Name", label), ("Since", since), ("Until", until)):
            if value is not None:
                etree.SubElement(partner, rtw(tag)).text = value if isinstance(value, str) else value.isoformat()
    return element


def form_element(view: FormView, parent: etree._Element) -> etree._Element:
    """One form as the caller may see it, in the order of FormType."""
    values: dict[str, object] = {name: getattr(view, name) for name in FORM_ITEMS}
    values.update(id=view.id, version=str(view.version), dossier=view.dossier_id, status=view.status,
                  incapacity_one_year=view.incapacity_one_year, created_by_cbe=view.created_by_cbe or None,
                  created_by_role=view.created_by_role, created_at=instant(view.created_at))
    return mapping("rtw_form").xml_element(values, parent)


class ReturnToWorkService:
    """The seven operations; each takes a verified, XSD-valid request."""

    def __init__(self, cases: "UseCases") -> None:
        self.cases = cases

    @property
    def rtw(self):  # type: ignore[no-untyped-def]
        return self.cases.return_to_work

    def _dossiers(self, name: str, views: list[DossierView], *, created: bool | None = None,
                  cursor: str | None = None) -> etree._Element:
        answer = response(NS, name, self.cases.clock, prefix="rtw")
        if created is not None:
            etree.SubElement(answer, rtw("Created")).text = "true" if created else "false"
        for view in views:
            dossier_element(view, answer)
        if cursor:
            etree.SubElement(answer, rtw("NextCursor")).text = cursor
        return answer

    def _forms(self, name: str, views: list[FormView]) -> etree._Element:
        answer = response(NS, name, self.cases.clock, prefix="rtw")
        for view in views:
            form_element(view, answer)
        return answer

    def open(self, request: SoapRequest) -> etree._Element:
        view, created = self.rtw.dossiers.open(caller(request), _text(request.payload, "InsuredSsin") or "", channel=CHANNEL)
        return self._dossiers("OpenDossierResponse", [view], created=created)

    def get(self, request: SoapRequest) -> etree._Element:
        view = self.rtw.dossiers.read(caller(request), _text(request.payload, "DossierId") or "", channel=CHANNEL)
        return self._dossiers("GetDossierResponse", [view])

    def close(self, request: SoapRequest) -> etree._Element:
        view = self.rtw.dossiers.close(caller(request), _text(request.payload, "DossierId") or "", channel=CHANNEL)
        return self._dossiers("CloseDossierResponse", [view])

    def search(self, request: SoapRequest) -> etree._Element:
        payload = request.payload
        size = _text(payload, "PageSize")
        page = self.rtw.dossiers.search(caller(request), DossierQuery(
            insured_niss=_text(payload, "InsuredSsin"), partner_cbe=_text(payload, "PartnerCbe"), status=_text(payload, "Status"),
            page_size=int(size) if size else None, cursor=_text(payload, "Cursor")), channel=CHANNEL)
        return self._dossiers("SearchDossiersResponse", list(page.items), cursor=page.next_cursor)

    def fill(self, request: SoapRequest) -> etree._Element:
        values = mapping("rtw_form").from_xml(request.payload, only=set(FORM_ITEMS) | {"dossier"})
        view = self.rtw.forms.fill(caller(request), FillForm(dossier_id=values.pop("dossier"), **values), channel=CHANNEL)
        return self._forms("FillFormResponse", [view])

    def form(self, request: SoapRequest) -> etree._Element:
        view = self.rtw.forms.read(caller(request), _text(request.payload, "FormId") or "", channel=CHANNEL)
        return self._forms("GetFormResponse", [view])

    def forms(self, request: SoapRequest) -> etree._Element:
        views = self.rtw.forms.of_dossier(caller(request), _text(request.payload, "DossierId") or "", channel=CHANNEL)
        return self._forms("GetDossierFormsResponse", views)


# the domain's paths -> the request's elements
ALIASES = {"insured.niss": "InsuredSsin", "id": "DossierId", "dossier": "DossierId", "routing": "Routing",
           "incapacity_start": "IncapacityStart", "expectations": "Expectations", "target_group": "TargetGroup",
           "coordinator_name": "CoordinatorName", "occupational_physician_name": "OccupationalPhysicianName",
           "functional_capacities": "FunctionalCapacities", "status": "Status", "_count": "PageSize"}


def operations(service: ReturnToWorkService) -> dict[str, Operation]:
    from gateway.soap.return_to_work_trajectory import ALIASES as TRAJECTORY, TrajectoryOperations

    handlers = (service.open, service.get, service.close, service.search, service.fill, service.form, service.forms)
    found: dict[str, Operation] = {name: (handler, RequestPaths(f"{name}Request", None, ALIASES))
                                   for name, handler in zip(OPERATIONS, handlers)}
    # the trajectory (RP-F3..RP-F9, RP-R3, RF-2)
    found.update({name: (handler, RequestPaths(f"{name}Request", None, {**ALIASES, **TRAJECTORY}))
                  for name, handler in TrajectoryOperations(service.cases).handlers().items()})
    return found


def soap_service(cases: "UseCases", security: Security) -> ContractService:
    return hosted(security, "ReturnToWork", "return-to-work", NS, operations(ReturnToWorkService(cases)))


def router(cases: "UseCases", security: Security) -> APIRouter:
    return soap_service(cases, security).router()


__all__ = ["ACTION", "NS", "OPERATIONS", "PATH", "ReturnToWorkService", "router", "soap_service"]
