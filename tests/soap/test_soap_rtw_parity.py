"""Return to work, one set of rules on both faces: the same acts, run through
the FHIR face (raw FHIR over httpx, tokens of eHealth's IdP) and through
ReturnToWork v1 (zeep, STS tokens), answer the same outcome (the same rule
id and error code for every refusal), leave the same stored dossiers and
forms, and the same audit records but for the channel (RP-R2).

Both runs share one live gateway: the FHIR run, then the return-to-work
rows are deleted and the SOAP run follows; ids are generated, so the
compared state leaves them out."""

from __future__ import annotations

from datetime import date
from typing import Any, Callable

import httpx
import pytest
import zeep.exceptions
from sqlalchemy import delete, select

from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.domain.model import AuditRecord
from gateway.domain.rtw.model import RtwDossier, RtwForm
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_access_token
from gateway.fhir.resources.rtw_dossier import PROFILE as DOSSIER, TYPE_CODE, TYPE_SYSTEM
from gateway.fhir.resources.rtw_form import PROFILE as FORM, QUESTIONNAIRE
from tests.fhir.fhir_asserts import issue
from tests.soap.conftest import fault_detail
from tests.soap.test_soap_rtw import soap_clients

Outcome = tuple[Any, ...]
ROUTING = "https://care-gateway.be/fhir/CodeSystem/rtw-form-routing"
MEDICAL = {"physician_expectations": "Part-time work first", "functional_capacities": "No lifting above 5 kg"}


class FhirFace:
    def __init__(self, live: Any) -> None:
        self.live, self.tokens = live, {}

    def _headers(self, who: str) -> dict[str, str]:
        if who not in self.tokens:
            self.tokens[who] = rtw_access_token(self.live.base_url, who)
        return {"Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/fhir+json"}

    def _do(self, method: str, who: str, path: str, **kwargs: Any) -> Outcome | dict[str, Any]:
        answer = httpx.request(method, f"{self.live.base_url}/fhir/{path}", headers=self._headers(who), timeout=30, **kwargs)
        if answer.status_code >= 400:
            found = issue(answer.json())
            return ("refused", found["rule"], found["error"])
        return answer.json()

    def open(self, who: str, niss: str) -> Outcome | dict[str, Any]:
        return self._do("POST", who, "EpisodeOfCare", json={
            "resourceType": "EpisodeOfCare", "meta": {"profile": [DOSSIER]}, "status": "active",
            "type": [{"coding": [{"system": TYPE_SYSTEM, "code": TYPE_CODE}]}],
            "patient": {"identifier": {"system": SSIN_SYSTEM, "value": niss}}})

    def read(self, who: str, dossier: str) -> Outcome | dict[str, Any]:
        return self._do("GET", who, f"EpisodeOfCare/rtw-{dossier}")

    def close(self, who: str, dossier: str) -> Outcome | dict[str, Any]:
        return self._do("PUT", who, f"EpisodeOfCare/rtw-{dossier}", json={
            "resourceType": "EpisodeOfCare", "id": f"rtw-{dossier}", "meta": {"profile": [DOSSIER]}, "status": "finished",
            "type": [{"coding": [{"system": TYPE_SYSTEM, "code": TYPE_CODE}]}],
            "patient": {"identifier": {"system": SSIN_SYSTEM, "value": rtw_state(self.live.platform).sandbox.cast.insured}}})

    def search(self, who: str) -> Outcome | dict[str, Any]:
        return self._do("GET", who, "EpisodeOfCare", params={"type": f"{TYPE_SYSTEM}|{TYPE_CODE}"})

    def fill(self, who: str, dossier: str, medical: bool) -> Outcome | dict[str, Any]:
        items = {"routing": None, "incapacity-start": {"valueDate": "2025-03-03"},
                 "expectations": {"valueString": "A training as a logistics planner"},
                 "coordinator-name": {"valueString": "An Peeters"}}
        if medical:
            items.update({"physician-expectations": {"valueString": MEDICAL["physician_expectations"]},
                          "functional-capacities": {"valueString": MEDICAL["functional_capacities"]}})
        items["routing"] = {"valueCoding": {"system": ROUTING, "code": "insurer"}}
        return self._do("POST", who, "QuestionnaireResponse", json={
            "resourceType": "QuestionnaireResponse", "meta": {"profile": [FORM]}, "questionnaire": QUESTIONNAIRE,
            "status": "completed", "subject": {"reference": f"EpisodeOfCare/rtw-{dossier}"},
            "item": [{"linkId": k, "answer": [v]} for k, v in items.items()]})

    def form(self, who: str, form: str) -> Outcome | dict[str, Any]:
        return self._do("GET", who, f"QuestionnaireResponse/{form}")

    @staticmethod
    def ids(answer: dict[str, Any]) -> str:
        return answer["id"].removeprefix("rtw-")

    @staticmethod
    def medical_shown(answer: dict[str, Any]) -> bool:
        return any(i["linkId"] == "functional-capacities" for i in answer["item"])


class SoapFace:
    def __init__(self, live: Any) -> None:
        self.service = soap_clients(live)

    def _do(self, who: str, operation: str, **kwargs: Any) -> Outcome | Any:
        try:
            return getattr(self.service(who), operation)(**kwargs)
        except zeep.exceptions.Fault as fault:
            found = fault_detail(fault)
            return ("refused", found["Rule"], found["Code"])

    def open(self, who: str, niss: str) -> Outcome | Any:
        return self._do(who, "OpenDossier", InsuredSsin=niss)

    def read(self, who: str, dossier: str) -> Outcome | Any:
        return self._do(who, "GetDossier", DossierId=dossier)

    def close(self, who: str, dossier: str) -> Outcome | Any:
        return self._do(who, "CloseDossier", DossierId=dossier)

    def search(self, who: str) -> Outcome | Any:
        return self._do(who, "SearchDossiers")

    def fill(self, who: str, dossier: str, medical: bool) -> Outcome | Any:
        extra = {"PhysicianExpectations": MEDICAL["physician_expectations"],
                 "FunctionalCapacities": MEDICAL["functional_capacities"]} if medical else {}
        return self._do(who, "FillForm", DossierId=dossier, Routing="insurer", IncapacityStart=date(2025, 3, 3),
                        Expectations="A training as a logistics planner", CoordinatorName="An Peeters", **extra)

    def form(self, who: str, form: str) -> Outcome | Any:
        return self._do(who, "GetForm", FormId=form)

    @staticmethod
    def medical_shown(answer: Any) -> bool:
        return answer.Form[0].FunctionalCapacities is not None


def _id(face: Any, answer: Any) -> str:
    if isinstance(face, FhirFace):
        return face.ids(answer)
    return answer.Dossier[0].DossierId if hasattr(answer, "Dossier") and answer.Dossier else answer.Form[0].FormId


def scenario(face: Any, cast: Any) -> list[Outcome]:
    """The acts, each answered as ("ok", what matters) or ("refused", rule, code)."""
    seen: list[Outcome] = []

    def keep(answer: Any, what: Callable[[Any], Any] = lambda a: None) -> Any:
        seen.append(answer if isinstance(answer, tuple) else ("ok", what(answer)))
        return answer

    dossier = _id(face, keep(face.open("oa-rtw-coordinator", cast.insured)))
    keep(face.read("oa-physician-other", dossier))                                     # RP-A1
    keep(face.read("prev-physician-former", dossier))                                  # RP-A3
    keep(face.open("inami-inspector", cast.deceased))                                  # RP-A5
    keep(face.search("oa-physician"))                                                  # RP-A4
    form = _id(face, keep(face.fill("oa-physician", dossier, True)))                   # RP-F1
    keep(face.fill("prev-nurse", dossier, False))                                      # RP-F1
    keep(face.fill("oa-rtw-coordinator", dossier, True))                               # RP-A6
    keep(face.form("inami-inspector", form), face.medical_shown)                       # RP-A6
    keep(face.form("oa-rtw-coordinator", form), face.medical_shown)                    # RP-A6
    keep(face.close("oa-rtw-coordinator", dossier))
    keep(face.fill("oa-physician", dossier, False))                                    # closed
    return seen


def state(live: Any) -> dict[str, Any]:
    with live.gw.ctx.db.transaction() as session:
        dossiers = [(d.insured_pseudonym, d.status, d.opened_via, d.opened_by_role, d.opened_by_cbe, d.version)
                    for d in session.execute(select(RtwDossier)).scalars()]
        forms = [(f.routing, f.status, f.incapacity_start, f.expectations, f.coordinator_name, f.physician_expectations,
                  f.functional_capacities, f.created_by_role, f.created_by_cbe) for f in session.execute(select(RtwForm)).scalars()]
        audit = [(r.action, r.outcome, r.code, r.rule, r.actor_role, r.actor_organisation, r.patient_pseudonym, r.channel)
                 for r in session.execute(select(AuditRecord).where(AuditRecord.action.like("rtw.%"))
                                          .order_by(AuditRecord.seq)).scalars()]
    return {"dossiers": sorted(dossiers), "forms": sorted(forms, key=repr), "audit": audit}


def reset(live: Any) -> None:
    with live.gw.ctx.db.transaction() as session:
        session.execute(delete(RtwForm))
        session.execute(delete(RtwDossier))
        session.execute(delete(AuditRecord).where(AuditRecord.action.like("rtw.%")))


@pytest.fixture(scope="module")
def runs(live) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    cast = rtw_state(live.platform).sandbox.cast
    result = {}
    for name, face in (("fhir", FhirFace(live)), ("soap", SoapFace(live))):
        reset(live)
        outcomes = scenario(face, cast)
        result[name] = {"outcomes": outcomes, **state(live)}
    return result


def test_rp_r2_both_faces_answer_the_same_outcomes_with_the_same_rules(runs) -> None:  # type: ignore[no-untyped-def]
    assert runs["fhir"]["outcomes"] == runs["soap"]["outcomes"]
    rules = [o[1] for o in runs["soap"]["outcomes"] if o[0] == "refused"]
    assert rules == ["RP-A1", "RP-A3", "RP-A5", "RP-A4", "RP-F1", "RP-A6", "RP-F1"]
    assert [o[1] for o in runs["soap"]["outcomes"] if o[0] == "ok" and o[1] is not None] == [True, False]


def test_rp_r2_both_faces_leave_the_same_state(runs) -> None:  # type: ignore[no-untyped-def]
    assert runs["fhir"]["dossiers"] == runs["soap"]["dossiers"] and len(runs["soap"]["dossiers"]) == 1
    assert runs["fhir"]["forms"] == runs["soap"]["forms"] and len(runs["soap"]["forms"]) == 1


def test_rp_r2_both_faces_leave_the_same_audit_records_but_for_the_channel(runs) -> None:  # type: ignore[no-untyped-def]
    fhir, soap = runs["fhir"]["audit"], runs["soap"]["audit"]
    assert {r[-1] for r in fhir} == {"fhir"} and {r[-1] for r in soap} == {"soap"}
    assert [r[:-1] for r in fhir] == [r[:-1] for r in soap]
    assert len(soap) >= len(runs["soap"]["outcomes"])
