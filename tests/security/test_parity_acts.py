"""One act, one audit record, identical on both faces but for the channel:
an end date before the start is the domain's IC-R3 refusal on FHIR too
(the profile's per-1 no longer refuses it first, unaudited); a consult
records the same ``detail`` (``returned``) whether it came as a FHIR search
or as GetPatientInclusions; the coordinator's list is ``inclusion.list-patients``
from a FHIR search as from ListPsiPatients."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.domain.model import AuditRecord
from tests.security import hostile
from tests.soap.conftest import request, response_fault


def last_record(live: Any) -> dict[str, Any]:
    with live.gw.db.transaction() as s:
        row = s.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
        return {"action": row.action, "outcome": row.outcome, "code": row.code, "rule": row.rule,
                "resource_type": row.resource_type, "detail": row.detail, "channel": row.channel}


def same_but_channel(fhir: dict[str, Any], soap: dict[str, Any]) -> None:
    assert (fhir["channel"], soap["channel"]) == ("fhir", "soap")
    assert {k: v for k, v in fhir.items() if k != "channel"} == {k: v for k, v in soap.items() if k != "channel"}


def test_IC_R3_an_end_before_the_start_is_the_same_audited_refusal_on_both_faces(live, fhir_token, soap, personas):
    patient, psi = personas["patient-2"].niss, personas["psi-admin"].organisation_nihii
    start = live.clock.today() - timedelta(days=10)
    end = start - timedelta(days=1)
    resource = hostile.episode(patient, psi, start=start.isoformat(), end=end.isoformat())
    answer = httpx.post(live.url("/fhir/EpisodeOfCare"), content=json.dumps(resource), timeout=30,
                        headers={"Authorization": f"Bearer {fhir_token('gp')}", "Content-Type": "application/fhir+json"})
    issue = answer.json()["issue"][0]
    assert answer.status_code == 422
    assert {c["code"] for c in issue["details"]["coding"]} == {"end-before-start", "IC-R3"}
    assert issue["expression"] == ["EpisodeOfCare.period.end"]
    fhir = last_record(live)
    fault = response_fault(soap.post(soap.signed("gp", request(
        "DeclareInclusion", PatientSsin=patient, PsiNihii=psi, Status="information", StartDate=start, EndDate=end,
        ResearchConsent={"Decision": "agree", "Date": start})), action="DeclareInclusion"))
    assert (fault["Code"], fault["Rule"]) == ("end-before-start", "IC-R3")
    same_but_channel(fhir, last_record(live))
    assert fhir["outcome"] == "refused"


def test_IC_F2_a_consult_records_the_same_detail_on_both_faces(live, fhir_token, soap, personas):
    patient = personas["patient"].niss
    answer = httpx.get(live.url(f"/fhir/EpisodeOfCare?patient-identifier={SSIN_SYSTEM}|{patient}"), timeout=30,
                       headers={"Authorization": f"Bearer {fhir_token('gp')}"})
    assert answer.status_code == 200
    fhir = last_record(live)
    soap.service("gp").GetPatientInclusions(PatientSsin=patient)
    same_but_channel(fhir, last_record(live))
    assert fhir["action"] == "inclusion.consult" and "returned" in fhir["detail"]


def test_IC_F4_the_coordinators_list_is_one_act_on_both_faces(live, fhir_token, soap, personas):
    answer = httpx.get(live.url("/fhir/EpisodeOfCare?_count=5"), timeout=30,
                       headers={"Authorization": f"Bearer {fhir_token('psi-coordinator')}"})
    assert answer.status_code == 200
    fhir = last_record(live)
    soap.service("psi-coordinator").ListPsiPatients(PageSize=5)
    soap_record = last_record(live)
    assert fhir["action"] == soap_record["action"] == "inclusion.list-patients"
    assert set(fhir["detail"]) == set(soap_record["detail"]) == {"psi", "page_size", "returned"}
    assert (fhir["rule"], fhir["detail"]["psi"]) == (soap_record["rule"], soap_record["detail"]["psi"])
