"""The trajectory in the domain: requests (RP-F3, RF-2), validation (RP-F4),
decisions and the weekly run (RP-F5), lists (RP-F7), messages (RP-F6), the
medical exchange (RP-F8, RP-A6), the TRIO link (RP-F9), statistics (RP-R3),
and retention of it all with the dossier (RP-R1)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from gateway.domain.errors import AccessDenied, InvalidInput
from gateway.domain.model import AuditRecord
from gateway.domain.rtw.decisions import RecordDecision
from gateway.domain.rtw.forms import FillForm
from gateway.domain.rtw.requests import FileRequest, TrainingItem
from gateway.domain.rtw.service import ReturnToWork
from gateway.domain.rtw.statistics import COMPLEMENTARY, PRIMARY, Cell, suppress
from gateway.domain.rtw.trajectory_model import RtwPublication, RtwRequest

WEEK = "2026-W25"  # the test clock's week (15 June 2026)
TRAININGS = (TrainingItem("Logistics planner", 120, 250_000, "Syntra"), TrainingItem("Forklift licence", 16, 40_000))


class Boom(Exception):
    pass


@pytest.fixture
def dossier(rtw: ReturnToWork, sandbox, who):  # type: ignore[no-untyped-def]
    return rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.insured)[0]


@pytest.fixture
def form(rtw: ReturnToWork, dossier, who):  # type: ignore[no-untyped-def]
    return rtw.forms.fill(who("oa-physician"), FillForm(dossier.id, "insurer", date(2025, 3, 3), expectations="A training", coordinator_name="An Peeters"))


def regional_request(rtw: ReturnToWork, who, dossier_id: str):  # type: ignore[no-untyped-def]
    return rtw.requests.file(who("reg-counsellor"), FileRequest(dossier_id, "training", "Become a logistics planner",
                                                                TRAININGS, counsellor_name="Jan Smet"))


def test_rp_f3_rf_2_the_regional_counsellor_files_on_a_valid_form_only(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AccessDenied) as refused:
        regional_request(rtw, who, dossier.id)
    assert (refused.value.rule, refused.value.code) == ("RP-F3", "valid-form-required")
    rtw.forms.fill(who("oa-physician"), FillForm(dossier.id, "insurer", date(2025, 3, 3), expectations="A training", coordinator_name="An Peeters"))
    filed = regional_request(rtw, who, dossier.id)
    assert filed.status == "awaiting-validation" and filed.filed_by_party == "regional"
    assert [t.title for t in filed.trainings] == ["Logistics planner", "Forklift licence"]
    assert filed.costs_requested_cents == 290_000 and filed.counsellor_name == "Jan Smet"
    assert [(s.step, s.status, s.rule) for s in filed.steps] == [("filed", "awaiting-validation", "RP-F3")]
    assert filed.form_id is not None and filed.regional_cbe == who("reg-counsellor").organisation_cbe


def test_rf_2_a_request_is_seen_by_its_parties_only(rtw: ReturnToWork, dossier, form, who) -> None:  # type: ignore[no-untyped-def]
    filed = regional_request(rtw, who, dossier.id)
    for key in ("reg-counsellor", "reg-list-manager", "oa-rtw-coordinator", "inami-expert"):
        assert rtw.requests.read(who(key), filed.id).id == filed.id
    with pytest.raises(AccessDenied) as refused:
        rtw.requests.read(who("prev-nurse"), filed.id)  # sees the dossier (RP-A3), not a party to the request
    assert refused.value.rule == "RF-2"
    with pytest.raises(AccessDenied) as other:
        rtw.requests.read(who("reg-counsellor-forem"), filed.id)
    assert other.value.rule == "RP-A2"
    assert rtw.requests.of_dossier(who("prev-nurse"), dossier.id) == []


def test_rp_f4_the_insurer_validates_a_regional_request_before_inami(rtw: ReturnToWork, dossier, form, who, gw) -> None:  # type: ignore[no-untyped-def]
    filed = regional_request(rtw, who, dossier.id)
    with pytest.raises(InvalidInput) as early:
        rtw.decisions.record(who("inami-expert"), RecordDecision(filed.id, "approved", 100_000))
    assert (early.value.rule, early.value.code) == ("RP-F5", "not-received")
    with pytest.raises(AccessDenied) as counsellor:
        rtw.requests.validate(who("reg-counsellor"), filed.id, accept=True)
    assert counsellor.value.rule == "RP-F4"
    with pytest.raises(AccessDenied) as other:
        rtw.requests.validate(who("oa-physician-other"), filed.id, accept=True)
    assert other.value.rule == "RP-A1"
    validated = rtw.requests.validate(who("oa-rtw-coordinator"), filed.id, accept=True, version=filed.version)
    assert validated.status == "submitted" and validated.received_at is not None and validated.version > filed.version
    assert [s.step for s in validated.steps] == ["filed", "validated"]
    with pytest.raises(InvalidInput) as twice:
        rtw.requests.validate(who("oa-rtw-coordinator"), filed.id, accept=True)
    assert (twice.value.rule, twice.value.code) == ("RP-F4", "not-awaiting-validation")
    with gw.ctx.db.transaction() as s:
        acts = s.execute(select(AuditRecord.action, AuditRecord.outcome, AuditRecord.rule)
                         .where(AuditRecord.action.like("rtw.request.%"))).all()
    assert ("rtw.request.validate", "allowed", "RP-F4") in acts and ("rtw.request.validate", "denied", "RP-F4") in acts


def test_rp_f4_a_rejected_request_says_why(rtw: ReturnToWork, dossier, form, who) -> None:  # type: ignore[no-untyped-def]
    filed = regional_request(rtw, who, dossier.id)
    with pytest.raises(InvalidInput):
        rtw.requests.validate(who("oa-team"), filed.id, accept=False)
    rejected = rtw.requests.validate(who("oa-team"), filed.id, accept=False, note="Not in the target group")
    assert rejected.status == "rejected" and rejected.steps[-1].note == "Not in the target group"


def test_rp_f4_the_insurers_own_request_goes_straight_to_inami_without_a_form(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    filed = rtw.requests.file(who("oa-rtw-coordinator"), FileRequest(dossier.id, "coaching", "Job coaching", TRAININGS[:1]))
    assert filed.status == "submitted" and filed.form_id is None and filed.filed_by_party == "insurer"
    assert [(s.step, s.rule) for s in filed.steps] == [("filed", "RP-F4")]


def _submitted(rtw: ReturnToWork, who, dossier_id: str):  # type: ignore[no-untyped-def]
    filed = regional_request(rtw, who, dossier_id)
    return rtw.requests.validate(who("oa-rtw-coordinator"), filed.id, accept=True)


def test_rp_f5_the_decision_is_inamis_until_the_weekly_run_publishes_it(rtw: ReturnToWork, dossier, form, who) -> None:  # type: ignore[no-untyped-def]
    request = _submitted(rtw, who, dossier.id)
    with pytest.raises(AccessDenied) as insurer:
        rtw.decisions.record(who("oa-physician"), RecordDecision(request.id, "approved", 100_000))
    assert insurer.value.rule == "RP-F5"
    with pytest.raises(InvalidInput) as too_much:
        rtw.decisions.record(who("inami-expert"), RecordDecision(request.id, "approved", 300_000))
    assert too_much.value.code == "invalid-costs-granted"
    decided = rtw.decisions.record(who("inami-expert"), RecordDecision(request.id, "approved", 250_000))
    assert decided.status == "decided" and decided.decision is not None and decided.decision.published_at is None
    unpublished = rtw.requests.read(who("reg-counsellor"), request.id)
    assert unpublished.status == "submitted" and unpublished.decision is None  # not yet published
    assert rtw.lists.decisions(who("reg-list-manager"), WEEK).lines == ()
    seen: list[tuple[int, int]] = []
    report = rtw.decisions.run(WEEK, progress=lambda done, total: seen.append((done, total)))
    assert (report.published, seen[-1]) == (1, (1, 1))
    published = rtw.requests.read(who("reg-counsellor"), request.id)
    assert published.status == "approved" and published.decision.costs_granted_cents == 250_000  # type: ignore[union-attr]
    assert published.steps[-1].step == "published"
    line, = rtw.lists.decisions(who("reg-list-manager"), WEEK).lines
    assert (line.request_id, line.outcome, line.costs_granted_cents, line.costs_requested_cents) == (
        request.id, "approved", 250_000, 290_000)
    assert len(rtw.lists.decisions(who("oa-team"), WEEK).lines) == 1  # the insurer's list
    assert rtw.lists.decisions(who("reg-counsellor-forem"), WEEK).lines == ()  # filtered for each recipient


def test_rp_f5_a_second_run_of_the_same_week_changes_nothing(rtw: ReturnToWork, dossier, form, who, gw) -> None:  # type: ignore[no-untyped-def]
    request = _submitted(rtw, who, dossier.id)
    rtw.decisions.record(who("inami-inspector"), RecordDecision(request.id, "refused", reason="No work potential"))
    assert rtw.decisions.run(WEEK).published == 1
    before = rtw.requests.read(who("inami-expert"), request.id)
    again = rtw.decisions.run(WEEK)
    assert (again.published, again.already) == (0, 1)
    after = rtw.requests.read(who("inami-expert"), request.id)
    assert (after.version, after.steps, after.status) == (before.version, before.steps, "refused")
    with gw.ctx.db.transaction() as s:
        assert s.execute(select(func.count()).select_from(RtwPublication)).scalar_one() == 2  # requester and insurer


def test_rp_f5_a_run_killed_midway_and_rerun_publishes_each_decision_once(rtw: ReturnToWork, dossier, form, who, gw) -> None:  # type: ignore[no-untyped-def]
    ids = []
    for _ in range(7):
        request = _submitted(rtw, who, dossier.id)
        rtw.decisions.record(who("inami-expert"), RecordDecision(request.id, "approved", 1000))
        ids.append(request.id)

    def fail_at_five(n: int) -> None:
        if n == 5:
            raise Boom()

    with pytest.raises(Boom):
        rtw.decisions.run(WEEK, batch_size=2, after_publication=fail_at_five)
    with gw.ctx.db.transaction() as s:
        assert s.execute(select(func.count(func.distinct(RtwPublication.decision_id)))).scalar_one() == 4  # two whole batches
    rerun = rtw.decisions.run(WEEK, batch_size=2)
    assert (rerun.published, rerun.already) == (3, 4)
    with gw.ctx.db.transaction() as s:
        per_decision = s.execute(select(RtwPublication.decision_id, func.count()).group_by(RtwPublication.decision_id)).all()
        steps = s.execute(select(RtwRequest)).scalars().all()
        assert len(per_decision) == 7 and {n for _, n in per_decision} == {2}
        assert all([x.step for x in r.steps].count("published") == 1 for r in steps if r.id in ids)


def test_rp_f7_hours_are_reported_by_the_regional_service_and_listed_per_party(rtw: ReturnToWork, dossier, form, who, clock) -> None:  # type: ignore[no-untyped-def]
    request = _submitted(rtw, who, dossier.id)
    training = request.trainings[0]
    with pytest.raises(InvalidInput) as early:
        rtw.lists.report_hours(who("reg-counsellor"), training.id, date(2026, 6, 10), 8)
    assert early.value.code == "not-approved"
    rtw.decisions.record(who("inami-expert"), RecordDecision(request.id, "approved", 290_000))
    rtw.decisions.run(WEEK)
    with pytest.raises(AccessDenied) as insurer:
        rtw.lists.report_hours(who("oa-team"), training.id, date(2026, 6, 10), 8)
    assert insurer.value.rule == "RP-F7"
    rtw.lists.report_hours(who("reg-list-manager"), training.id, date(2026, 6, 10), 8)
    rtw.lists.report_hours(who("reg-counsellor"), training.id, date(2026, 6, 11), 6)
    for key in ("reg-list-manager", "oa-rtw-coordinator", "inami-expert"):
        line, = rtw.lists.hours(who(key), date(2026, 6, 1), date(2026, 6, 30)).lines
        assert (line.training_id, line.hours_planned, line.hours_performed) == (training.id, 120, 14)
    assert rtw.lists.hours(who("reg-counsellor-forem"), date(2026, 6, 1), date(2026, 6, 30)).lines == ()
    with pytest.raises(AccessDenied) as prevention:
        rtw.lists.hours(who("prev-physician"), date(2026, 6, 1), date(2026, 6, 30))
    assert prevention.value.rule == "RP-F7"
    assert rtw.requests.read(who("reg-counsellor"), request.id).trainings[0].hours_performed == 14
    fields = set(rtw.lists.hours(who("inami-expert"), date(2026, 6, 1), date(2026, 6, 30)).lines[0].__dataclass_fields__)
    assert not fields & {"functional_capacities", "physician_expectations", "body", "reason"}  # no medical information


def test_rp_f6_a_message_is_seen_by_the_two_parties_of_its_conversation_only(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    insurer = who("oa-rtw-coordinator").organisation_cbe
    sent = rtw.messages.send(who("reg-counsellor"), dossier.id, insurer, "Can we meet about the training?", subject="Training")
    assert (sent.sender, sent.recipient) == (who("reg-counsellor").organisation_cbe, insurer)
    assert [m.id for m in rtw.messages.of_dossier(who("oa-team"), dossier.id)] == [sent.id]
    assert rtw.messages.read(who("reg-list-manager"), sent.id).body.startswith("Can we")
    for key, rule in (("prev-nurse", "RP-F6"), ("inami-expert", "RP-F6"), ("reg-counsellor-forem", "RP-A2")):
        with pytest.raises(AccessDenied) as refused:
            rtw.messages.read(who(key), sent.id)
        assert refused.value.rule == rule
    assert rtw.messages.of_dossier(who("prev-nurse"), dossier.id) == []
    assert rtw.messages.of_dossier(who("inami-expert"), dossier.id) == []
    to_inami = rtw.messages.send(who("oa-team"), dossier.id, "inami", "The request is on its way.")
    assert [m.id for m in rtw.messages.of_dossier(who("inami-expert"), dossier.id)] == [to_inami.id]
    with pytest.raises(AccessDenied) as stranger:
        rtw.messages.send(who("oa-team"), dossier.id, "0999999999", "Hello")
    assert stranger.value.code == "not-a-party-of-the-dossier"


def test_rp_f8_rp_a6_medical_data_reach_the_inspector_and_nobody_else(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AccessDenied) as team:
        rtw.messages.send_medical(who("oa-team"), dossier.id, "Diagnosis ...")
    assert team.value.rule == "RP-F8"
    sent = rtw.messages.send_medical(who("oa-physician"), dossier.id, "Chronic low back pain; no lifting.")
    assert (sent.kind, sent.recipient) == ("medical", "inami")
    assert rtw.messages.read(who("inami-inspector"), sent.id).body.startswith("Chronic")
    assert rtw.messages.read(who("oa-physician"), sent.id).id == sent.id
    for key in ("inami-expert", "oa-rtw-coordinator", "oa-team", "reg-counsellor", "prev-physician", "prev-nurse"):
        with pytest.raises(AccessDenied) as refused:
            rtw.messages.read(who(key), sent.id)
        assert refused.value.rule == "RP-A6", key
        assert all(m.kind != "medical" for m in rtw.messages.of_dossier(who(key), dossier.id))
    assert [m.id for m in rtw.messages.of_dossier(who("inami-inspector"), dossier.id)] == [sent.id]


def test_rp_f9_the_trio_link_is_told_to_users_of_both_platforms_only(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    assert rtw.trio_link.exists(who("oa-rtw-coordinator"), dossier.id) is True
    assert rtw.trio_link.exists(who("prev-nurse"), dossier.id) is True
    for key in ("reg-counsellor", "inami-expert"):
        with pytest.raises(AccessDenied) as refused:
            rtw.trio_link.exists(who(key), dossier.id)
        assert refused.value.rule == "RP-F9"


def test_rp_r3_small_cells_are_suppressed_and_so_is_any_cell_that_would_give_them_away() -> None:
    cells = [Cell("brussels", 12, 3, 20, 100), Cell("flanders", 30, 9, 40, 300), Cell("wallonia", 2, 1, 2, 8)]
    total = Cell("total", 44, 13, 62, 408)
    shown, kept_total = suppress(cells, total, 5)
    by = {c.value: c for c in shown}
    assert by["wallonia"].suppressed == PRIMARY and by["wallonia"].requests is None
    assert by["brussels"].suppressed == COMPLEMENTARY and by["brussels"].hours is None  # else 44 - 30 - 12 = 2
    assert by["flanders"].requests == 30 and kept_total.requests == 44
    only, hidden_total = suppress([Cell("flanders", 30, 0, 0, 0), Cell("wallonia", 3, 0, 0, 0)], Cell("total", 33, 0, 0, 0), 5)
    assert [c.suppressed for c in only] == [COMPLEMENTARY, PRIMARY] and hidden_total.requests == 33
    alone, total_hidden = suppress([Cell("wallonia", 3, 0, 0, 0)], Cell("total", 3, 0, 0, 0), 5)
    assert alone[0].suppressed == PRIMARY and total_hidden.suppressed == PRIMARY


def test_rp_r3_inami_gets_the_statistics_with_the_small_cell_check(rtw: ReturnToWork, dossier, form, who) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        regional_request(rtw, who, dossier.id)
    release = rtw.statistics.release(who("inami-expert"), "2026-06", by="kind")
    group, = release.groups
    assert group.period == "2026-06" and group.total.suppressed == PRIMARY and group.total.requests is None  # 3 < 5
    with pytest.raises(AccessDenied) as insurer:
        rtw.statistics.release(who("oa-team"), "2026-06")
    assert insurer.value.rule == "RP-R3"


def test_rp_r1_the_trajectory_is_purged_with_its_dossier(rtw: ReturnToWork, dossier, form, who, gw, clock) -> None:  # type: ignore[no-untyped-def]
    request = _submitted(rtw, who, dossier.id)
    rtw.messages.send(who("oa-team"), dossier.id, "inami", "Hello")
    clock.advance(timedelta(days=366 * 5))
    report = rtw.purge()
    assert dossier.id in report.dossiers
    with gw.ctx.db.transaction() as s:
        assert s.get(RtwRequest, request.id) is None


def test_rp_r3_a_small_cell_is_suppressed_and_the_cell_that_would_give_it_away_through_the_total(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    for kind, count in (("training", 6), ("coaching", 2)):
        for _ in range(count):
            rtw.requests.file(who("oa-rtw-coordinator"), FileRequest(dossier.id, kind, "A project", TRAININGS[:1]))
    group, = rtw.statistics.release(who("inami-inspector"), "2026-06", by="kind").groups
    cells = {c.value: c for c in group.cells}
    assert (cells["coaching"].suppressed, cells["coaching"].requests) == (PRIMARY, None)  # 2 < 5
    assert (cells["training"].suppressed, cells["training"].trainings) == (COMPLEMENTARY, None)  # else 8 - 6 = 2
    assert (group.total.requests, group.total.trainings, group.total.suppressed) == (8, 8, None)
    exported = rtw.statistics.export("2026-06", by="kind")
    assert exported.groups == (group,)  # the CLI export releases the same table


def test_rp_r3_the_small_cell_threshold_is_a_setting(gw, state, dossier, who) -> None:  # type: ignore[no-untyped-def]
    """A statistics office sets its own threshold (CARE_GATEWAY_RTW_SMALL_CELL);
    below 2 nothing would be suppressed, so the gateway refuses to start with it."""
    from gateway.config import Settings
    from gateway.domain.rtw.policy import SignIn
    from gateway.ehealth.rtw.facts import SandboxPartnerSources, SandboxTrio
    from tests.domain.rtw.conftest import BCSS, EHEALTH

    assert Settings.from_env({"CARE_GATEWAY_RTW_SMALL_CELL": "3"}).rtw_small_cell == 3
    assert Settings.from_env({}).rtw_small_cell == 5
    for wrong in ("1", "0", "-4", "five", ""):
        with pytest.raises(ValueError, match="CARE_GATEWAY_RTW_SMALL_CELL"):
            Settings.from_env({"CARE_GATEWAY_RTW_SMALL_CELL": wrong})
    strict = ReturnToWork(gw.ctx, SandboxPartnerSources(state), SandboxTrio(state), SignIn(frozenset({BCSS}), frozenset({EHEALTH})),
                            small_cell=3)
    for _ in range(3):
        strict.requests.file(who("oa-rtw-coordinator"), FileRequest(dossier.id, "training", "A project", TRAININGS[:1]))
    group, = strict.statistics.release(who("inami-inspector"), "2026-06", by="kind").groups
    assert (group.total.requests, group.total.suppressed) == (3, None)  # 3 is not below 3: released
