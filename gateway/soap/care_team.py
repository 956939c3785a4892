"""CareTeam v1, the SOAP face of care teams (``soap/care-team/``): the acts
the FHIR CareTeam resource offers (create, read, any kept version, whole
update, search by patient), for practice software that calls eHealth-secured SOAP services.

Requests are read and answers written through ``mappings/care_team.yaml``
and ``care_team_member.yaml``; each operation calls the care-team use case
the FHIR face calls (``channel="soap"``). The kinds' rules (CT-1..CT-3) and
who may see or manage a team (CT-5) are the domain's: a refusal is its
code and rule id said as a Fault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from lxml import etree

from gateway.domain.care_teams import CareTeamSpec, MemberSpec
from gateway.domain.views import CareTeamView, MemberView
from gateway.mapping.mapping import mapping
from gateway.soap.commons import response
from gateway.soap11.contract import ContractService, caller
from gateway.soap11.envelope import q
from gateway.soap11.service import Security
from gateway.soap.operations import CHANNEL, ItemPaths, Operation, hosted, instant
from gateway.soap11.service import SoapRequest

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

NS = "urn:be:care-gateway:careteam:v1"
ACTION = NS + ":"
PATH = "/CareTeam/v1"
SPEC = {"kind", "status", "name", "patient_niss", "managing_organisation", "period_start", "period_end"}


def ct(name: str) -> str:
    return q(NS, name)


# ------------------------------------------------------------------ views <-> mapping values


def team_values(view: CareTeamView) -> dict[str, Any]:
    return {
        "id": view.id, "kind": view.kind, "status": view.status, "name": view.name, "patient_niss": view.patient_niss,
        "managing_organisation": view.managing_organisation, "period_start": view.period_start,
        "period_end": view.period_end, "version": str(view.version), "updated_at": instant(view.updated_at),
    }


def member_values(member: MemberView) -> dict[str, Any]:
    """A member is named by one identifier: its NIHII when it has one (a
    practitioner's NISS, resolved from CoBrHa, is not shown), else its NISS."""
    return {"kind": member.kind, "nihii": member.nihii, "niss": None if member.nihii else member.niss,
            "role": member.role, "period_start": member.period_start, "period_end": member.period_end}


def team_element(view: CareTeamView, parent: etree._Element) -> etree._Element:
    element = mapping("care_team").xml_element(team_values(view), parent)
    for member in view.members:
        mapping("care_team_member").xml_element(member_values(member), element)
    return element


def team_spec(payload: etree._Element) -> CareTeamSpec:
    """The team a create or update request describes, members included."""
    values = mapping("care_team").from_xml(payload, only=SPEC)
    members = tuple(
        MemberSpec(**mapping("care_team_member").from_xml(element, at=f"ct:Member[{i}]"))
        for i, element in enumerate(payload.findall(ct("Member")), 1)
    )
    return CareTeamSpec(**values, members=members)


# ------------------------------------------------------------------ operations


class CareTeams:
    """The five operations; each takes a verified, XSD-valid request."""

    def __init__(self, cases: "UseCases") -> None:
        self.cases = cases

    def _answer(self, name: str, *views: CareTeamView) -> etree._Element:
        answer = response(NS, name, self.cases.clock, prefix="ct")
        for view in views:
            team_element(view, answer)
        return answer

    def create(self, request: SoapRequest) -> etree._Element:
        """CT-1..CT-3 on the team's shape, CT-5 on who may make it."""
        view = self.cases.care_teams.create(caller(request), team_spec(request.payload), channel=CHANNEL)
        return self._answer("CreateCareTeamResponse", view)

    def get(self, request: SoapRequest) -> etree._Element:
        """CT-5: members, and those with a relationship with the patient."""
        team_id = mapping("care_team").from_xml(request.payload, only={"id"})["id"]
        return self._answer("GetCareTeamResponse", self.cases.care_teams.get(caller(request), team_id, channel=CHANNEL))

    def history(self, request: SoapRequest) -> etree._Element:
        """CT-5 on the team as it stands: every kept version, oldest first, or the one asked (FHIR's history and vread)."""
        given = mapping("care_team").from_xml(request.payload, only={"id", "version"})
        version = int(given["version"]) if given["version"] is not None else None
        views = self.cases.care_teams.versions(caller(request), given["id"], version, channel=CHANNEL)
        return self._answer("GetCareTeamHistoryResponse", *views)

    def update(self, request: SoapRequest) -> etree._Element:
        """The team as it should be (the act of a FHIR update); Version is If-Match."""
        given = mapping("care_team").from_xml(request.payload, only={"id", "version"})
        version = int(given["version"]) if given["version"] is not None else None
        view = self.cases.care_teams.update(caller(request), given["id"], team_spec(request.payload),
                                         expected_version=version, channel=CHANNEL)
        return self._answer("UpdateCareTeamResponse", view)

    def for_patient(self, request: SoapRequest) -> etree._Element:
        """CT-5, then the caller's filters (as the FHIR search's status and category)."""
        payload = request.payload
        niss = mapping("care_team").from_xml(payload, only={"patient_niss"})["patient_niss"]
        statuses = {e.text for e in payload.findall(ct("Status"))}
        kinds = {e.text for e in payload.findall(ct("Kind"))}
        views = [v for v in self.cases.care_teams.for_patient(caller(request), niss, channel=CHANNEL)
                 if (not statuses or v.status in statuses) and (not kinds or v.kind in kinds)]
        return self._answer("GetPatientCareTeamsResponse", *views)


# ------------------------------------------------------------------ the service

# the domain's paths (FHIR-shaped) -> the mapping's fields or the request's elements
ALIASES = {"category": "kind", "subject": "patient_niss", "patient": "patient_niss",
           "managingOrganization": "managing_organisation", "participant": "Member"}


def operations(service: CareTeams) -> dict[str, Operation]:
    """Operation name -> (handler, where its request's items are)."""

    def paths(request: str) -> ItemPaths:
        return ItemPaths(request, mapping("care_team"), ALIASES, items={"participant": "Member"})

    return {
        "CreateCareTeam": (service.create, paths("CreateCareTeamRequest")),
        "GetCareTeam": (service.get, paths("GetCareTeamRequest")),
        "UpdateCareTeam": (service.update, paths("UpdateCareTeamRequest")),
        "GetPatientCareTeams": (service.for_patient, paths("GetPatientCareTeamsRequest")),
        "GetCareTeamHistory": (service.history, paths("GetCareTeamHistoryRequest")),
    }


def soap_service(cases: "UseCases", security: Security) -> ContractService:
    return hosted(security, "CareTeam", "care-team", NS, operations(CareTeams(cases)))


def router(cases: "UseCases", security: Security) -> APIRouter:
    return soap_service(cases, security).router()


__all__ = ["ACTION", "NS", "PATH", "CareTeams", "router", "soap_service"]
