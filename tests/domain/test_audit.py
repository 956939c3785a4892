"""IC-R8: every act leaves one audit record (reads, lists and denials
included), chained by hash; tampering is detected."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from gateway.cli import main
from gateway.domain import audit
from gateway.domain.errors import AccessDenied
from gateway.domain.model import AuditHead, AuditRecord
from tests.conftest import declaration


def records(gw):
    with gw.db.transaction() as s:
        return s.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()


@pytest.fixture
def acts(gw, personas):
    psi = personas["psi-admin"].organisation_nihii
    inc = gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], psi))
    gw.inclusions.consult(personas["patient"].principal(), personas["patient"].niss)
    gw.inclusions.list_patients(personas["psi-coordinator"].principal())
    with pytest.raises(AccessDenied):
        gw.inclusions.consult(personas["gp-no-link"].principal(), personas["patient"].niss)
    return inc


def test_IC_R8_one_record_per_act_with_who_what_when_and_patient(gw, personas, acts, clock):
    rows = records(gw)
    assert [(r.action, r.outcome) for r in rows] == [
        ("inclusion.declare", "allowed"),
        ("inclusion.consult", "allowed"),
        ("inclusion.list-patients", "allowed"),
        ("inclusion.consult", "denied"),
    ]
    from gateway.domain.audit_subjects import tokens_of

    with gw.db.transaction() as s:  # records name the patient by their audit token (IC-R8, IC-R6)
        [patient] = tokens_of(s, [gw.ctx.pseudonyms.pseudonymise(personas["patient"].niss)])
    declare, consult, listing, denied = rows
    assert declare.actor_pseudonym == gw.ctx.pseudonyms.pseudonymise(personas["gp"].niss)
    assert (declare.actor_role, declare.patient_pseudonym, declare.resource_id) == ("provider", patient, acts.id)
    assert declare.at == clock.now() or declare.at.replace(tzinfo=clock.now().tzinfo) == clock.now()
    assert (consult.actor_role, consult.actor_pseudonym, consult.patient_pseudonym) == ("patient", patient, patient)
    assert listing.actor_organisation == personas["psi-coordinator"].organisation_nihii
    assert (denied.rule, denied.code, denied.patient_pseudonym) == ("IC-A1", "no-therapeutic-link", patient)


def test_IC_R8_chain_verifies_and_detects_edits(gw, acts):
    with gw.db.transaction() as s:
        assert audit.verify(s).intact
    with gw.db.transaction() as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(outcome="denied"))
    with gw.db.transaction() as s:
        report = audit.verify(s)
    assert (report.intact, report.broken_at) == (False, 2)
    assert "edited" in report.reason


def test_IC_R8_chain_detects_removed_records(gw, acts):
    with gw.db.transaction() as s:
        s.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    with gw.db.transaction() as s:
        assert audit.verify(s).broken_at == 2


def test_IC_R8_chain_detects_truncation_at_the_end(gw, acts):
    with gw.db.transaction() as s:
        s.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
    with gw.db.transaction() as s:
        report = audit.verify(s)
    assert not report.intact and "head" in report.reason


def test_IC_R8_audit_verify_command(gw, acts, capsys, monkeypatch):
    monkeypatch.setenv("CARE_GATEWAY_DATABASE_URL", gw.db.url)
    assert main(["audit", "verify"]) == 0
    assert "intact: 4 records" in capsys.readouterr().out
    with gw.db.transaction() as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(actor_role="patient"))
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at record 3" in capsys.readouterr().out


def test_audit_head_follows_the_chain(gw, acts):
    with gw.db.transaction() as s:
        head = s.get(AuditHead, 1)
        last = s.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
    assert (head.seq, head.hash) == (last.seq, last.hash)
