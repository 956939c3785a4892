"""RP-R1's purge and the audit trail (DS-8, as IC-R6's purge does): when a
person's last dossier goes, the audit trail's link to them goes (their
subject tokens, under every number they had); while the gateway keeps
something else for them (another dossier, an inclusion), the link stays.
The records themselves are never changed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from gateway.domain.model import AuditRecord, AuditSubject
from gateway.domain.rtw.service import ReturnToWork


def tokens(rtw: ReturnToWork, niss: str) -> int:
    pseudonym = rtw.ctx.pseudonyms.pseudonymise(niss)
    with rtw.ctx.db.transaction() as session:
        return session.execute(select(func.count()).select_from(AuditSubject).where(AuditSubject.pseudonym == pseudonym)).scalar_one()


def test_rp_r1_the_purge_cuts_the_audit_link_of_a_person_it_keeps_nothing_for(rtw: ReturnToWork, sandbox, who) -> None:  # type: ignore[no-untyped-def]
    rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.insured)
    rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.unregistered)
    assert tokens(rtw, sandbox.cast.insured) == 1 and tokens(rtw, sandbox.cast.unregistered) == 1
    with rtw.ctx.db.transaction() as session:
        records = session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    report = rtw.purge(today=date(2030, 1, 1))
    assert len(report.dossiers) == 2 and report.audit_subjects == 2
    assert tokens(rtw, sandbox.cast.insured) == 0 and tokens(rtw, sandbox.cast.unregistered) == 0
    with rtw.ctx.db.transaction() as session:  # every record kept, the purge's own added
        assert session.execute(select(func.count()).select_from(AuditRecord)).scalar_one() == records + 1
    assert "cut the audit trail's link" in report.describe()


def test_rp_r1_a_dry_run_or_a_person_with_a_kept_dossier_keeps_the_link(rtw: ReturnToWork, sandbox, who, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    first, _ = rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.insured)
    rtw.dossiers.close(who("oa-rtw-coordinator"), first.id)
    assert rtw.purge(today=date(2030, 1, 1), dry_run=True).audit_subjects == 0 and tokens(rtw, sandbox.cast.insured) == 1
    clock.set(datetime(2028, 3, 1, 9, 0, tzinfo=timezone.utc))
    rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.insured)  # a new dossier, kept until 2032
    report = rtw.purge(today=date(2030, 1, 1))
    assert report.dossiers == [first.id] and report.audit_subjects == 0
    assert tokens(rtw, sandbox.cast.insured) == 1
