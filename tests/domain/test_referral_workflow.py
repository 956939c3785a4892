"""The referral workflow (RF-1): the requester's steps of the referral
(request-status) and each performer's steps of its own Task (task-status),
who may and who may not take each, several performers, revocation, expiry;
every version kept and read under RF-4; programme guards (PN-2's hook)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain.errors import AccessDenied, DomainError, InvalidInput, NotFound
from gateway.domain.model import AuditRecord
from gateway.domain.referrals import PerformerSpec, ReferralSpec

PARTIES = {"requester": "gp", "performer": "nurse", "other performer": "pharmacist", "unrelated professional": "gp-no-link",
           "patient": "patient"}
# the stable refusal of each party that is not the one a step belongs to
REFUSED = {"requester": ("not-the-right-party", "RF-1"), "performer": ("not-the-right-party", "RF-1"),
           "other performer": ("not-the-right-party", "RF-1"), "unrelated professional": ("not-a-party", "RF-4"),
           "patient": ("not-the-right-party", "RF-1")}


def spec(personas, *, status: str = "active", until: date = date(2026, 9, 30), programme: str = "general") -> ReferralSpec:
    """gp refers patient to the nurse and to pharmacy A (the pharmacist's) (RF-1: several performers)."""
    return ReferralSpec(
        patient_niss=personas["patient"].niss, category="specialist-referral", service_requested="wound care", programme=programme,
        valid_from=date(2026, 6, 1), valid_until=until, status=status,
        performers=(PerformerSpec(nihii=personas["nurse"].nihii, party_role="nurse"),
                    PerformerSpec(nihii=personas["pharmacist"].organisation_nihii, party_role="pharmacy")),
    )


def as_(personas, key: str):  # type: ignore[no-untyped-def]
    return personas[key].principal()


# (referral status to start from, or the nurse's Task path; the step; whose step it is)
REQUEST_STEPS = [
    ("draft", "active", "requester"), ("draft", "revoked", "requester"), ("active", "on-hold", "requester"),
    ("on-hold", "active", "requester"), ("active", "revoked", "requester"), ("on-hold", "revoked", "requester"),
    ("active", "completed", "requester"), ("on-hold", "completed", "requester"),
]
TASK_STEPS = [
    ((), "received", "performer"), ((), "accepted", "performer"), ((), "rejected", "performer"),
    (("received",), "accepted", "performer"), (("received",), "rejected", "performer"),
    (("accepted",), "in-progress", "performer"), (("accepted",), "on-hold", "performer"), (("accepted",), "completed", "performer"),
    (("accepted", "in-progress"), "on-hold", "performer"), (("accepted", "on-hold"), "in-progress", "performer"),
    (("accepted", "in-progress"), "completed", "performer"), (("accepted", "in-progress"), "failed", "performer"),
    ((), "cancelled", "requester"), (("accepted", "in-progress"), "cancelled", "requester"),
]


def _request_at(gw, personas, start: str):  # type: ignore[no-untyped-def]
    r = gw.referrals.create(as_(personas, "gp"), spec(personas, status="draft" if start == "draft" else "active"))
    if start == "on-hold":
        r = gw.referrals.transition(as_(personas, "gp"), r.id, "on-hold", of_referral=True)
    return r


@pytest.mark.parametrize("party", list(PARTIES))
@pytest.mark.parametrize(("start", "step", "owner"), REQUEST_STEPS, ids=[f"{a}->{b}" for a, b, _ in REQUEST_STEPS])
def test_RF_1_RF_4_who_may_take_each_step_of_the_referral(gw, personas, start, step, owner, party):
    r = _request_at(gw, personas, start)
    who = as_(personas, PARTIES[party])
    if party == owner:
        moved = gw.referrals.transition(who, r.id, step, of_referral=True, reason="no longer needed")
        assert (moved.status, moved.version) == (step, r.version + 1)
        return
    with pytest.raises(DomainError) as err:
        gw.referrals.transition(who, r.id, step, of_referral=True)
    assert (err.value.code, err.value.rule) == REFUSED[party]
    assert gw.referrals.get(as_(personas, "gp"), r.id).status == start  # nothing moved


@pytest.mark.parametrize("party", list(PARTIES))
@pytest.mark.parametrize(("path", "step", "owner"), TASK_STEPS, ids=[f"{'/'.join(a) or 'requested'}->{b}" for a, b, _ in TASK_STEPS])
def test_RF_1_RF_4_who_may_take_each_step_of_a_task(gw, personas, path, step, owner, party):
    r = gw.referrals.create(as_(personas, "gp"), spec(personas))
    task = r.party("performer")[0].task_id  # the nurse's Task
    for earlier in path:
        r = gw.referrals.transition(as_(personas, "nurse"), r.id, earlier, task=task)
    who = as_(personas, PARTIES[party])
    if party == owner:
        moved = gw.referrals.transition(who, r.id, step, task=task, reason="the patient moved away")
        assert (moved.task(task).task_status, moved.version) == (step, r.version + 1)
        assert moved.task(r.party("performer")[1].task_id).task_status == "requested"  # the other performer's Task is its own
        return
    with pytest.raises(DomainError) as err:
        gw.referrals.transition(who, r.id, step, task=task, reason="x")
    assert (err.value.code, err.value.rule) == REFUSED[party]
    assert gw.referrals.get(as_(personas, "gp"), r.id).task(task).task_status == (path[-1] if path else "requested")


def test_RF_1_steps_out_of_order_and_without_a_reason_are_refused(gw, personas):
    r = gw.referrals.create(as_(personas, "gp"), spec(personas))
    nurse, task = as_(personas, "nurse"), r.party("performer")[0].task_id
    with pytest.raises(InvalidInput) as err:
        gw.referrals.transition(nurse, r.id, "completed", task=task)
    assert (err.value.code, err.value.rule, err.value.path) == ("invalid-transition", "RF-1", "status")
    for step in ("rejected", "failed"):
        if step == "failed":
            gw.referrals.transition(nurse, r.id, "accepted")
            gw.referrals.transition(nurse, r.id, "in-progress")
        with pytest.raises(InvalidInput) as err:
            gw.referrals.transition(nurse, r.id, step, task=task)
        assert (err.value.code, err.value.rule, err.value.path) == ("reason-required", "RF-1", "statusReason")
    failed = gw.referrals.transition(nurse, r.id, "failed", reason="the wound needs surgery")
    assert (failed.task(task).task_status, failed.task(task).task_reason) == ("failed", "the wound needs surgery")
    with pytest.raises(NotFound) as err:
        gw.referrals.transition(nurse, r.id, "accepted", task=f"task-{r.id}-9")
    assert err.value.code == "unknown-task"


def test_RF_1_several_performers_each_move_their_own_task_and_the_referral_completes_with_them(gw, personas):
    r = gw.referrals.create(as_(personas, "gp"), spec(personas))
    first, second = (p.task_id for p in r.party("performer"))
    assert (first, second) == (f"task-{r.id}", f"task-{r.id}-2")
    r = gw.referrals.transition(as_(personas, "pharmacist"), r.id, "rejected", reason="we do not dress wounds")
    assert (r.task(second).task_status, r.task(second).task_reason, r.task(first).task_status) == (
        "rejected", "we do not dress wounds", "requested")
    assert r.status == "active"
    r = gw.referrals.transition(as_(personas, "nurse"), r.id, "accepted")
    r = gw.referrals.transition(as_(personas, "nurse"), r.id, "completed")
    assert (r.status, r.task(first).task_status) == ("completed", "completed")  # every Task final, one done


def test_RF_1_the_requesters_hold_stops_the_performers_and_revocation_cancels_open_tasks(gw, personas):
    r = gw.referrals.create(as_(personas, "gp"), spec(personas))
    first, second = (p.task_id for p in r.party("performer"))
    gw.referrals.transition(as_(personas, "nurse"), r.id, "accepted")
    gw.referrals.transition(as_(personas, "pharmacist"), r.id, "rejected", reason="not our service")
    gw.referrals.transition(as_(personas, "gp"), r.id, "on-hold", of_referral=True)
    with pytest.raises(InvalidInput) as err:
        gw.referrals.transition(as_(personas, "nurse"), r.id, "in-progress")
    assert (err.value.code, err.value.rule) == ("referral-on-hold", "RF-1")
    revoked = gw.referrals.transition(as_(personas, "gp"), r.id, "revoked", reason="the patient chose another nurse")
    assert (revoked.status, revoked.status_reason) == ("revoked", "the patient chose another nurse")
    assert (revoked.task(first).task_status, revoked.task(first).task_reason) == ("cancelled", "the patient chose another nurse")
    assert (revoked.task(second).task_status, revoked.task(second).task_reason) == ("rejected", "not our service")  # final: kept
    with pytest.raises(InvalidInput) as err:
        gw.referrals.transition(as_(personas, "gp"), r.id, "active", of_referral=True)
    assert (err.value.code, err.value.rule) == ("invalid-transition", "RF-1")


def test_RF_1_an_expired_referral_reads_as_such_and_cannot_be_accepted_nor_started(gw, personas):
    r = gw.referrals.create(as_(personas, "gp"), spec(personas, until=date(2026, 6, 10)))  # the clock says 2026-06-15
    assert (r.status, r.expired) == ("active", True)
    nurse = as_(personas, "nurse")
    with pytest.raises(InvalidInput) as err:
        gw.referrals.transition(nurse, r.id, "accepted")
    assert (err.value.code, err.value.rule, err.value.path) == ("referral-expired", "RF-1", "occurrencePeriod.end")
    assert gw.referrals.transition(nurse, r.id, "received").task(f"task-{r.id}").task_status == "received"  # receipt only
    revoked = gw.referrals.transition(as_(personas, "gp"), r.id, "revoked", of_referral=True)
    assert revoked.expired is False  # closed: no longer open, so not expired


def test_RF_1_RF_4_every_version_of_a_referral_is_kept_and_read_under_the_current_rules(gw, personas):
    r = gw.referrals.create(as_(personas, "gp"), spec(personas))
    gw.referrals.transition(as_(personas, "nurse"), r.id, "accepted")
    gw.referrals.transition(as_(personas, "gp"), r.id, "on-hold", of_referral=True)
    history = gw.referrals.versions(as_(personas, "gp"), r.id)
    assert [(v.version, v.status, v.task(f"task-{r.id}").task_status) for v in history] == [
        (1, "active", "requested"), (2, "active", "accepted"), (3, "on-hold", "accepted")]
    [first] = gw.referrals.versions(as_(personas, "nurse"), r.id, 1)
    assert (first.version, first.status, first.task(f"task-{r.id}").task_status) == (1, "active", "requested")
    with pytest.raises(NotFound) as err:
        gw.referrals.versions(as_(personas, "gp"), r.id, 9)
    assert err.value.code == "unknown-version"
    with pytest.raises(AccessDenied) as err:
        gw.referrals.versions(as_(personas, "gp-no-link"), r.id, 1)
    assert (err.value.code, err.value.rule) == ("not-a-party", "RF-4")


def test_RF_1_each_step_is_one_audited_act(gw, personas):
    r = gw.referrals.create(as_(personas, "gp"), spec(personas))
    gw.referrals.transition(as_(personas, "nurse"), r.id, "accepted")
    with pytest.raises(AccessDenied):
        gw.referrals.transition(as_(personas, "pharmacist"), r.id, "in-progress", task=f"task-{r.id}")
    with gw.db.transaction() as s:
        rows = s.execute(select(AuditRecord).where(AuditRecord.action == "referral.transition", AuditRecord.resource_id == r.id)
                         .order_by(AuditRecord.seq)).scalars().all()
        seen = [(a.outcome, a.code, a.rule, a.detail.get("transition"), a.detail.get("task")) for a in rows]
    assert seen[0] == ("allowed", None, "RF-1", "requested->accepted", f"task-{r.id}")
    assert seen[1][1:3] == ("not-the-right-party", "RF-1") and seen[1][0] != "allowed"


def test_PN_2_hook_a_programme_guard_refuses_its_referrals_acts(gw, personas):
    """The hook the perinatal programme uses (PN-2), shown with a guard of this test's own on return-to-work referrals."""
    withdrawn: set[str] = set()

    def consent_in_force(act, patient_niss: str, operation: str, referral_id: str | None) -> None:
        if patient_niss in withdrawn:
            raise AccessDenied("consent-withdrawn", f"The woman withdrew her consent: no {operation} (PN-2).", rule="PN-2")

    gw.referrals.register_guard("return-to-work", consent_in_force)
    gp = as_(personas, "gp")
    guarded = gw.referrals.create(gp, spec(personas, programme="return-to-work"))
    general = gw.referrals.create(gp, spec(personas))
    withdrawn.add(personas["patient"].niss)
    for call in (lambda: gw.referrals.create(gp, spec(personas, programme="return-to-work")),
                 lambda: gw.referrals.get(gp, guarded.id),
                 lambda: gw.referrals.versions(gp, guarded.id),
                 lambda: gw.referrals.transition(as_(personas, "nurse"), guarded.id, "accepted")):
        with pytest.raises(AccessDenied) as err:
            call()
        assert (err.value.code, err.value.rule) == ("consent-withdrawn", "PN-2")
    assert gw.referrals.get(gp, general.id).id == general.id  # other programmes are untouched
    assert [v.id for v in gw.referrals.for_patient(gp, personas["patient"].niss)] == [general.id]  # search leaves them out
    with pytest.raises(ValueError):
        gw.referrals.register_guard("holidays", consent_in_force)
