"""The trajectory, one set of rules on both faces: the same acts through FHIR
(ServiceRequest, Task, Communication, List, MeasureReport; raw HTTP, tokens of
both IdPs) and through ReturnToWork v1 (zeep, STS tokens) answer the same
outcomes (the same rule id and error code for every refusal), leave the same
requests, history, decisions, publications and messages, and the same audit
records but for the channel. RP-F3..RP-F9, RP-R3, RF-2."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import httpx
import pytest
import zeep.exceptions
from sqlalchemy import delete, select

from gateway.domain.model import AuditRecord
from gateway.domain.rtw.model import RtwDossier, RtwForm
from gateway.domain.rtw.requests import iso_week
from gateway.domain.rtw.trajectory_model import (RtwDecision, RtwHours, RtwMessage, RtwPublication, RtwRequest,
                                                 RtwRequestStep, RtwTraining)
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_access_token
from gateway.fhir.resources.rtw_request import STEP_PROFILE, STEP_SYSTEM
from tests.fhir.fhir_asserts import issue
from tests.fhir.test_fhir_rtw import dossier as dossier_body, form as form_body
from tests.fhir.test_fhir_rtw_trajectory import hours, message, request_body
from tests.soap.conftest import fault_detail
from tests.soap.test_soap_rtw import fill, soap_clients

Outcome = tuple[Any, ...]
GRANTED = {"approved": 2000, "too-much": 9999}


class FhirFace:
    def __init__(self, live: Any, cast: Any) -> None:
        self.live, self.cast, self.tokens = live, cast, {}

    def _do(self, method: str, who: str, path: str, **kwargs: Any) -> Outcome | dict[str, Any]:
        if who not in self.tokens:
            self.tokens[who] = rtw_access_token(self.live.base_url, who)
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/fhir+json"}
        answer = httpx.request(method, f"{self.live.base_url}/fhir/{path}", headers=headers, timeout=30, **kwargs)
        if answer.status_code >= 400:
            found = issue(answer.json())
            return ("refused", found["rule"], found["error"])
        return answer.json()

    def open(self, who: str) -> str:
        return self._do("POST", who, "EpisodeOfCare", json=dossier_body(self.cast.insured))["id"][4:]  # type: ignore[index]

    def fill(self, who: str, dossier: str) -> Any:
        return self._do("POST", who, "QuestionnaireResponse", json=form_body(f"rtw-{dossier}"))

    def file(self, who: str, dossier: str, kind: str = "training") -> Any:
        answer = self._do("POST", who, "ServiceRequest", json=request_body(f"rtw-{dossier}", self.cast.insured, kind=kind))
        return answer if isinstance(answer, tuple) else answer["id"][4:]

    @staticmethod
    def task(request: str, step: str, **more: Any) -> dict[str, Any]:
        """The Task a client PUTs, written from what it knows (no read first: the audit trail compares acts)."""
        return {"resourceType": "Task", "id": f"rtw-{step}-{request}", "meta": {"profile": [STEP_PROFILE]},
                "status": "completed", "intent": "order", "code": {"coding": [{"system": STEP_SYSTEM, "code": step}]},
                "focus": {"reference": f"ServiceRequest/rtw-{request}"}, **more}

    def validate(self, who: str, request: str) -> Any:
        return self._do("PUT", who, f"Task/rtw-validation-{request}", json=self.task(request, "validation"))

    def decide(self, who: str, request: str, outcome: str, euro: int) -> Any:
        return self._do("PUT", who, f"Task/rtw-decision-{request}", json=self.task(request, "decision", output=[
            {"type": {"text": "outcome"}, "valueCode": outcome},
            {"type": {"text": "costs-granted"}, "valueMoney": {"value": float(euro), "currency": "EUR"}}]))

    def read(self, who: str, request: str) -> Any:
        answer = self._do("GET", who, f"ServiceRequest/rtw-{request}")
        return answer if isinstance(answer, tuple) else answer["status"]

    def decisions(self, who: str, week: str) -> Any:
        answer = self._do("GET", who, "Task", params={"code": f"{STEP_SYSTEM}|decision", "week": week})
        return answer if isinstance(answer, tuple) else len(answer.get("entry", []))

    def training(self, who: str, request: str) -> str:
        return self._do("GET", who, f"ServiceRequest/rtw-{request}")["extension"][0]["id"]  # type: ignore[index]

    def report(self, who: str, training: str, day: str, value: int) -> Any:
        answer = self._do("POST", who, "Observation", json=hours(training, day, value))
        return answer if isinstance(answer, tuple) else answer["valueQuantity"]["value"]

    def hours(self, who: str, day: str) -> Any:
        answer = self._do("GET", who, "List", params={"code": "https://care-gateway.be/fhir/CodeSystem/rtw-list|hours",
                                                      "date": [f"ge{day}", f"le{day}"]})
        return answer if isinstance(answer, tuple) else len(answer["entry"][0]["resource"].get("entry", []))

    def send(self, who: str, dossier: str, recipient: str, kind: str = "message") -> Any:
        answer = self._do("POST", who, "Communication", json=message(f"rtw-{dossier}", recipient, "Hello", kind=kind))
        return answer if isinstance(answer, tuple) else answer["id"][4:]

    def read_message(self, who: str, mid: str) -> Any:
        answer = self._do("GET", who, f"Communication/rtw-{mid}")
        return answer if isinstance(answer, tuple) else "read"

    def statistics(self, who: str, month: str) -> Any:
        answer = self._do("GET", who, "MeasureReport", params={"period": month, "stratifier": "kind"})
        return answer if isinstance(answer, tuple) else len(answer["entry"])


class SoapFace:
    def __init__(self, live: Any, cast: Any) -> None:
        self.service, self.cast = soap_clients(live), cast

    def _do(self, who: str, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.service(who), operation)(**kwargs)
        except zeep.exceptions.Fault as fault:
            found = fault_detail(fault)
            return ("refused", found["Rule"], found["Code"])

    def open(self, who: str) -> str:
        return self._do(who, "OpenDossier", InsuredSsin=self.cast.insured).Dossier[0].DossierId

    def fill(self, who: str, dossier: str) -> Any:
        return self._do(who, "FillForm", DossierId=dossier, **fill())

    def file(self, who: str, dossier: str, kind: str = "training") -> Any:
        answer = self._do(who, "FileRequest", DossierId=dossier, Kind=kind, Project="Become a logistics planner",
                          CounsellorName="Jan Smet", Training=[
                              {"Title": "Logistics planner", "Provider": "Syntra", "HoursPlanned": 120, "Cost": Decimal("2500.00")},
                              {"Title": "Forklift licence", "HoursPlanned": 16, "Cost": Decimal("400.00")}])
        return answer if isinstance(answer, tuple) else answer.Request[0].RequestId

    def validate(self, who: str, request: str) -> Any:
        answer = self._do(who, "ValidateRequest", RequestId=request, Accept=True)
        return answer if isinstance(answer, tuple) else {}

    def decide(self, who: str, request: str, outcome: str, euro: int) -> Any:
        answer = self._do(who, "RecordDecision", RequestId=request, Outcome=outcome, CostsGranted=Decimal(euro))
        return answer if isinstance(answer, tuple) else {}

    def read(self, who: str, request: str) -> Any:
        answer = self._do(who, "GetRequest", RequestId=request)
        if isinstance(answer, tuple):
            return answer
        return {"awaiting-validation": "on-hold", "submitted": "active", "decided": "active", "rejected": "revoked",
                "approved": "completed", "refused": "completed"}[answer.Request[0].Status]

    def decisions(self, who: str, week: str) -> Any:
        answer = self._do(who, "GetDecisionList", WeekFrom=week)
        return answer if isinstance(answer, tuple) else len(answer.Line)

    def training(self, who: str, request: str) -> str:
        return self._do(who, "GetRequest", RequestId=request).Request[0].Training[0].TrainingId

    def report(self, who: str, training: str, day: str, value: int) -> Any:
        answer = self._do(who, "ReportHours", TrainingId=training, PerformedOn=day, Hours=value)
        return answer if isinstance(answer, tuple) else answer.Hours

    def hours(self, who: str, day: str) -> Any:
        answer = self._do(who, "GetHoursList", From=day, To=day)
        return answer if isinstance(answer, tuple) else len(answer.Line)

    def send(self, who: str, dossier: str, recipient: str, kind: str = "message") -> Any:
        if kind == "medical":
            answer = self._do(who, "SendMedicalData", DossierId=dossier, Body="Hello")
        else:
            answer = self._do(who, "SendMessage", DossierId=dossier, Recipient=recipient, Body="Hello")
        return answer if isinstance(answer, tuple) else answer.Message[0].MessageId

    def read_message(self, who: str, mid: str) -> Any:
        answer = self._do(who, "GetMessage", MessageId=mid)
        return answer if isinstance(answer, tuple) else "read"

    def statistics(self, who: str, month: str) -> Any:
        answer = self._do(who, "GetStatistics", From=month, By="kind")
        return answer if isinstance(answer, tuple) else len(answer.Group)


def scenario(face: Any, live: Any) -> list[Outcome]:
    seen: list[Outcome] = []

    def keep(answer: Any, what: Callable[[Any], Any] = lambda a: None) -> Any:
        seen.append(answer if isinstance(answer, tuple) else ("ok", what(answer)))
        return answer

    week, month = iso_week(live.clock.now()), live.clock.today().strftime("%Y-%m")
    dossier = face.open("oa-rtw-coordinator")
    keep(face.file("reg-counsellor", dossier))                                           # RP-F3: no form yet
    face.fill("oa-physician", dossier)
    request = keep(face.file("reg-counsellor", dossier))                                 # RP-F3
    keep(face.file("prev-nurse", dossier))                                               # RP-F3 not allowed
    keep(face.read("prev-nurse", request))                                               # RF-2
    keep(face.read("reg-counsellor", request), lambda s: s)                              # on-hold
    keep(face.validate("reg-counsellor", request))                                       # RP-F4
    keep(face.validate("oa-rtw-coordinator", request))                                   # RP-F4
    keep(face.file("oa-team", dossier, "coaching"))                                      # RP-F4 straight to INAMI
    keep(face.decide("oa-physician", request, "approved", GRANTED["approved"]))          # RP-F5
    keep(face.decide("inami-expert", request, "approved", GRANTED["too-much"]))          # RP-F5 costs
    keep(face.decide("inami-expert", request, "approved", GRANTED["approved"]))          # RP-F5
    keep(face.read("reg-counsellor", request), lambda s: s)                              # active: not published
    live.gw.return_to_work.decisions.run(week)
    keep(face.read("reg-counsellor", request), lambda s: s)                              # completed
    keep(face.decisions("reg-list-manager", week), lambda n: n)                          # RP-F7
    keep(face.decisions("reg-counsellor-forem", week), lambda n: n)                      # RP-F7 filtered
    keep(face.decisions("prev-admin", week))                                             # RP-F7
    training, day = face.training("reg-counsellor", request), live.clock.today().isoformat()
    keep(face.report("oa-team", training, day, 6))                                       # RP-F7 not the insurer's
    keep(face.report("reg-list-manager", training, day, 6), lambda n: n)                 # RP-F7
    keep(face.hours("oa-rtw-coordinator", day), lambda n: n)                             # RP-F7
    mid = keep(face.send("reg-counsellor", dossier, "inami"))                            # RP-F6
    keep(face.read_message("oa-team", mid))                                              # RP-F6
    keep(face.send("oa-team", dossier, "inami", "medical"))                              # RP-F8
    medical = keep(face.send("oa-physician", dossier, "inami", "medical"))               # RP-F8
    keep(face.read_message("inami-inspector", medical), lambda s: s)                     # RP-A6
    keep(face.read_message("inami-expert", medical))                                     # RP-A6
    keep(face.statistics("oa-team", month))                                              # RP-R3
    keep(face.statistics("inami-expert", month), lambda n: n)                            # RP-R3
    return seen


def hours_state(s: Any) -> list[Any]:
    return sorted((h.performed_on, h.hours) for h in s.execute(select(RtwHours)).scalars())


TABLES = (RtwHours, RtwPublication, RtwDecision, RtwRequestStep, RtwTraining, RtwMessage, RtwRequest, RtwForm, RtwDossier)


def state(live: Any) -> dict[str, Any]:
    with live.gw.ctx.db.transaction() as s:
        requests = sorted((r.kind, r.project, r.counsellor_name, r.status, r.filed_by_party, r.filed_by_role, r.version)
                          for r in s.execute(select(RtwRequest)).scalars())
        steps = sorted((x.seq, x.step, x.status, x.actor_role, x.rule) for x in s.execute(select(RtwRequestStep)).scalars())
        trainings = sorted((t.position, t.title, t.provider, t.hours_planned, t.cost_cents)
                           for t in s.execute(select(RtwTraining)).scalars())
        decisions = sorted((d.outcome, d.costs_granted_cents, d.decided_by_role, d.week, d.published_at is not None)
                           for d in s.execute(select(RtwDecision)).scalars())
        publications = sorted((p.recipient, p.week) for p in s.execute(select(RtwPublication)).scalars())
        hours_rows = hours_state(s)
        messages = sorted((m.kind, m.sender, m.recipient, m.sender_role, m.body) for m in s.execute(select(RtwMessage)).scalars())
        audit = [(r.action, r.outcome, r.code, r.rule, r.actor_role, r.actor_organisation, r.channel)
                 for r in s.execute(select(AuditRecord).where(AuditRecord.action.like("rtw.%"),
                                                              AuditRecord.action.not_like("rtw.dossier.%"),
                                                              AuditRecord.action.not_like("rtw.form.%"))
                                    .order_by(AuditRecord.seq)).scalars()]
    return {"requests": requests, "steps": steps, "trainings": trainings, "decisions": decisions,
            "publications": publications, "messages": messages, "hours": hours_rows, "audit": audit}


def reset(live: Any) -> None:
    with live.gw.ctx.db.transaction() as s:
        for table in TABLES:
            s.execute(delete(table))
        s.execute(delete(AuditRecord).where(AuditRecord.action.like("rtw.%")))


@pytest.fixture(scope="module")
def runs(live) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    cast = rtw_state(live.platform).sandbox.cast
    result = {}
    for name, face in (("fhir", FhirFace(live, cast)), ("soap", SoapFace(live, cast))):
        reset(live)
        outcomes = scenario(face, live)
        result[name] = {"outcomes": outcomes, **state(live)}
    return result


def test_rp_f3_to_rp_r3_both_faces_answer_the_same_outcomes_with_the_same_rules(runs) -> None:  # type: ignore[no-untyped-def]
    assert runs["fhir"]["outcomes"] == runs["soap"]["outcomes"]
    refused = [o[1:] for o in runs["soap"]["outcomes"] if o[0] == "refused"]
    assert refused == [("RP-F3", "valid-form-required"), ("RP-F3", "request-not-allowed"), ("RF-2", "not-a-party"),
                       ("RP-F4", "validation-not-allowed"), ("RP-F5", "decision-not-allowed"),
                       ("RP-F5", "invalid-costs-granted"), ("RP-F7", "no-list"), ("RP-F7", "hours-not-allowed"),
                       ("RP-F6", "not-in-conversation"),
                       ("RP-F8", "medical-sender"), ("RP-A6", "not-a-physician-of-the-exchange"),
                       ("RP-R3", "statistics-for-inami")]
    shown = [o[1] for o in runs["soap"]["outcomes"] if o[0] == "ok" and o[1] is not None]
    assert shown == ["on-hold", "active", "completed", 1, 0, 6, 1, "read", 1]


def test_rf_2_rp_f5_both_faces_leave_the_same_state(runs) -> None:  # type: ignore[no-untyped-def]
    for key in ("requests", "steps", "trainings", "decisions", "publications", "messages", "hours"):
        assert runs["fhir"][key] == runs["soap"][key], key
    assert len(runs["soap"]["requests"]) == 2 and len(runs["soap"]["publications"]) == 2


def test_rp_r2_both_faces_leave_the_same_audit_records_but_for_the_channel(runs) -> None:  # type: ignore[no-untyped-def]
    fhir = [r for r in runs["fhir"]["audit"] if r[-1] != "maintenance"]
    soap = [r for r in runs["soap"]["audit"] if r[-1] != "maintenance"]
    assert {r[-1] for r in fhir} == {"fhir"} and {r[-1] for r in soap} == {"soap"}
    assert [r[:-1] for r in fhir] == [r[:-1] for r in soap]
