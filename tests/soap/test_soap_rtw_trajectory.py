"""The trajectory through ReturnToWork v1 (zeep clients of the published
?wsdl, STS tokens of eHealth's STS and of the crossroads bank's for the
regional service, every answer valid against ReturnToWork-v1.xsd):
requests (RP-F3, RF-2), validation (RP-F4), decisions and their weekly
publication (RP-F5), lists (RP-F7), messages (RP-F6), the medical exchange
(RP-F8, RP-A6), the TRIO link (RP-F9), statistics (RP-R3)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from gateway.domain.model import AuditRecord
from gateway.domain.rtw.requests import iso_week
from tests.soap.conftest import refused
from tests.soap.test_soap_rtw import fill, soap_clients

TRAININGS = [{"Title": "Logistics planner", "Provider": "Syntra", "HoursPlanned": 120, "Cost": Decimal("2500.00")},
             {"Title": "Forklift licence", "HoursPlanned": 16, "Cost": Decimal("400.00")}]


@pytest.fixture(scope="module")
def rtw(live, personas):  # type: ignore[no-untyped-def]
    return soap_clients(live, personas)


@pytest.fixture(scope="module")
def dossier(live, rtw) -> Any:  # type: ignore[no-untyped-def]
    from gateway.ehealth.rtw.state import rtw_state

    cast = rtw_state(live.platform).sandbox.cast
    opened = rtw("oa-rtw-coordinator").OpenDossier(InsuredSsin=cast.insured).Dossier[0]
    rtw("oa-physician").FillForm(DossierId=opened.DossierId, **fill())
    return opened


@pytest.fixture(scope="module")
def regional(rtw, dossier) -> Any:  # type: ignore[no-untyped-def]
    """A regional counsellor's request, on the dossier's form."""
    answer = rtw("reg-counsellor").FileRequest(DossierId=dossier.DossierId, Kind="training",
                                               Project="Become a logistics planner", CounsellorName="Jan Smet",
                                               Training=TRAININGS)
    return answer.Request[0]


def test_rp_f3_rf_2_the_regional_counsellor_files_a_request_its_parties_see_it(rtw, regional, dossier) -> None:  # type: ignore[no-untyped-def]
    assert (regional.Status, regional.Kind, regional.FiledBy.Party) == ("awaiting-validation", "training", "regional")
    assert [t.Title for t in regional.Training] == ["Logistics planner", "Forklift licence"]
    assert regional.Training[0].Cost == Decimal("2500.00") and regional.FormId
    assert [(s.Step, s.Rule) for s in regional.Step] == [("filed", "RP-F3")]
    assert rtw("oa-team").GetRequest(RequestId=regional.RequestId).Request[0].RequestId == regional.RequestId
    assert refused(rtw("prev-nurse").GetRequest, RequestId=regional.RequestId)["Rule"] == "RF-2"
    assert refused(rtw("reg-counsellor-forem").GetRequest, RequestId=regional.RequestId)["Rule"] == "RP-A2"
    fault = refused(rtw("prev-physician").FileRequest, DossierId=dossier.DossierId, Kind="coaching", Project="x",
                    Training=TRAININGS[:1])
    assert (fault["Rule"], fault["Code"]) == ("RP-F3", "request-not-allowed")


def test_rp_f4_the_insurer_validates_and_its_own_request_goes_straight_to_inami(rtw, regional, dossier) -> None:  # type: ignore[no-untyped-def]
    assert refused(rtw("reg-counsellor").ValidateRequest, RequestId=regional.RequestId, Accept=True)["Rule"] == "RP-F4"
    validated = rtw("oa-rtw-coordinator").ValidateRequest(RequestId=regional.RequestId, Accept=True,
                                                           Version=regional.Version).Request[0]
    assert validated.Status == "submitted" and validated.ReceivedAt and [s.Step for s in validated.Step] == ["filed", "validated"]
    own = rtw("oa-rtw-coordinator").FileRequest(DossierId=dossier.DossierId, Kind="coaching", Project="Job coaching",
                                                Training=TRAININGS[1:]).Request[0]
    assert (own.Status, own.FiledBy.Party, own.Step[0].Rule) == ("submitted", "insurer", "RP-F4")


def test_rp_f5_inami_decides_and_the_weekly_run_publishes(live, rtw, regional) -> None:  # type: ignore[no-untyped-def]
    fault = refused(rtw("inami-expert").RecordDecision, RequestId=regional.RequestId, Outcome="approved",
                    CostsGranted=Decimal("9999.00"))
    assert (fault["Rule"], fault["Code"]) == ("RP-F5", "invalid-costs-granted")
    decided = rtw("inami-expert").RecordDecision(RequestId=regional.RequestId, Outcome="approved",
                                                 CostsGranted=Decimal("2000.00")).Request[0]
    assert decided.Status == "decided" and decided.Decision.PublishedAt is None
    before = rtw("reg-counsellor").GetRequest(RequestId=regional.RequestId).Request[0]
    assert before.Status == "submitted" and before.Decision is None
    week = iso_week(live.clock.now())
    assert live.gw.return_to_work.decisions.run(week).published == 1
    assert live.gw.return_to_work.decisions.run(week).published == 0
    after = rtw("reg-counsellor").GetRequest(RequestId=regional.RequestId).Request[0]
    assert after.Status == "approved" and after.Decision.CostsGranted == Decimal("2000.00")
    line, = rtw("reg-list-manager").GetDecisionList(WeekFrom=week).Line
    assert (line.RequestId, line.Outcome, line.CostsRequested) == (regional.RequestId, "approved", Decimal("2900.00"))
    assert rtw("reg-counsellor-forem").GetDecisionList(WeekFrom=week).Line == []


def test_rp_f7_the_regional_service_reports_hours_each_party_lists_its_own(live, rtw, regional) -> None:  # type: ignore[no-untyped-def]
    training = regional.Training[0].TrainingId
    today = live.clock.today()
    assert refused(rtw("oa-team").ReportHours, TrainingId=training, PerformedOn=today, Hours=8)["Rule"] == "RP-F7"
    rtw("reg-counsellor").ReportHours(TrainingId=training, PerformedOn=today, Hours=8)
    for key in ("reg-list-manager", "oa-rtw-coordinator", "inami-expert"):
        line, = rtw(key).GetHoursList(From=today - timedelta(days=7), To=today).Line
        assert (line.TrainingId, line.HoursPerformed) == (training, 8)
    assert refused(rtw("prev-admin").GetHoursList, From=today, To=today)["Rule"] == "RP-F7"


def test_rp_f6_a_message_is_seen_by_the_two_parties_of_its_conversation_only(rtw, dossier) -> None:  # type: ignore[no-untyped-def]
    insurer = next(p.Cbe for p in dossier.Partner if p.Role == "insurer")
    sent = rtw("reg-counsellor").SendMessage(DossierId=dossier.DossierId, Recipient=insurer, Subject="Training",
                                             Body="Can we meet?").Message[0]
    assert rtw("oa-team").GetMessage(MessageId=sent.MessageId).Message[0].Body == "Can we meet?"
    assert refused(rtw("prev-nurse").GetMessage, MessageId=sent.MessageId)["Rule"] == "RP-F6"
    assert refused(rtw("inami-expert").GetMessage, MessageId=sent.MessageId)["Rule"] == "RP-F6"
    assert rtw("inami-expert").GetDossierMessages(DossierId=dossier.DossierId).Message == []


def test_rp_f8_medical_data_reach_inamis_inspector_and_nobody_else(rtw, dossier) -> None:  # type: ignore[no-untyped-def]
    assert refused(rtw("oa-team").SendMedicalData, DossierId=dossier.DossierId, Body="x")["Rule"] == "RP-F8"
    sent = rtw("oa-physician").SendMedicalData(DossierId=dossier.DossierId, Body="Chronic low back pain").Message[0]
    assert (sent.Kind, sent.Recipient) == ("medical", "inami")
    assert rtw("inami-inspector").GetMessage(MessageId=sent.MessageId).Message[0].Body == "Chronic low back pain"
    for key in ("inami-expert", "oa-rtw-coordinator", "reg-counsellor", "prev-physician"):
        assert refused(rtw(key).GetMessage, MessageId=sent.MessageId)["Rule"] == "RP-A6", key


def test_rp_f9_the_trio_link_for_users_of_both_platforms(rtw, dossier) -> None:  # type: ignore[no-untyped-def]
    assert rtw("oa-rtw-coordinator").GetTrioLink(DossierId=dossier.DossierId).TrioDossier is True
    assert refused(rtw("reg-counsellor").GetTrioLink, DossierId=dossier.DossierId)["Rule"] == "RP-F9"


def test_rp_r3_statistics_for_inami_with_the_small_cell_check(live, rtw, regional) -> None:  # type: ignore[no-untyped-def]
    month = live.clock.today().strftime("%Y-%m")
    answer = rtw("inami-expert").GetStatistics(From=month, By="kind")
    group, = answer.Group
    assert answer.Threshold == 5 and group.Total.Suppressed == "primary" and group.Total.Requests is None
    assert refused(rtw("oa-team").GetStatistics, From=month, By="kind")["Rule"] == "RP-R3"


def test_rp_r2_every_trajectory_act_is_audited_on_soap(live, rtw, regional) -> None:  # type: ignore[no-untyped-def]
    with live.gw.db.transaction() as s:
        actions = set(s.execute(select(AuditRecord.action).where(AuditRecord.channel == "soap",
                                                                 AuditRecord.action.like("rtw.%"))).scalars())
    assert {"rtw.request.file", "rtw.request.read"} <= actions
    assert rtw.schema.checked > 0  # type: ignore[attr-defined]
