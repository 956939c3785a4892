"""IC-F4 listing a PSI's patients, IC-A8 (paged, bounded, no mass export)."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.domain.errors import AccessDenied, InvalidInput
from tests.conftest import declaration


@pytest.fixture
def included(gw, personas, registries):
    """25 living patients included in PSI A (one closed long ago, not listed)."""
    gp = personas["gp"].principal()
    psi = personas["psi-coordinator"].organisation_nihii
    skip = {personas[k].niss for k in ("deceased-patient",)}
    patients = [p for p in registries.patients() if p.death_date is None and p.niss not in skip][:26]
    for p in patients[:25]:
        gw.inclusions.declare(gp, declaration(p.niss, psi, status="information"))
    gw.inclusions.declare(gp, declaration(patients[25].niss, psi, status="information", start_date=date(2020, 1, 1), end_date=date(2021, 1, 1), consent_date=date(2020, 1, 1)))
    return {p.niss for p in patients[:25]}


def test_IC_F4_coordinator_pages_through_own_psi(gw, personas, included):
    coordinator = personas["psi-coordinator"].principal()
    seen, cursor, pages = [], None, 0
    while True:
        page = gw.inclusions.list_patients(coordinator, page_size=10, cursor=cursor)
        pages += 1
        seen += [item.patient.niss for item in page.items]
        assert all(item.patient.last_name for item in page.items)  # IC-R9: names from the register
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3 and len(seen) == 25 and set(seen) == included


def test_IC_A8_page_size_is_bounded(gw, personas, included):
    coordinator = personas["psi-coordinator"].principal()
    with pytest.raises(InvalidInput) as err:
        gw.inclusions.list_patients(coordinator, page_size=gw.settings.max_page_size + 1)
    assert (err.value.rule, err.value.path) == ("IC-A8", "_count")
    assert len(gw.inclusions.list_patients(coordinator).items) == gw.settings.default_page_size


def test_IC_F4_only_the_coordinator_of_that_psi_lists(gw, personas, included):
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.list_patients(personas["psi-admin"].principal())
    assert err.value.rule == "IC-A9"
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.list_patients(personas["psi-coordinator-other"].principal(), psi_nihii=personas["psi-coordinator"].organisation_nihii)
    assert err.value.rule == "IC-A3"
    assert gw.inclusions.list_patients(personas["psi-coordinator-other"].principal()).items == ()


def test_IC_R10_paging_cursor_reveals_no_pseudonym(gw, personas, included):
    page = gw.inclusions.list_patients(personas["psi-coordinator"].principal(), page_size=5)
    assert page.next_cursor and all(gw.ctx.pseudonyms.pseudonymise(n) not in page.next_cursor for n in included)
