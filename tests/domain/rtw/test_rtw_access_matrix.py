"""The persona matrix (issue 11): each role of each partner kind against its
own person, another partner's person, the deceased person, and a person
registered or not with the regional service, with the expected permit or
deny and the rule id (RP-A1..RP-A5, RP-S1). Every decision is audited (RP-R2)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.domain.errors import AccessDenied
from gateway.domain.model import AuditRecord
from gateway.domain.rtw.service import ReturnToWork
from gateway.ehealth.rtw.sandbox import RtwSandbox

INSURER = ("oa-physician", "oa-team", "oa-rtw-coordinator", "oa-admin")
PREVENTION = ("prev-physician", "prev-nurse", "prev-admin")
REGIONAL = ("reg-counsellor", "reg-list-manager")
INAMI = ("inami-expert", "inami-inspector")

# subject -> the person: insured (own: insurer, employer's prevention service, VDAB), other (another
# insurer, employer and regional service), deceased, unregistered (same insurer and employer, no registration)
EXPECTED: dict[str, dict[str, str]] = {
    **{k: {"insured": "allow RP-A1", "other": "deny RP-A1", "deceased": "deny RP-A5", "unregistered": "allow RP-A1"} for k in INSURER},
    **{k: {"insured": "allow RP-A3", "other": "deny RP-A3", "deceased": "deny RP-A5", "unregistered": "allow RP-A3"} for k in PREVENTION},
    **{k: {"insured": "allow RP-A2", "other": "deny RP-A2", "deceased": "deny RP-A5", "unregistered": "deny RP-A2"} for k in REGIONAL},
    **{k: {"insured": "allow RP-A4", "other": "allow RP-A4", "deceased": "deny RP-A5", "unregistered": "allow RP-A4"} for k in INAMI},
    "oa-physician-other": {"insured": "deny RP-A1", "other": "allow RP-A1", "deceased": "deny RP-A5", "unregistered": "deny RP-A1"},
    "reg-counsellor-forem": {"insured": "deny RP-A2", "other": "deny RP-A2", "deceased": "deny RP-A5", "unregistered": "deny RP-A2"},
}


def subject(sandbox: RtwSandbox, name: str) -> str:
    cast = sandbox.cast
    return {"insured": cast.insured, "other": cast.actiris, "deceased": cast.deceased, "unregistered": cast.unregistered}[name]


def outcome(rtw: ReturnToWork, principal, niss: str) -> str:  # type: ignore[no-untyped-def]
    from gateway.domain.rtw.dossiers import DossierQuery

    try:
        rtw.dossiers.search(principal, DossierQuery(insured_niss=niss))
    except AccessDenied as denied:
        return f"deny {denied.rule}"
    with rtw.ctx.db.transaction() as session:  # the rule the allowed act rests on, as audited
        return "allow " + str(session.execute(select(AuditRecord.rule).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one())


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_rp_a1_to_a5_persona_matrix(rtw: ReturnToWork, sandbox: RtwSandbox, who, key: str) -> None:  # type: ignore[no-untyped-def]
    principal = who(key)
    seen = {name: outcome(rtw, principal, subject(sandbox, name)) for name in EXPECTED[key]}
    assert seen == EXPECTED[key]


def test_rp_a5_the_deceased_persons_dossier_is_closed_even_to_inami(rtw: ReturnToWork, sandbox: RtwSandbox, who) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AccessDenied) as denied:
        rtw.dossiers.open(who("oa-physician"), sandbox.cast.deceased)
    assert denied.value.rule == "RP-A5" and denied.value.code == "deceased"


@pytest.mark.parametrize("key, issuer", [("reg-counsellor", "ehealth"), ("oa-physician", "bcss"), ("inami-expert", "bcss")])
def test_rp_s1_each_partner_signs_in_through_its_own_idp(rtw: ReturnToWork, sandbox: RtwSandbox, who, key: str, issuer: str) -> None:  # type: ignore[no-untyped-def]
    from tests.domain.rtw.conftest import BCSS, EHEALTH

    with pytest.raises(AccessDenied) as denied:
        rtw.dossiers.open(who(key, BCSS if issuer == "bcss" else EHEALTH), sandbox.cast.insured)
    assert (denied.value.rule, denied.value.code) == ("RP-S1", "wrong-identity-provider")


def test_rp_s1_a_role_user_management_does_not_confirm_is_refused(rtw: ReturnToWork, sandbox: RtwSandbox, who) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from gateway.domain.principal import Role

    claimed = dataclasses.replace(who("oa-team"), role=Role.OA_PHYSICIAN)  # a team member claiming the physician's role
    with pytest.raises(AccessDenied) as denied:
        rtw.dossiers.open(claimed, sandbox.cast.insured)
    assert (denied.value.rule, denied.value.code) == ("RP-S1", "role-not-confirmed")


def test_rp_s1_integrated_care_roles_have_no_access(rtw: ReturnToWork, sandbox: RtwSandbox, personas) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AccessDenied) as denied:
        rtw.dossiers.open(personas["insurer"].principal(), sandbox.cast.insured)
    assert (denied.value.rule, denied.value.code) == ("RP-S1", "role-not-allowed")


def test_rp_a3_a_change_of_employer_moves_the_prevention_service(rtw: ReturnToWork, sandbox: RtwSandbox, who) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AccessDenied) as denied:
        rtw.dossiers.open(who("prev-physician-former"), sandbox.cast.changed_employer)
    assert denied.value.rule == "RP-A3"
    assert outcome(rtw, who("reg-counsellor-forem"), sandbox.cast.changed_employer) == "allow RP-A2"


def test_rp_r2_every_act_allowed_or_denied_leaves_one_audit_record(rtw: ReturnToWork, sandbox: RtwSandbox, who) -> None:  # type: ignore[no-untyped-def]
    dossier, created = rtw.dossiers.open(who("oa-rtw-coordinator"), sandbox.cast.insured)
    assert created
    rtw.dossiers.read(who("inami-expert"), dossier.id)
    with pytest.raises(AccessDenied):
        rtw.dossiers.read(who("oa-physician-other"), dossier.id)
    with rtw.ctx.db.transaction() as session:
        rows = session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()
    assert [(r.action, r.outcome, r.rule) for r in rows] == [
        ("rtw.dossier.open", "allowed", "RP-A1"), ("rtw.dossier.read", "allowed", "RP-A4"),
        ("rtw.dossier.read", "denied", "RP-A1")]
    from gateway.domain.audit_subjects import tokens_of

    with rtw.ctx.db.transaction() as s:  # records name the person by their audit token (IC-R8, IC-R6)
        named = set(tokens_of(s, [rtw.ctx.pseudonyms.pseudonymise(sandbox.cast.insured)]))
    assert {r.patient_pseudonym for r in rows} == named and len(named) == 1 and all(r.resource_id == dossier.id for r in rows)
