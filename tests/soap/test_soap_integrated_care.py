"""IntegratedCare v1 over real HTTP, driven as a vendor does: zeep built
from the published ``?wsdl``, a real STS token per persona, every request
signed with the token's key. Every operation, every IC-A rule as a Fault
naming the rule, every answer valid against the XSD."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree
from sqlalchemy import func, select

from gateway.domain.model import AuditRecord, InclusionChange
from gateway.soap11.envelope import (
    STATUS_CONFLICT,
    STATUS_DATA_NOT_FOUND,
    STATUS_INVALID_INPUT,
    STATUS_NOT_AUTHORIZED,
    STATUS_SUCCESS,
)
from tests.soap.conftest import OPERATIONS, SERVICE, refused, request, response_fault, stored_state

BASE = "/Envelope/Body"


def month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


@pytest.fixture(scope="module")
def psi_a(personas) -> str:  # type: ignore[no-untyped-def]
    return personas["psi-admin"].organisation_nihii


@pytest.fixture(scope="module")
def psi_b(personas) -> str:  # type: ignore[no-untyped-def]
    return personas["psi-admin-other"].organisation_nihii


def declare(soap, live, who: str, patient: str, psi: str, status: str = "principal", *, days_ago: int = 40,
            consent: str | None = "agree") -> Any:
    start = live.clock.today() - timedelta(days=days_ago)
    extra = {"ResearchConsent": {"Decision": consent, "Date": start}} if consent else {}
    return soap.service(who).DeclareInclusion(PatientSsin=patient, PsiNihii=psi, Status=status, StartDate=start, **extra)


@pytest.fixture(scope="module")
def declared(soap, live, personas, psi_a, psi_b) -> dict[str, Any]:
    """patient: principal in PSI B, information in PSI A (both declared by the gp)."""
    b = declare(soap, live, "gp", personas["patient"].niss, psi_b)
    a = declare(soap, live, "gp", personas["patient"].niss, psi_a, "information", consent=None)
    return {"a": a.Inclusion, "b": b.Inclusion, "b_answer": b}


# ------------------------------------------------------------------ the contract


def test_wsdl_is_published_self_contained_with_this_servers_address(live, soap):
    response = httpx.get(soap.url + "?wsdl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    document = etree.fromstring(response.content)
    assert document.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location") == live.base_url + SERVICE
    assert b"schemaLocation" not in response.content  # the XSDs are inlined: one GET is enough
    actions = {op.get("soapAction") for op in document.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")}
    assert actions == {f"urn:be:care-gateway:integratedcare:v1:{name}" for name in OPERATIONS}
    assert set(zeep.Client(soap.url + "?wsdl").service._binding._operations) == set(OPERATIONS)
    plain = httpx.get(soap.url)
    assert plain.status_code == 200 and "?wsdl" in plain.text


# ------------------------------------------------------------------ IC-F1 declare


def test_IC_F1_declare_answers_the_stored_inclusion(declared, live, personas, psi_b):
    answer, b = declared["b_answer"], declared["b"]
    assert answer.Status.StatusCode.Value == STATUS_SUCCESS and answer.IssueInstant is not None
    start = live.clock.today() - timedelta(days=40)
    assert (b.PatientSsin, b.PsiNihii, b.Status, b.StartDate, b.EndDate) == (personas["patient"].niss, psi_b, "principal", start, None)
    assert b.BillingPeriod.Start == month_after(start) and b.BillingPeriod.End is None  # IC-R2
    gp = personas["gp"]
    assert (b.DeclaredBy.Nihii, b.DeclaredBy.Ssin, b.DeclaredBy.Role) == (gp.nihii, gp.niss, "provider")  # items 10, 12
    assert b.Version == 1 and b.InclusionId


def test_IC_F1_declaration_without_any_consent_decision_is_refused(soap, live, personas, psi_a):
    fault = refused(lambda: declare(soap, live, "gp", personas["patient-2"].niss, psi_a, consent=None))
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("consent-required", "IC-F1", STATUS_INVALID_INPUT)
    assert fault["Path"] == f"{BASE}/DeclareInclusionRequest/ResearchConsent/Decision"


def test_IC_F1_unknown_psi_deceased_patient_and_bad_check_digits_are_refused(soap, live, personas, psi_a):
    gp = soap.service("gp")
    fault = refused(gp.DeclareInclusion, PatientSsin=personas["patient-2"].niss, PsiNihii=personas["pharmacist"].organisation_nihii,
                    Status="information", StartDate=live.clock.today())
    assert (fault["Code"], fault["Rule"], fault["Path"]) == ("unknown-psi", "IC-F1", f"{BASE}/DeclareInclusionRequest/PsiNihii")
    fault = refused(lambda: declare(soap, live, "gp", personas["deceased-patient"].niss, psi_a))
    assert (fault["Code"], fault["Rule"]) == ("deceased-patient", "IC-F1")
    fault = refused(lambda: declare(soap, live, "gp", personas["patient-2"].niss[:9] + "00", psi_a))
    assert (fault["Code"], fault["Path"]) == ("invalid-niss", f"{BASE}/DeclareInclusionRequest/PatientSsin")


def test_IC_R1_a_second_principal_inclusion_is_a_conflict(declared, soap, live, personas, psi_a):
    fault = refused(lambda: declare(soap, live, "nurse", personas["patient"].niss, psi_a))
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("principal-overlap", "IC-R1", STATUS_CONFLICT)
    assert fault["Path"] == f"{BASE}/DeclareInclusionRequest/Status"


def test_IC_R3_end_before_start_and_consent_in_the_future_are_refused(soap, live, personas, psi_a):
    today = live.clock.today()
    gp = soap.service("gp")
    fault = refused(gp.DeclareInclusion, PatientSsin=personas["patient-2"].niss, PsiNihii=psi_a, Status="information",
                    StartDate=today, EndDate=today - timedelta(days=1), ResearchConsent={"Decision": "agree", "Date": today})
    assert (fault["Code"], fault["Rule"], fault["Path"]) == ("end-before-start", "IC-R3", f"{BASE}/DeclareInclusionRequest/EndDate")
    fault = refused(gp.DeclareInclusion, PatientSsin=personas["patient-2"].niss, PsiNihii=psi_a, Status="information",
                    StartDate=today, ResearchConsent={"Decision": "agree", "Date": today + timedelta(days=1)})
    assert (fault["Code"], fault["Rule"], fault["Path"]) == (
        "consent-date-in-future", "IC-R3", f"{BASE}/DeclareInclusionRequest/ResearchConsent/Date")


# ------------------------------------------------------------------ IC-F2 consult


def test_IC_A1_provider_consults_with_a_therapeutic_link_only(declared, soap, personas):
    seen = soap.service("gp").GetPatientInclusions(PatientSsin=personas["patient"].niss)
    assert {i.InclusionId for i in seen.Inclusion} == {declared["a"].InclusionId, declared["b"].InclusionId}
    assert seen.PrincipalElsewhere is False
    register = soap.live.gw.platform.register.person(personas["patient"].niss)
    assert (seen.Patient.Ssin, seen.Patient.LastName, seen.Patient.FirstName, seen.Patient.BirthDate) == (
        register.niss, register.last_name, register.first_name, register.birth_date)  # items 4 to 6, IC-R9
    assert seen.ResearchConsent.Decision == "agree" and seen.ResearchConsent.State == "active"
    fault = refused(soap.service("gp-no-link").GetPatientInclusions, PatientSsin=personas["patient"].niss)
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("no-therapeutic-link", "IC-A1", STATUS_NOT_AUTHORIZED)


def test_IC_A2_pharmacist_consults_through_the_pharmacys_link(declared, soap, personas):
    seen = soap.service("pharmacist").GetPatientInclusions(PatientSsin=personas["patient"].niss)
    assert len(seen.Inclusion) == 2
    fault = refused(soap.service("pharmacist-no-link").GetPatientInclusions, PatientSsin=personas["patient"].niss)
    assert (fault["Code"], fault["Rule"]) == ("no-therapeutic-link", "IC-A2")


def test_IC_A3_psi_staff_see_their_own_psi_and_only_that_a_principal_exists_elsewhere(declared, soap, personas, psi_b):
    seen = soap.service("psi-admin").GetPatientInclusions(PatientSsin=personas["patient"].niss)
    assert [i.InclusionId for i in seen.Inclusion] == [declared["a"].InclusionId]
    assert seen.PrincipalElsewhere is True  # the principal one in PSI B: not which PSI, not its dates
    raw = soap.post(soap.signed("psi-admin", request("GetPatientInclusions", PatientSsin=personas["patient"].niss)),
                    action="GetPatientInclusions")
    assert raw.status_code == 200 and psi_b.encode() not in raw.content and declared["b"].InclusionId.encode() not in raw.content
    other = soap.service("psi-admin-other").GetPatientInclusions(PatientSsin=personas["patient"].niss)
    assert [i.InclusionId for i in other.Inclusion] == [declared["b"].InclusionId] and other.PrincipalElsewhere is False


def test_IC_A6_staff_of_another_psi_may_not_change_its_inclusions(declared, soap, personas):
    """Nor learn that it exists (IC-A3): the answer of an unknown id."""
    a = declared["a"]
    fault = refused(soap.service("psi-admin-other").UpdateInclusion, InclusionId=a.InclusionId, Status=a.Status,
                    StartDate=a.StartDate - timedelta(days=1))
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("unknown-inclusion", None, STATUS_DATA_NOT_FOUND)


def test_IC_A4_the_patient_sees_all_their_own_inclusions_and_nobody_elses(declared, soap, personas):
    mine = soap.service("patient").GetPatientInclusions(PatientSsin=personas["patient"].niss)
    assert {i.InclusionId for i in mine.Inclusion} == {declared["a"].InclusionId, declared["b"].InclusionId}
    fault = refused(soap.service("patient-2").GetPatientInclusions, PatientSsin=personas["patient"].niss)
    assert (fault["Code"], fault["Rule"]) == ("not-own-data", "IC-A9")


# ------------------------------------------------------------------ IC-F3 modify, close


def test_IC_A5_provider_updates_with_the_version_and_may_remove_an_end_date(soap, live, personas, psi_a, psi_b):
    gp = soap.service("gp")
    inc = declare(soap, live, "gp", personas["bis-patient"].niss, psi_a, "information").Inclusion
    state = {"InclusionId": inc.InclusionId, "Status": inc.Status, "StartDate": inc.StartDate}
    end = live.clock.today() + timedelta(days=30)
    changed = gp.UpdateInclusion(**state, EndDate=end, Version=1).Inclusion
    assert (changed.EndDate, changed.BillingPeriod.End, changed.Version) == (end, month_after(month_after(end)) - timedelta(days=1), 2)
    fault = refused(gp.UpdateInclusion, **{**state, "Status": "principal"}, EndDate=end, Version=1)
    assert (fault["Code"], fault["Status"], fault["Path"]) == ("version-conflict", STATUS_CONFLICT, f"{BASE}/UpdateInclusionRequest/Version")
    same = gp.UpdateInclusion(**state, EndDate=end)  # the state stored already: nothing changes
    assert same.Inclusion.Version == 2
    reopened = gp.UpdateInclusion(**state, Version=2).Inclusion  # no EndDate: the end date is removed
    assert (reopened.EndDate, reopened.BillingPeriod.End, reopened.Version) == (None, None, 3)
    fault = refused(gp.UpdateInclusion, **state, PsiNihii=psi_b)
    assert (fault["Code"], fault["Rule"], fault["Path"]) == ("immutable-element", "IC-F3", f"{BASE}/UpdateInclusionRequest/PsiNihii")
    fault = refused(soap.service("gp-no-link").UpdateInclusion, **{**state, "Status": "principal"})
    assert (fault["Code"], fault["Rule"]) == ("no-therapeutic-link", "IC-A5")
    fault = refused(gp.UpdateInclusion, **{**state, "InclusionId": "no-such-inclusion"})
    assert (fault["Code"], fault["Status"], fault["Path"]) == ("unknown-inclusion", STATUS_DATA_NOT_FOUND,
                                                               f"{BASE}/UpdateInclusionRequest/InclusionId")


def test_IC_A6_psi_admin_changes_the_start_date_but_not_the_status(declared, soap, live, personas):
    admin = soap.service("psi-admin")
    current = admin.GetPatientInclusions(PatientSsin=personas["patient"].niss).Inclusion[0]
    earlier = current.StartDate - timedelta(days=3)
    changed = admin.UpdateInclusion(InclusionId=current.InclusionId, Status=current.Status, StartDate=earlier,
                                    EndDate=current.EndDate).Inclusion
    assert (changed.StartDate, changed.Version) == (earlier, current.Version + 1)  # the unchanged status is not a change
    fault = refused(admin.UpdateInclusion, InclusionId=current.InclusionId, Status="principal", StartDate=earlier)
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("field-not-modifiable", "IC-A6", STATUS_NOT_AUTHORIZED)


def test_IC_A7_the_patient_records_consent_but_cannot_change_dates(declared, soap, live, personas):
    me = soap.service("patient")
    recorded = me.RecordResearchConsent(PatientSsin=personas["patient"].niss, Decision="refuse",
                                        DecisionDate=live.clock.today()).ResearchConsent
    assert (recorded.Decision, recorded.State, recorded.RecordedBy.Role, recorded.RecordedBy.Ssin) == (
        "refuse", "active", "patient", personas["patient"].niss)  # IC-R11
    history = me.GetResearchConsent(PatientSsin=personas["patient"].niss).ResearchConsent
    assert [(c.Decision, c.State) for c in history] == [("refuse", "active"), ("agree", "inactive")]
    assert history[1].RecordedBy.Ssin == personas["gp"].niss
    b = declared["b"]
    fault = refused(me.UpdateInclusion, InclusionId=b.InclusionId, Status=b.Status, StartDate=b.StartDate - timedelta(days=20))
    assert (fault["Code"], fault["Rule"]) == ("field-not-modifiable", "IC-A7")
    assert "contact a care provider" in (fault["Message"] or "")
    fault = refused(soap.service("patient-2").RecordResearchConsent, PatientSsin=personas["patient"].niss, Decision="agree",
                    DecisionDate=live.clock.today())
    assert (fault["Code"], fault["Rule"]) == ("not-own-data", "IC-A9")
    fault = refused(me.RecordResearchConsent, PatientSsin=personas["patient"].niss, Decision="agree",
                    DecisionDate=live.clock.today() + timedelta(days=2))
    assert (fault["Code"], fault["Rule"], fault["Path"]) == (
        "consent-date-in-future", "IC-R3", f"{BASE}/RecordResearchConsentRequest/DecisionDate")


def test_IC_F3_close_excludes_the_patient_from_the_end_date(soap, live, personas, psi_b):
    inc = declare(soap, live, "gp", personas["patient-2"].niss, psi_b, "information").Inclusion
    end = live.clock.today()
    fault = refused(soap.service("gp-no-link").CloseInclusion, InclusionId=inc.InclusionId, EndDate=end)
    assert (fault["Code"], fault["Rule"]) == ("no-therapeutic-link", "IC-A5")
    fault = refused(soap.service("gp").CloseInclusion, InclusionId=inc.InclusionId, EndDate=inc.StartDate - timedelta(days=1))
    assert (fault["Code"], fault["Rule"], fault["Path"]) == ("end-before-start", "IC-R3", f"{BASE}/CloseInclusionRequest/EndDate")
    closed = soap.service("gp").CloseInclusion(InclusionId=inc.InclusionId, EndDate=end, Version=1).Inclusion
    assert (closed.EndDate, closed.Version) == (end, 2)
    assert closed.BillingPeriod.End == month_after(month_after(end)) - timedelta(days=1)  # IC-R2: end of the next month
    with live.gw.db.transaction() as session:
        actions = session.execute(select(InclusionChange.action).where(InclusionChange.inclusion_id == inc.InclusionId)
                                  .order_by(InclusionChange.version)).scalars().all()
    assert actions == ["declare", "close"]


# ------------------------------------------------------------------ IC-F4 list


def test_IC_F4_IC_A8_the_coordinator_pages_through_the_psis_patients(declared, soap, live, personas, registries, psi_a):
    for p in [p for p in registries.patients() if p.death_date is None][20:25]:
        declare(soap, live, "gp", p.niss, psi_a, "information")
    coordinator = soap.service("psi-coordinator")
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = coordinator.ListPsiPatients(PageSize=2, Cursor=cursor)
        assert len(page.Item) <= 2 and page.PageSize == 2
        seen += [item.Inclusion.InclusionId for item in page.Item]
        assert all(item.Inclusion.PsiNihii == psi_a and item.Patient.LastName for item in page.Item)
        cursor = page.NextCursor
        if cursor is None:
            break
    assert len(seen) >= 6 and len(set(seen)) == len(seen) and declared["a"].InclusionId in seen
    maximum = live.gw.settings.max_page_size
    for size in (maximum + 1, 0):
        fault = refused(coordinator.ListPsiPatients, PageSize=size)
        assert (fault["Code"], fault["Rule"], fault["Path"]) == ("page-size-out-of-range", "IC-A8", f"{BASE}/ListPsiPatientsRequest/PageSize")
    assert len(coordinator.ListPsiPatients(PsiNihii=psi_a).Item) == min(live.gw.settings.default_page_size, len(seen))
    fault = refused(soap.service("psi-coordinator-other").ListPsiPatients, PsiNihii=psi_a)
    assert (fault["Code"], fault["Rule"]) == ("not-own-psi", "IC-A3")
    fault = refused(soap.service("gp").ListPsiPatients)
    assert (fault["Code"], fault["Rule"]) == ("list-not-allowed", "IC-A9")


def test_IC_A9_a_profession_outside_integrated_care_is_denied_everything(declared, soap, live, personas, psi_a):
    lab = soap.service("excluded-profession")
    fault = refused(lab.GetPatientInclusions, PatientSsin=personas["patient"].niss)
    assert (fault["Code"], fault["Rule"]) == ("profession-not-allowed", "IC-A9")
    fault = refused(lambda: declare(soap, live, "excluded-profession", personas["patient-2"].niss, psi_a))
    assert (fault["Code"], fault["Rule"]) == ("profession-not-allowed", "IC-A9")
    with live.gw.db.transaction() as session:
        denied = session.execute(select(AuditRecord).where(AuditRecord.code == "profession-not-allowed")).scalars().all()
    assert {(a.outcome, a.channel, a.rule) for a in denied} == {("denied", "soap", "IC-A9")}  # IC-R8: denials audited


# ------------------------------------------------------------------ the envelope and the contract


def test_requests_are_validated_against_the_xsd_before_anything_is_done(soap, live, personas, psi_a):
    before = stored_state(live.gw)
    bad_date = request("DeclareInclusion", PatientSsin=personas["patient-2"].niss, PsiNihii=psi_a, Status="principal",
                       StartDate="10/03/2026")
    fault = response_fault(soap.post(soap.signed("gp", bad_date), action="DeclareInclusion"))
    assert (fault["Code"], fault["Status"], fault["faultcode"]) == ("schema-invalid", STATUS_INVALID_INPUT, "soapenv:Client")
    assert "StartDate" in (fault["Message"] or "") and fault["Path"] == f"{BASE}/DeclareInclusionRequest/StartDate"
    unknown_status = request("DeclareInclusion", PatientSsin=personas["patient-2"].niss, PsiNihii=psi_a, Status="primary",
                             StartDate="2026-03-10")
    assert response_fault(soap.post(soap.signed("gp", unknown_status), action="DeclareInclusion"))["Code"] == "schema-invalid"
    extra = request("GetPatientInclusions", PatientSsin=personas["patient"].niss, Evil="x")
    assert response_fault(soap.post(soap.signed("gp", extra), action="GetPatientInclusions"))["Code"] == "schema-invalid"
    assert stored_state(live.gw) == before  # nothing written, not even an audit record


def test_soap_action_must_name_the_payloads_operation(soap, live, personas):
    payload = request("GetPatientInclusions", PatientSsin=personas["patient"].niss)
    fault = response_fault(soap.post(soap.signed("gp", payload), action="DeclareInclusion"))
    assert fault["Code"] == "soap-action-mismatch"
    ok = soap.post(soap.signed("gp", payload))  # no SOAPAction at all: the payload names the operation
    assert ok.status_code == 200


def test_unknown_operation_and_unsigned_calls_are_refused(soap, live, personas):
    fault = response_fault(soap.post(soap.signed("gp", request("DeleteEverything"))))
    assert fault["Code"] == "unknown-operation"
    anonymous = zeep.Client(soap.url + "?wsdl")
    with pytest.raises(zeep.exceptions.Fault) as err:
        anonymous.service.GetPatientInclusions(PatientSsin=personas["patient"].niss)
    from tests.soap.conftest import fault_detail

    assert (fault_detail(err.value)["Code"], fault_detail(err.value)["Status"]) == ("security-header-missing", STATUS_NOT_AUTHORIZED)


def test_every_answer_was_valid_against_the_xsd_and_audited_as_soap(soap, live):
    assert soap.schema_check.checked >= 20
    with live.gw.db.transaction() as session:
        channels = dict(session.execute(select(AuditRecord.channel, func.count()).group_by(AuditRecord.channel)).all())
    assert set(channels) == {"soap"}
