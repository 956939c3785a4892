"""The simulated AddressBook over real HTTP, driven by zeep from its own WSDL
with real STS tokens: professionals by name, NIHII, SSIN and quality,
organisations by name, NIHII, CBE, EHP and type, paging, DataNotFound, and
the refusals."""

from __future__ import annotations

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree

from gateway.domain.ports import OrganisationKind
from gateway.ehealth.addressbook import ACTION, PROTOCOL_NS, ehp_number
from gateway.ehealth.sandbox.phonetic import fold
from gateway.ehealth.soapkit import soap_contract
from gateway.soap11.envelope import STATUS_DATA_NOT_FOUND, STATUS_SUCCESS
from tests.ehealth.conftest import fault_code, response_fault_code, wsdl_address

PATH = "/AddressBook/v1"
XSD = soap_contract("addressbook", "addressbook-protocol-v1.xsd")
OPERATIONS = ("SearchProfessionals", "GetProfessionalContactInfo", "SearchOrganizations", "GetOrganizationContactInfo")


@pytest.fixture(scope="module")
def book(callers):
    clients: dict[str, zeep.Client] = {}

    def client(key: str = "gp") -> zeep.Client:
        if key not in clients:
            clients[key] = callers.client(PATH, key, XSD)
        return clients[key]

    return client


def test_wsdl_points_at_this_server(live, callers):
    url = callers.wsdl(PATH)
    assert wsdl_address(url) == f"{live.base_url}/ehealth{PATH}"
    document = etree.fromstring(httpx.get(url).content)
    actions = {op.get("soapAction") for op in document.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")}
    assert actions == {ACTION + name for name in OPERATIONS}


def test_search_professionals_by_name_quality_nihii_and_ssin(live, personas, book):
    nurse = live.gw.platform.registries.professional(personas["nurse"].nihii)
    assert nurse is not None
    prefix = nurse.last_name[:3].upper()  # a prefix, any case
    found = book().service.SearchProfessionals(LastName=prefix, Quality="persnurse")
    assert found.Status.StatusCode.Value == STATUS_SUCCESS
    expected = sorted(r.nihii for r in live.gw.platform.registries.professionals
                      if fold(r.last_name).startswith(fold(prefix)) and r.quality == "nurse")
    assert sorted(p.Profession[0].NIHII for p in found.HealthCareProfessional) == expected
    assert int(found.TotalElements) == len(expected) and nurse.nihii in expected

    by_nihii = book().service.SearchProfessionals(NIHII=personas["gp"].nihii).HealthCareProfessional
    assert [(p.SSIN, p.Profession[0].Quality, p.Profession[0].ProfessionCode) for p in by_nihii] == \
        [(personas["gp"].niss, "doctor", "persphysician")]
    by_ssin = book().service.SearchProfessionals(SSIN=personas["pharmacist"].niss).HealthCareProfessional
    (pharmacist,) = by_ssin
    assert pharmacist.Organization[0].NIHII == personas["pharmacist"].organisation_nihii
    assert pharmacist.Organization[0].Role == "pharmacist"


def test_search_professionals_pages(live, book):
    doctors = [r for r in live.gw.platform.registries.professionals if r.quality == "doctor"]
    first = book().service.SearchProfessionals(Quality="doctor", Offset=0, MaxElements=2)
    rest = book().service.SearchProfessionals(Quality="doctor", Offset=2, MaxElements=100)
    assert int(first.TotalElements) == len(doctors) and len(first.HealthCareProfessional) == 2
    seen = [p.Profession[0].NIHII for p in first.HealthCareProfessional + rest.HealthCareProfessional]
    assert sorted(seen) == sorted(r.nihii for r in doctors)


def test_professional_contact_info_by_nihii_or_ssin(live, personas, book):
    gp = personas["gp"]
    by_nihii = book().service.GetProfessionalContactInfo(NIHII=gp.nihii)
    by_ssin = book().service.GetProfessionalContactInfo(SSIN=gp.niss)
    for answer in (by_nihii, by_ssin):
        info = answer.IndividualContactInformation
        assert (info.SSIN, info.Profession[0].NIHII, f"{info.FirstName} {info.LastName}") == (gp.niss, gp.nihii, gp.display_name)
        assert info.Profession[0].VisaValidUntil is not None
    missing = book().service.GetProfessionalContactInfo(NIHII="10000000000")
    assert missing.Status.StatusCode.Value == STATUS_DATA_NOT_FOUND and missing.IndividualContactInformation is None


def test_search_organisations_and_contact_info_by_nihii_cbe_ehp(live, personas, book):
    pharmacies = book().service.SearchOrganizations(Type="orgpharmacy").HealthCareOrganization
    assert sorted(o.NIHII for o in pharmacies) == sorted(o.nihii for o in live.gw.platform.registries.organisations_of(OrganisationKind.PHARMACY))
    psi = live.gw.platform.registries.organisation(personas["psi-admin"].organisation_nihii)
    assert psi is not None
    by_name = book().service.SearchOrganizations(Name="zorgzaam").HealthCareOrganization
    assert [(o.NIHII, o.Type) for o in by_name] == [(psi.nihii, "orgintegratedcareproject")]
    for criterion in ({"NIHII": psi.nihii}, {"CBE": psi.cbe}, {"EHP": ehp_number(psi)}):
        info = book().service.GetOrganizationContactInfo(**criterion).OrganizationContactInformation
        assert (info.NIHII, info.CBE, info.EHP, info.Name) == (psi.nihii, psi.cbe, ehp_number(psi), psi.name)
    insurer = book().service.GetOrganizationContactInfo(NIHII=personas["insurer"].organisation_nihii)
    assert insurer.OrganizationContactInformation.InsurerCode == "100"
    nothing = book().service.SearchOrganizations(Name="no such organisation")
    assert nothing.Status.StatusCode.Value == STATUS_DATA_NOT_FOUND and int(nothing.TotalElements) == 0


def test_ehp_numbers_are_unique_in_the_sandbox(live):
    numbers = [ehp_number(o) for o in live.gw.platform.registries.organisations]
    assert len(set(numbers)) == len(numbers)


# ------------------------------------------------------------------ refusals


def test_a_call_without_security_header_is_refused(callers, personas):
    with pytest.raises(zeep.exceptions.Fault) as err:
        callers.anonymous(PATH).service.GetProfessionalContactInfo(NIHII=personas["gp"].nihii)
    assert fault_code(err.value) == "security-header-missing"


def test_a_citizen_sees_no_ssin_and_cannot_search_by_it(personas, book):
    (gp,) = book("patient").service.SearchProfessionals(NIHII=personas["gp"].nihii).HealthCareProfessional
    assert gp.SSIN is None and gp.LastName
    for call, kwargs in ((book("patient").service.SearchProfessionals, {"SSIN": personas["gp"].niss}),
                         (book("patient").service.GetProfessionalContactInfo, {"SSIN": personas["gp"].niss})):
        with pytest.raises(zeep.exceptions.Fault) as err:
            call(**kwargs)
        assert fault_code(err.value) == "ssin-search-not-allowed"


def test_searches_need_a_criterion_and_known_codes(book):
    for call, kwargs, code in ((book().service.SearchProfessionals, {}, "search-criteria-missing"),
                               (book().service.SearchProfessionals, {"Quality": "wizard"}, "unknown-quality"),
                               (book().service.SearchOrganizations, {}, "search-criteria-missing"),
                               (book().service.SearchOrganizations, {"Type": "orgcastle"}, "unknown-type")):
        with pytest.raises(zeep.exceptions.Fault) as err:
            call(**kwargs)
        assert fault_code(err.value) == code


def test_unknown_operation_is_refused(callers):
    response = callers.post_signed(PATH, "gp", etree.Element(f"{{{PROTOCOL_NS}}}DeleteProfessionalRequest"))
    assert response.status_code == 500 and response_fault_code(response) == "unknown-operation"
