"""IC-A3 leak test: every read a PSI member can make, on both faces, in the
two-project setting of the findings (PSI B holds the patient as principal,
with a consent decision, a care team it manages and a restriction the
patient filed on PSI B's inclusion; PSI A holds them as information;
patient-2 is PSI B's only). No identifier, date or name of PSI B's side may
appear anywhere in the bytes of an answer, headers included, but what the
caller sent itself (a search value is echoed in the Bundle's self link).

Directory reads (Organization, Practitioner, PractitionerRole) are left
out: CoBrHa is public and names every project, whoever asks; what must not
leak is which project holds this patient."""

from __future__ import annotations

import re
from typing import Any, Iterator
from urllib.parse import quote

import httpx
import pytest
from lxml import etree

from gateway.domain.care_teams import CareTeamSpec, MemberSpec
from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.soap import care_team, referral, rights
from gateway.soap.integrated_care import ACTION as IC_ACTION, NS as IC_NS, PATH as IC_PATH

STAFF = ("psi-admin", "psi-coordinator")
NIHDI = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/nihdi"
RIGHTS_KIND = "https://care-gateway.be/fhir/CodeSystem/rights-request-kind"


@pytest.fixture(scope="module")
def setting(live, two_projects, personas) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The findings' setting, and more of PSI B's side: a team it manages, and
    a restriction the patient filed on PSI B's inclusion."""
    gp, nurse = personas["gp"], personas["nurse"]
    team = live.gw.care_teams.create(personas["psi-admin-other"].principal(), CareTeamSpec(
        kind="administrative-group", patient_niss=personas["patient"].niss, managing_organisation=two_projects["psi_b"],
        name="Suivi du projet B", members=(MemberSpec("practitioner", nihii=gp.nihii), MemberSpec("practitioner", nihii=nurse.nihii))))
    request = live.gw.rights.file(personas["patient"].principal(), "restriction", "Not for research, please.",
                                  target_type="inclusion", target_id=two_projects["b"].InclusionId)
    secrets = dict(two_projects["secrets"], **{"PSI B's care team": team.id, "PSI B's team name": "Suivi du projet B",
                                              "the restriction on PSI B's inclusion": request.id})
    return {**two_projects, "team": team.id, "request": request.id, "secrets": secrets}


class Reader:
    """Sends reads as one persona and keeps every answer with what was sent."""

    def __init__(self, live: Any, token: str) -> None:
        self.live = live
        self.http = httpx.Client(base_url=live.base_url, timeout=60, headers={"Authorization": f"Bearer {token}"})
        self.answers: list[tuple[str, str, bytes]] = []  # (label, what was sent, headers and body)

    def fhir(self, method: str, path: str, body: bytes = b"", follow: bool = True, **headers: str) -> None:
        answer = self.http.request(method, f"/fhir/{path}", content=body or None, headers=headers)
        assert answer.status_code < 500, (path, answer.text[:200])
        self.answers.append((f"{method} {path}", path + body.decode(errors="replace"),
                             str(dict(answer.headers)).encode() + answer.content))
        if follow and answer.headers.get("content-type", "").startswith("application/fhir+json") and answer.status_code == 200:
            for link in answer.json().get("link", []) if isinstance(answer.json(), dict) else []:
                if link.get("relation") == "next":
                    self.fhir("GET", link["url"].split("/fhir/", 1)[1], follow=True)


def fhir_reads(setting: dict[str, Any], personas: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(method, path) of every FHIR read a PSI member can make about these people."""
    a, b, consent = setting["a"].InclusionId, setting["b"].InclusionId, setting["b_consent"].ConsentId
    for key in ("patient", "patient-2"):
        ssin = quote(f"{SSIN_SYSTEM}|{personas[key].niss}")
        yield "GET", f"EpisodeOfCare?patient-identifier={ssin}"
        yield "GET", f"EpisodeOfCare?patient-identifier={ssin}&_count=1"
        yield "GET", f"EpisodeOfCare?patient-identifier={ssin}&_revinclude=Provenance:target"
        yield "GET", f"EpisodeOfCare?patient-identifier={ssin}&type=principal"
        yield "GET", f"EpisodeOfCare?patient-identifier={ssin}&status=active&date=ge2000-01-01"
        yield "GET", f"EpisodeOfCare?patient-identifier={ssin}&_lastUpdated=ge2000-01-01"
        yield "GET", f"EpisodeOfCare?patient-identifier={ssin}&psi={quote(NIHDI + '|' + setting['psi_a'])}"
        yield "GET", f"EpisodeOfCare/_history?patient-identifier={ssin}"
        yield "GET", f"Consent?patient-identifier={ssin}"
        yield "GET", f"Consent?patient-identifier={ssin}&status=active"
        yield "GET", f"CareTeam?patient-identifier={ssin}"
        yield "GET", f"ServiceRequest?patient-identifier={ssin}"
        yield "GET", f"Task?patient-identifier={ssin}"
        yield "GET", f"Task?code={quote(RIGHTS_KIND + '|restriction')}&patient-identifier={ssin}"
        yield "GET", f"Patient?identifier={ssin}"
        yield "GET", f"AuditEvent?patient-identifier={ssin}"
    yield "GET", "EpisodeOfCare"
    yield "GET", "EpisodeOfCare?_count=1"
    yield "GET", "EpisodeOfCare/_history"
    yield "GET", f"Task?code={quote(RIGHTS_KIND + '|restriction')}"
    yield "GET", "AuditEvent"
    for id_ in (a, b):
        yield "GET", f"EpisodeOfCare/{id_}"
        yield "GET", f"EpisodeOfCare/{id_}/_history"
        yield "GET", f"EpisodeOfCare/{id_}/_history/1"
        yield "GET", f"Provenance?target=EpisodeOfCare/{id_}"
        yield "GET", f"Provenance/{id_}-v1"
    yield "GET", f"Consent/{consent}"
    yield "GET", f"Consent/{consent}/_history/1"
    yield "GET", f"CareTeam/{setting['team']}"
    yield "GET", f"Task/rights-{setting['request']}"
    yield "GET", "metadata"


def soap_reads(setting: dict[str, Any], personas: dict[str, Any]) -> Iterator[tuple[str, str, str, str, dict[str, Any]]]:
    """(service path, namespace, action prefix, operation, items) of every SOAP read."""
    ct = (f"/soap{care_team.PATH}", care_team.NS, f"{care_team.NS}:")
    rf = (f"/soap{referral.PATH}", referral.NS, f"{referral.NS}:")
    rt = (f"/soap{rights.PATH}", rights.NS, f"{rights.NS}:")
    ic = (f"/soap{IC_PATH}", IC_NS, IC_ACTION)
    for key in ("patient", "patient-2"):
        niss = personas[key].niss
        yield (*ic, "GetPatientInclusions", {"PatientSsin": niss})
        yield (*ic, "GetResearchConsent", {"PatientSsin": niss})
        yield (*ct, "GetPatientCareTeams", {"PatientSsin": niss})
        yield (*rf, "GetPatientReferrals", {"PatientSsin": niss})
        yield (*rt, "ListRightsRequests", {"PatientSsin": niss})
    yield (*ic, "ListPsiPatients", {"PageSize": 1})
    yield (*ic, "ListPsiPatients", {"PageSize": 100})
    yield (*ic, "CloseInclusion", {"InclusionId": setting["b"].InclusionId, "EndDate": "2099-01-01"})
    yield (*ct, "GetCareTeam", {"CareTeamId": setting["team"]})
    yield (*rt, "ListRightsRequests", {})


def payload(ns: str, operation: str, items: dict[str, Any]) -> etree._Element:
    element = etree.Element(f"{{{ns}}}{operation}Request", nsmap={"x": ns})
    for name, value in items.items():
        etree.SubElement(element, f"{{{ns}}}{name}").text = str(value)
    return element


def leaks(answers: list[tuple[str, str, bytes]], secrets: dict[str, str]) -> list[str]:
    found = []
    for label, sent, answer in answers:
        for name, secret in secrets.items():
            if secret and secret not in sent and secret.encode() in answer:
                found.append(f"{label}: {name} ({secret})")
    return found


@pytest.mark.parametrize("key", STAFF)
def test_IC_A3_no_fhir_answer_to_psi_staff_names_the_other_project(live, fhir_token, setting, personas, key):
    reader = Reader(live, fhir_token(key))
    for method, path in fhir_reads(setting, personas):
        reader.fhir(method, path)
    for person in ("patient", "patient-2"):  # POST _search: the same reads as a form
        form = f"patient-identifier={quote(SSIN_SYSTEM + '|' + personas[person].niss)}".encode()
        for kind in ("EpisodeOfCare", "Consent", "CareTeam"):
            reader.fhir("POST", f"{kind}/_search", form, **{"Content-Type": "application/x-www-form-urlencoded"})
    assert len(reader.answers) >= 55  # every read above was answered and kept
    assert leaks(reader.answers, setting["secrets"]) == []


@pytest.mark.parametrize("key", STAFF)
def test_IC_A3_no_soap_answer_to_psi_staff_names_the_other_project(live, soap, setting, personas, key):
    answers = []
    cursor: str | None = None
    for path, ns, action, operation, items in soap_reads(setting, personas):
        signed = soap.signed(key, payload(ns, operation, items))
        answer = httpx.post(live.url(path), content=signed, timeout=60,
                            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}{operation}"'})
        fault = b"<faultcode>soapenv:Server" in answer.content
        assert not fault, (operation, answer.text[:300])
        answers.append((f"{operation} {items}", str(items), str(dict(answer.headers)).encode() + answer.content))
        if operation == "ListPsiPatients" and items.get("PageSize") == 1:
            cursor = (re.search(rb"NextCursor>([^<]+)<", answer.content) or [None, None])[1]  # type: ignore[index]
    while cursor:  # page through the coordinator's list to its end
        signed = soap.signed(key, payload(IC_NS, "ListPsiPatients", {"PageSize": 1, "Cursor": cursor.decode()}))
        answer = httpx.post(live.url(f"/soap{IC_PATH}"), content=signed, timeout=60,
                            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{IC_ACTION}ListPsiPatients"'})
        answers.append(("ListPsiPatients next page", "", str(dict(answer.headers)).encode() + answer.content))
        found = re.search(rb"NextCursor>([^<]+)<", answer.content)
        cursor = found.group(1) if found else None
    assert leaks(answers, setting["secrets"]) == []


def test_the_leak_test_sees_a_leak_when_there_is_one(live, fhir_token, setting):
    """The same reads as PSI B's staff: their own data are named, so the check is not blind."""
    reader = Reader(live, fhir_token("psi-admin-other"))
    reader.fhir("GET", f"Consent/{setting['b_consent'].ConsentId}")
    reader.fhir("GET", f"EpisodeOfCare/{setting['b'].InclusionId}")
    assert {"PSI B's consent date", "PSI B's NIHII", "PSI B's start date"} <= {
        found.split(": ", 1)[1].split(" (")[0] for found in leaks(reader.answers, setting["secrets"])}
