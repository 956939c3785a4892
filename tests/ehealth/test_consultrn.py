"""The simulated consultRN over real HTTP, driven by zeep from its own WSDL
with real STS tokens: search by NISS (current or former), phonetic search,
current NISS and its history, the mutation feed (SOAP and JSON), the
sandbox action that injects mutations, and the refusals."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree

from gateway.ehealth import consultrn
from gateway.ehealth.consultrn import ACTION, PROTOCOL_NS
from gateway.ehealth.sandbox.phonetic import fold, phonetic_key
from gateway.ehealth.soapkit import soap_contract
from gateway.soap11.envelope import STATUS_DATA_NOT_FOUND, STATUS_SUCCESS
from tests.ehealth.conftest import fault_code, response_fault_code, wsdl_address
from tests.ehealth.test_register import unused_national_number

PATH = "/consultRN/v1"
XSD = soap_contract("consultrn", "consultrn-protocol-v1.xsd")
OPERATIONS = ("SearchBySSIN", "SearchPhonetically", "ConsultCurrentSSIN", "GetMutations")


@pytest.fixture(scope="module")
def rn(callers):
    clients: dict[str, zeep.Client] = {}

    def client(key: str = "gp") -> zeep.Client:
        if key not in clients:
            clients[key] = callers.client(PATH, key, XSD)
        return clients[key]

    return client


def inject(live, **body) -> httpx.Response:
    return httpx.post(live.url("/sandbox/register/mutations"), json=body)


def test_wsdl_points_at_this_server(live, callers):
    url = callers.wsdl(PATH)
    assert wsdl_address(url) == f"{live.base_url}/ehealth{PATH}"
    document = etree.fromstring(httpx.get(url).content)
    actions = {op.get("soapAction") for op in document.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")}
    assert actions == {ACTION + name for name in OPERATIONS}


def test_search_by_ssin_current_or_former(live, personas, rn):
    patient = live.gw.platform.registries.person(personas["patient"].niss)
    found = rn().service.SearchBySSIN(SSIN=patient.niss)
    assert found.Status.StatusCode.Value == STATUS_SUCCESS
    person = found.Person
    assert (person.SSIN, person.LastName, person.FirstName, person.BirthDate, person.Gender, person.DeathDate) == \
        (patient.niss, patient.last_name, patient.first_name, patient.birth_date, patient.sex, None)
    changed = live.gw.platform.registries.person(personas["niss-changed-patient"].niss)
    (bis,) = changed.previous_niss
    by_former = rn().service.SearchBySSIN(SSIN=bis).Person
    assert (by_former.SSIN, by_former.PreviousSSIN) == (changed.niss, [bis])
    unknown = rn().service.SearchBySSIN(SSIN=unused_national_number(live.gw.platform.registries, patient))
    assert unknown.Status.StatusCode.Value == STATUS_DATA_NOT_FOUND and unknown.Person is None
    deceased = rn().service.SearchBySSIN(SSIN=personas["deceased-patient"].niss).Person
    assert deceased.DeathDate == live.gw.platform.registries.person(personas["deceased-patient"].niss).death_date


def test_current_ssin_and_its_history(personas, rn, live):
    changed = live.gw.platform.registries.person(personas["niss-changed-patient"].niss)
    answer = rn().service.ConsultCurrentSSIN(SSIN=changed.previous_niss[0])
    assert (answer.SSIN, answer.CurrentSSIN, answer.PreviousSSIN) == (changed.previous_niss[0], changed.niss,
                                                                      list(changed.previous_niss))
    same = rn().service.ConsultCurrentSSIN(SSIN=personas["patient"].niss)
    assert (same.CurrentSSIN, same.PreviousSSIN) == (personas["patient"].niss, [])


def test_phonetic_search_finds_a_misspelt_name(live, personas, rn):
    patient = live.gw.platform.registries.person(personas["patient"].niss)
    misspelt = (patient.last_name[0] + "h" + patient.last_name[1:]).lower()  # an h changes no key
    assert phonetic_key(misspelt) == phonetic_key(patient.last_name)
    answer = rn().service.SearchPhonetically(LastName=misspelt, FirstName=patient.first_name,
                                             BirthYear=patient.birth_date.year)
    assert answer.PhoneticKey == phonetic_key(patient.last_name)
    assert patient.niss in [p.SSIN for p in answer.Person]
    expected = {p.niss for p in live.gw.platform.registries.people
                if phonetic_key(p.last_name) == phonetic_key(patient.last_name)
                and phonetic_key(p.first_name) == phonetic_key(patient.first_name)
                and p.birth_date and p.birth_date.year == patient.birth_date.year}
    assert {p.SSIN for p in answer.Person} == expected
    off_by_two = rn().service.SearchPhonetically(LastName=misspelt, BirthYear=patient.birth_date.year + 2)
    assert patient.niss not in [p.SSIN for p in off_by_two.Person]
    tolerant = rn().service.SearchPhonetically(LastName=misspelt, BirthYear=patient.birth_date.year + 2,
                                               BirthYearTolerance=2)
    assert patient.niss in [p.SSIN for p in tolerant.Person]
    assert all(fold(p.LastName) for p in tolerant.Person)


def test_phonetic_search_refuses_too_many_results(live, personas, rn, monkeypatch):
    monkeypatch.setattr(consultrn, "MAX_PHONETIC_RESULTS", 0)
    patient = live.gw.platform.registries.person(personas["patient"].niss)
    with pytest.raises(zeep.exceptions.Fault) as err:
        rn().service.SearchPhonetically(LastName=patient.last_name)
    assert fault_code(err.value) == "too-many-results"


def test_the_mutation_feed_announces_an_injected_death(live, personas, rn):
    alive = next(p for p in live.gw.platform.registries.patients()[10:] if p.death_date is None)
    before = rn().service.GetMutations(After=0).LastSeq
    died = live.clock.today() - timedelta(days=2)
    response = inject(live, kind="death", niss=alive.niss, date=died.isoformat())
    assert response.status_code == 201
    event = response.json()
    assert (event["kind"], event["niss"], event["effective"]) == ("death", alive.niss, died.isoformat())

    feed = rn().service.GetMutations(After=before)
    assert [(m.Seq, m.Kind, m.SSIN, m.Effective) for m in feed.Mutation] == [(event["seq"], "death", alive.niss, died)]
    assert feed.LastSeq == event["seq"]
    assert rn().service.GetMutations(After=feed.LastSeq).Mutation == []

    as_json = httpx.get(live.url(f"/ehealth{PATH}/mutations"), params={"after": before}).json()
    assert as_json == {"mutations": [event], "last_seq": event["seq"]}
    assert rn().service.SearchBySSIN(SSIN=alive.niss).Person.DeathDate == died


def test_a_niss_change_injected_over_http_is_the_current_ssin(live, rn):
    person = next(p for p in live.gw.platform.registries.patients()[20:] if p.death_date is None and p.sex)
    new = unused_national_number(live.gw.platform.registries, person)
    response = inject(live, kind="niss-change", niss=person.niss, new_niss=new, date=live.clock.today().isoformat())
    assert response.status_code == 201 and response.json()["new_niss"] == new
    answer = rn().service.ConsultCurrentSSIN(SSIN=person.niss)
    assert (answer.CurrentSSIN, answer.PreviousSSIN) == (new, [person.niss])
    feed = rn().service.GetMutations(After=response.json()["seq"] - 1).Mutation
    assert [(m.Kind, m.SSIN, m.NewSSIN) for m in feed] == [("niss-change", person.niss, new)]


@pytest.mark.parametrize("body, words", [
    ({"kind": "death", "niss": "61033029906", "date": "2999-01-01"}, "in the future"),
    ({"kind": "death", "niss": "12345678901"}, "NISS"),
    ({"kind": "niss-change", "niss": "61033029906"}, "new_niss"),
    ({"kind": "birth", "niss": "61033029906"}, "kind must be"),
    ({"kind": "death", "niss": "61033029906", "date": "yesterday"}, "YYYY-MM-DD"),
])
def test_a_refused_mutation_answers_400_with_the_reason(live, body, words):
    response = inject(live, **body)
    assert response.status_code == 400 and words in response.json()["error"]


# ------------------------------------------------------------------ refusals


def test_a_call_without_security_header_is_refused(callers, personas):
    with pytest.raises(zeep.exceptions.Fault) as err:
        callers.anonymous(PATH).service.SearchBySSIN(SSIN=personas["patient"].niss)
    assert fault_code(err.value) == "security-header-missing"


def test_a_citizen_looks_up_only_themselves(personas, rn):
    me = personas["niss-changed-patient"]
    assert rn("niss-changed-patient").service.SearchBySSIN(SSIN=me.niss).Person.SSIN == me.niss
    former = rn().service.ConsultCurrentSSIN(SSIN=me.niss).PreviousSSIN[0]
    assert rn("niss-changed-patient").service.ConsultCurrentSSIN(SSIN=former).CurrentSSIN == me.niss
    for call, kwargs, code in (
        (rn("niss-changed-patient").service.SearchBySSIN, {"SSIN": personas["patient"].niss}, "not-own-record"),
        (rn("niss-changed-patient").service.ConsultCurrentSSIN, {"SSIN": personas["patient"].niss}, "not-own-record"),
        (rn("niss-changed-patient").service.SearchPhonetically, {"LastName": "Peeters"}, "phonetic-search-not-allowed"),
        (rn("niss-changed-patient").service.GetMutations, {"After": 0}, "feed-not-allowed"),
    ):
        with pytest.raises(zeep.exceptions.Fault) as err:
            call(**kwargs)
        assert fault_code(err.value) == code


def test_unknown_operation_and_invalid_niss_are_refused(callers, rn):
    response = callers.post_signed(PATH, "gp", etree.Element(f"{{{PROTOCOL_NS}}}SearchByAddressRequest"))
    assert response.status_code == 500 and response_fault_code(response) == "unknown-operation"
    with pytest.raises(zeep.exceptions.Fault) as err:
        rn().service.SearchBySSIN(SSIN="12345678901")
    assert fault_code(err.value) == "invalid-niss"


def test_birth_dates_are_dates(live, personas, rn):
    assert isinstance(rn().service.SearchBySSIN(SSIN=personas["patient-2"].niss).Person.BirthDate, date)
