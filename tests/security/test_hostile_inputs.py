"""The hostile corpus (tests/security/hostile.py) replayed against every
parser of the gateway: FHIR writes, Bundles, $validate, reads by id,
searches (GET and POST), headers; the SOAP services; the conformance
validator. No input a client can send may produce a 5xx: each gets a 4xx
with an OperationOutcome, or a SOAP Client fault."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Iterable

import httpx
import pytest
from lxml import etree

from gateway.namespaces import SOAP11_NS
from tests.security import hostile
from tests.soap.conftest import request

READABLE = ["EpisodeOfCare", "Consent", "CareTeam", "ServiceRequest", "Task", "Provenance", "Patient", "Practitioner",
            "PractitionerRole", "Organization", "AuditEvent", "Nope"]


class Replay:
    """Sends inputs and keeps what was answered wrongly (a 5xx, or an error without an OperationOutcome)."""

    def __init__(self, live: Any, token: str) -> None:
        self.live = live
        self.http = httpx.Client(base_url=live.base_url, timeout=120, headers={"Authorization": f"Bearer {token}"})
        self.wrong: list[str] = []

    def send(self, label: str, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            answer = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:  # a server that drops the connection answered nothing
            self.wrong.append(f"{label}: no answer ({type(exc).__name__})")
            return None
        if answer.status_code >= 500:
            self.wrong.append(f"{label}: {answer.status_code} {answer.text[:160]!r}")
        elif answer.status_code >= 400 and answer.content:
            try:
                kind = answer.json().get("resourceType") if "json" in answer.headers.get("content-type", "") else (
                    etree.QName(etree.fromstring(answer.content)).localname)
            except Exception:  # noqa: BLE001 - not even parseable
                kind = None
            if kind != "OperationOutcome":
                self.wrong.append(f"{label}: {answer.status_code} without an OperationOutcome: {answer.text[:160]!r}")
        return answer

    def check(self) -> None:
        self.http.close()
        assert not self.wrong, f"{len(self.wrong)} wrong answers:\n" + "\n".join(self.wrong)


@pytest.fixture(scope="module")
def subject(live, soap, personas) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An inclusion to aim PUTs and reads at."""
    psi = personas["psi-admin"].organisation_nihii
    made = soap.service("gp").DeclareInclusion(PatientSsin=personas["patient"].niss, PsiNihii=psi, Status="information",
                                                StartDate=live.clock.today() - timedelta(days=3),
                                                ResearchConsent={"Decision": "agree", "Date": live.clock.today()})
    return {"id": made.Inclusion.InclusionId, "patient": personas["patient"].niss, "psi": psi}


@pytest.fixture
def replay(live, fhir_token):  # type: ignore[no-untyped-def]
    return Replay(live, fhir_token("gp"))


JSON = {"Content-Type": "application/fhir+json"}


def test_fhir_writes_survive_the_json_corpus(replay, subject):
    for name, body in hostile.json_bodies(subject["patient"], subject["psi"]):
        replay.send(f"create {name}", "POST", "/fhir/EpisodeOfCare", content=body, headers=JSON)
        replay.send(f"update {name}", "PUT", f"/fhir/EpisodeOfCare/{subject['id']}", content=body, headers=JSON)
        replay.send(f"consent {name}", "POST", "/fhir/Consent", content=body, headers=JSON)
        replay.send(f"$validate {name}", "POST", "/fhir/EpisodeOfCare/$validate", content=body, headers=JSON)
    replay.check()


def test_fhir_bundles_and_validate_parameters_survive(replay, subject):
    for name, body in [*hostile.bundle_bodies(subject["patient"], subject["psi"]),
                       *hostile.json_bodies(subject["patient"], subject["psi"])]:
        replay.send(f"bundle {name}", "POST", "/fhir", content=body, headers=JSON)
    for name, body in hostile.validate_parameters():
        replay.send(f"$validate {name}", "POST", "/fhir/EpisodeOfCare/$validate", content=body, headers=JSON)
    replay.check()


def test_fhir_xml_bodies_survive_the_xml_corpus(replay):
    for name, body in hostile.xml_documents():
        replay.send(f"xml create {name}", "POST", "/fhir/EpisodeOfCare", content=body,
                    headers={"Content-Type": "application/fhir+xml"})
    replay.check()


def test_fhir_reads_survive_odd_ids(replay, subject):
    for kind in READABLE:
        for raw in [*hostile.IDS, subject["id"]]:
            replay.send(f"read {kind}/{raw}", "GET", f"/fhir/{kind}/{raw}")
            replay.send(f"vread {kind}/{raw}", "GET", f"/fhir/{kind}/{subject['id']}/_history/{raw}")
            replay.send(f"history {kind}/{raw}", "GET", f"/fhir/{kind}/{raw}/_history")
    replay.check()


def test_fhir_searches_survive_odd_values(replay):
    for kind, queries in hostile.SEARCHES.items():
        for query in queries:
            replay.send(f"search {kind}?{query}", "GET", f"/fhir/{kind}?{query}")
            replay.send(f"_search {kind} {query}", "POST", f"/fhir/{kind}/_search", content=query.encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
            replay.send(f"history {kind}?{query}", "GET", f"/fhir/{kind}/_history?{query}")
        replay.send(f"multipart _search {kind} without a boundary", "POST", f"/fhir/{kind}/_search", content=b"--x\r\n",
                    headers={"Content-Type": "multipart/form-data"})
    replay.check()


def test_fhir_headers_survive_odd_values(replay, subject):
    body = json.dumps(hostile.episode(subject["patient"], subject["psi"]) | {"id": subject["id"]}).encode()
    for headers in hostile.HEADERS:
        sent = {**JSON, **headers}
        replay.send(f"update with {headers}", "PUT", f"/fhir/EpisodeOfCare/{subject['id']}", content=body, headers=sent)
        replay.send(f"create with {headers}", "POST", "/fhir/EpisodeOfCare", content=body, headers=sent)
        replay.send(f"read with {headers}", "GET", f"/fhir/EpisodeOfCare/{subject['id']}", headers=headers)
    replay.check()


def test_the_validator_survives_both_corpora(live, subject):
    wrong = []
    with httpx.Client(base_url=live.base_url, timeout=120) as http:
        bodies: Iterable[tuple[str, bytes]] = [*hostile.json_bodies(subject["patient"], subject["psi"]), *hostile.xml_documents(),
                                               *hostile.bundle_bodies(subject["patient"], subject["psi"])]
        for name, body in bodies:
            answer = http.post("/conformance/validate", content=body)
            if answer.status_code >= 500:
                wrong.append(f"{name}: {answer.status_code} {answer.text[:160]!r}")
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------ SOAP

SERVICES = ["/soap/IntegratedCare/v1", "/soap/CareTeam/v1", "/soap/Referral/v1"]


def client_fault(answer: httpx.Response) -> str | None:
    """None if the answer is a success or a Client fault; else what it is."""
    if answer.status_code == 200:
        return None
    try:
        root = etree.fromstring(answer.content)
    except etree.XMLSyntaxError:
        return f"{answer.status_code} not XML: {answer.text[:120]!r}"
    code = root.findtext(f".//{{{SOAP11_NS}}}Fault/faultcode")
    if answer.status_code >= 500 and code == "soapenv:Client":
        return None
    if answer.status_code in (411, 413, 415) and code == "soapenv:Client":
        return None
    return f"{answer.status_code} {code}: {answer.text[:200]!r}"


def test_soap_services_survive_the_xml_corpus(live):
    wrong = []
    for service in SERVICES:
        for name, body in hostile.xml_documents():
            answer = httpx.post(live.url(service), content=body, headers={"Content-Type": "text/xml"}, timeout=60)
            if (problem := client_fault(answer)) is not None:
                wrong.append(f"{service} {name}: {problem}")
    assert not wrong, "\n".join(wrong)


def test_signed_soap_calls_with_hostile_values_are_client_faults(soap, live, subject):
    """Values the XSD lets through but a naive computation does not survive."""
    far = "9999-12-20"
    calls = [
        ("DeclareInclusion", dict(PatientSsin=subject["patient"], PsiNihii=subject["psi"], Status="information", StartDate=far,
                                  ResearchConsent={"Decision": "agree", "Date": live.clock.today()})),
        ("CloseInclusion", dict(InclusionId=subject["id"], EndDate="9999-12-31")),
        ("UpdateInclusion", dict(InclusionId=subject["id"], Status="information", StartDate=far)),
        ("UpdateInclusion", dict(InclusionId="9" * 300, Status="information", StartDate="2026-01-01")),
        ("CloseInclusion", dict(InclusionId="²", EndDate="2026-01-01")),
        ("ListPsiPatients", dict(PageSize="2147483647", Cursor="z" * 300)),
        ("GetPatientInclusions", dict(PatientSsin="00000000000")),
    ]
    wrong = []
    for operation, items in calls:
        answer = soap.post(soap.signed("gp", request(operation, **items)), action=operation)
        if (problem := client_fault(answer)) is not None:
            wrong.append(f"{operation} {items}: {problem}")
    assert not wrong, "\n".join(wrong)
