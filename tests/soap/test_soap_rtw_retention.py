"""RP-R1 over SOAP: a dossier is kept 3 years from 1 January of the year
after its last change; the day before, the gateway's purge keeps it; from
that day it deletes it with its form (the clock is moved, nothing sleeps),
and then GetDossier, GetForm and GetDossierForms answer exactly what they
answer for an id that never existed, and SearchDossiers finds nothing. The
purge cuts the audit trail's link to the person (DS-8): no subject token
leads back to their pseudonym, the records stay."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from gateway.domain.model import AuditSubject
from gateway.domain.rtw.model import RtwDossier
from gateway.domain.rtw.retention import deleted_from
from gateway.ehealth.rtw.state import rtw_state
from tests.soap.conftest import refused
from tests.soap.test_soap_rtw import fill, soap_clients


def not_found(detail: dict[str, str | None]) -> tuple[str | None, str | None, str | None]:
    return detail["Status"], detail["Code"], detail["Rule"]


def test_rp_r1_a_dossier_past_its_retention_is_purged_and_then_not_found_over_soap(live) -> None:  # type: ignore[no-untyped-def]
    cast = rtw_state(live.platform).sandbox.cast
    rtw = soap_clients(live)
    dossier = rtw("oa-rtw-coordinator").OpenDossier(InsuredSsin=cast.insured).Dossier[0]
    form = rtw("oa-rtw-coordinator").FillForm(DossierId=dossier.DossierId, **fill()).Form[0]
    with live.gw.ctx.db.transaction() as session:
        last_change = session.execute(select(RtwDossier.updated_at)).scalar_one()
    pseudonym = live.gw.ctx.pseudonyms.pseudonymise(cast.insured)

    gone_on = deleted_from(last_change)
    live.clock.set(datetime.combine(gone_on - timedelta(days=1), time(12), tzinfo=timezone.utc))
    assert live.gw.return_to_work.purge().dossiers == []  # the day before: still kept
    live.clock.set(datetime.combine(gone_on, time(12), tzinfo=timezone.utc))
    report = live.gw.return_to_work.purge()
    assert len(report.dossiers) == 1 and report.forms == 1 and report.audit_subjects >= 1
    with live.gw.ctx.db.transaction() as session:  # the audit link is cut
        assert session.execute(select(AuditSubject).where(AuditSubject.pseudonym == pseudonym)).first() is None

    now = soap_clients(live)("oa-rtw-coordinator")  # a new STS token at the new time
    never = str(uuid.uuid4())
    assert not_found(refused(now.GetDossier, DossierId=dossier.DossierId)) == not_found(refused(now.GetDossier, DossierId=never))
    assert refused(now.GetDossier, DossierId=dossier.DossierId)["Code"] == "unknown-dossier"
    assert not_found(refused(now.GetForm, FormId=form.FormId)) == not_found(refused(now.GetForm, FormId=never))
    assert (not_found(refused(now.GetDossierForms, DossierId=dossier.DossierId))
            == not_found(refused(now.GetDossierForms, DossierId=never)))
    assert now.SearchDossiers(InsuredSsin=cast.insured).Dossier == []
