"""RP-R1: a dossier's data stay 3 years from 1 January of the year after the
last change, then are deleted with its forms, by the gateway's purge,
audited (RP-R2)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select

from gateway.domain.model import AuditRecord
from gateway.domain.rtw.forms import FillForm
from gateway.domain.rtw.model import RtwDossier, RtwForm
from gateway.domain.rtw.retention import deleted_from
from gateway.domain.rtw.service import ReturnToWork


def test_rp_r1_kept_three_years_from_the_next_first_of_january(rtw: ReturnToWork, sandbox, who, clock) -> None:  # type: ignore[no-untyped-def]
    dossier, _ = rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.insured)  # 2026-06-15
    rtw.forms.fill(who("oa-rtw-coordinator"), FillForm(dossier.id, "insurer", date(2025, 1, 6), expectations="x",
                                                       coordinator_name="An Peeters"))
    assert deleted_from(clock.now()) == date(2030, 1, 1)
    assert rtw.purge(today=date(2029, 12, 31)).dossiers == []
    dry = rtw.purge(today=date(2030, 1, 1), dry_run=True)
    assert dry.dossiers == [dossier.id] and dry.forms == 1
    with rtw.ctx.db.transaction() as session:
        assert session.get(RtwDossier, dossier.id) is not None
    done = rtw.purge(today=date(2030, 1, 1))
    assert done.dossiers == [dossier.id] and not done.dry_run
    with rtw.ctx.db.transaction() as session:
        assert session.get(RtwDossier, dossier.id) is None
        assert session.execute(select(RtwForm)).first() is None
        actions = [(r.action, r.rule) for r in session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars()]
    assert actions[-1] == ("rtw.retention.purge", "RP-R1")


def test_rp_r1_a_change_restarts_the_count(rtw: ReturnToWork, sandbox, who, clock) -> None:  # type: ignore[no-untyped-def]
    dossier, _ = rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.insured)
    clock.set(datetime(2027, 2, 1, 9, 0, tzinfo=timezone.utc))
    rtw.forms.fill(who("oa-rtw-coordinator"), FillForm(dossier.id, "insurer", date(2026, 1, 6), expectations="x",
                                                       coordinator_name="An Peeters"))
    assert rtw.purge(today=date(2030, 1, 1)).dossiers == []  # last change in 2027: kept until 2031
    assert rtw.purge(today=date(2031, 1, 1)).dossiers == [dossier.id]
