"""The simulated TherLink over real HTTP, driven by zeep from its own WSDL
with real STS tokens: every operation, the links the access policy then
sees (IC-A1, IC-A2), and the refusals (no token, someone acting for another
care party, unknown operation, invalid payload)."""

from __future__ import annotations

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree
from sqlalchemy import select

from gateway.domain.errors import AccessDenied
from gateway.ehealth.hub_model import TherapeuticLinkRow
from gateway.ehealth.hubservices import CORE_NS, PROTOCOL_NS
from gateway.ehealth.soapkit import soap_contract
from gateway.ehealth.therlink import ACTION
from tests.ehealth.hub import link, patient, pharmacy, professional, proof, request
from tests.ehealth.conftest import fault_code, response_fault_code, wsdl_address

PATH = "/TherLink/v1"
XSD = soap_contract("hubservices", "hubservices-protocol-v2.xsd")


@pytest.fixture(scope="module")
def therlink(callers):
    """A zeep TherLink client per persona, answers checked against the XSD."""
    clients: dict[str, zeep.Client] = {}

    def client(key: str) -> zeep.Client:
        if key not in clients:
            clients[key] = callers.client(PATH, key, XSD)
        return clients[key]

    return client


def has(therlink, live, personas, caller: str, patient_key: str, party: dict) -> bool:
    answer = therlink(caller).service.HasTherapeuticLink(
        request=request(live.clock), select={"patient": patient(personas[patient_key].niss), "hcparty": party})
    assert answer.acknowledge.iscomplete is True
    return answer.hastherapeuticlink


def consult(live, personas, who: str, patient_key: str):
    return live.gw.inclusions.consult(personas[who].principal(), personas[patient_key].niss)


def fault_of(call, *args, **kwargs) -> str | None:
    with pytest.raises(zeep.exceptions.Fault) as err:
        call(*args, **kwargs)
    return fault_code(err.value)


# ------------------------------------------------------------------ contract


def test_wsdl_is_self_contained_and_points_at_this_server(live, callers):
    url = callers.wsdl(PATH)
    assert wsdl_address(url) == f"{live.base_url}/ehealth{PATH}"
    document = etree.fromstring(httpx.get(url).content)
    assert not [e for e in document.iter() if e.get("schemaLocation")]  # the XSDs are inlined
    actions = {op.get("soapAction") for op in document.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")}
    assert actions == {ACTION + name for name in
                       ("PutTherapeuticLink", "GetTherapeuticLink", "HasTherapeuticLink", "RevokeTherapeuticLink")}
    operations = zeep.Client(url).service._binding._operations
    assert set(operations) == {"PutTherapeuticLink", "GetTherapeuticLink", "HasTherapeuticLink", "RevokeTherapeuticLink"}
    assert httpx.get(f"{live.base_url}/ehealth{PATH}").text.startswith("TherLink: POST SOAP")


# ------------------------------------------------------------------ operations and the policy


def test_IC_A1_a_link_put_for_gp_no_link_lets_them_consult(live, personas, therlink):
    gp_no_link, niss = personas["gp-no-link"], personas["patient"].niss
    with pytest.raises(AccessDenied) as before:
        consult(live, personas, "gp-no-link", "patient")
    assert before.value.rule == "IC-A1"

    answer = therlink("gp-no-link").service.PutTherapeuticLink(
        request=request(live.clock), therapeuticlink=link(niss, professional(gp_no_link)), proof=proof("eidreading"))
    assert answer.acknowledge.iscomplete is True
    stored = answer.therapeuticlink
    assert stored.patient.id[0]._value_1 == niss and stored.patient.familyname == live.gw.platform.registries.person(niss).last_name
    assert {i.S: i._value_1 for i in stored.hcparty.id} == {"ID-HCPARTY": gp_no_link.nihii, "INSS": gp_no_link.niss}
    assert (stored.cd._value_1, stored.startdate, stored.enddate) == ("gpconsultation", live.clock.today(), None)

    assert has(therlink, live, personas, "gp-no-link", "patient", professional(gp_no_link)) is True
    assert consult(live, personas, "gp-no-link", "patient").patient is not None  # IC-A1 now allows

    listed = therlink("gp-no-link").service.GetTherapeuticLink(request=request(live.clock),
                                                              select={"patient": patient(niss)})
    parties = [{i.S: i._value_1 for i in item.hcparty.id}["ID-HCPARTY"] for item in listed.therapeuticlinklist.therapeuticlink]
    assert parties == [gp_no_link.nihii]  # a care party sees its own links only

    assert fault_of(therlink("gp-no-link").service.PutTherapeuticLink, request=request(live.clock),
                    therapeuticlink=link(niss, professional(gp_no_link)), proof=proof()) == "therlink-exists"
    with live.platform.db.transaction() as session:
        row = session.execute(select(TherapeuticLinkRow).where(TherapeuticLinkRow.party_nihii == gp_no_link.nihii,
                                                               TherapeuticLinkRow.source == "therlink")).scalar_one()
    assert row.proof_type == "eidreading" and row.author_role == "provider"
    assert niss not in (row.patient_pseudonym, row.party_pseudonym, row.author_pseudonym)  # pseudonyms only


def test_IC_A1_revoking_the_gp_link_denies_the_gp(live, personas, therlink):
    gp, niss = personas["gp"], personas["patient"].niss
    assert consult(live, personas, "gp", "patient") is not None
    answer = therlink("gp").service.RevokeTherapeuticLink(
        request=request(live.clock), therapeuticlink=link(niss, professional(gp)), proof=proof())
    assert answer.acknowledge.iscomplete is True and answer.revoked == 1
    try:
        assert has(therlink, live, personas, "gp", "patient", professional(gp)) is False
        with pytest.raises(AccessDenied) as err:
            consult(live, personas, "gp", "patient")
        assert (err.value.rule, err.value.code) == ("IC-A1", "no-therapeutic-link")
        assert fault_of(therlink("gp").service.RevokeTherapeuticLink, request=request(live.clock),
                        therapeuticlink=link(niss, professional(gp))) == "therlink-not-found"
        history = therlink("patient").service.GetTherapeuticLink(
            request=request(live.clock), select={"patient": patient(niss), "hcparty": professional(gp),
                                                 "begindate": live.gw.platform.registries.links_of(niss)[0].start})
        ended = history.therapeuticlinklist.therapeuticlink
        assert len(ended) == 1 and ended[0].enddate < live.clock.today()  # revoked: ended yesterday
    finally:  # the gp declares the link anew: allowed again
        therlink("gp").service.PutTherapeuticLink(request=request(live.clock),
                                                  therapeuticlink=link(niss, professional(gp)), proof=proof("eidreading"))
    assert consult(live, personas, "gp", "patient") is not None


def test_the_patient_sees_all_their_links(live, personas, therlink):
    niss = personas["patient"].niss
    listed = therlink("patient").service.GetTherapeuticLink(request=request(live.clock), select={"patient": patient(niss)})
    parties = {({i.S: i._value_1 for i in item.hcparty.id}["ID-HCPARTY"], item.cd._value_1)
               for item in listed.therapeuticlinklist.therapeuticlink}
    assert (personas["nurse"].nihii, "consultation") in parties
    assert (personas["pharmacist"].organisation_nihii, "pharmaceuticalcare") in parties
    assert (personas["gp"].nihii, "gpconsultation") in parties


def test_the_patient_declares_with_eidsigning_and_revokes(live, personas, therlink):
    niss, gp_no_link = personas["patient-2"].niss, personas["gp-no-link"]
    assert fault_of(therlink("patient-2").service.PutTherapeuticLink, request=request(live.clock),
                    therapeuticlink=link(niss, professional(gp_no_link)), proof=proof("eidreading")) == "proof-not-accepted"
    answer = therlink("patient-2").service.PutTherapeuticLink(
        request=request(live.clock), therapeuticlink=link(niss, professional(gp_no_link)), proof=proof("eidsigning"))
    assert answer.acknowledge.iscomplete is True
    assert has(therlink, live, personas, "patient-2", "patient-2", professional(gp_no_link)) is True
    revoked = therlink("patient-2").service.RevokeTherapeuticLink(
        request=request(live.clock), therapeuticlink=link(niss, professional(gp_no_link)))
    assert revoked.revoked == 1
    assert has(therlink, live, personas, "patient-2", "patient-2", professional(gp_no_link)) is False


def test_IC_A2_a_pharmacy_link_put_by_its_pharmacist(live, personas, therlink):
    pharmacy_b, niss = personas["pharmacist-no-link"].organisation_nihii, personas["patient"].niss
    with pytest.raises(AccessDenied):
        consult(live, personas, "pharmacist-no-link", "patient")
    answer = therlink("pharmacist-no-link").service.PutTherapeuticLink(
        request=request(live.clock), therapeuticlink=link(niss, pharmacy(pharmacy_b), "pharmaceuticalcare"),
        proof=proof("isireading"))
    assert answer.therapeuticlink.hcparty.name == live.gw.platform.registries.organisation(pharmacy_b).name
    assert has(therlink, live, personas, "pharmacist-no-link", "patient", pharmacy(pharmacy_b)) is True
    assert consult(live, personas, "pharmacist-no-link", "patient").patient is not None  # IC-A2 now allows


def test_links_follow_a_niss_change(live, personas, therlink):
    """IC-R5: after the register gives the BIS patient a national number, the gp's link is found under it."""
    from tests.ehealth.test_register import unused_national_number

    bis = live.gw.platform.registries.person(personas["bis-patient"].niss)
    assert bis is not None
    new = unused_national_number(live.gw.platform.registries, bis)
    live.gw.platform.register.inject_niss_change(bis.niss, new, live.clock.today())
    answer = therlink("gp").service.HasTherapeuticLink(
        request=request(live.clock), select={"patient": patient(new), "hcparty": professional(personas["gp"])})
    assert answer.hastherapeuticlink is True
    assert consult(live, personas, "gp", "bis-patient").patient.niss == new  # IC-A1 follows the person


# ------------------------------------------------------------------ refusals


def test_a_call_without_security_header_is_refused(callers, personas, live):
    client = callers.anonymous(PATH)
    code = fault_of(client.service.HasTherapeuticLink, request=request(live.clock),
                    select={"patient": patient(personas["patient"].niss), "hcparty": professional(personas["gp"])})
    assert code == "security-header-missing"


def test_nobody_acts_for_another_care_party(live, personas, therlink):
    gp, niss = professional(personas["gp"]), personas["patient"].niss
    service = therlink("gp-no-link").service
    assert fault_of(service.PutTherapeuticLink, request=request(live.clock),
                    therapeuticlink=link(personas["patient-2"].niss, gp), proof=proof()) == "therlink-not-party"
    assert fault_of(service.RevokeTherapeuticLink, request=request(live.clock),
                    therapeuticlink=link(niss, gp)) == "therlink-not-party"
    assert fault_of(service.HasTherapeuticLink, request=request(live.clock),
                    select={"patient": patient(niss), "hcparty": gp}) == "therlink-not-party"
    assert fault_of(service.GetTherapeuticLink, request=request(live.clock),
                    select={"patient": patient(niss), "hcparty": gp}) == "therlink-not-party"
    other_pharmacy = pharmacy(personas["pharmacist-no-link"].organisation_nihii)
    assert fault_of(therlink("pharmacist").service.PutTherapeuticLink, request=request(live.clock),
                    therapeuticlink=link(niss, other_pharmacy, "pharmaceuticalcare"), proof=proof()) == "therlink-not-party"
    assert fault_of(therlink("psi-admin").service.GetTherapeuticLink, request=request(live.clock),
                    select={"patient": patient(niss)}) == "therlink-not-party"


def test_bad_values_are_refused_with_the_element_named(live, personas, therlink):
    service, gp, niss = therlink("gp").service, personas["gp"], personas["patient-2"].niss
    with pytest.raises(zeep.exceptions.Fault) as err:
        service.PutTherapeuticLink(request=request(live.clock), therapeuticlink=link(niss, professional(gp), "bogus"),
                                   proof=proof())
    assert fault_code(err.value) == "unknown-code"
    assert err.value.detail.findtext(".//{urn:be:care-gateway:fault:v1}Path") == "/PutTherapeuticLinkRequest/therapeuticlink/cd"
    wrong_kind = dict(professional(gp), cd={"_value_1": "persnurse", "S": "CD-HCPARTY", "SV": "1.0"})
    assert fault_of(service.HasTherapeuticLink, request=request(live.clock),
                    select={"patient": patient(niss), "hcparty": wrong_kind}) == "hcparty-mismatch"
    unknown = {"id": [{"_value_1": "19999999999", "S": "ID-HCPARTY", "SV": "1.0"}],
               "cd": {"_value_1": "persphysician", "S": "CD-HCPARTY", "SV": "1.0"}}
    assert fault_of(service.HasTherapeuticLink, request=request(live.clock),
                    select={"patient": patient(niss), "hcparty": unknown}) == "hcparty-unknown"
    assert fault_of(service.PutTherapeuticLink, request=request(live.clock),
                    therapeuticlink=link(personas["deceased-patient"].niss, professional(gp)),
                    proof=proof()) == "patient-deceased"


def test_unknown_operation_and_invalid_payload_are_refused(live, personas, callers, therlink):
    unknown = etree.Element(f"{{{PROTOCOL_NS}}}DeleteTherapeuticLinkRequest")
    response = callers.post_signed(PATH, "gp", unknown)
    assert response.status_code == 500 and response_fault_code(response) == "unknown-operation"

    invalid = etree.Element(f"{{{PROTOCOL_NS}}}PutTherapeuticLinkRequest", nsmap={"p": PROTOCOL_NS, "c": CORE_NS})
    etree.SubElement(invalid, f"{{{CORE_NS}}}request")
    response = callers.post_signed(PATH, "gp", invalid, ACTION + "PutTherapeuticLink")
    assert response_fault_code(response) == "schema-invalid"

    client = therlink("gp")
    message = client.create_message(client.service, "HasTherapeuticLink", request=request(live.clock),
                                    select={"patient": patient(personas["patient"].niss),
                                            "hcparty": professional(personas["gp"])})
    payload = message.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
    response = callers.post_signed(PATH, "gp", payload, ACTION + "PutTherapeuticLink")
    assert response_fault_code(response) == "soap-action-mismatch"
    response = callers.post_signed(PATH, "gp", payload, ACTION + "HasTherapeuticLink")
    assert response.status_code == 200 and b"hastherapeuticlink>true<" in response.content
