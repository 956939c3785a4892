"""The simulated attribute authority over real HTTP, driven by zeep from its
own WSDL with real STS tokens: the facts it answers (therapeutic links of a
professional and of a pharmacy, memberships, insurer), its signed Response,
SAML statuses for questions it cannot answer, and the refusals."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree

from gateway.adapters.attribute_authority import build_query, verify_response
from gateway.aa_vocabulary import (
    AA_ISSUER,
    ATTR_INSURER,
    ATTR_ON,
    ATTR_PHARMACY_LINK,
    ATTR_THERAPEUTIC_LINK,
    ATTRIBUTES,
    ATTRNAME_FORMAT_URI,
    SAMLP_NS,
    SOAP_ACTION,
    STATUS_INVALID_ATTR,
    STATUS_REQUESTER,
    STATUS_SUCCESS,
    STATUS_UNKNOWN_PRINCIPAL,
    SUBJECT_PERSON,
    SUBJECT_PHARMACY,
    attr_membership,
)
from gateway.ehealth.soapkit import new_id, soap_contract
from gateway.identity.xmldsig import xml_datetime
from tests.ehealth.conftest import fault_code, response_fault_code, wsdl_address

PATH = "/IAM/AttributeAuthority/v1"
XSD = soap_contract("attribute-authority", "saml-schema-protocol-2.0-subset.xsd")


def ask(client: zeep.Client, live, subject: str, attributes: dict[str, list[str]], subject_format: str = SUBJECT_PERSON):
    return client.service.AttributeQuery(
        ID=new_id(), Version="2.0", IssueInstant=xml_datetime(live.clock.now()), Issuer="urn:test:vendor",
        Subject={"NameID": {"_value_1": subject, "Format": subject_format}},
        Attribute=[{"Name": name, "NameFormat": ATTRNAME_FORMAT_URI, "AttributeValue": values}
                   for name, values in attributes.items()],
    )


def values(response) -> dict[str, list[str]]:
    assert len(response.Assertion) == 1
    statement = response.Assertion[0].AttributeStatement[0]
    return {a.Name: [str(v) for v in a.AttributeValue] for a in statement.Attribute}


def test_wsdl_points_at_this_server(live, callers):
    url = callers.wsdl(PATH)
    assert wsdl_address(url) == f"{live.base_url}/ehealth{PATH}"
    document = etree.fromstring(httpx.get(url).content)
    assert [op.get("soapAction") for op in document.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")] == [SOAP_ACTION]
    assert set(zeep.Client(url).service._binding._operations) == {"AttributeQuery"}


def test_a_professional_learns_with_which_patients_they_have_a_link(live, personas, callers):
    client = callers.client(PATH, "gp", XSD)
    asked = [personas["patient"].niss, personas["patient-2"].niss, personas["psi-admin"].niss]
    response = ask(client, live, personas["gp"].niss, {ATTR_THERAPEUTIC_LINK: asked})
    assert response.Status.StatusCode.Value == STATUS_SUCCESS
    assert response.Issuer._value_1 == AA_ISSUER and response.Assertion[0].Issuer._value_1 == AA_ISSUER
    assert response.Assertion[0].Subject.NameID._value_1 == personas["gp"].niss
    answered = values(response)
    assert answered[ATTR_THERAPEUTIC_LINK] == [personas["patient"].niss, personas["patient-2"].niss]
    assert answered[ATTR_ON] == [live.clock.today().isoformat()]


def test_a_pharmacist_learns_the_links_of_their_pharmacy(live, personas, callers):
    client = callers.client(PATH, "pharmacist", XSD)
    pharmacy_a = personas["pharmacist"].organisation_nihii
    response = ask(client, live, pharmacy_a, {ATTR_PHARMACY_LINK: [personas["patient"].niss, personas["patient-2"].niss]},
                   SUBJECT_PHARMACY)
    assert values(response)[ATTR_PHARMACY_LINK] == [personas["patient"].niss]


def test_memberships_and_insurer_of_a_psi_member(live, personas, callers):
    client = callers.client(PATH, "psi-admin", XSD)
    response = ask(client, live, personas["psi-admin"].niss, {})  # no attribute named: all that need no value
    answered = values(response)
    assert answered[attr_membership("psi-administrative")] == [personas["psi-admin"].organisation_nihii]
    assert answered[attr_membership("psi-coordinator")] == [] and answered[attr_membership("pharmacist")] == []
    assert answered[ATTR_INSURER] == [live.gw.platform.registries.insurer_code_of(personas["psi-admin"].niss)]
    patient = callers.client(PATH, "patient", XSD)
    assert values(ask(patient, live, personas["patient"].niss, {ATTR_INSURER: []}))[ATTR_INSURER] == ["100"]


def test_the_response_is_signed_by_the_authority(live, personas, callers):
    """The raw answer verifies with the authority's certificate (and only with it)."""
    query = build_query(SUBJECT_PERSON, personas["nurse"].niss, {ATTR_THERAPEUTIC_LINK: [personas["patient"].niss]}, None,
                        now=live.clock.now())
    response = callers.post_signed(PATH, "nurse", query, SOAP_ACTION)
    assert response.status_code == 200
    signed = etree.tostring(etree.fromstring(response.content).find(".//{%s}Response" % SAMLP_NS))
    certificate = live.gw.platform.pki.platform("attribute-authority").certificate
    assert verify_response(signed, query, certificate, now=live.clock.now())[ATTR_THERAPEUTIC_LINK] == [personas["patient"].niss]
    assert b"xml-exc-c14n#" in signed and b"rsa-sha256" in signed
    from gateway.adapters.attribute_authority import AttributeAuthorityError

    with pytest.raises(AttributeAuthorityError):
        verify_response(signed, query, live.gw.platform.pki.platform("sts").certificate, now=live.clock.now())


@pytest.mark.parametrize("attributes, subject, subject_format, status", [
    ({"urn:be:care-gateway:aa:no-such-thing": []}, "gp", SUBJECT_PERSON, STATUS_INVALID_ATTR),
    ({ATTR_THERAPEUTIC_LINK: []}, "gp", SUBJECT_PERSON, STATUS_INVALID_ATTR),
    ({ATTR_THERAPEUTIC_LINK: ["12345678901"]}, "gp", SUBJECT_PERSON, STATUS_INVALID_ATTR),
    ({ATTR_PHARMACY_LINK: ["61033029906"]}, "gp", SUBJECT_PERSON, STATUS_INVALID_ATTR),
    ({ATTR_ON: ["yesterday"]}, "gp", SUBJECT_PERSON, STATUS_INVALID_ATTR),
])
def test_questions_it_cannot_answer_get_a_signed_saml_status(live, personas, callers, attributes, subject, subject_format, status):
    response = ask(callers.client(PATH, "gp", XSD), live, personas[subject].niss, attributes, subject_format)
    assert response.Status.StatusCode.Value == STATUS_REQUESTER
    assert response.Status.StatusCode.StatusCode.Value == status
    assert response.Status.StatusMessage and not response.Assertion


def test_every_attribute_is_documented():
    text = (Path(__file__).parents[2] / "docs" / "ehealth-sandbox.md").read_text()
    missing = [name for name in ATTRIBUTES if name not in text]
    assert not missing
    for status in (STATUS_REQUESTER, STATUS_INVALID_ATTR, STATUS_UNKNOWN_PRINCIPAL):
        assert status.rsplit(":", 1)[1] in text  # the statuses are named in the docs too
    assert ATTRNAME_FORMAT_URI in text and AA_ISSUER in text


# ------------------------------------------------------------------ refusals


def test_a_call_without_security_header_is_refused(live, personas, callers):
    with pytest.raises(zeep.exceptions.Fault) as err:
        ask(callers.anonymous(PATH), live, personas["gp"].niss, {ATTR_THERAPEUTIC_LINK: [personas["patient"].niss]})
    assert fault_code(err.value) == "security-header-missing"


def test_nobody_asks_about_someone_else(live, personas, callers):
    with pytest.raises(zeep.exceptions.Fault) as err:
        ask(callers.client(PATH, "gp-no-link"), live, personas["gp"].niss, {ATTR_THERAPEUTIC_LINK: [personas["patient"].niss]})
    assert fault_code(err.value) == "aa-subject-not-allowed"
    other_pharmacy = personas["pharmacist-no-link"].organisation_nihii
    with pytest.raises(zeep.exceptions.Fault) as err:
        ask(callers.client(PATH, "pharmacist"), live, other_pharmacy, {ATTR_PHARMACY_LINK: [personas["patient"].niss]},
            SUBJECT_PHARMACY)
    assert fault_code(err.value) == "aa-subject-not-allowed"


def test_unknown_operation_is_refused(callers):
    response = callers.post_signed(PATH, "gp", etree.Element(f"{{{SAMLP_NS}}}AuthnQuery", ID="_1", Version="2.0"))
    assert response.status_code == 500 and response_fault_code(response) == "unknown-operation"
