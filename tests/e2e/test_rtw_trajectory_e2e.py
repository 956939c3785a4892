"""One return-to-work trajectory driven through both faces with the tokens
of every party (insurer staff from eHealth, the regional counsellor and list
manager from the crossroads bank's IdP, INAMI's expert and inspector), and
what each of them sees and may not see at each step:

FHIR open -> SOAP form -> FHIR regional request (RP-F3, RF-2) -> SOAP
validation (RP-F4) -> FHIR decision (RP-F5) -> the weekly run, twice ->
lists on both faces (RP-F7) -> messages and the medical exchange across faces
(RP-F6, RP-F8, RP-A6) -> statistics (RP-R3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gateway.domain.rtw.requests import iso_week
from gateway.fhir.resources.rtw_request import STEP_SYSTEM
from tests.fhir.test_fhir_rtw import as_, cast, token  # noqa: F401  (module fixtures: personas over HTTP)
from tests.fhir.test_fhir_rtw import dossier as dossier_body, refusal
from tests.fhir.test_fhir_rtw_trajectory import message, request_body
from tests.soap.conftest import refused
from tests.soap.test_soap_rtw import fill, soap_clients


def test_rp_f3_to_rp_f9_one_trajectory_through_both_faces_with_every_party(live, as_, cast, personas) -> None:  # type: ignore[no-untyped-def]
    soap = soap_clients(live, personas)
    opened = as_("oa-rtw-coordinator").post("EpisodeOfCare", dossier_body(cast.insured)).json()
    dossier = opened["id"][len("rtw-"):]
    form = soap("oa-physician").FillForm(DossierId=dossier, **fill(PhysicianExpectations="Part-time first")).Form[0]

    # RP-F3: the regional counsellor (crossroads bank's IdP) files on FHIR; the list manager reads it on SOAP
    filed = as_("reg-counsellor").post("ServiceRequest", request_body(opened["id"], cast.insured, form_id=form.FormId))
    assert filed.status_code == 201, filed.text
    rid = filed.json()["id"][len("rtw-"):]
    seen = soap("reg-list-manager").GetRequest(RequestId=rid).Request[0]
    assert (seen.Status, seen.FormId) == ("awaiting-validation", form.FormId)
    for key, rule in (("prev-nurse", "RF-2"), ("reg-counsellor-forem", "RP-A2"), ("oa-physician-other", "RP-A1")):
        assert refusal(as_(key).get(f"ServiceRequest/rtw-{rid}"), 403)["rule"] == rule
    assert refused(soap("inami-expert").RecordDecision, RequestId=rid, Outcome="approved")["Code"] == "not-received"

    # RP-F4: the insurer's coordinator validates on SOAP; the counsellor cannot
    assert refused(soap("reg-counsellor").ValidateRequest, RequestId=rid, Accept=True)["Rule"] == "RP-F4"
    assert soap("oa-rtw-coordinator").ValidateRequest(RequestId=rid, Accept=True).Request[0].Status == "submitted"

    # RP-F5: INAMI's inspector decides on FHIR; nobody else sees it before the run
    task = as_("inami-inspector").get(f"Task/rtw-decision-{rid}").json()
    decided = as_("inami-inspector").put(f"Task/rtw-decision-{rid}", {**task, "status": "completed", "output": [
        {"type": {"text": "outcome"}, "valueCode": "approved"},
        {"type": {"text": "costs-granted"}, "valueMoney": {"value": 2500.0, "currency": "EUR"}}]})
    assert decided.status_code == 200, decided.text
    assert soap("inami-expert").GetRequest(RequestId=rid).Request[0].Decision.Outcome == "approved"
    for key in ("reg-counsellor", "oa-rtw-coordinator"):
        assert soap(key).GetRequest(RequestId=rid).Request[0].Decision is None
    week = iso_week(live.clock.now())
    first = live.gw.return_to_work.decisions.run(week)
    second = live.gw.return_to_work.decisions.run(week)
    assert (first.published, second.published, second.already) == (1, 0, 1)

    # RP-F7: the decision reaches the party that asked and the insurer, in the dossier and in their lists
    assert as_("reg-counsellor").get(f"ServiceRequest/rtw-{rid}").json()["status"] == "completed"
    line, = soap("reg-list-manager").GetDecisionList(WeekFrom=week).Line
    assert (line.RequestId, line.CostsGranted) == (rid, Decimal("2500.00"))
    fhir_lines = as_("reg-list-manager").get("Task", code=f"{STEP_SYSTEM}|decision", week=week).json()["entry"]
    assert [e["resource"]["focus"]["reference"] for e in fhir_lines] == [f"ServiceRequest/rtw-{rid}"]
    assert [x.RequestId for x in soap("oa-team").GetDecisionList(WeekFrom=week).Line] == [rid]
    assert soap("reg-counsellor-forem").GetDecisionList(WeekFrom=week).Line == []
    assert refused(soap("prev-admin").GetDecisionList, WeekFrom=week)["Rule"] == "RP-F7"
    text = str(soap("reg-list-manager").GetDecisionList(WeekFrom=week)) + str(fhir_lines)
    assert "Part-time first" not in text  # no medical information in any list

    # RP-F8, RP-A6: the advising physician's medical data (SOAP) reach INAMI's inspector (FHIR), nobody else
    medical = soap("oa-physician").SendMedicalData(DossierId=dossier, Body="Chronic low back pain").Message[0]
    assert as_("inami-inspector").get(f"Communication/rtw-{medical.MessageId}").status_code == 200
    assert refusal(as_("inami-expert").get(f"Communication/rtw-{medical.MessageId}"), 403)["rule"] == "RP-A6"
    for key in ("reg-list-manager", "oa-rtw-coordinator"):
        assert refused(soap(key).GetMessage, MessageId=medical.MessageId)["Rule"] == "RP-A6"

    # RP-F6: the counsellor writes to INAMI (FHIR); INAMI's expert reads it (SOAP); the insurer does not see it
    note = as_("reg-counsellor").post("Communication", message(opened["id"], "inami", "The trainee starts Monday"))
    assert note.status_code == 201, note.text
    bodies = [m.Body for m in soap("inami-expert").GetDossierMessages(DossierId=dossier).Message]
    assert bodies == ["The trainee starts Monday"]
    assert soap("oa-team").GetDossierMessages(DossierId=dossier).Message == []
    seen_by_insurer: Any = as_("oa-team").get("Communication", about=opened["id"]).json()
    assert not seen_by_insurer.get("entry")

    # RP-F9 and RP-R3: the TRIO link for the insurer only; statistics for INAMI only
    assert soap("oa-rtw-coordinator").GetTrioLink(DossierId=dossier).TrioDossier is True
    assert refused(soap("reg-list-manager").GetTrioLink, DossierId=dossier)["Rule"] == "RP-F9"
    month = live.clock.today().strftime("%Y-%m")
    assert as_("inami-expert").get("MeasureReport", period=month).status_code == 200
    assert refusal(as_("reg-list-manager").get("MeasureReport", period=month), 403)["rule"] == "RP-R3"
