"""The 5xx answers found by testing as an attacker, one by one, each now a
4xx with an OperationOutcome (FHIR) or a SOAP Client fault: deep JSON and
extension nesting, huge numbers, lone surrogates, ids and cursors too large
for an integer column, Unicode digits where a number is expected, a year-9999
date in the billing computation (IC-R3 on both faces), a multipart _search
without boundary, a path no interaction serves. The broad replay is
test_hostile_inputs.py; these name each cause."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.fhir.formats import parse_json
from gateway.fhir.outcome import FhirError
from tests.security import hostile
from tests.soap.conftest import request, response_fault

JSON = {"Content-Type": "application/fhir+json"}


def fhir(live, fhir_token, method: str, path: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {fhir_token('gp')}", **kwargs.pop("headers", {})}
    return httpx.request(method, live.url(f"/fhir/{path}" if path else "/fhir"), headers=headers, timeout=60, **kwargs)


def outcome(answer: httpx.Response) -> dict:
    body = answer.json()
    assert body["resourceType"] == "OperationOutcome", answer.text[:200]
    issue = body["issue"][0]
    codes = {c["code"] for c in issue.get("details", {}).get("coding", [])}
    return {"status": answer.status_code, "codes": codes, "text": issue["details"]["text"]}


@pytest.mark.parametrize("raw,code", [
    (b'{"resourceType":"Patient","a":' + b"[" * 900 + b"]" * 900 + b"}", "too-deep"),  # passes json.loads, then recursion
    (b"[" * 100_000 + b"]" * 100_000, "too-deep"),
    (b'{"resourceType":"Patient","a":' + b"9" * 5000 + b"}", "invalid-number"),  # int() refuses over 4300 digits
    (b'{"resourceType":"Patient","a":1e999999}', "invalid-number"),
    (b'{"resourceType":"Patient","a":NaN}', "invalid-number"),
    (b'{"resourceType":"Patient","name":[{"text":"\\ud800"}]}', "invalid-string"),
    (b'{"resourceType":"Patient","\\udfff":1}', "invalid-string"),
    ("\ufeff".encode() + b'{"resourceType":"Patient"}', "invalid-json"),
    ('{"resourceType":"Patient"}'.encode("utf-16"), "invalid-encoding"),
])
def test_fhir_json_that_broke_the_server_is_a_400(raw, code):
    with pytest.raises(FhirError) as refused:
        parse_json(raw)
    assert refused.value.status == 400 and refused.value.issues[0].error_code == code


def test_a_lone_surrogate_is_an_operation_outcome_not_a_bare_500(live, fhir_token, personas):
    resource = hostile.episode(personas["patient"].niss, personas["psi-admin"].organisation_nihii)
    body = json.dumps(resource).replace('"active"', '"\\ud800"').encode()
    answer = fhir(live, fhir_token, "POST", "EpisodeOfCare", content=body, headers=JSON)
    assert (outcome(answer)["status"], outcome(answer)["codes"]) == (400, {"invalid-string"})


def test_deeply_nested_extensions_are_a_400(live, fhir_token, personas):
    resource = hostile.episode(personas["patient"].niss, personas["psi-admin"].organisation_nihii)
    resource.pop("extension")
    answer = fhir(live, fhir_token, "POST", "EpisodeOfCare", content=hostile.with_nested_extensions(resource, 900), headers=JSON)
    assert (outcome(answer)["status"], outcome(answer)["codes"]) == (400, {"too-deep"})


@pytest.mark.parametrize("path", ["AuditEvent?_cursor=99999999999999999999999", "AuditEvent?_cursor=%C2%B2",
                                  "Practitioner?_cursor=99999999999999999999999&name=x", "EpisodeOfCare?_count=%C2%B2",
                                  "Provenance?target=EpisodeOfCare/x/_history/99999999999999999999"])
def test_numbers_an_integer_column_or_int_cannot_take_are_a_400(live, fhir_token, path):
    answer = fhir(live, fhir_token, "GET", path)
    assert answer.status_code in (400, 404) and outcome(answer)["status"] in (400, 404)


def test_IC_R3_a_year_9999_date_is_refused_on_the_fhir_face(live, fhir_token, personas):
    resource = hostile.episode(personas["patient"].niss, personas["psi-admin"].organisation_nihii, start="9999-12-20")
    found = outcome(fhir(live, fhir_token, "POST", "EpisodeOfCare", content=json.dumps(resource), headers=JSON))
    assert found["status"] == 422 and {"date-out-of-range", "IC-R3"} <= found["codes"]


def test_IC_R3_a_year_9999_date_is_refused_on_the_soap_face(soap, live, personas):
    psi = personas["psi-admin"].organisation_nihii
    made = soap.service("gp").DeclareInclusion(PatientSsin=personas["patient-2"].niss, PsiNihii=psi, Status="information",
                                                StartDate=live.clock.today() - timedelta(days=2),
                                                ResearchConsent={"Decision": "agree", "Date": live.clock.today()}).Inclusion
    answer = soap.post(soap.signed("gp", request("CloseInclusion", InclusionId=made.InclusionId, EndDate="9999-12-31")),
                       action="CloseInclusion")
    fault = response_fault(answer)
    assert (fault["faultcode"], fault["Code"], fault["Rule"]) == ("soapenv:Client", "date-out-of-range", "IC-R3")


def test_a_multipart_search_without_boundary_is_a_415(live, fhir_token, personas):
    answer = fhir(live, fhir_token, "POST", "EpisodeOfCare/_search", content=b"--x\r\n",
                  headers={"Content-Type": "multipart/form-data"})
    assert (outcome(answer)["status"], outcome(answer)["codes"]) == (415, {"unsupported-media-type"})
    form = fhir(live, fhir_token, "POST", "EpisodeOfCare/_search",
                content=f"patient-identifier={SSIN_SYSTEM}|{personas['patient'].niss}".encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 200 and form.json()["type"] == "searchset"


def test_a_control_character_in_a_search_value_is_a_400(live, fhir_token):
    """It reached the directory's XML request and broke it."""
    found = outcome(fhir(live, fhir_token, "GET", "Organization?name=%00"))
    assert (found["status"], found["codes"]) == (400, {"invalid-search-value"})


@pytest.mark.parametrize("method,path", [("GET", "a/b/c/d/e"), ("GET", ""), ("POST", "EpisodeOfCare/x/y/z")])
def test_a_path_no_interaction_serves_gets_an_operation_outcome(live, fhir_token, method, path):
    found = outcome(fhir(live, fhir_token, method, path))
    assert (found["status"], found["codes"]) == (404, {"unknown-interaction"})


@pytest.mark.parametrize("entry", [1, {"request": [1]}, {"request": {"method": "POST", "url": 12}},
                                   {"request": {"method": "POST", "url": "EpisodeOfCare"}, "resource": "x"}])
def test_bundle_entries_of_the_wrong_shape_are_a_400(live, fhir_token, entry):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    found = outcome(fhir(live, fhir_token, "POST", "", content=json.dumps(bundle), headers=JSON))
    assert found["status"] == 400 and "invalid-bundle-entry" in found["codes"]
