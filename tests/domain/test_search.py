"""Searching inclusions (IC-F2 scope rules, IC-F4 coordinator, IC-A8 paging)."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.errors import AccessDenied, InvalidInput
from gateway.domain.inclusions import InclusionQuery
from tests.conftest import declaration


@pytest.fixture
def data(gw, personas):
    gp = personas["gp"].principal()
    a, b = personas["psi-admin"].organisation_nihii, personas["psi-admin-other"].organisation_nihii
    return {
        "a": gw.inclusions.declare(gp, declaration(personas["patient"], a, end_date=date(2026, 4, 30))),
        "b": gw.inclusions.declare(gp, declaration(personas["patient"], b, status="information")),
        "c": gw.inclusions.declare(gp, declaration(personas["patient-2"], a, start_date=date(2026, 5, 2))),
    }


def test_IC_A1_provider_searches_by_patient(gw, personas, data):
    page = gw.inclusions.search(personas["gp"].principal(), InclusionQuery(patient_niss=personas["patient"].niss))
    assert {i.id for i in page.items} == {data["a"].id, data["b"].id}
    page = gw.inclusions.search(personas["gp"].principal(), InclusionQuery(patient_niss=personas["patient"].niss, status="information"))
    assert [i.id for i in page.items] == [data["b"].id]
    ended = gw.inclusions.search(personas["gp"].principal(), InclusionQuery(
        patient_niss=personas["patient"].niss, period=lambda s, e: e is not None))
    assert [i.id for i in ended.items] == [data["a"].id]
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.search(personas["gp"].principal(), InclusionQuery())
    assert (err.value.code, err.value.rule) == ("patient-required", "IC-A1")
    with pytest.raises(AccessDenied):
        gw.inclusions.search(personas["gp-no-link"].principal(), InclusionQuery(patient_niss=personas["patient"].niss))


def test_IC_A3_psi_staff_search_only_their_psi(gw, personas, data):
    page = gw.inclusions.search(personas["psi-admin-other"].principal(), InclusionQuery(patient_niss=personas["patient"].niss))
    assert [i.id for i in page.items] == [data["b"].id]


def test_IC_F4_coordinator_searches_own_psi_with_paging(gw, personas, data):
    coordinator = personas["psi-coordinator"].principal()
    first = gw.inclusions.search(coordinator, InclusionQuery(page_size=1))
    assert len(first.items) == 1 and first.next_cursor
    second = gw.inclusions.search(coordinator, InclusionQuery(page_size=1, cursor=first.next_cursor))
    assert {first.items[0].id, second.items[0].id} == {data["a"].id, data["c"].id} and second.next_cursor is None
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.search(coordinator, InclusionQuery(page_size=1000))
    assert err.value.rule == "IC-A8"


def test_IC_A4_patient_searches_own_inclusions(gw, personas, data):
    page = gw.inclusions.search(personas["patient-2"].principal(), InclusionQuery())
    assert [i.id for i in page.items] == [data["c"].id]
