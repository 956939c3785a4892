"""FHIR and SOAP faces, one set of rules, for care teams and referrals: the
same scenario run through the FHIR face (raw FHIR over httpx, IdP and
token-exchange tokens) and through CareTeam and Referral (zeep, STS tokens)
answers the same outcomes (the same error code and rule id for every
refusal: CT-1..CT-5, RF-1, RF-4, and CT-4's IC-A1), leaves the same stored
care teams and referrals, and the same audit trail but for the channel and
one difference the FHIR face makes on its own, asserted as such:

- a FHIR status change (a ServiceRequest update: the requester's step; a
  Task update: one performer's step, or the requester's cancellation) reads
  the referral and its check that nothing else changes inside the same
  single act as ChangeReferralStatus: one act, one record on both faces;
- a FHIR vread or _history of a ServiceRequest or CareTeam is the same act
  as GetReferralHistory or GetCareTeamHistory (with or without Version);
- CT-4's inclusion read is the same act on both faces (``inclusion.consult``
  of the patient: a FHIR search by patient is consulting them, IC-F2).

Both runs start from an empty database and the same instant; ids are
generated, so both runs name teams and referrals by the scenario's labels
before comparing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable

import httpx
import pytest
import zeep
from sqlalchemy import func, select

from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.domain.model import (AuditRecord, AuditSubject, CareTeam, CareTeamMember, CareTeamVersion, Referral, ReferralParty,
                                  ReferralVersion)
from gateway.ehealth.sandbox_tokens import persona_access_token
from gateway.fhir.outcome import ERROR_CODE_SYSTEM, RULE_SYSTEM
from gateway.mapping.conceptmaps import conceptmap
from gateway.soap.care_team import NS as CT_NS
from gateway.soap.care_team import PATH as CT_PATH
from gateway.soap.referral import NS as RF_NS
from gateway.soap.referral import PATH as RF_PATH
from tests.soap.care_referral_callers import ServiceCallers
from tests.soap.conftest import fault_detail
from tests.soap.test_soap_parity import empty_database

TEAM_PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-care-team"
REFERRAL_PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-referral"
TASK_PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-referral-task"
KIND_SYSTEM = "https://care-gateway.be/fhir/CodeSystem/care-team-kind"
PROGRAMME_SYSTEM = "https://care-gateway.be/fhir/CodeSystem/referral-programme"
DOMAIN_TABLES = (CareTeam, CareTeamMember, CareTeamVersion, Referral, ReferralParty, ReferralVersion)
STATUS_REASON = "http://hl7.org/fhir/StructureDefinition/request-statusReason"

Outcome = tuple[Any, ...]
Member = tuple[str, str, str | None]  # kind, NIHII or NISS, role


def refusal(code: str | None, rule: str | None) -> Outcome:
    return ("refused", code, rule)


# ------------------------------------------------------------------ the two faces


class Fhir:
    """The acts through the FHIR face, as a FHIR client does them: a PUT sends
    the whole resource last answered, a performer moves a referral through
    its Task, the requester through the ServiceRequest."""

    def __init__(self, live: Any, personas: dict[str, Any]) -> None:
        self.live, self.personas = live, personas
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        self.resources: dict[str, dict[str, Any]] = {}

    def _headers(self, who: str, version: int | None = None) -> dict[str, str]:
        if who not in self.tokens:
            self.tokens[who] = persona_access_token(self.live.base_url, self.live.gw.platform.pki, self.personas[who], clock=self.live.clock)
        extra = {"If-Match": f'W/"{version}"'} if version else {}
        return {"Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/fhir+json", **extra}

    def _send(self, who: str, method: str, path: str, body: dict[str, Any] | None = None, version: int | None = None) -> httpx.Response:
        return httpx.request(method, f"{self.live.base_url}/fhir/{path}", json=body, headers=self._headers(who, version), timeout=30)

    @staticmethod
    def _refusal(response: httpx.Response) -> Outcome:
        codings = [c for i in response.json()["issue"] for c in i.get("details", {}).get("coding", [])]
        return refusal(next((c["code"] for c in codings if c["system"] == ERROR_CODE_SYSTEM), None),
                       next((c["code"] for c in codings if c["system"] == RULE_SYSTEM), None))

    def _labels(self, response: httpx.Response) -> Outcome:
        if response.status_code >= 400:
            return self._refusal(response)
        found = {e["resource"]["id"] for e in response.json().get("entry", []) if e.get("search", {}).get("mode", "match") == "match"}
        return ("ok", sorted(label for label, id_ in self.ids.items() if id_ in found))

    # ---------------------------------------------------------------- care teams
    def _team(self, label: str, response: httpx.Response) -> Outcome:
        if response.status_code >= 400:
            return self._refusal(response)
        team = response.json()
        self.ids[label], self.resources[label] = team["id"], team
        member_kind = conceptmap("care-team-member-kind").to_domain
        members = tuple((member_kind(p["member"]["type"]), p["member"]["identifier"]["value"], (p.get("role") or [{}])[0].get("text"))
                        for p in team["participant"])
        return ("ok", team["category"][0]["coding"][0]["code"], team["status"], int(team["meta"]["versionId"]), members)

    def create_team(self, who: str, label: str, kind: str, patient: str | None, members: list[Member], organisation: str | None) -> Outcome:
        to_type = conceptmap("care-team-member-kind").to_wire
        team: dict[str, Any] = {
            "resourceType": "CareTeam", "meta": {"profile": [TEAM_PROFILE]}, "status": "active",
            "category": [{"coding": [{"system": KIND_SYSTEM, "code": kind}]}],
            "participant": [{"member": {"type": to_type(k), "identifier": {"system": SSIN_SYSTEM if k in ("patient", "related-person")
                                                                            else NIHDI_SYSTEM, "value": value}},
                             **({"role": [{"text": role}]} if role else {})} for k, value, role in members],
        }
        if patient:
            team["subject"] = {"identifier": {"system": SSIN_SYSTEM, "value": patient}}
        if organisation:
            team["managingOrganization"] = [{"identifier": {"system": NIHDI_SYSTEM, "value": organisation}}]
        return self._team(label, self._send(who, "POST", "CareTeam", team))

    def read_team(self, who: str, label: str) -> Outcome:
        return self._team(label, self._send(who, "GET", f"CareTeam/{self.ids[label]}"))

    def update_team(self, who: str, label: str, status: str, version: int | None) -> Outcome:
        team = {**self.resources[label], "status": status}
        return self._team(label, self._send(who, "PUT", f"CareTeam/{team['id']}", team, version))

    def patient_teams(self, who: str, patient: str) -> Outcome:
        return self._labels(self._send(who, "GET", f"CareTeam?patient-identifier={SSIN_SYSTEM}|{patient}"))

    def patient_inclusions(self, who: str, patient: str) -> Outcome:
        response = self._send(who, "GET", f"EpisodeOfCare?patient-identifier={SSIN_SYSTEM}|{patient}")
        return self._refusal(response) if response.status_code >= 400 else ("ok", len(response.json().get("entry", [])))

    # ---------------------------------------------------------------- referrals
    def _referral(self, label: str | None, response: httpx.Response, codes: str) -> Outcome:
        if response.status_code >= 400:
            return self._refusal(response)
        resource = response.json()
        if label and resource["resourceType"] == "ServiceRequest":
            self.ids[label], self.resources[label] = resource["id"], resource
        return ("ok", conceptmap(codes).to_domain(resource["status"]), int(resource["meta"]["versionId"]))

    def refer(self, who: str, label: str, patient: str, performers: list[str], status: str, valid: tuple[date, date]) -> Outcome:
        body = {
            "resourceType": "ServiceRequest", "meta": {"profile": [REFERRAL_PROFILE]}, "status": status, "intent": "order",
            "category": [{"coding": [{"system": PROGRAMME_SYSTEM, "code": "general"}]}, {"text": "specialist-referral"}],
            "code": {"text": "cardiology"}, "reasonCode": [{"text": "exertional chest pain"}],
            "subject": {"identifier": {"system": SSIN_SYSTEM, "value": patient}},
            "occurrencePeriod": {"start": valid[0].isoformat(), "end": valid[1].isoformat()},
            "authoredOn": self.live.clock.now().isoformat(), "requester": {"display": "me"}, "performerType": {"text": "nurse"},
            "performer": [{"identifier": {"system": NIHDI_SYSTEM, "value": performer}} for performer in performers],
        }
        return self._referral(label, self._send(who, "POST", "ServiceRequest", body), "referral-status-service-request")

    def move(self, who: str, label: str, status: str, version: int | None, task: int | None, reason: str | None) -> Outcome:
        """The requester's steps on the ServiceRequest (reason in request-statusReason); a Task's on that
        performer's Task (task-<id>, task-<id>-2), reason in statusReason."""
        request = self.resources[label]
        if task is None:
            body = {**request, "status": status}
            if reason:
                body["extension"] = [{"url": STATUS_REASON, "valueCodeableConcept": {"text": reason}}]
            return self._referral(None, self._send(who, "PUT", f"ServiceRequest/{request['id']}", body, version),
                                  "referral-status-service-request")
        task_id = f"task-{request['id']}" + (f"-{task + 1}" if task else "")
        body = {"resourceType": "Task", "id": task_id, "meta": {"profile": [TASK_PROFILE]}, "status": status, "intent": "order",
                "focus": {"reference": f"ServiceRequest/{request['id']}"}, "authoredOn": request["authoredOn"],
                "owner": request["performer"][task], **({"statusReason": {"text": reason}} if reason else {})}
        return self._referral(None, self._send(who, "PUT", f"Task/{task_id}", body, version), "referral-status-task")

    def read_referral(self, who: str, label: str) -> Outcome:
        """Through the first performer's Task (SOAP: its TaskStatus)."""
        return self._referral(None, self._send(who, "GET", f"Task/task-{self.ids[label]}"), "referral-status-task")

    def read_version(self, who: str, label: str, version: int) -> Outcome:
        return self._referral(None, self._send(who, "GET", f"ServiceRequest/{self.ids[label]}/_history/{version}"),
                              "referral-status-service-request")

    def history(self, who: str, label: str) -> Outcome:
        response = self._send(who, "GET", f"ServiceRequest/{self.ids[label]}/_history")
        if response.status_code >= 400:
            return self._refusal(response)
        return ("ok", [(e["resource"]["status"], int(e["resource"]["meta"]["versionId"])) for e in reversed(response.json()["entry"])])

    def read_team_version(self, who: str, label: str, version: int) -> Outcome:
        response = self._send(who, "GET", f"CareTeam/{self.ids[label]}/_history/{version}")
        if response.status_code >= 400:
            return self._refusal(response)
        return ("ok", response.json()["status"], int(response.json()["meta"]["versionId"]))

    def patient_referrals(self, who: str, patient: str) -> Outcome:
        return self._labels(self._send(who, "GET", f"ServiceRequest?patient-identifier={SSIN_SYSTEM}|{patient}"))


class Soap:
    """The same acts through CareTeam, Referral (and IntegratedCare for CT-4), as a vendor's connector does them."""

    def __init__(self, teams: ServiceCallers, referrals: ServiceCallers, integrated_care: Any) -> None:
        self.teams, self.referrals, self.integrated_care = teams, referrals, integrated_care
        self.ids: dict[str, str] = {}
        self.seen: dict[str, Any] = {}

    @staticmethod
    def _call(callers: Any, who: str, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(callers.service(who), operation)(**kwargs)
        except zeep.exceptions.Fault as fault:
            detail = fault_detail(fault)
            return refusal(detail["Code"], detail["Rule"])

    def _labels(self, found: list[Any], attribute: str) -> Outcome:
        ids = {getattr(item, attribute) for item in found}
        return ("ok", sorted(label for label, id_ in self.ids.items() if id_ in ids))

    # ---------------------------------------------------------------- care teams
    def _team(self, label: str, answer: Any) -> Outcome:
        if isinstance(answer, tuple):
            return answer
        team = answer.CareTeam
        self.ids[label], self.seen[label] = team.CareTeamId, team
        return ("ok", team.Kind, team.Status, team.Version, tuple((m.Kind, m.Nihii or m.Ssin, m.Role) for m in team.Member))

    @staticmethod
    def _members(members: list[Member]) -> list[dict[str, Any]]:
        return [{"Kind": k, ("Ssin" if k in ("patient", "related-person") else "Nihii"): value, **({"Role": role} if role else {})}
                for k, value, role in members]

    def create_team(self, who: str, label: str, kind: str, patient: str | None, members: list[Member], organisation: str | None) -> Outcome:
        return self._team(label, self._call(self.teams, who, "CreateCareTeam", Kind=kind, Status="active", PatientSsin=patient,
                                            ManagingOrganisationNihii=organisation, Member=self._members(members)))

    def read_team(self, who: str, label: str) -> Outcome:
        return self._team(label, self._call(self.teams, who, "GetCareTeam", CareTeamId=self.ids[label]))

    def update_team(self, who: str, label: str, status: str, version: int | None) -> Outcome:
        team = self.seen[label]
        members = [{"Kind": m.Kind, **({"Nihii": m.Nihii} if m.Nihii else {"Ssin": m.Ssin}), "Role": m.Role} for m in team.Member]
        return self._team(label, self._call(self.teams, who, "UpdateCareTeam", CareTeamId=team.CareTeamId, Kind=team.Kind, Status=status,
                                            Name=team.Name, PatientSsin=team.PatientSsin,
                                            ManagingOrganisationNihii=team.ManagingOrganisationNihii, Version=version, Member=members))

    def patient_teams(self, who: str, patient: str) -> Outcome:
        answer = self._call(self.teams, who, "GetPatientCareTeams", PatientSsin=patient)
        return answer if isinstance(answer, tuple) else self._labels(answer.CareTeam, "CareTeamId")

    def patient_inclusions(self, who: str, patient: str) -> Outcome:
        answer = self._call(self.integrated_care, who, "GetPatientInclusions", PatientSsin=patient)
        return answer if isinstance(answer, tuple) else ("ok", len(answer.Inclusion))

    # ---------------------------------------------------------------- referrals
    def _referral(self, label: str | None, answer: Any) -> Outcome:
        if isinstance(answer, tuple):
            return answer
        if label:
            self.ids[label] = answer.Referral.ReferralId
        return ("ok", answer.Referral.Status, answer.Referral.Version)

    def refer(self, who: str, label: str, patient: str, performers: list[str], status: str, valid: tuple[date, date]) -> Outcome:
        answer = self._call(
            self.referrals, who, "CreateReferral", Status=status, Programme="general", Category="specialist-referral",
            ServiceRequested="cardiology", Reason="exertional chest pain", PatientSsin=patient,
            ValidityPeriod={"Start": valid[0], "End": valid[1]}, PerformerRole="nurse", Performer=[{"Nihii": p} for p in performers])
        if not isinstance(answer, tuple):
            self.seen[label] = answer.Referral
        return self._referral(label, answer)

    def move(self, who: str, label: str, status: str, version: int | None, task: int | None, reason: str | None) -> Outcome:
        """ChangeReferralStatus; a Task's step names its performer (as FHIR names the Task)."""
        performer = {"Nihii": self.seen[label].Performer[task].Nihii} if task is not None else None
        answer = self._call(self.referrals, who, "ChangeReferralStatus", ReferralId=self.ids[label], Status=status, Reason=reason,
                            Performer=performer, Version=version)
        if isinstance(answer, tuple) or task is None:
            return self._referral(None, answer)
        return ("ok", answer.Referral.Performer[task].TaskStatus, answer.Referral.Version)

    def read_referral(self, who: str, label: str) -> Outcome:
        answer = self._call(self.referrals, who, "GetReferral", ReferralId=self.ids[label])
        return answer if isinstance(answer, tuple) else ("ok", answer.Referral.Performer[0].TaskStatus, answer.Referral.Version)

    def read_version(self, who: str, label: str, version: int) -> Outcome:
        answer = self._call(self.referrals, who, "GetReferralHistory", ReferralId=self.ids[label], Version=version)
        return answer if isinstance(answer, tuple) else ("ok", answer.Referral[0].Status, answer.Referral[0].Version)

    def history(self, who: str, label: str) -> Outcome:
        answer = self._call(self.referrals, who, "GetReferralHistory", ReferralId=self.ids[label])
        return answer if isinstance(answer, tuple) else ("ok", [(r.Status, r.Version) for r in answer.Referral])

    def read_team_version(self, who: str, label: str, version: int) -> Outcome:
        answer = self._call(self.teams, who, "GetCareTeamHistory", CareTeamId=self.ids[label], Version=version)
        return answer if isinstance(answer, tuple) else ("ok", answer.CareTeam[0].Status, answer.CareTeam[0].Version)

    def patient_referrals(self, who: str, patient: str) -> Outcome:
        answer = self._call(self.referrals, who, "GetPatientReferrals", PatientSsin=patient)
        return answer if isinstance(answer, tuple) else self._labels(answer.Referral, "ReferralId")


# ------------------------------------------------------------------ the scenario


@dataclass(frozen=True)
class Step:
    name: str
    act: Callable[[Any, date], Outcome]
    moves_referral: bool = False  # FHIR reads the referral first (a referral.read record)
    reads_inclusions: bool = False  # FHIR searches, SOAP consults


def scenario(personas: dict[str, Any]) -> list[Step]:
    """Every CT and RF refusal the faces can meet, and the acts that are allowed."""
    p = personas
    patient = p["patient"].niss
    gp, nurse, gp_no_link, pharmacy = p["gp"].nihii, p["nurse"].nihii, p["gp-no-link"].nihii, p["pharmacist"].organisation_nihii
    psi_a, psi_b = p["psi-coordinator"].organisation_nihii, p["psi-coordinator-other"].organisation_nihii
    individual: list[Member] = [("practitioner", gp, "general practitioner"), ("patient", patient, None)]
    group: list[Member] = [("practitioner", gp, None), ("practitioner", gp_no_link, "cardiologist")]
    psi: list[Member] = [("organisation", psi_a, "psi")]

    def team(who: str, label: str, kind: str, members: list[Member], *, subject: str | None = patient,
             organisation: str | None = None) -> Step:
        return Step(f"{who} creates {label}", lambda face, today: face.create_team(who, label, kind, subject, members, organisation))

    def read_team(who: str, label: str) -> Step:
        return Step(f"{who} reads {label}", lambda face, today: face.read_team(who, label))

    def update_team(who: str, label: str, status: str, version: int | None = None) -> Step:
        return Step(f"{who} makes {label} {status}", lambda face, today: face.update_team(who, label, status, version))

    def teams_of(who: str) -> Step:
        return Step(f"{who} lists the teams", lambda face, today: face.patient_teams(who, patient))

    def refer(who: str, label: str, status: str = "active", days: tuple[int, int] = (0, 90), performers: tuple[str, ...] = (nurse,)) -> Step:
        return Step(f"{who} refers {label}", lambda face, today: face.refer(
            who, label, patient, list(performers), status, (today + timedelta(days=days[0]), today + timedelta(days=days[1]))))

    def move(who: str, label: str, status: str, version: int | None = None, *, reason: str | None = None) -> Step:
        """The referral's own step (the ServiceRequest's)."""
        return Step(f"{who} makes {label} {status}", lambda face, today: face.move(who, label, status, version, None, reason),
                    moves_referral=True)

    def step(who: str, label: str, task: int, status: str, version: int | None = None, *, reason: str | None = None) -> Step:
        """A step of the ``task``-th performer's Task."""
        return Step(f"{who} makes {label}'s task {task} {status}",
                    lambda face, today: face.move(who, label, status, version, task, reason), moves_referral=True)

    def read_version(who: str, label: str, version: int) -> Step:
        return Step(f"{who} reads {label} version {version}", lambda face, today: face.read_version(who, label, version))

    def history(who: str, label: str) -> Step:
        return Step(f"{who} reads the history of {label}", lambda face, today: face.history(who, label))

    def read_team_version(who: str, label: str, version: int) -> Step:
        return Step(f"{who} reads {label} version {version}", lambda face, today: face.read_team_version(who, label, version))

    def read_referral(who: str, label: str) -> Step:
        return Step(f"{who} reads {label}", lambda face, today: face.read_referral(who, label))

    def referrals_of(who: str) -> Step:
        return Step(f"{who} lists the referrals", lambda face, today: face.patient_referrals(who, patient))

    return [
        team("gp", "individual", "individual", individual),                                       # CT-1
        team("gp", "two-providers", "individual", [("practitioner", gp, None), ("practitioner", nurse, None)]),  # CT-1 refused
        team("gp", "lonely-group", "clinical-group", [("practitioner", gp, None), ("patient", patient, None)]),  # CT-2 refused
        team("gp", "group", "clinical-group", group),                                             # CT-2
        team("psi-coordinator", "unmanaged", "administrative-group", psi, subject=None),          # CT-3 refused
        team("psi-coordinator", "other-psi", "administrative-group", psi, subject=None, organisation=psi_b),  # CT-5 not own PSI
        team("psi-coordinator", "admin", "administrative-group", psi, subject=None, organisation=psi_a),  # CT-3
        team("gp-no-link", "stranger", "clinical-group", [("practitioner", gp, None), ("practitioner", nurse, None)]),  # CT-5 no link
        team("excluded-profession", "excluded", "individual", individual),                        # IC-A9
        read_team("gp-no-link", "group"),                                                         # CT-5 a member
        read_team("nurse", "group"),                                                              # CT-5 a relationship
        read_team("patient", "individual"),                                                       # CT-5 the patient
        read_team("pharmacist-no-link", "group"),                                                 # CT-5 refused
        read_team("gp-no-link", "admin"),                                                         # CT-5 not a member
        Step("gp-no-link consults the inclusions", lambda face, today: face.patient_inclusions("gp-no-link", patient),
             reads_inclusions=True),                                                              # CT-4: IC-A1 still
        update_team("gp", "individual", "inactive", 1),                                           # CT-5 a member
        update_team("gp", "individual", "active", 1),                                             # version conflict
        update_team("gp-no-link", "individual", "active"),                                        # CT-5 refused
        teams_of("gp"), teams_of("patient"), teams_of("pharmacist-no-link"),                      # CT-5
        refer("gp", "heart"),                                                                     # RF-1
        refer("psi-coordinator", "by-psi"),                                                       # RF-1 refused
        refer("gp", "completed-at-once", status="completed"),                                     # RF-1 refused
        refer("gp", "draft", status="draft"),                                                     # RF-1
        refer("gp", "expired", days=(-60, -1)),                                                   # RF-1
        move("nurse", "draft", "active"),                                                         # RF-1 the requester's step
        move("gp", "draft", "active"),                                                            # RF-1
        step("gp", "heart", 0, "accepted"),                                                       # RF-1 the performer's step
        step("nurse", "heart", 0, "accepted"),                                                    # RF-1
        step("nurse", "heart", 0, "completed", 1),                                                # version conflict
        step("nurse", "heart", 0, "completed", 2),                                                # RF-1
        move("gp", "heart", "revoked"),                                                           # RF-1 final
        step("nurse", "expired", 0, "accepted"),                                                  # RF-1 expired
        step("nurse", "expired", 0, "received"),                                                  # RF-1 receipt only
        refer("gp", "pair", performers=(nurse, pharmacy)),                                        # RF-1 several performers
        step("nurse", "pair", 1, "accepted"),                                                     # RF-1 another performer's Task
        step("pharmacist", "pair", 1, "rejected"),                                                # RF-1 reason required
        step("pharmacist", "pair", 1, "rejected", reason="we do not dress wounds"),               # RF-1
        step("patient", "pair", 0, "accepted"),                                                   # RF-1 the patient sees, does not act
        move("gp", "pair", "on-hold", reason="waiting for results"),                              # RF-1 the requester holds
        step("nurse", "pair", 0, "received"),                                                     # RF-1 on hold
        move("nurse", "pair", "active"),                                                          # RF-1 the requester's step
        move("gp", "pair", "active"),                                                             # RF-1 resumed
        step("nurse", "pair", 0, "accepted"),                                                     # RF-1
        step("nurse", "pair", 0, "in-progress"),                                                  # RF-1
        step("nurse", "pair", 0, "on-hold", reason="the patient is abroad"),                      # RF-1
        step("nurse", "pair", 0, "in-progress"),                                                  # RF-1
        step("nurse", "pair", 0, "failed"),                                                       # RF-1 reason required
        step("gp", "pair", 0, "completed"),                                                       # RF-1 the performer's step
        step("nurse", "pair", 0, "completed"),                                                    # RF-1 the referral completes
        refer("gp", "cancelled", performers=(nurse, pharmacy)),                                   # RF-1
        step("nurse", "cancelled", 1, "cancelled", reason="x"),                                   # RF-1 the requester's step
        step("gp", "cancelled", 1, "cancelled", reason="the pharmacy is closed"),                 # RF-1 one Task cancelled
        step("nurse", "cancelled", 0, "accepted"),                                                # RF-1
        move("gp", "cancelled", "revoked", reason="the patient moved away"),                      # RF-1 open Tasks cancelled
        read_version("nurse", "heart", 1), read_version("gp", "pair", 4),                         # RF-4 any version
        read_version("gp", "heart", 9),                                                           # unknown version
        read_version("gp-no-link", "heart", 1),                                                   # RF-4 refused
        history("gp", "pair"), history("gp-no-link", "pair"),                                     # RF-4
        read_team_version("gp", "individual", 1), read_team_version("pharmacist-no-link", "individual", 1),  # CT-5
        move("gp-no-link", "draft", "revoked"),                                                   # RF-4 refused
        read_referral("patient", "heart"), read_referral("pharmacist", "heart"),                  # RF-4
        read_referral("gp-no-link", "heart"), read_referral("psi-coordinator", "heart"),          # RF-4 refused
        referrals_of("gp"), referrals_of("gp-no-link"),                                           # RF-4
        move("gp", "draft", "revoked"),                                                           # RF-1
    ]


# every refusal of the scenario, with its code and rule, as both faces answer it
REFUSALS = [
    ("gp creates two-providers", "individual-care-team", "CT-1"),
    ("gp creates lonely-group", "clinical-group-too-small", "CT-2"),
    ("psi-coordinator creates unmanaged", "administrative-group-without-organisation", "CT-3"),
    ("psi-coordinator creates other-psi", "not-own-psi", "CT-5"),
    ("gp-no-link creates stranger", "no-therapeutic-link", "CT-5"),
    ("excluded-profession creates excluded", "profession-not-allowed", "IC-A9"),
    ("pharmacist-no-link reads group", "no-therapeutic-link", "CT-5"),
    ("gp-no-link reads admin", "not-a-member", "CT-5"),
    ("gp-no-link consults the inclusions", "no-therapeutic-link", "IC-A1"),  # CT-4: a member, still no inclusions
    ("gp makes individual active", "version-conflict", None),
    ("gp-no-link makes individual active", "no-therapeutic-link", "CT-5"),
    ("pharmacist-no-link lists the teams", "no-therapeutic-link", "CT-5"),
    ("psi-coordinator refers by-psi", "referral-not-allowed", "RF-1"),
    ("gp refers completed-at-once", "invalid-initial-status", "RF-1"),
    ("nurse makes draft active", "not-the-right-party", "RF-1"),
    ("gp makes heart's task 0 accepted", "not-the-right-party", "RF-1"),
    ("nurse makes heart's task 0 completed", "version-conflict", None),
    ("gp makes heart revoked", "invalid-transition", "RF-1"),
    ("nurse makes expired's task 0 accepted", "referral-expired", "RF-1"),
    ("nurse makes pair's task 1 accepted", "not-the-right-party", "RF-1"),
    ("pharmacist makes pair's task 1 rejected", "reason-required", "RF-1"),
    ("patient makes pair's task 0 accepted", "not-the-right-party", "RF-1"),
    ("nurse makes pair's task 0 received", "referral-on-hold", "RF-1"),
    ("nurse makes pair active", "not-the-right-party", "RF-1"),
    ("nurse makes pair's task 0 failed", "reason-required", "RF-1"),
    ("gp makes pair's task 0 completed", "not-the-right-party", "RF-1"),
    ("nurse makes cancelled's task 1 cancelled", "not-the-right-party", "RF-1"),
    ("gp reads heart version 9", "unknown-version", "RF-4"),
    ("gp-no-link reads heart version 1", "not-a-party", "RF-4"),
    ("gp-no-link reads the history of pair", "not-a-party", "RF-4"),
    ("pharmacist-no-link reads individual version 1", "no-therapeutic-link", "CT-5"),
    ("gp-no-link makes draft revoked", "not-a-party", "RF-4"),
    ("gp-no-link reads heart", "not-a-party", "RF-4"),
    ("psi-coordinator reads heart", "unknown-referral", None),  # IC-A3: for PSI staff, an unknown id
]


# ------------------------------------------------------------------ running and comparing


@dataclass
class Run:
    outcomes: list[tuple[str, Outcome]] = field(default_factory=list)
    audit: list[list[dict[str, Any]]] = field(default_factory=list)  # the records of each step
    state: dict[str, list[Any]] = field(default_factory=dict)


def run(live: Any, face: Fhir | Soap, steps: list[Step], start: datetime) -> Run:
    empty_database(live.gw)
    live.clock.set(start)
    result = Run()
    for step in steps:
        live.clock.advance(timedelta(seconds=1))
        last = last_seq(live.gw)
        result.outcomes.append((step.name, step.act(face, live.clock.today())))
        result.audit.append(audit_since(live.gw, last))
    result.state = domain_state(live.gw)
    aliases = {id_: f"<{label}>" for label, id_ in face.ids.items()}
    pattern = re.compile("|".join(map(re.escape, aliases))) if aliases else None

    def named(value: Any) -> Any:
        dumped = json.dumps(value, sort_keys=True, default=str)
        return json.loads(pattern.sub(lambda m: aliases[m.group(0)], dumped) if pattern else dumped)

    result.audit = [named(records) for records in result.audit]
    result.state = {table: sorted((named(row) for row in rows), key=lambda r: json.dumps(r, sort_keys=True))
                    for table, rows in result.state.items()}
    return result


def last_seq(gw: Any) -> int:
    with gw.db.engine.connect() as connection:
        return connection.execute(select(func.coalesce(func.max(AuditRecord.seq), 0))).scalar_one()


def audit_since(gw: Any, seq: int) -> list[dict[str, Any]]:
    """The records after ``seq``, their channel, chain hashes and position left out."""
    table, subjects = AuditRecord.__table__, AuditSubject.__table__
    with gw.db.engine.connect() as connection:
        rows = connection.execute(select(table).where(table.c.seq > seq).order_by(table.c.seq)).all()
        named = {token: pseudonym for token, pseudonym in connection.execute(select(subjects.c.token, subjects.c.pseudonym))}
    records = [{k: v for k, v in row._mapping.items() if k not in ("seq", "channel", "hash", "prev_hash")} for row in rows]
    for record in records:  # a person is named by a random token: compare whom it names
        for key in ("actor_pseudonym", "patient_pseudonym"):
            record[key] = named.get(record[key], record[key])
    return records


def domain_state(gw: Any) -> dict[str, list[dict[str, Any]]]:
    """The stored rows; a kept care-team version names its members who are people by a random
    token (as the audit trail does): compare whom it names."""
    subjects = AuditSubject.__table__
    with gw.db.engine.connect() as connection:
        state = {model.__table__.name: [dict(r._mapping) for r in connection.execute(select(model.__table__))] for model in DOMAIN_TABLES}
        named = {token: pseudonym for token, pseudonym in connection.execute(select(subjects.c.token, subjects.c.pseudonym))}
    for row in state["care_team_version"]:
        row["snapshot"] = {**row["snapshot"], "members": [{**m, "subject": named.get(m["subject"], m["subject"])}
                                                          for m in row["snapshot"]["members"]]}
    return state


def channels(gw: Any) -> set[str]:
    with gw.db.engine.connect() as connection:
        return set(connection.execute(select(AuditRecord.channel).distinct()).scalars())


@pytest.fixture(scope="module")
def faces(live, personas, soap) -> Soap:  # type: ignore[no-untyped-def]
    teams = ServiceCallers(live, personas, path=CT_PATH, ns=CT_NS, xsd=("soap", "care-team", "CareTeam-v1.xsd"))
    referrals = ServiceCallers(live, personas, path=RF_PATH, ns=RF_NS, xsd=("soap", "referral", "Referral-v1.xsd"))
    return Soap(teams, referrals, soap)


def test_CT_1_to_CT_5_RF_1_RF_4_the_same_scenario_through_fhir_and_soap_leaves_the_same_state_and_audit(live, personas, faces):
    steps = scenario(personas)
    start = live.clock.now()
    fhir = run(live, Fhir(live, personas), steps, start)
    assert channels(live.gw) == {"fhir"}
    soap = run(live, faces, steps, start)
    assert channels(live.gw) == {"soap"}

    # the same answers, the same refusals with the same code and rule id
    assert soap.outcomes == fhir.outcomes
    assert [(name, o[1], o[2]) for name, o in fhir.outcomes if o[0] == "refused"] == REFUSALS
    assert fhir.state["care_team"] and fhir.state["referral"]

    # the same stored care teams, members, referrals and parties
    assert soap.state == fhir.state

    # the same audit trail, step by step: one act, one record, on both faces
    for step, fhir_records, soap_records in zip(steps, fhir.audit, soap.audit):
        if step.moves_referral:  # FHIR's update of the status is the same single act as SOAP's ChangeReferralStatus
            assert [r["action"] for r in fhir_records] == [r["action"] for r in soap_records] == ["referral.transition"], step.name
        if step.reads_inclusions:  # a FHIR search by patient is the same act as SOAP's GetPatientInclusions (IC-F2)
            assert [(r["action"], r["resource_type"]) for r in fhir_records] == [("inclusion.consult", "patient")], step.name
        assert soap_records == fhir_records, step.name
        assert len(soap_records) == 1, step.name  # one act, one record


def test_RF_1_IC_R3_a_reversed_period_is_the_domains_refusal_on_both_faces(live, personas, faces):
    """A period that ends before it starts is the domain's refusal on both
    faces, with the same rule (RF-1 for a referral, IC-R3 for a care team):
    the FHIR face leaves per-1 on these periods to the domain, so the refusal
    is audited and named as on SOAP. Neither face stores anything."""
    p, today = personas, live.clock.today()
    empty_database(live.gw)
    reversed_period = (today, today - timedelta(days=3))
    members: list[Member] = [("practitioner", p["gp"].nihii, None), ("practitioner", p["nurse"].nihii, None)]
    fhir = Fhir(live, personas)
    assert fhir.refer("gp", "reversed", p["patient"].niss, [p["nurse"].nihii], "active", reversed_period) == refusal("end-before-start", "RF-1")
    assert faces.refer("gp", "reversed", p["patient"].niss, [p["nurse"].nihii], "active", reversed_period) == refusal("end-before-start", "RF-1")
    team = {"resourceType": "CareTeam", "meta": {"profile": [TEAM_PROFILE]}, "status": "active",
            "category": [{"coding": [{"system": KIND_SYSTEM, "code": "clinical-group"}]}],
            "period": {"start": reversed_period[0].isoformat(), "end": reversed_period[1].isoformat()},
            "subject": {"identifier": {"system": SSIN_SYSTEM, "value": p["patient"].niss}},
            "participant": [{"member": {"type": "Practitioner", "identifier": {"system": NIHDI_SYSTEM, "value": value}}}
                            for _, value, _ in members]}
    assert Fhir._refusal(fhir._send("gp", "POST", "CareTeam", team)) == refusal("end-before-start", "IC-R3")
    answer = Soap._call(faces.teams, "gp", "CreateCareTeam", Kind="clinical-group", Status="active", PatientSsin=p["patient"].niss,
                        Period={"Start": reversed_period[0], "End": reversed_period[1]}, Member=Soap._members(members))
    assert answer == refusal("end-before-start", "IC-R3")
    assert domain_state(live.gw) == {model.__table__.name: [] for model in DOMAIN_TABLES}
