"""CareTeam v1 over real HTTP, driven as a vendor does: zeep built from the
published ``?wsdl``, a real STS token per persona, every request signed with
the token's key. Every operation; CT-1..CT-5 as Faults naming the rule (the
rule ids the FHIR face reads); requests checked against the XSD before
anything is done; a tampered body and a replay refused with nothing
changed; every answer valid against the XSD."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import zeep
from lxml import etree
from sqlalchemy import func, select
from zeep.helpers import serialize_object

from gateway.domain.model import AuditRecord, CareTeam, CareTeamMember
from gateway.identity.xml import parse_untrusted
from gateway.soap.care_team import NS, PATH
from gateway.soap11.envelope import (
    STATUS_CONFLICT,
    STATUS_DATA_NOT_FOUND,
    STATUS_INVALID_INPUT,
    STATUS_NOT_AUTHORIZED,
    STATUS_SUCCESS,
)
from tests.soap.care_referral_callers import ServiceCallers
from tests.soap.conftest import refused, response_fault, stored_state

OPERATIONS = ("CreateCareTeam", "GetCareTeam", "UpdateCareTeam", "GetPatientCareTeams", "GetCareTeamHistory")
BASE = "/Envelope/Body"


@pytest.fixture(scope="module")
def teams(live, personas) -> ServiceCallers:  # type: ignore[no-untyped-def]
    return ServiceCallers(live, personas, path=PATH, ns=NS, xsd=("soap", "care-team", "CareTeam-v1.xsd"))


def practitioner(nihii: str, role: str | None = None) -> dict[str, Any]:
    return {"Kind": "practitioner", "Nihii": nihii, **({"Role": role} if role else {})}


def person(niss: str, kind: str = "patient") -> dict[str, Any]:
    return {"Kind": kind, "Ssin": niss}


@pytest.fixture(scope="module")
def individual(teams, personas) -> Any:  # type: ignore[no-untyped-def]
    """The gp's individual care team (CT-1) for patient."""
    gp, patient = personas["gp"], personas["patient"]
    return teams.service("gp").CreateCareTeam(Kind="individual", Status="active", Name="GP follow-up", PatientSsin=patient.niss,
                                              Member=[practitioner(gp.nihii, "general practitioner"), person(patient.niss)])


@pytest.fixture(scope="module")
def group(teams, personas) -> Any:  # type: ignore[no-untyped-def]
    """A clinical group (CT-2) for patient with gp and gp-no-link (no therapeutic link) as members."""
    p = personas
    return teams.service("gp").CreateCareTeam(
        Kind="clinical-group", Status="active", Name="Heart failure group", PatientSsin=p["patient"].niss,
        Member=[practitioner(p["gp"].nihii), practitioner(p["gp-no-link"].nihii, "cardiologist")]).CareTeam


def stored_members(live, team_id: str) -> list[tuple[str, str | None, bool, str | None]]:  # type: ignore[no-untyped-def]
    """(kind, NIHII, pseudonymised NISS stored?, role) of the stored members, read without an act."""
    with live.gw.db.transaction() as session:
        rows = session.execute(select(CareTeamMember).where(CareTeamMember.care_team_id == team_id)
                               .order_by(CareTeamMember.id)).scalars().all()
        return [(m.kind, m.member_nihii, m.member_pseudonym is not None, m.role) for m in rows]


# ------------------------------------------------------------------ the contract


def test_wsdl_is_published_self_contained_with_this_servers_address(live, teams):
    response = httpx.get(teams.url + "?wsdl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    document = etree.fromstring(response.content)
    assert document.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location") == live.base_url + "/soap" + PATH
    assert b"schemaLocation" not in response.content  # the XSDs are inlined: one GET is enough
    actions = {op.get("soapAction") for op in document.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")}
    assert actions == {f"{NS}:{name}" for name in OPERATIONS}
    assert set(zeep.Client(teams.url + "?wsdl").service._binding._operations) == set(OPERATIONS)
    plain = httpx.get(teams.url)
    assert plain.status_code == 200 and "?wsdl" in plain.text


# ------------------------------------------------------------------ CT-1 .. CT-3


def test_CT_1_an_individual_team_is_created_stored_and_read_back(live, teams, personas, individual):
    gp, patient = personas["gp"], personas["patient"]
    assert individual.Status.StatusCode.Value == STATUS_SUCCESS and individual.IssueInstant is not None
    team = individual.CareTeam
    assert (team.Kind, team.Status, team.Name, team.PatientSsin, team.Version) == ("individual", "active", "GP follow-up", patient.niss, 1)
    assert [(m.Kind, m.Nihii, m.Ssin, m.Role) for m in team.Member] == [
        ("practitioner", gp.nihii, None, "general practitioner"), ("patient", None, patient.niss, None)]  # the gp's NISS is not shown
    assert team.UpdatedAt == live.clock.now()
    assert stored_members(live, team.CareTeamId) == [("practitioner", gp.nihii, True, "general practitioner"),
                                                     ("patient", None, True, None)]  # the gp's NISS resolved from CoBrHa, pseudonymised
    read = teams.service("gp").GetCareTeam(CareTeamId=team.CareTeamId)
    assert serialize_object(read.CareTeam) == serialize_object(team)


def test_CT_1_an_individual_team_has_one_provider_and_the_patient(teams, personas):
    p = personas
    gp = teams.service("gp")
    fault = refused(gp.CreateCareTeam, Kind="individual", Status="active", PatientSsin=p["patient"].niss,
                    Member=[practitioner(p["gp"].nihii), practitioner(p["nurse"].nihii)])
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("individual-care-team", "CT-1", STATUS_INVALID_INPUT)
    assert fault["Path"] == f"{BASE}/CreateCareTeamRequest/Member"
    fault = refused(gp.CreateCareTeam, Kind="individual", Status="active", Member=[practitioner(p["gp"].nihii)])
    assert (fault["Code"], fault["Rule"]) == ("individual-care-team", "CT-1")  # no patient


def test_CT_2_a_clinical_group_gathers_several_providers(teams, personas, group):
    p = personas
    assert group.Kind == "clinical-group"
    assert [m.Nihii for m in group.Member] == [p["gp"].nihii, p["gp-no-link"].nihii]
    fault = refused(teams.service("gp").CreateCareTeam, Kind="clinical-group", Status="active", PatientSsin=p["patient"].niss,
                    Member=[practitioner(p["gp"].nihii), person(p["patient"].niss)])
    assert (fault["Code"], fault["Rule"], fault["Path"]) == ("clinical-group-too-small", "CT-2", f"{BASE}/CreateCareTeamRequest/Member")


def test_CT_3_an_administrative_group_is_managed_by_the_coordinators_psi(teams, personas):
    psi = personas["psi-coordinator"].organisation_nihii
    coordinator = teams.service("psi-coordinator")
    organisation = {"Kind": "organisation", "Nihii": psi, "Role": "psi"}
    made = coordinator.CreateCareTeam(Kind="administrative-group", Status="active", Name="PSI A administration",
                                      ManagingOrganisationNihii=psi, Member=[organisation]).CareTeam
    assert (made.PatientSsin, made.ManagingOrganisationNihii) == (None, psi)
    assert [(m.Kind, m.Nihii, m.Role) for m in made.Member] == [("organisation", psi, "psi")]
    assert coordinator.GetCareTeam(CareTeamId=made.CareTeamId).CareTeam.CareTeamId == made.CareTeamId
    fault = refused(coordinator.CreateCareTeam, Kind="administrative-group", Status="active", Member=[organisation])
    assert (fault["Code"], fault["Rule"], fault["Path"]) == (
        "administrative-group-without-organisation", "CT-3", f"{BASE}/CreateCareTeamRequest/ManagingOrganisationNihii")
    other = personas["psi-coordinator-other"].organisation_nihii
    fault = refused(coordinator.CreateCareTeam, Kind="administrative-group", Status="active", ManagingOrganisationNihii=other,
                    Member=[organisation])
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("not-own-psi", "CT-5", STATUS_NOT_AUTHORIZED)
    fault = refused(teams.service("gp-no-link").GetCareTeam, CareTeamId=made.CareTeamId)  # no patient: members only
    assert (fault["Code"], fault["Rule"]) == ("not-a-member", "CT-5")


# ------------------------------------------------------------------ CT-4, CT-5


def test_CT_4_membership_gives_no_access_to_the_patients_inclusions(live, soap, teams, personas, group):
    """gp-no-link is a member of the group, and sees it; the patient's
    inclusion (IntegratedCare, the same STS tokens) stays IC-A1's."""
    p, today = personas, live.clock.today()
    inclusion = soap.service("gp").DeclareInclusion(
        PatientSsin=p["patient"].niss, PsiNihii=p["psi-admin"].organisation_nihii, Status="information", StartDate=today,
        ResearchConsent={"Decision": "agree", "Date": today}).Inclusion
    assert teams.service("gp-no-link").GetCareTeam(CareTeamId=group.CareTeamId).CareTeam.CareTeamId == group.CareTeamId
    fault = refused(soap.service("gp-no-link").GetPatientInclusions, PatientSsin=p["patient"].niss)
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("no-therapeutic-link", "IC-A1", STATUS_NOT_AUTHORIZED)
    seen = soap.service("gp").GetPatientInclusions(PatientSsin=p["patient"].niss)
    assert inclusion.InclusionId in {i.InclusionId for i in seen.Inclusion}


def test_CT_5_members_see_the_team_and_others_need_a_care_relationship(teams, group):
    for key in ("gp-no-link", "nurse", "patient"):  # member without link; link with the patient; the patient
        assert teams.service(key).GetCareTeam(CareTeamId=group.CareTeamId).CareTeam.CareTeamId == group.CareTeamId, key
    fault = refused(teams.service("pharmacist-no-link").GetCareTeam, CareTeamId=group.CareTeamId)
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("no-therapeutic-link", "CT-5", STATUS_NOT_AUTHORIZED)
    assert "not a member" in (fault["Message"] or "")
    fault = refused(teams.service("excluded-profession").GetCareTeam, CareTeamId=group.CareTeamId)
    assert (fault["Code"], fault["Rule"]) == ("profession-not-allowed", "IC-A9")


def test_CT_5_a_provider_without_relationship_may_not_make_a_team_for_the_patient(teams, personas):
    p = personas
    fault = refused(teams.service("gp-no-link").CreateCareTeam, Kind="clinical-group", Status="active", PatientSsin=p["patient"].niss,
                    Member=[practitioner(p["gp"].nihii), practitioner(p["nurse"].nihii)])
    assert (fault["Code"], fault["Rule"], fault["Status"]) == ("no-therapeutic-link", "CT-5", STATUS_NOT_AUTHORIZED)


def test_CT_5_get_patient_care_teams_returns_what_the_caller_may_see(teams, personas, individual, group):
    niss = personas["patient"].niss
    seen = {t.CareTeamId for t in teams.service("gp").GetPatientCareTeams(PatientSsin=niss).CareTeam}
    assert {individual.CareTeam.CareTeamId, group.CareTeamId} <= seen
    assert {t.CareTeamId for t in teams.service("patient").GetPatientCareTeams(PatientSsin=niss).CareTeam} == seen
    fault = refused(teams.service("pharmacist-no-link").GetPatientCareTeams, PatientSsin=niss)
    assert (fault["Code"], fault["Rule"]) == ("no-therapeutic-link", "CT-5")


def test_CT_5_get_patient_care_teams_filters_by_status_and_kind(live, teams, personas):
    p, niss = personas, personas["patient-2"].niss
    gp = teams.service("gp")
    made = []
    for i, status in enumerate(("active", "active", "suspended", "proposed")):
        live.clock.advance(timedelta(seconds=1))  # one instant each: the answer is in order of creation
        made.append(gp.CreateCareTeam(Kind="clinical-group", Status=status, Name=f"g{i}", PatientSsin=niss,
                                      Member=[practitioner(p["gp"].nihii), practitioner(p["nurse"].nihii)]).CareTeam.CareTeamId)
    assert [t.CareTeamId for t in gp.GetPatientCareTeams(PatientSsin=niss).CareTeam] == made  # in order of creation
    active = gp.GetPatientCareTeams(PatientSsin=niss, Status=["active"]).CareTeam
    assert [t.CareTeamId for t in active] == made[:2]
    either = gp.GetPatientCareTeams(PatientSsin=niss, Status=["suspended", "proposed"]).CareTeam
    assert [t.CareTeamId for t in either] == made[2:]
    assert len(gp.GetPatientCareTeams(PatientSsin=niss, Kind=["clinical-group"]).CareTeam) == 4
    assert gp.GetPatientCareTeams(PatientSsin=niss, Kind=["individual"]).CareTeam == []


def test_CT_5_update_replaces_the_team_and_needs_the_current_version(live, teams, personas):
    p = personas
    gp = teams.service("gp")
    niss = p["bis-patient"].niss  # the gp has a link with bis-patient
    team = gp.CreateCareTeam(Kind="individual", Status="active", PatientSsin=niss,
                             Member=[practitioner(p["gp"].nihii), person(niss)]).CareTeam
    state = {"CareTeamId": team.CareTeamId, "Kind": "individual", "PatientSsin": niss}
    start, end = live.clock.today(), live.clock.today() + timedelta(days=365)
    changed = gp.UpdateCareTeam(**state, Status="inactive", Period={"Start": start, "End": end}, Version=1,
                                Member=[practitioner(p["gp"].nihii, "gp"), person(niss), person(p["patient"].niss, "related-person")]).CareTeam
    assert (changed.Status, changed.Period.Start, changed.Period.End, changed.Version) == ("inactive", start, end, 2)
    assert [(m.Kind, m.Role) for m in changed.Member] == [("practitioner", "gp"), ("patient", None), ("related-person", None)]
    assert stored_members(live, team.CareTeamId)[2] == ("related-person", None, True, None)
    before = stored_state(live.gw)
    fault = refused(gp.UpdateCareTeam, **state, Status="active", Version=1, Member=[practitioner(p["gp"].nihii), person(niss)])
    assert (fault["Code"], fault["Status"], fault["Path"]) == ("version-conflict", STATUS_CONFLICT, f"{BASE}/UpdateCareTeamRequest/Version")
    fault = refused(teams.service("gp-no-link").UpdateCareTeam, **state, Status="active", Member=[practitioner(p["gp"].nihii), person(niss)])
    assert (fault["Code"], fault["Rule"]) == ("no-therapeutic-link", "CT-5")
    fault = refused(gp.UpdateCareTeam, **{**state, "PatientSsin": p["patient-2"].niss}, Status="active",
                    Member=[practitioner(p["gp"].nihii), person(p["patient-2"].niss)])
    assert (fault["Code"], fault["Path"]) == ("care-team-patient-fixed", f"{BASE}/UpdateCareTeamRequest/PatientSsin")
    after, trail = stored_state(live.gw), {"audit_record", "audit_head"}
    assert {k: v for k, v in after.items() if k not in trail} == {k: v for k, v in before.items() if k not in trail}
    assert len(after["audit_record"]) == len(before["audit_record"]) + 3  # each refusal audited, nothing else changed


def test_CT_5_every_version_of_a_team_is_kept_and_read_under_the_current_rules(live, teams, personas):
    p = personas
    gp = teams.service("gp")
    niss = p["bis-patient"].niss
    team = gp.CreateCareTeam(Kind="individual", Status="active", PatientSsin=niss, Name="first",
                             Member=[practitioner(p["gp"].nihii), person(niss)]).CareTeam
    gp.UpdateCareTeam(CareTeamId=team.CareTeamId, Kind="individual", Status="suspended", PatientSsin=niss, Name="second", Version=1,
                      Member=[practitioner(p["gp"].nihii), person(niss)])
    history = gp.GetCareTeamHistory(CareTeamId=team.CareTeamId).CareTeam
    assert [(t.Version, t.Status, t.Name) for t in history] == [(1, "active", "first"), (2, "suspended", "second")]
    [first] = gp.GetCareTeamHistory(CareTeamId=team.CareTeamId, Version=1).CareTeam
    assert (first.Version, first.Status, first.Name) == (1, "active", "first")
    fault = refused(gp.GetCareTeamHistory, CareTeamId=team.CareTeamId, Version=7)
    assert (fault["Code"], fault["Status"]) == ("unknown-version", STATUS_DATA_NOT_FOUND)
    fault = refused(teams.service("gp-no-link").GetCareTeamHistory, CareTeamId=team.CareTeamId, Version=1)
    assert (fault["Rule"], fault["Status"]) == ("CT-5", STATUS_NOT_AUTHORIZED)


def test_CT_5_an_unknown_team_is_not_found(teams):
    fault = refused(teams.service("gp").GetCareTeam, CareTeamId="no-such-team")
    assert (fault["Code"], fault["Status"], fault["Path"]) == ("unknown-care-team", STATUS_DATA_NOT_FOUND, f"{BASE}/GetCareTeamRequest/CareTeamId")


def test_CT_1_members_are_checked_and_the_fault_names_the_member(teams, personas):
    p = personas
    gp = teams.service("gp")
    base = {"Kind": "clinical-group", "Status": "active", "PatientSsin": p["patient"].niss}
    fault = refused(gp.CreateCareTeam, **base, Member=[practitioner(p["gp"].nihii), practitioner("15461612004")])  # check digits wrong
    assert (fault["Code"], fault["Path"]) == ("invalid-nihii", f"{BASE}/CreateCareTeamRequest/Member[2]")
    fault = refused(gp.CreateCareTeam, **base, Member=[practitioner(p["gp"].nihii), practitioner(p["pharmacist"].organisation_nihii)])
    assert (fault["Code"], fault["Path"]) == ("unknown-provider", f"{BASE}/CreateCareTeamRequest/Member[2]")
    fault = refused(gp.CreateCareTeam, **base, Member=[{"Kind": "practitioner", "Ssin": p["nurse"].niss}, practitioner(p["gp"].nihii)])
    assert (fault["Code"], fault["Path"]) == ("member-without-nihii", f"{BASE}/CreateCareTeamRequest/Member[1]")
    fault = refused(gp.CreateCareTeam, **base, Member=[practitioner(p["gp"].nihii), practitioner(p["nurse"].nihii)],
                    Period={"Start": "2026-06-01", "End": "2026-05-01"})
    assert (fault["Code"], fault["Rule"], fault["Path"]) == ("end-before-start", "IC-R3", f"{BASE}/CreateCareTeamRequest/Period/End")


# ------------------------------------------------------------------ the envelope and the contract


def test_requests_are_validated_against_the_xsd_before_anything_is_done(live, teams, personas):
    p = personas
    before = stored_state(live.gw)
    broken = {
        "unknown kind": teams.request("CreateCareTeam", Kind="team-of-friends", Status="active", PatientSsin=p["patient"].niss,
                                      Member=[practitioner(p["gp"].nihii), person(p["patient"].niss)]),
        "no members": teams.request("CreateCareTeam", Kind="individual", Status="active", PatientSsin=p["patient"].niss),
        "member without identifier": teams.request("CreateCareTeam", Kind="individual", Status="active", PatientSsin=p["patient"].niss,
                                                   Member=[practitioner(p["gp"].nihii), {"Kind": "related-person"}]),
        "8-digit NISS": teams.request("GetPatientCareTeams", PatientSsin="61033029"),
        "unknown element": teams.request("GetCareTeam", CareTeamId="x", Evil="x"),
    }
    for name, payload in broken.items():
        operation = etree.QName(payload).localname.removesuffix("Request")
        fault = response_fault(teams.post(teams.signed("gp", payload), action=operation))
        assert (fault["Code"], fault["Status"], fault["faultcode"]) == ("schema-invalid", STATUS_INVALID_INPUT, "soapenv:Client"), name
    fault = response_fault(teams.post(teams.signed("gp", broken["unknown kind"]), action="CreateCareTeam"))
    assert fault["Path"] == f"{BASE}/CreateCareTeamRequest/Kind"
    assert stored_state(live.gw) == before  # nothing written, not even an audit record


def test_soap_action_must_name_the_payloads_operation(teams, personas):
    payload = teams.request("GetPatientCareTeams", PatientSsin=personas["patient"].niss)
    assert response_fault(teams.post(teams.signed("gp", payload), action="CreateCareTeam"))["Code"] == "soap-action-mismatch"
    assert teams.post(teams.signed("gp", payload)).status_code == 200  # no SOAPAction: the payload names the operation


def test_hostile_documents_are_refused_before_anything(live, teams):
    """The hardening of the SOAP face holds here too: no entity declarations, a bounded size."""
    from gateway.soap11.envelope import SOAP11_NS
    from gateway.soap.operations import MAX_BYTES

    def envelope(text: str) -> str:
        return (f'<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body><x:GetCareTeamRequest xmlns:x="{NS}">'
                f'<x:CareTeamId>{text}</x:CareTeamId></x:GetCareTeamRequest></s:Body></s:Envelope>')

    before = stored_state(live.gw)
    xxe = '<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + envelope("&xxe;")
    for data, code, status in ((xxe.encode(), "xml-doctype-forbidden", 500),
                               (envelope("x" * (MAX_BYTES + 10)).encode(), "request-too-large", 413)):
        response = httpx.post(teams.url, content=data, headers={"Content-Type": "text/xml"}, timeout=30)
        assert (response.status_code, response_fault(response)["Code"]) == (status, code)
        assert b"root:" not in response.content
    assert stored_state(live.gw) == before


def test_a_tampered_body_is_refused_and_changes_nothing(live, teams, personas):
    """gp-no-link signs a team they are a member of; the Body is then changed
    to drop them, which would still be stored if the signature were not checked."""
    p = personas
    payload = teams.request("CreateCareTeam", Kind="clinical-group", Status="active", PatientSsin=p["patient-2"].niss,
                            Member=[practitioner(p["gp-no-link"].nihii), practitioner(p["gp"].nihii)])
    root = parse_untrusted(teams.signed("gp-no-link", payload))
    root.xpath("//ct:Member/ct:Nihii", namespaces={"ct": NS})[0].text = p["nurse"].nihii
    before = stored_state(live.gw)
    fault = response_fault(teams.post(etree.tostring(root), action="CreateCareTeam"))
    assert (fault["Code"], fault["Status"], fault["Path"]) == ("message-digest-mismatch", STATUS_NOT_AUTHORIZED, "/Envelope/Header/Security")
    assert stored_state(live.gw) == before


def test_a_replayed_create_is_refused_and_stores_no_second_team(live, teams, personas):
    p = personas
    payload = teams.request("CreateCareTeam", Kind="individual", Status="proposed", PatientSsin=p["patient-2"].niss,
                            Member=[practitioner(p["gp"].nihii), person(p["patient-2"].niss)])
    data = teams.signed("gp", payload)
    with live.gw.db.transaction() as session:
        count = session.execute(select(func.count()).select_from(CareTeam)).scalar_one()
    assert teams.post(data, action="CreateCareTeam").status_code == 200
    before = stored_state(live.gw)
    fault = response_fault(teams.post(data, action="CreateCareTeam"))
    assert (fault["Code"], fault["Status"]) == ("message-replayed", STATUS_NOT_AUTHORIZED)
    assert stored_state(live.gw) == before  # not even an audit record: the replay never reached the domain
    with live.gw.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(CareTeam)).scalar_one() == count + 1


def test_every_answer_was_valid_against_the_xsd_and_audited_as_soap(live, teams):
    assert teams.schema_check.checked >= 15 and teams.schema_check.faults >= 15
    with live.gw.db.transaction() as session:
        channels = dict(session.execute(select(AuditRecord.channel, func.count()).group_by(AuditRecord.channel)).all())
        rules = set(session.execute(select(AuditRecord.rule).where(AuditRecord.resource_type == "care-team")).scalars())
    assert set(channels) == {"soap"}
    assert {"CT-1", "CT-2", "CT-3", "CT-5"} <= rules


# ------------------------------------------------------------------ mappings/ and the XSD


def test_CT_1_every_soap_path_of_the_care_team_mappings_is_where_the_xsd_has_it():
    """The engine writes every mapped field, in field order, into an answer
    and a request the XSD accepts: names, nesting and sequence agree."""
    from datetime import date, datetime, timezone

    from gateway.contracts import contract
    from gateway.domain.clock import FixedClock
    from gateway.mapping.mapping import mapping
    from gateway.soap.commons import response

    schema = etree.XMLSchema(etree.parse(str(contract("soap", "care-team", "CareTeam-v1.xsd"))))
    now = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
    team = {"id": "t", "kind": "clinical-group", "status": "active", "name": "n", "patient_niss": "61033029906",
            "managing_organisation": "98132227000", "period_start": date(2026, 1, 1), "period_end": date(2026, 12, 31),
            "version": "2", "updated_at": now}
    member = {"kind": "practitioner", "nihii": "15461602004", "role": "gp", "period_start": date(2026, 1, 1),
              "period_end": date(2026, 6, 30)}
    assert {f.name for f in mapping("care_team").fields if f.soap} == set(team)
    assert {f.name for f in mapping("care_team_member").fields if f.soap} == set(member) | {"niss"}  # Ssin or Nihii
    answer = response(NS, "GetCareTeamResponse", FixedClock(now), prefix="ct")
    element = mapping("care_team").xml_element(team, answer)
    mapping("care_team_member").xml_element(member, element)
    mapping("care_team_member").xml_element({"kind": "patient", "niss": "61033029906"}, element)
    assert schema.validate(answer), schema.error_log
    update = etree.Element(f"{{{NS}}}UpdateCareTeamRequest", nsmap={"ct": NS})
    mapping("care_team").to_xml({k: v for k, v in team.items() if k != "updated_at"}, update)
    mapping("care_team_member").xml_element(member, update)
    assert schema.validate(update), schema.error_log
