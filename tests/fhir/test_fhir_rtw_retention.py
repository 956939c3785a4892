"""RP-R1 through FHIR: a dossier is kept 3 years from 1 January of the year
after its last change; the day before, the gateway's purge keeps it; from
that day it deletes it with its form (the clock is moved, nothing sleeps),
and then a read answers exactly what a read of an id that never existed
answers, and a search finds nothing. The purge also cuts the audit trail's
link to the person (DS-8, as IC-R6's purge does): the records stay, no
subject token leads back to the person's pseudonym (RP-R2's records are kept,
about no one nameable; an act about the person afterwards is a new link)."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select

from gateway.domain.audit_subjects import pseudonyms_of
from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.domain.model import AuditRecord, AuditSubject
from gateway.domain.rtw.model import RtwDossier
from gateway.domain.rtw.retention import deleted_from
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_access_token
from tests.fhir.test_fhir_rtw import Fhir, dossier, form


def never_existed(resource_id: str) -> str:
    """An id of the same shape that no resource ever had."""
    return resource_id[: -len(str(uuid.uuid4()))] + str(uuid.uuid4())


def not_found(response: Any) -> tuple[int, list[tuple[str, str]]]:
    """A not-found answer without the id it names: its status and issue codes."""
    body = response.json()
    return response.status_code, [(i["severity"], i["code"]) for i in body.get("issue", [])]


def links_to(live, pseudonym: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The audit tokens that still lead to ``pseudonym``."""
    with live.gw.ctx.db.transaction() as session:
        return list(session.execute(select(AuditSubject.token).where(AuditSubject.pseudonym == pseudonym)).scalars())


def test_rp_r1_a_dossier_past_its_retention_is_purged_and_then_not_found_through_fhir(live) -> None:  # type: ignore[no-untyped-def]
    cast = rtw_state(live.platform).sandbox.cast
    coordinator = Fhir(live.base_url, rtw_access_token(live.base_url, "oa-rtw-coordinator"))
    made = coordinator.post("EpisodeOfCare", dossier(cast.insured))
    assert made.status_code == 201, made.text
    dossier_id = made.json()["id"]
    filled = coordinator.post("QuestionnaireResponse", form(dossier_id))
    assert filled.status_code == 201, filled.text
    form_id = filled.json()["id"]
    with live.gw.ctx.db.transaction() as session:
        stored, last_change = session.execute(select(RtwDossier.id, RtwDossier.updated_at)).one()
    pseudonym = live.gw.ctx.pseudonyms.pseudonymise(cast.insured)
    assert links_to(live, pseudonym)  # the records of these acts name the person by a token

    gone_on = deleted_from(last_change)
    live.clock.set(datetime.combine(gone_on - timedelta(days=1), time(12), tzinfo=timezone.utc))
    assert live.gw.return_to_work.purge().dossiers == []  # the day before: still kept
    live.clock.set(datetime.combine(gone_on, time(12), tzinfo=timezone.utc))
    report = live.gw.return_to_work.purge()
    assert report.dossiers == [stored] and report.forms == 1 and report.audit_subjects >= 1
    assert links_to(live, pseudonym) == []  # the audit link is cut
    with live.gw.ctx.db.transaction() as session:
        about = list(session.execute(select(AuditRecord.patient_pseudonym).where(
            AuditRecord.action.like("rtw.%"), AuditRecord.patient_pseudonym.is_not(None))).scalars())
        assert about and pseudonym not in about  # the records are kept, naming a token only
        assert pseudonym not in pseudonyms_of(session, about).values()

    coordinator = Fhir(live.base_url, rtw_access_token(live.base_url, "oa-rtw-coordinator"))  # signed in at the new time
    for path in (f"EpisodeOfCare/{dossier_id}", f"QuestionnaireResponse/{form_id}"):
        purged, never = coordinator.get(path), coordinator.get(never_existed(path))
        assert purged.status_code == 404, purged.text
        assert not_found(purged) == not_found(never)  # the one not-found answer
    found = coordinator.dossiers(**{"patient-identifier": f"{SSIN_SYSTEM}|{cast.insured}"})
    assert found.status_code == 200, found.text
    assert found.json().get("entry", []) == [] and found.json().get("total", 0) == 0
    listed = coordinator.get("QuestionnaireResponse", subject=f"EpisodeOfCare/{dossier_id}")
    unheard = coordinator.get("QuestionnaireResponse", subject=f"EpisodeOfCare/{never_existed(dossier_id)}")
    assert listed.status_code == unheard.status_code and listed.json().get("entry", []) == []

