"""Atomic groups of acts (FHIR transaction Bundles): all kept or none, the
refusal still audited (IC-R8)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gateway.domain import audit
from gateway.domain.errors import Conflict
from gateway.domain.model import AuditRecord, Inclusion
from tests.conftest import declaration


def test_IC_R8_failed_group_leaves_nothing_but_the_refusal(gw, personas):
    gp = personas["gp"].principal()
    a, b = personas["psi-admin"].organisation_nihii, personas["psi-admin-other"].organisation_nihii
    with pytest.raises(Conflict):
        with gw.ctx.runner.atomic():
            gw.inclusions.declare(gp, declaration(personas["patient"], a))
            gw.inclusions.declare(gp, declaration(personas["patient-2"], a))
            gw.inclusions.declare(gp, declaration(personas["patient"], b))  # IC-R1: second principal
    with gw.db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Inclusion)).scalar_one() == 0
        rows = s.execute(select(AuditRecord)).scalars().all()
        assert [(r.action, r.outcome, r.rule) for r in rows] == [("inclusion.declare", "refused", "IC-R1")]
        assert audit.verify(s).intact


def test_successful_group_keeps_everything(gw, personas):
    gp = personas["gp"].principal()
    with gw.ctx.runner.atomic():
        one = gw.inclusions.declare(gp, declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
        gw.inclusions.close(gp, one.id, date(2026, 6, 30))
    assert gw.inclusions.get(gp, one.id).version == 2
    with gw.db.transaction() as s:
        assert s.execute(select(func.count()).select_from(AuditRecord)).scalar_one() == 3
