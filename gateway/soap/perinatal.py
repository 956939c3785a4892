"""Perinatal v1, the SOAP face of the perinatal programme
(``soap/perinatal/``, PN-1, PN-2, RF-3).

Each operation calls the use case the FHIR face calls
(``gateway.domain.perinatal``, ``channel="soap"``): who may do what is the
domain's (the woman's care team, her consent and its withdrawal), and a
refusal is its code and rule id said as a Fault. The Episode, Consent and
Screening elements are written through mappings/perinatal_episode.yaml,
perinatal_consent.yaml and perinatal_screening.yaml, the requests read
through them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from lxml import etree

from gateway.domain.perinatal import privacy
from gateway.domain.perinatal import screening as bib
from gateway.domain.perinatal.service import OpenEpisode, ReferToSupport
from gateway.domain.perinatal.views import EpisodeView, ScreeningView
from gateway.domain.referrals import PerformerSpec
from gateway.mapping.mapping import mapping
from gateway.soap.commons import response
from gateway.soap.faults import RequestPaths
from gateway.soap.operations import CHANNEL, Operation, hosted, instant
from gateway.soap11.contract import ContractService, caller
from gateway.soap11.envelope import q
from gateway.soap11.service import Security, SoapRequest

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

NS = "urn:be:care-gateway:perinatal:v1"
PATH = "/Perinatal/v1"
OPERATIONS = ("OpenEpisode", "GetEpisode", "GetWomanEpisodes", "LinkChild", "WithdrawConsent", "SubmitScreening",
              "GetScreening", "GetEpisodeScreenings", "ReferToSupport", "GetDocument")
OPEN_ITEMS = {"woman_niss", "care_team", "pregnancy_declared_on", "expected_delivery", "consent_given_on"}


def pn(name: str) -> str:
    return q(NS, name)


def _text(parent: etree._Element, name: str) -> str:
    value = parent.findtext(pn(name))
    return value.strip() if value is not None else ""


def _snake(domain: str) -> str:
    return domain.replace("-", "_")


def episode_element(view: EpisodeView, parent: etree._Element) -> etree._Element:
    """One follow-up, in the order of EpisodeType."""
    return mapping("perinatal_episode").xml_element({
        "id": view.id, "version": str(view.version), "woman_niss": view.woman_niss, "status": view.status,
        "care_team": view.care_team_id, "pregnancy_declared_on": view.pregnancy_declared_on,
        "expected_delivery": view.expected_delivery, "consent_given_on": view.consent.given_on, "child_niss": view.child_niss,
        "child_born_on": view.child_born_on, "ends_on": view.ends_on, "consent_status": view.consent.status,
        "consent_withdrawn_at": instant(view.consent.withdrawn_at) if view.consent.withdrawn_at else None,
        "opened_by_nihii": view.opened_by_nihii, "updated_at": instant(view.updated_at),
    }, parent)


def consent_element(view: EpisodeView, parent: etree._Element) -> etree._Element:
    consent = view.consent
    return mapping("perinatal_consent").xml_element({
        "id": view.id, "status": consent.status, "woman_niss": view.woman_niss, "given_on": consent.given_on,
        "withdrawn_at": instant(consent.withdrawn_at) if consent.withdrawn_at else None,
        "withdrawn_by_role": consent.withdrawn_by_role,
    }, parent)


def screening_element(view: ScreeningView, parent: etree._Element) -> etree._Element:
    """One screening and its derived profile, in the order of ScreeningType."""
    values: dict[str, object] = {_snake(d): a for d, a in view.answers.items()}
    values.update({f"need_{_snake(d)}": n for d, n in view.needs.items()})
    values.update(id=view.id, episode=view.episode_id, questionnaire=view.questionnaire_version,
                  profile_version=view.profile_version, screened_by_nihii=view.screened_by_nihii,
                  created_at=instant(view.created_at))
    return mapping("perinatal_screening").xml_element(values, parent)


class PerinatalSoapService:
    """The ten operations; each takes a verified, XSD-valid request."""

    def __init__(self, cases: "UseCases") -> None:
        self.cases = cases

    @property
    def perinatal(self):  # type: ignore[no-untyped-def]
        return self.cases.perinatal

    def _episodes(self, name: str, views: list[EpisodeView]) -> etree._Element:
        answer = response(NS, name, self.cases.clock, prefix="pn")
        for view in views:
            episode_element(view, answer)
        return answer

    def _screenings(self, name: str, views: list[ScreeningView]) -> etree._Element:
        answer = response(NS, name, self.cases.clock, prefix="pn")
        for view in views:
            screening_element(view, answer)
        return answer

    def open(self, request: SoapRequest) -> etree._Element:
        values = mapping("perinatal_episode").from_xml(request.payload, only=OPEN_ITEMS)
        cmd = OpenEpisode(care_team_id=values.pop("care_team"), **values)
        return self._episodes("OpenEpisodeResponse", [self.perinatal.open(caller(request), cmd, channel=CHANNEL)])

    def get(self, request: SoapRequest) -> etree._Element:
        view = self.perinatal.read(caller(request), _text(request.payload, "EpisodeId"), channel=CHANNEL)
        return self._episodes("GetEpisodeResponse", [view])

    def of_woman(self, request: SoapRequest) -> etree._Element:
        views = self.perinatal.of_woman(caller(request), _text(request.payload, "WomanSsin"), channel=CHANNEL)
        return self._episodes("GetWomanEpisodesResponse", views)

    def link_child(self, request: SoapRequest) -> etree._Element:
        view = self.perinatal.link_child(caller(request), _text(request.payload, "EpisodeId"),
                                         _text(request.payload, "ChildSsin"), channel=CHANNEL)
        return self._episodes("LinkChildResponse", [view])

    def withdraw(self, request: SoapRequest) -> etree._Element:
        view = self.perinatal.withdraw_consent(caller(request), _text(request.payload, "EpisodeId"), channel=CHANNEL)
        answer = response(NS, "WithdrawConsentResponse", self.cases.clock, prefix="pn")
        consent_element(view, answer)
        return answer

    def submit(self, request: SoapRequest) -> etree._Element:
        names = {_snake(d): d for d in bib.domains()}
        values = mapping("perinatal_screening").from_xml(request.payload, only=set(names))
        view = self.perinatal.screen(caller(request), _text(request.payload, "EpisodeId"),
                                     {names[k]: v for k, v in values.items()}, channel=CHANNEL)
        return self._screenings("SubmitScreeningResponse", [view])

    def screening(self, request: SoapRequest) -> etree._Element:
        view = self.perinatal.screening(caller(request), _text(request.payload, "ScreeningId"), channel=CHANNEL)
        return self._screenings("GetScreeningResponse", [view])

    def screenings(self, request: SoapRequest) -> etree._Element:
        views = self.perinatal.screenings(caller(request), _text(request.payload, "EpisodeId"), channel=CHANNEL)
        return self._screenings("GetEpisodeScreeningsResponse", views)

    def refer(self, request: SoapRequest) -> etree._Element:
        payload = request.payload
        until = _text(payload, "ValidUntil")
        from datetime import date

        view = self.perinatal.refer(caller(request), ReferToSupport(
            episode_id=_text(payload, "EpisodeId"), screening_id=_text(payload, "ScreeningId"), domain=_text(payload, "Domain"),
            service_requested=_text(payload, "ServiceRequested"),
            performers=tuple(PerformerSpec(nihii=(e.text or "").strip(), party_role="support-service")
                             for e in payload.findall(pn("PerformerNihii"))),
            valid_until=date.fromisoformat(until) if until else None), channel=CHANNEL)
        answer = response(NS, "ReferToSupportResponse", self.cases.clock, prefix="pn")
        for tag, value in (("ReferralId", view.id), ("Status", view.status), ("Reason", view.reason or "")):
            etree.SubElement(answer, pn(tag)).text = value
        return answer

    def document(self, request: SoapRequest) -> etree._Element:
        """PN-3: the privacy statement or the terms of use."""
        caller(request)
        name = _text(request.payload, "Name")
        answer = response(NS, "GetDocumentResponse", self.cases.clock, prefix="pn")
        for tag, value in (("Title", privacy.TITLES[name]), ("Version", str(privacy.source()["version"])),
                           ("Text", privacy.document(name))):
            etree.SubElement(answer, pn(tag)).text = value
        return answer


# the domain's paths -> the request's elements
ALIASES = {"patient": "WomanSsin", "team": "CareTeamId", "consent.date": "ConsentGivenOn", "period.start": "PregnancyDeclaredOn",
           "expected_delivery": "ExpectedDelivery", "child": "ChildSsin", "id": "EpisodeId", "screening": "ScreeningId",
           "domain": "Domain", "status": "EpisodeId", "subject": "WomanSsin",
           **{f"item.{d}": f"Answers/{''.join(w.capitalize() for w in d.split('-'))}" for d in bib.domains()}}


def operations(service: PerinatalSoapService) -> dict[str, Operation]:
    handlers = (service.open, service.get, service.of_woman, service.link_child, service.withdraw, service.submit,
                service.screening, service.screenings, service.refer, service.document)
    return {name: (handler, RequestPaths(f"{name}Request", None, ALIASES)) for name, handler in zip(OPERATIONS, handlers)}


def soap_service(cases: "UseCases", security: Security) -> ContractService:
    return hosted(security, "Perinatal", "perinatal", NS, operations(PerinatalSoapService(cases)))


def router(cases: "UseCases", security: Security) -> APIRouter:
    return soap_service(cases, security).router()


__all__ = ["NS", "OPERATIONS", "PATH", "PerinatalSoapService", "router", "soap_service"]
