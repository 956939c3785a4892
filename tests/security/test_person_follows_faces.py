"""IC-R5 on both faces: after the register announces a NISS change and the
gateway syncs it, a search by the new number finds the person's care teams
(FHIR CareTeam), referrals (SOAP GetPatientReferrals) and audit records
(FHIR AuditEvent for an auditor), which stayed under the former number
before (tests/security/test_person_follows.py follows every entity)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from gateway.domain.care_teams import CareTeamSpec, MemberSpec
from gateway.domain.identifiers import SSIN_SYSTEM, NissKind, make_niss
from gateway.domain.referrals import ReferralSpec
from gateway.soap.referral import NS, PATH
from tests.soap.care_referral_callers import ServiceCallers


@pytest.fixture(scope="module")
def renumbered(live, personas):  # type: ignore[no-untyped-def]
    person, gp = personas["bis-patient"], personas["gp"]
    team = live.gw.care_teams.create(gp.principal(), CareTeamSpec(
        kind="individual", patient_niss=person.niss, members=(MemberSpec("practitioner", nihii=gp.nihii),)))
    referral = live.gw.referrals.create(gp.principal(), ReferralSpec(patient_niss=person.niss, category="physiotherapy",
                                                                     service_requested="knee rehabilitation"))
    register = live.gw.platform.register
    known = register.person(person.niss)
    new = make_niss(known.birth_date or date(1980, 1, 1), 615 if (known.sex or "male") == "male" else 616, bis=NissKind.NATIONAL)
    register.inject_niss_change(person.niss, new, live.clock.today())
    live.gw.lifecycle.sync_register()
    return {"new": new, "team": team.id, "referral": referral.id}


def test_IC_R5_fhir_care_team_search_by_the_new_number(live, fhir_token, renumbered):
    answer = httpx.get(live.url(f"/fhir/CareTeam?patient-identifier={SSIN_SYSTEM}|{renumbered['new']}"),
                       headers={"Authorization": f"Bearer {fhir_token('gp')}"}, timeout=30)
    assert answer.status_code == 200
    assert [e["resource"]["id"] for e in answer.json().get("entry", [])] == [renumbered["team"]]


def test_IC_R5_soap_referral_search_by_the_new_number(live, personas, renumbered):
    referrals = ServiceCallers(live, personas, path=PATH, ns=NS, xsd=("soap", "referral", "Referral-v1.xsd"))
    found = referrals.service("gp").GetPatientReferrals(PatientSsin=renumbered["new"])
    assert [r.ReferralId for r in found.Referral] == [renumbered["referral"]]


def test_IC_R5_the_audit_trail_finds_the_acts_of_before_the_change(live, fhir_token, renumbered, personas):
    from gateway.fhir.resources.directory import patient_id

    answer = httpx.get(live.url(f"/fhir/AuditEvent?patient=Patient/{patient_id(live.gw, renumbered['new'])}&_count=50"),
                       headers={"Authorization": f"Bearer {fhir_token('auditor')}"}, timeout=30)
    assert answer.status_code == 200
    actions = {c["code"] for e in answer.json().get("entry", []) for c in e["resource"]["subtype"]}
    assert {"care-team.create", "referral.create", "register.niss-change"} <= actions
