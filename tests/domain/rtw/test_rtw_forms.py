"""The registration form: RP-F1 (who fills it and with what), RP-F2 (the
regional service reads it once the person is registered with it), RP-M1
(the regional service sees whether the incapacity lasted a year, never its
start date), RP-A6 (the physician's question for physicians only)."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.errors import AccessDenied, InvalidInput
from gateway.domain.rtw.forms import FillForm, one_year_unfit
from gateway.domain.rtw.service import ReturnToWork

START = date(2025, 3, 3)


def form(dossier_id: str, **changes) -> FillForm:  # type: ignore[no-untyped-def]
    values = dict(dossier_id=dossier_id, routing="insurer", incapacity_start=START,
                  expectations="A training as a logistics planner", work_problems="Cannot carry loads any more",
                  coordinator_name="An Peeters", advising_physician_name="Dr. Luc Maes", team_member_name="Els Claes")
    values.update(changes)
    return FillForm(**values)  # type: ignore[arg-type]


@pytest.fixture
def dossier(rtw: ReturnToWork, sandbox, who):  # type: ignore[no-untyped-def]
    return rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.insured)[0]


def test_rp_f1_the_insurer_fills_the_form_with_every_item(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    filled = rtw.forms.fill(who("oa-physician"), form(dossier.id, physician_expectations="Sedentary work",
                                                     functional_capacities="No lifting over 5 kg"))
    assert (filled.routing, filled.incapacity_start, filled.coordinator_name) == ("insurer", START, "An Peeters")
    assert filled.functional_capacities == "No lifting over 5 kg" and filled.medical_shown


def test_rp_f1_routing_c_carries_the_target_group_decision(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as refused:
        rtw.forms.fill(who("oa-team"), form(dossier.id, routing="regional-request"))
    assert (refused.value.rule, refused.value.code) == ("RP-F1", "target-group-routing-c")
    filled = rtw.forms.fill(who("oa-team"), form(dossier.id, routing="regional-request", target_group=True))
    assert filled.target_group is True


def test_rp_f1_an_occupational_physician_fills_it_as_its_contact(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    filled = rtw.forms.fill(who("prev-physician"), form(dossier.id, routing="occupational-physician",
                                                        occupational_physician_name="Dr. Sofie Wouters"))
    assert filled.occupational_physician_name == "Dr. Sofie Wouters"
    with pytest.raises(InvalidInput) as refused:
        rtw.forms.fill(who("oa-team"), form(dossier.id, occupational_physician_name="Dr. X"))
    assert refused.value.rule == "RP-F1"


@pytest.mark.parametrize("key, rule", [("prev-nurse", "RP-F1"), ("reg-counsellor", "RP-F1"), ("inami-expert", "RP-F1"),
                                       ("oa-physician-other", "RP-A1")])
def test_rp_f1_others_do_not_fill_it(rtw: ReturnToWork, dossier, who, key: str, rule: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AccessDenied) as denied:
        rtw.forms.fill(who(key), form(dossier.id))
    assert denied.value.rule == rule


def test_rp_a6_the_physicians_question_is_written_by_a_physician(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as refused:
        rtw.forms.fill(who("oa-admin"), form(dossier.id, functional_capacities="No lifting"))
    assert refused.value.rule == "RP-A6"


@pytest.mark.parametrize("key, medical", [("oa-physician", True), ("prev-physician", True), ("inami-inspector", True),
                                          ("oa-team", False), ("oa-admin", False), ("prev-nurse", False),
                                          ("inami-expert", False), ("reg-counsellor", False)])
def test_rp_a6_medical_items_for_the_three_physicians_only(rtw: ReturnToWork, dossier, who, key: str, medical: bool) -> None:  # type: ignore[no-untyped-def]
    filled = rtw.forms.fill(who("oa-physician"), form(dossier.id, functional_capacities="No lifting over 5 kg"))
    seen = rtw.forms.read(who(key), filled.id)
    assert (seen.functional_capacities is not None, seen.medical_shown) == (medical, medical)


def test_rp_m1_the_regional_service_sees_one_year_not_the_start_date(rtw: ReturnToWork, dossier, who) -> None:  # type: ignore[no-untyped-def]
    filled = rtw.forms.fill(who("oa-rtw-coordinator"), form(dossier.id))
    regional = rtw.forms.read(who("reg-counsellor"), filled.id)
    assert regional.incapacity_start is None and regional.incapacity_one_year is True
    insurer = rtw.forms.read(who("oa-team"), filled.id)
    assert insurer.incapacity_start == START and insurer.incapacity_one_year is True


def test_rp_m1_one_year_is_counted_to_the_day() -> None:
    assert not one_year_unfit(date(2025, 6, 16), date(2026, 6, 15))
    assert one_year_unfit(date(2025, 6, 15), date(2026, 6, 15))
    assert one_year_unfit(date(2024, 2, 29), date(2025, 3, 1)) and not one_year_unfit(date(2024, 2, 29), date(2025, 2, 28))


def test_rp_f2_read_once_registered_with_the_regional_service(rtw: ReturnToWork, sandbox, who) -> None:  # type: ignore[no-untyped-def]
    registered = rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.insured)[0]
    unregistered = rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.unregistered)[0]
    seen = rtw.forms.fill(who("oa-rtw-coordinator"), form(registered.id))
    unseen = rtw.forms.fill(who("oa-rtw-coordinator"), form(unregistered.id))
    assert rtw.forms.read(who("reg-list-manager"), seen.id).id == seen.id
    with pytest.raises(AccessDenied) as denied:
        rtw.forms.read(who("reg-counsellor"), unseen.id)
    assert (denied.value.rule, denied.value.code) == ("RP-F2", "not-registered")
    with pytest.raises(AccessDenied) as denied:
        rtw.forms.read(who("reg-counsellor-forem"), seen.id)  # registered elsewhere
    assert denied.value.rule == "RP-F2"
