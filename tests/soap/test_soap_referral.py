"""Referral v1 over real HTTP, driven as a vendor does: zeep built from the
published ``?wsdl``, a real STS token per persona, every request signed with
the token's key. Every operation; RF-1 (who refers, what a referral names,
who takes each step of its status) and RF-4 (who sees it) as Faults naming
the rule (the rule ids the FHIR face reads); requests checked against the
XSD before anything is done; a tampered body and a replay refused with
nothing changed; every answer valid against the XSD."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import zeep
from lxml import etree
from sqlalchemy import func, select
from zeep.helpers import serialize_object

from gateway.domain.model import AuditRecord, Referral, ReferralParty
from gateway.identity.xml import parse_untrusted
from gateway.soap11.envelope import (
    STATUS_CONFLICT,
    STATUS_DATA_NOT_FOUND,
    STATUS_INVALID_INPUT,
    STATUS_NOT_AUTHORIZED,
    STATUS_SUCCESS,
)
from gateway.soap.referral import NS, PATH
from tests.soap.care_referral_callers import ServiceCallers
from tests.soap.conftest import refused, response_fault, stored_state

OPERATIONS = ("CreateReferral", "GetReferral", "GetPatientReferrals", "ChangeReferralStatus", "GetReferralHistory")
BASE = "/Envelope/Body"


@pytest.fixture(scope="module")
def referrals(live, personas) -> ServiceCallers:  # type: ignore[no-untyped-def]
    return ServiceCallers(live, personas, path=PATH, ns=NS, xsd=("soap", "referral", "Referral-v1.xsd"))


def referral(live, patient: str, performer: str | None, *, status: str = "active", days: tuple[int, int] = (0, 90),  # type: ignore[no-untyped-def]
             service: str = "cardiology", programme: str = "general") -> dict[str, Any]:
    today = live.clock.today()
    items: dict[str, Any] = {
        "Status": status, "Programme": programme, "Category": "specialist-referral", "ServiceRequested": service,
        "Reason": "exertional chest pain", "PatientSsin": patient,
        "ValidityPeriod": {"Start": today + timedelta(days=days[0]), "End": today + timedelta(days=days[1])},
    }
    if performer:
        items.update(PerformerRole="nurse", Performer=[{"Nihii": performer}])
    return items


def make(referrals, live, personas, service: str = "cardiology", **kwargs: Any) -> Any:  # type: ignore[no-untyped-def]
    """The gp refers patient to ``service``, the nurse named as performer."""
    body = referral(live, personas["patient"].niss, personas["nurse"].nihii, service=service, **kwargs)
    return referrals.service("gp").CreateReferral(**body).Referral


def move(referrals, who: str, ref: Any, status: str, **kwargs: Any) -> Any:  # type: ignore[no-untyped-def]
    return referrals.service(who).ChangeReferralStatus(ReferralId=ref.ReferralId, Status=status, **kwargs).Referral


@pytest.fixture(scope="module")
def heart(referrals, live, personas) -> Any:  # type: ignore[no-untyped-def]
    """The gp refers patient to cardiology, the nurse named as performer (RF-1)."""
    return referrals.service("gp").CreateReferral(**referral(live, personas["patient"].niss, personas["nurse"].nihii))


# ------------------------------------------------------------------ the contract


def test_wsdl_is_published_self_contained_with_this_servers_address(live, referrals):
    response = httpx.get(referrals.url + "?wsdl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    document = etree.fromstring(response.content)
    assert document.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location") == live.base_url + "/soap" + PATH
    assert b"schemaLocation" not in response.content
    actions = {op.get("soapAction") for op in document.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")}
    assert actions == {f"{NS}:{name}" for name in OPERATIONS}
    assert set(zeep.Client(referrals.url + "?wsdl").service._binding._operations) == set(OPERATIONS)


# ------------------------------------------------------------------ RF-1


def test_RF_1_a_referral_names_patient_requester_service_reason_and_validity(live, referrals, personas, heart):
    gp, nurse, patient = personas["gp"], personas["nurse"], personas["patient"]
    today = live.clock.today()
    assert heart.Status.StatusCode.Value == STATUS_SUCCESS
    r = heart.Referral
    assert (r.Status, r.Programme, r.Category, r.ServiceRequested, r.Reason, r.PatientSsin) == (
        "active", "general", "specialist-referral", "cardiology", "exertional chest pain", patient.niss)
    assert (r.ValidityPeriod.Start, r.ValidityPeriod.End) == (today, today + timedelta(days=90))
    assert (r.Requester.Nihii, r.Requester.Ssin, r.Requester.Profession) == (gp.nihii, None, "persphysician")  # the caller
    assert [(p.Nihii, p.Cbe) for p in r.Performer] == [(nurse.nihii, None)] and r.PerformerRole == "nurse"
    assert (r.CreatedAt, r.UpdatedAt, r.Version) == (live.clock.now(), live.clock.now(), 1)
    with live.gw.db.transaction() as session:
        parties = session.execute(select(ReferralParty.role, ReferralParty.party_nihii, ReferralParty.party_role)
                                  .where(ReferralParty.referral_id == r.ReferralId).order_by(ReferralParty.id)).all()
    assert [tuple(p) for p in parties] == [("requester", gp.nihii, "doctor"), ("performer", nurse.nihii, "nurse")]
    read = referrals.service("nurse").GetReferral(ReferralId=r.ReferralId)
    assert serialize_object(read.Referral) == serialize_object(r)


def test_RF_1_only_a_care_provider_refers(referrals, live, personas):
    body = referral(live, personas["patient"].niss, personas["nurse"].nihii)
    for key in ("psi-coordinator", "patient", "pharmacist"):
        fault = refused(referrals.service(key).CreateReferral, **body)
        assert (fault["Code"], fault["Rule"], fault["Status"]) == ("referral-not-allowed", "RF-1", STATUS_NOT_AUTHORIZED), key


def test_RF_1_the_performer_accepts_and_completes(referrals, live, personas):
    made = make(referrals, live, personas, "physiotherapy")
    fault = refused(referrals.service("gp").ChangeReferralStatus, ReferralId=made.ReferralId, Status="accepted")
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("not-the-right-party", "RF-1", STATUS_NOT_AUTHORIZED)
    accepted = move(referrals, "nurse", made, "accepted")
    assert (accepted.Status, accepted.Version) == ("active", 2)  # the referral stays active: its performer's Task moved
    [task] = referrals.service("gp").GetReferral(ReferralId=made.ReferralId).Referral.Performer
    assert (task.TaskId, task.TaskStatus) == (f"task-{made.ReferralId}", "accepted")
    fault = refused(referrals.service("nurse").ChangeReferralStatus, ReferralId=made.ReferralId, Status="accepted")
    assert (fault["Code"], fault["Rule"]) == ("invalid-transition", "RF-1")  # the same step again is no step (FHIR: unchanged)
    completed = move(referrals, "nurse", made, "completed", Version=2)
    assert (completed.Status, completed.Version) == ("completed", 3)
    fault = refused(referrals.service("gp").ChangeReferralStatus, ReferralId=made.ReferralId, Status="revoked")
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("invalid-transition", "RF-1", STATUS_INVALID_INPUT)
    assert fault["Path"] == f"{BASE}/ChangeReferralStatusRequest/Status" and "next: none (final)" in (fault["Message"] or "")


def test_RF_1_the_requester_revokes(referrals, live, personas):
    made = make(referrals, live, personas, "dietetics")
    fault = refused(referrals.service("nurse").ChangeReferralStatus, ReferralId=made.ReferralId, Status="revoked")
    assert (fault["Code"], fault["Rule"]) == ("not-the-right-party", "RF-1")  # the performer does not revoke
    assert move(referrals, "gp", made, "revoked").Status == "revoked"
    fault = refused(referrals.service("nurse").ChangeReferralStatus, ReferralId=made.ReferralId, Status="accepted")
    assert (fault["Code"], fault["Rule"]) == ("invalid-transition", "RF-1")


def test_RF_1_a_draft_is_activated_by_the_requester(referrals, live, personas):
    made = make(referrals, live, personas, "podology", status="draft")
    assert made.Status == "draft"
    fault = refused(referrals.service("nurse").ChangeReferralStatus, ReferralId=made.ReferralId, Status="active")
    assert (fault["Code"], fault["Rule"]) == ("not-the-right-party", "RF-1")
    assert move(referrals, "gp", made, "active").Status == "active"
    fault = refused(referrals.service("gp").ChangeReferralStatus, ReferralId=made.ReferralId, Status="draft")
    assert (fault["Code"], fault["Rule"]) == ("invalid-transition", "RF-1")  # no way back
    fault = refused(lambda: make(referrals, live, personas, status="completed"))
    assert (fault["Code"], fault["Rule"], fault["Path"]) == ("invalid-initial-status", "RF-1", f"{BASE}/CreateReferralRequest/Status")


def test_RF_1_an_expired_referral_cannot_be_accepted(referrals, live, personas):
    made = make(referrals, live, personas, "ENT", days=(-60, -1))
    fault = refused(referrals.service("nurse").ChangeReferralStatus, ReferralId=made.ReferralId, Status="accepted")
    assert (fault["Code"], fault["Rule"], fault["Path"]) == ("referral-expired", "RF-1", f"{BASE}/ChangeReferralStatusRequest/Status")


def test_RF_1_status_changes_are_version_checked(referrals, live, personas):
    made = make(referrals, live, personas, "speech therapy")
    assert move(referrals, "nurse", made, "accepted", Version=1).Version == 2
    before = stored_state(live.gw)["referral"]
    fault = refused(referrals.service("nurse").ChangeReferralStatus, ReferralId=made.ReferralId, Status="completed", Version=1)
    assert (fault["Code"], fault["Status"], fault["Path"]) == ("version-conflict", STATUS_CONFLICT, f"{BASE}/ChangeReferralStatusRequest/Version")
    assert stored_state(live.gw)["referral"] == before
    fault = refused(referrals.service("nurse").ChangeReferralStatus, ReferralId="no-such-referral", Status="completed")
    assert (fault["Code"], fault["Status"], fault["Path"]) == (
        "unknown-referral", STATUS_DATA_NOT_FOUND, f"{BASE}/ChangeReferralStatusRequest/ReferralId")


def test_RF_1_what_a_referral_names_is_checked_and_the_fault_names_the_element(referrals, live, personas):
    gp, patient = referrals.service("gp"), personas["patient"].niss
    cases = [
        ({"Performer": [{"Nihii": personas["nurse"].nihii}, {"Nihii": "15461612004"}]}, "nihii-check-digits", "Performer[2]"),
        ({"Performer": [{}]}, "performer-without-identifier", "Performer[1]"),
        ({"ValidityPeriod": {"Start": "2026-06-01", "End": "2026-05-01"}}, "end-before-start", "ValidityPeriod/End"),
        ({"ServiceRequested": "  "}, "missing-service", "ServiceRequested"),
    ]
    for change, code, path in cases:
        fault = refused(gp.CreateReferral, **{**referral(live, patient, None), **change})
        assert (fault["Code"], fault["Rule"], fault["Status"], fault["Path"]) == (
            code, "RF-1", STATUS_INVALID_INPUT, f"{BASE}/CreateReferralRequest/{path}"), code
    fault = refused(gp.CreateReferral, **referral(live, personas["deceased-patient"].niss, None))
    assert (fault["Code"], fault["Path"]) == ("deceased-patient", f"{BASE}/CreateReferralRequest/PatientSsin")


def test_RF_1_an_organisation_performer_is_taken_on_by_its_staff_and_may_be_named_by_cbe(referrals, live, personas):
    pharmacist = personas["pharmacist"]
    body = referral(live, personas["patient"].niss, None, service="medication review")
    made = referrals.service("gp").CreateReferral(**body, Performer=[{"Nihii": pharmacist.organisation_nihii}]).Referral
    fault = refused(referrals.service("pharmacist-no-link").ChangeReferralStatus, ReferralId=made.ReferralId, Status="accepted")
    assert (fault["Code"], fault["Rule"]) == ("not-a-party", "RF-4")  # another pharmacy, no link: may not even see it
    assert move(referrals, "pharmacist", made, "accepted").Performer[0].TaskStatus == "accepted"  # the pharmacy's pharmacist is the performer
    by_cbe = referrals.service("gp").CreateReferral(**body, Performer=[{"Cbe": pharmacist.organisation_cbe}]).Referral
    assert [(p.Nihii, p.Cbe) for p in by_cbe.Performer] == [(None, pharmacist.organisation_cbe)]


def test_RF_1_several_performers_each_move_their_own_task_with_a_reason(referrals, live, personas):
    body = referral(live, personas["patient"].niss, None, service="wound care")
    made = referrals.service("gp").CreateReferral(**body, Performer=[{"Nihii": personas["nurse"].nihii},
                                                                     {"Nihii": personas["pharmacist"].organisation_nihii}]).Referral
    assert [(p.TaskId, p.TaskStatus) for p in made.Performer] == [
        (f"task-{made.ReferralId}", "requested"), (f"task-{made.ReferralId}-2", "requested")]
    fault = refused(referrals.service("pharmacist").ChangeReferralStatus, ReferralId=made.ReferralId, Status="rejected")
    assert (fault["Code"], fault["Rule"], fault["Path"]) == ("reason-required", "RF-1", f"{BASE}/ChangeReferralStatusRequest/Reason")
    fault = refused(referrals.service("nurse").ChangeReferralStatus, ReferralId=made.ReferralId, Status="accepted",
                    Performer={"Nihii": personas["pharmacist"].organisation_nihii})
    assert (fault["Code"], fault["Rule"]) == ("not-the-right-party", "RF-1")  # another performer's Task
    rejected = move(referrals, "pharmacist", made, "rejected", Reason="we do not dress wounds")
    assert [(p.TaskStatus, p.StatusReason) for p in rejected.Performer] == [("requested", None), ("rejected", "we do not dress wounds")]
    held = move(referrals, "gp", made, "on-hold")
    assert held.Status == "on-hold"
    fault = refused(referrals.service("nurse").ChangeReferralStatus, ReferralId=made.ReferralId, Status="accepted")
    assert (fault["Code"], fault["Rule"]) == ("referral-on-hold", "RF-1")
    move(referrals, "gp", made, "active")
    for step in ("received", "accepted", "in-progress", "completed"):
        moved = move(referrals, "nurse", made, step)
    assert (moved.Status, moved.Performer[0].TaskStatus, moved.Version) == ("completed", "completed", 8)


def test_RF_1_the_requester_revokes_with_a_reason_and_open_tasks_are_cancelled(referrals, live, personas):
    made = make(referrals, live, personas, "home nursing")
    move(referrals, "nurse", made, "accepted")
    revoked = move(referrals, "gp", made, "revoked", Reason="the patient moved abroad")
    assert (revoked.Status, revoked.StatusReason) == ("revoked", "the patient moved abroad")
    assert (revoked.Performer[0].TaskStatus, revoked.Performer[0].StatusReason) == ("cancelled", "the patient moved abroad")


def test_RF_1_an_expired_referral_reads_as_such(referrals, live, personas):
    made = make(referrals, live, personas, "orthoptics", days=(-30, -1))
    assert (made.Status, made.Expired) == ("active", True)
    assert make(referrals, live, personas, "orthoptics").Expired is False


def test_RF_4_every_version_of_a_referral_is_kept_and_read_under_the_current_rules(referrals, live, personas):
    made = make(referrals, live, personas, "osteopathy")
    move(referrals, "nurse", made, "accepted")
    move(referrals, "gp", made, "on-hold")
    history = referrals.service("nurse").GetReferralHistory(ReferralId=made.ReferralId).Referral
    assert [(r.Version, r.Status, r.Performer[0].TaskStatus) for r in history] == [
        (1, "active", "requested"), (2, "active", "accepted"), (3, "on-hold", "accepted")]
    [first] = referrals.service("gp").GetReferralHistory(ReferralId=made.ReferralId, Version=1).Referral
    assert (first.Version, first.Status, first.Performer[0].TaskStatus) == (1, "active", "requested")
    for version in (9, 99999999999999999999):  # beyond an integer column's range too: not found, never a failure
        fault = refused(referrals.service("gp").GetReferralHistory, ReferralId=made.ReferralId, Version=version)
        assert (fault["Code"], fault["Status"]) == ("unknown-version", STATUS_DATA_NOT_FOUND)
    fault = refused(referrals.service("gp-no-link").GetReferralHistory, ReferralId=made.ReferralId, Version=1)
    assert (fault["Code"], fault["Rule"]) == ("not-a-party", "RF-4")


# ------------------------------------------------------------------ RF-4


def test_RF_4_only_requester_performer_and_care_relations_see_a_referral(referrals, heart):
    ref = heart.Referral.ReferralId
    for key in ("gp", "nurse", "patient", "pharmacist"):  # requester, performer, the patient, pharmacy with a link
        assert referrals.service(key).GetReferral(ReferralId=ref).Referral.ReferralId == ref, key
    for key, code, rule in (("gp-no-link", "not-a-party", "RF-4"), ("pharmacist-no-link", "not-a-party", "RF-4"),
                            ("excluded-profession", "profession-not-allowed", "IC-A9")):
        fault = refused(referrals.service(key).GetReferral, ReferralId=ref)
        assert (fault["Code"], fault["Rule"], fault["Status"]) == (code, rule, STATUS_NOT_AUTHORIZED), key
    fault = refused(referrals.service("psi-coordinator").GetReferral, ReferralId=ref)  # IC-A3: for PSI staff, an unknown id
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("unknown-referral", None, STATUS_DATA_NOT_FOUND)
    fault = refused(referrals.service("gp-no-link").ChangeReferralStatus, ReferralId=ref, Status="revoked")
    assert (fault["Code"], fault["Rule"]) == ("not-a-party", "RF-4")  # who may not see it may not move it


def test_RF_4_get_patient_referrals_shows_each_caller_what_they_may_see(referrals, live, personas, heart):
    niss = personas["patient-2"].niss
    gp = referrals.service("gp")
    made = []
    for i in range(3):
        live.clock.advance(timedelta(seconds=1))  # one instant each: the answer is in order of creation
        made.append(gp.CreateReferral(**referral(live, niss, personas["nurse"].nihii, service=f"s{i}")).Referral)
    move(referrals, "nurse", made[0], "accepted")
    move(referrals, "gp", made[1], "revoked")
    assert [r.ReferralId for r in gp.GetPatientReferrals(PatientSsin=niss).Referral] == [r.ReferralId for r in made]
    assert [(r.Status, r.Performer[0].TaskStatus) for r in gp.GetPatientReferrals(PatientSsin=niss).Referral] == [
        ("active", "accepted"), ("revoked", "cancelled"), ("active", "requested")]
    assert [r.ReferralId for r in gp.GetPatientReferrals(PatientSsin=niss, Status=["active", "on-hold"]).Referral] == [
        made[0].ReferralId, made[2].ReferralId]
    assert referrals.service("gp-no-link").GetPatientReferrals(PatientSsin=niss).Referral == []  # left out, not refused
    patient = personas["patient"].niss
    assert heart.Referral.ReferralId in {r.ReferralId for r in referrals.service("patient").GetPatientReferrals(PatientSsin=patient).Referral}
    assert referrals.service("patient").GetPatientReferrals(PatientSsin=niss).Referral == []  # another patient's


# ------------------------------------------------------------------ the envelope and the contract


def test_requests_are_validated_against_the_xsd_before_anything_is_done(referrals, live, personas):
    before = stored_state(live.gw)
    body = referral(live, personas["patient"].niss, personas["nurse"].nihii)
    broken = {
        "unknown status": (referrals.request("CreateReferral", **{**body, "Status": "pending"}), "Status"),
        "unknown programme": (referrals.request("CreateReferral", **{**body, "Programme": "holiday"}), "Programme"),
        "CBE of 9 digits": (referrals.request("CreateReferral", **{**body, "Performer": [{"Cbe": "088347243"}]}), "Performer/Cbe"),
        "no service": (referrals.request("CreateReferral", **{k: v for k, v in body.items() if k != "ServiceRequested"}), "Reason"),
        "status change without status": (referrals.request("ChangeReferralStatus", ReferralId="x"), None),
    }
    for name, (payload, element) in broken.items():
        operation = etree.QName(payload).localname.removesuffix("Request")
        fault = response_fault(referrals.post(referrals.signed("gp", payload), action=operation))
        assert (fault["Code"], fault["Status"], fault["faultcode"]) == ("schema-invalid", STATUS_INVALID_INPUT, "soapenv:Client"), name
        if element:
            assert fault["Path"] == f"{BASE}/{operation}Request/{element}", name
    assert stored_state(live.gw) == before  # nothing written, not even an audit record


def test_hostile_documents_are_refused_before_anything(live, referrals):
    """The hardening of the SOAP face holds here too: no entity declarations, a bounded size."""
    from gateway.soap11.envelope import SOAP11_NS
    from gateway.soap.operations import MAX_BYTES

    def envelope(text: str) -> str:
        return (f'<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body><x:GetReferralRequest xmlns:x="{NS}">'
                f'<x:ReferralId>{text}</x:ReferralId></x:GetReferralRequest></s:Body></s:Envelope>')

    before = stored_state(live.gw)
    xxe = '<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + envelope("&xxe;")
    for data, code, status in ((xxe.encode(), "xml-doctype-forbidden", 500),
                               (envelope("x" * (MAX_BYTES + 10)).encode(), "request-too-large", 413)):
        response = httpx.post(referrals.url, content=data, headers={"Content-Type": "text/xml"}, timeout=30)
        assert (response.status_code, response_fault(response)["Code"]) == (status, code)
        assert b"root:" not in response.content
    assert stored_state(live.gw) == before


def test_a_tampered_body_is_refused_and_changes_nothing(referrals, live, personas):
    """The nurse signs an acceptance; the Body is changed to completion."""
    made = make(referrals, live, personas, "wound care")
    root = parse_untrusted(referrals.signed("nurse", referrals.request("ChangeReferralStatus", ReferralId=made.ReferralId, Status="accepted")))
    root.xpath("//rf:Status", namespaces={"rf": NS})[0].text = "completed"
    before = stored_state(live.gw)
    fault = response_fault(referrals.post(etree.tostring(root), action="ChangeReferralStatus"))
    assert (fault["Code"], fault["Status"], fault["Path"]) == ("message-digest-mismatch", STATUS_NOT_AUTHORIZED, "/Envelope/Header/Security")
    assert stored_state(live.gw) == before
    assert referrals.service("nurse").GetReferral(ReferralId=made.ReferralId).Referral.Status == "active"


def test_a_replayed_create_is_refused_and_stores_no_second_referral(referrals, live, personas):
    payload = referrals.request("CreateReferral", **referral(live, personas["patient"].niss, personas["nurse"].nihii, service="orthoptics"))
    data = referrals.signed("gp", payload)
    with live.gw.db.transaction() as session:
        count = session.execute(select(func.count()).select_from(Referral)).scalar_one()
    assert referrals.post(data, action="CreateReferral").status_code == 200
    before = stored_state(live.gw)
    fault = response_fault(referrals.post(data, action="CreateReferral"))
    assert (fault["Code"], fault["Status"]) == ("message-replayed", STATUS_NOT_AUTHORIZED)
    assert stored_state(live.gw) == before  # not even an audit record: the replay never reached the domain
    with live.gw.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(Referral)).scalar_one() == count + 1


def test_every_answer_was_valid_against_the_xsd_and_audited_as_soap(live, referrals):
    assert referrals.schema_check.checked >= 20 and referrals.schema_check.faults >= 15
    with live.gw.db.transaction() as session:
        channels = dict(session.execute(select(AuditRecord.channel, func.count()).group_by(AuditRecord.channel)).all())
        rules = set(session.execute(select(AuditRecord.rule).where(AuditRecord.resource_type == "referral")).scalars())
    assert set(channels) == {"soap"}
    assert {"RF-1", "RF-4"} <= rules


# ------------------------------------------------------------------ mappings/ and the XSD


def test_RF_1_every_soap_path_of_the_referral_mappings_is_where_the_xsd_has_it():
    """The engine writes every mapped field, in field order, into an answer and
    requests the XSD accepts; a performer carries its Task; a step's request
    (ChangeReferralStatusRequest) holds every SOAP field of the Task mapping."""
    from datetime import date, datetime, timezone

    from gateway.contracts import contract
    from gateway.domain.clock import FixedClock
    from gateway.mapping.mapping import mapping
    from gateway.soap.commons import response

    schema = etree.XMLSchema(etree.parse(str(contract("soap", "referral", "Referral-v1.xsd"))))
    now = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
    values = {"id": "r", "status": "on-hold", "status_reason": "waiting for results", "programme": "perinatal", "category": "c",
              "service_requested": "s", "reason": "why", "patient_niss": "61033029906", "valid_from": date(2026, 1, 1),
              "valid_until": date(2026, 3, 31), "expired": True, "performer_role": "midwife", "requester_nihii": "15461602004",
              "requester_niss": "75123152609", "requester_hcparty": "persphysician", "created_at": now, "version": "3",
              "updated_at": now}
    assert {f.name for f in mapping("referral").fields if f.soap} == set(values)
    answer = response(NS, "GetReferralResponse", FixedClock(now), prefix="rf")
    element = mapping("referral").xml_element(values, answer)
    performer = {"nihii": "45032119401", "cbe": "0883472436", "task_id": "task-r", "task_status": "rejected", "task_reason": "full"}
    assert {f.name for f in mapping("referral_performer").fields if f.soap} == set(performer)
    mapping("referral_performer").xml_element(performer, element)
    assert schema.validate(answer), schema.error_log
    assert element.findtext(f"{{{NS}}}Expired") == "true"
    create = etree.Element(f"{{{NS}}}CreateReferralRequest", nsmap={"rf": NS})
    mapping("referral").to_xml({k: values[k] for k in ("status", "programme", "category", "service_requested", "reason",
                                                       "patient_niss", "valid_from", "valid_until", "performer_role")}, create)
    mapping("referral_performer").xml_element({"cbe": "0883472436"}, create)
    assert schema.validate(create), schema.error_log
    task = mapping("referral_task")
    step = {"status": "failed", "status_reason": "needs surgery", "owner_nihii": "45032119401", "version": "3"}
    assert {f.name for f in task.fields if f.soap} == {*step, "owner_cbe"}
    change = etree.Element(f"{{{NS}}}ChangeReferralStatusRequest", nsmap={"rf": NS})
    mapping("referral").to_xml({"id": "r"}, change)
    task.to_xml(step, change)
    assert schema.validate(change), schema.error_log
    assert task.from_xml(change, only=set(step)) == {**step}
