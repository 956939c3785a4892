"""Referral v1, the SOAP face of referrals (``soap/referral/``): the acts the
FHIR ServiceRequest and Task offer (create, read, search by patient, a step
of the referral or of one performer's Task, any kept version), for practice
software that calls eHealth-secured SOAP services.

Requests are read and answers written through ``mappings/referral.yaml``,
``referral_performer.yaml`` (each performer with its Task) and (for a step,
the Task's write) ``referral_task.yaml``; each operation calls the referral
use case the FHIR face calls (``channel="soap"``). Who may refer and take
each step (RF-1) and who sees a referral (RF-4) are the domain's: a refusal
is its code and rule id said as a Fault. The requester is always the
caller, so the contract has no element to name another one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from lxml import etree

from gateway.domain.professions import PROFESSIONS
from gateway.domain.referrals import PerformerSpec, ReferralSpec
from gateway.domain.views import PartyView, ReferralView
from gateway.mapping.mapping import mapping
from gateway.soap.commons import response
from gateway.soap11.contract import ContractService, caller
from gateway.soap11.envelope import q
from gateway.soap11.service import Security
from gateway.soap.operations import CHANNEL, ItemPaths, Operation, hosted, instant
from gateway.soap11.service import SoapRequest

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

NS = "urn:be:care-gateway:referral:v1"
ACTION = NS + ":"
PATH = "/Referral/v1"
SPEC = {"status", "programme", "category", "service_requested", "reason", "patient_niss", "valid_from", "valid_until",
        "performer_role"}


def rf(name: str) -> str:
    return q(NS, name)


# ------------------------------------------------------------------ views <-> mapping values


def referral_values(view: ReferralView) -> dict[str, Any]:
    """The requester shows its NIHII (its NISS only when it has none) and its profession's cd-hcparty code."""
    requester = view.party("requester")[0]
    profession = PROFESSIONS.get(requester.party_role or "")
    return {
        "id": view.id, "status": view.status, "status_reason": view.status_reason, "expired": view.expired,
        "programme": view.programme, "category": view.category or None,
        "service_requested": view.service_requested, "reason": view.reason, "patient_niss": view.patient_niss,
        "valid_from": view.valid_from, "valid_until": view.valid_until,
        "performer_role": next((p.party_role for p in view.party("performer") if p.party_role), None),
        "requester_nihii": requester.nihii, "requester_niss": None if requester.nihii else requester.niss,
        "requester_hcparty": profession.hcparty if profession else None,
        "created_at": instant(view.created_at), "version": str(view.version), "updated_at": instant(view.updated_at),
    }


def performer_values(party: PartyView) -> dict[str, Any]:
    """A performer and its Task."""
    return {"nihii": party.nihii, "cbe": party.cbe, "task_id": party.task_id, "task_status": party.task_status,
            "task_reason": party.task_reason}


def referral_element(view: ReferralView, parent: etree._Element) -> etree._Element:
    element = mapping("referral").xml_element(referral_values(view), parent)
    for party in view.party("performer"):
        mapping("referral_performer").xml_element(performer_values(party), element)
    basis = dict(view.basis)
    if {"episode", "screening", "domain"} <= basis.keys():  # RF-3: a perinatal referral to support
        support = etree.SubElement(element, rf("SupportBasis"))
        for name, key in (("EpisodeId", "episode"), ("ScreeningId", "screening"), ("Domain", "domain")):
            etree.SubElement(support, rf(name)).text = basis[key]
    return element


def referral_spec(payload: etree._Element) -> ReferralSpec:
    """The referral a create request describes; PerformerRole is each performer's role."""
    values = mapping("referral").from_xml(payload, only=SPEC)
    role = values.pop("performer_role")
    performers = tuple(
        PerformerSpec(**mapping("referral_performer").from_xml(element, only={"nihii", "cbe"}, at=f"rf:Performer[{i}]"),
                      party_role=role)
        for i, element in enumerate(payload.findall(rf("Performer")), 1)
    )
    return ReferralSpec(**{**values, "category": values["category"] or ""}, performers=performers)


# ------------------------------------------------------------------ operations


class Referrals:
    """The five operations; each takes a verified, XSD-valid request."""

    def __init__(self, cases: "UseCases") -> None:
        self.cases = cases

    def _answer(self, name: str, *views: ReferralView) -> etree._Element:
        answer = response(NS, name, self.cases.clock, prefix="rf")
        for view in views:
            referral_element(view, answer)
        return answer

    def create(self, request: SoapRequest) -> etree._Element:
        """RF-1: a care provider refers, and is the requester."""
        view = self.cases.referrals.create(caller(request), referral_spec(request.payload), channel=CHANNEL)
        return self._answer("CreateReferralResponse", view)

    def get(self, request: SoapRequest) -> etree._Element:
        """RF-4."""
        referral_id = mapping("referral").from_xml(request.payload, only={"id"})["id"]
        return self._answer("GetReferralResponse", self.cases.referrals.get(caller(request), referral_id, channel=CHANNEL))

    def for_patient(self, request: SoapRequest) -> etree._Element:
        """RF-4 leaves out what the caller may not see; then the caller's status filter."""
        payload = request.payload
        niss = mapping("referral").from_xml(payload, only={"patient_niss"})["patient_niss"]
        statuses = {e.text for e in payload.findall(rf("Status"))}
        views = [v for v in self.cases.referrals.for_patient(caller(request), niss, channel=CHANNEL)
                 if not statuses or v.status in statuses]
        return self._answer("GetPatientReferralsResponse", *views)

    def change_status(self, request: SoapRequest) -> etree._Element:
        """RF-1: one step of the referral or of a performer's Task; which, and
        the party it belongs to, are the domain's."""
        referral_id = mapping("referral").from_xml(request.payload, only={"id"})["id"]
        given = mapping("referral_task").from_xml(request.payload, only={"status", "status_reason", "owner_nihii", "owner_cbe",
                                                                         "version"})
        version = int(given["version"]) if given["version"] is not None else None
        view = self.cases.referrals.transition(caller(request), referral_id, given["status"],
                                            performer=given["owner_nihii"] or given["owner_cbe"], reason=given["status_reason"],
                                            expected_version=version, channel=CHANNEL)
        return self._answer("ChangeReferralStatusResponse", view)

    def history(self, request: SoapRequest) -> etree._Element:
        """RF-4 on the referral as it stands: every kept version, oldest first, or the one asked."""
        given = mapping("referral").from_xml(request.payload, only={"id", "version"})
        version = int(given["version"]) if given["version"] is not None else None
        views = self.cases.referrals.versions(caller(request), given["id"], version, channel=CHANNEL)
        return self._answer("GetReferralHistoryResponse", *views)


# ------------------------------------------------------------------ the service

# the domain's paths (FHIR-shaped) -> the mapping's fields or the request's elements
ALIASES = {"subject": "patient_niss", "patient": "patient_niss", "category": "programme", "code": "service_requested",
           "occurrencePeriod.end": "valid_until"}


def operations(service: Referrals) -> dict[str, Operation]:
    """Operation name -> (handler, where its request's items are)."""

    def paths(request: str, **aliases: str) -> ItemPaths:
        return ItemPaths(request, mapping("referral"), {**ALIASES, **aliases}, items={"performer": "Performer"})

    return {
        "CreateReferral": (service.create, paths("CreateReferralRequest")),
        "GetReferral": (service.get, paths("GetReferralRequest")),
        "GetPatientReferrals": (service.for_patient, paths("GetPatientReferralsRequest")),
        # an expired referral: the step asked (Status) is what cannot be taken
        "ChangeReferralStatus": (service.change_status, paths("ChangeReferralStatusRequest", **{"occurrencePeriod.end": "status",
                                                                                                 "statusReason": "Reason"})),
        "GetReferralHistory": (service.history, paths("GetReferralHistoryRequest")),
    }


def soap_service(cases: "UseCases", security: Security) -> ContractService:
    return hosted(security, "Referral", "referral", NS, operations(Referrals(cases)))


def router(cases: "UseCases", security: Security) -> APIRouter:
    return soap_service(cases, security).router()


__all__ = ["ACTION", "NS", "PATH", "Referrals", "router", "soap_service"]
