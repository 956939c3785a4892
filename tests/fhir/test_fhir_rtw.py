"""Return to work through FHIR, over real HTTP with real tokens of both
identity providers: eHealth's for insurers, prevention services and INAMI,
the crossroads bank's for the regional services (RP-S1). The dossier is an
EpisodeOfCare of profile be-cg-rtw-dossier beside the inclusions
(RP-A1..RP-A5), the registration form a QuestionnaireResponse of profile
be-cg-rtw-form to the published Questionnaire (RP-F1, RP-F2, RP-M1, RP-A6),
every act audited (RP-R2). Every resource returned is valid against R4 and
its profile."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.conformance.fhir.validator import FhirValidator
from gateway.domain.identifiers import CBE_SYSTEM, SSIN_SYSTEM
from gateway.domain.model import AuditRecord
from gateway.ehealth.rtw.signin import bcss_issuer
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_access_token
from gateway.fhir.resources.rtw_dossier import PROFILE as DOSSIER, TYPE_CODE, TYPE_SYSTEM
from gateway.fhir.resources.rtw_form import PROFILE as FORM, QUESTIONNAIRE
from tests.fhir.fhir_asserts import issue

FHIR = "application/fhir+json"
DOSSIERS = f"{TYPE_SYSTEM}|{TYPE_CODE}"


class Fhir:
    """Plain FHIR REST calls as one persona."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base = f"{base_url}/fhir"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": FHIR}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.base}/{path}", params=params, headers=self.headers, timeout=30)

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.base}/{path}", json=body, headers={**self.headers, "Content-Type": FHIR}, timeout=30)

    def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.put(f"{self.base}/{path}", json=body, headers={**self.headers, "Content-Type": FHIR}, timeout=30)

    def dossiers(self, **params: Any) -> httpx.Response:
        return self.get("EpisodeOfCare", type=DOSSIERS, **params)


@pytest.fixture(scope="module")
def token(live):  # type: ignore[no-untyped-def]
    cache: dict[tuple[str, str | None], str] = {}

    def get(key: str, realm: str | None = None) -> str:
        if (key, realm) not in cache:
            cache[key, realm] = rtw_access_token(live.base_url, key, realm=realm)
        return cache[key, realm]

    return get


@pytest.fixture(scope="module")
def as_(live, token):  # type: ignore[no-untyped-def]
    return lambda key, realm=None: Fhir(live.base_url, token(key, realm))


@pytest.fixture(scope="module")
def cast(live):  # type: ignore[no-untyped-def]
    return rtw_state(live.platform).sandbox.cast


def valid(resource: dict[str, Any], profile: str) -> dict[str, Any]:
    for checked in ({}, {"profile": profile}):
        result = FhirValidator.default().validate(resource, **checked)
        assert result.errors == [], result.findings()
    return resource


def dossier(niss: str) -> dict[str, Any]:
    return {"resourceType": "EpisodeOfCare", "meta": {"profile": [DOSSIER]}, "status": "active",
            "type": [{"coding": [{"system": TYPE_SYSTEM, "code": TYPE_CODE}]}],
            "patient": {"identifier": {"system": SSIN_SYSTEM, "value": niss}}}


def answer(link: str, **value: Any) -> dict[str, Any]:
    return {"linkId": link, "answer": [value]}


def form(dossier_id: str, *, routing: str = "insurer", start: str = "2025-03-03", medical: bool = False,
         more: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    items = [answer("routing", valueCoding={"system": "https://care-gateway.be/fhir/CodeSystem/rtw-form-routing", "code": routing}),
             answer("incapacity-start", valueDate=start),
             answer("expectations", valueString="A training as a logistics planner"),
             answer("work-problems", valueString="Cannot carry loads any more"),
             answer("coordinator-name", valueString="An Peeters"), *more]
    if medical:
        items += [answer("physician-expectations", valueString="Part-time work first"),
                  answer("functional-capacities", valueString="No lifting above 5 kg")]
    return {"resourceType": "QuestionnaireResponse", "meta": {"profile": [FORM]}, "questionnaire": QUESTIONNAIRE,
            "status": "completed", "subject": {"reference": f"EpisodeOfCare/{dossier_id}"}, "item": items}


def refusal(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return issue(response.json())


def links(resource: dict[str, Any]) -> dict[str, Any]:
    return {i["linkId"]: next(iter(i["answer"][0].values())) for i in resource["item"]}


@pytest.fixture(scope="module")
def opened(as_, cast) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The insured person's dossier, opened by their insurer's coordinator."""
    created = as_("oa-rtw-coordinator").post("EpisodeOfCare", dossier(cast.insured))
    assert created.status_code == 201, created.text
    return valid(created.json(), DOSSIER)


@pytest.fixture(scope="module")
def filled(as_, opened) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A registration form with the physician's question, filled by the advising physician."""
    created = as_("oa-physician").post("QuestionnaireResponse", form(opened["id"], medical=True))
    assert created.status_code == 201, created.text
    return valid(created.json(), FORM)


# ----------------------------------------------------------------- RP-S1


def test_rp_s1_the_regional_counsellor_signs_in_through_the_crossroads_banks_idp(live, token) -> None:  # type: ignore[no-untyped-def]
    principal = live.gw.tokens.principal(token("reg-counsellor"))
    assert principal.extra["iss"] == bcss_issuer(live.platform.settings.public_url)
    assert live.gw.tokens.principal(token("oa-physician")).extra["iss"] != principal.extra["iss"]


def test_rp_s1_the_other_idp_does_not_sign_in_a_partners_user(live) -> None:  # type: ignore[no-untyped-def]
    from gateway.ehealth.sandbox_tokens import TokenError

    for key, realm in (("reg-counsellor", "ehealth"), ("oa-physician", "bcss")):
        with pytest.raises(TokenError):
            rtw_access_token(live.base_url, key, realm=realm)


def test_rp_s1_a_token_of_an_untrusted_issuer_is_refused(live, opened) -> None:  # type: ignore[no-untyped-def]
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"iss": "https://elsewhere.test", "aud": "care-gateway", "exp": 4102444800, "sub": "x"}, key,
                        algorithm="RS256", headers={"kid": "x"})
    assert Fhir(live.base_url, forged).get(f"EpisodeOfCare/{opened['id']}").status_code == 401


def test_rp_s1_integrated_care_roles_have_no_access(live, fhir_token, opened) -> None:  # type: ignore[no-untyped-def]
    found = refusal(Fhir(live.base_url, fhir_token("insurer")).get(f"EpisodeOfCare/{opened['id']}"), 403)
    assert (found["rule"], found["error"]) == ("RP-S1", "role-not-allowed")


# ------------------------------------------------------------- the dossier


def test_rp_a1_the_insurer_opens_the_dossier_enriched_from_the_sources(opened, cast, as_) -> None:  # type: ignore[no-untyped-def]
    assert opened["id"].startswith("rtw-") and opened["status"] == "active"
    assert opened["patient"]["identifier"]["value"] == cast.insured and opened["patient"]["display"]
    roles = [p["role"][0]["coding"][0]["code"] for p in opened["contained"][0]["participant"]]
    assert roles.count("insurer") == 1 and roles.count("employer") == 2
    assert "prevention-service" in roles and "regional-service" in roles
    trio = [e["valueBoolean"] for e in opened["extension"] if e["url"].endswith("/rtw-trio-dossier")]
    assert trio == [True]  # asked of TRIO with a blinded pseudonym, told to the insurer
    counsellor = as_("reg-counsellor").get(f"EpisodeOfCare/{opened['id']}").json()
    assert "extension" not in counsellor  # not told to a regional service
    again = as_("oa-rtw-coordinator").post("EpisodeOfCare", dossier(cast.insured))
    assert again.status_code == 200 and again.json()["id"] == opened["id"]  # the open dossier, not a second one


def test_rp_a1_another_insurers_physician_gets_the_rule(as_, opened) -> None:  # type: ignore[no-untyped-def]
    found = refusal(as_("oa-physician-other").get(f"EpisodeOfCare/{opened['id']}"), 403)
    assert found["rule"] == "RP-A1"


def test_rp_a2_the_regional_service_of_registration_reads_another_does_not(as_, opened) -> None:  # type: ignore[no-untyped-def]
    seen = as_("reg-counsellor").get(f"EpisodeOfCare/{opened['id']}")
    assert seen.status_code == 200, seen.text
    valid(seen.json(), DOSSIER)
    assert refusal(as_("reg-counsellor-forem").get(f"EpisodeOfCare/{opened['id']}"), 403)["rule"] == "RP-A2"


def test_rp_a3_the_prevention_service_of_the_current_employer_only(as_, opened, cast) -> None:  # type: ignore[no-untyped-def]
    assert as_("prev-nurse").get(f"EpisodeOfCare/{opened['id']}").status_code == 200
    found = refusal(as_("prev-physician-former").post("EpisodeOfCare", dossier(cast.changed_employer)), 403)
    assert found["rule"] == "RP-A3"


def test_rp_a4_inami_lists_every_dossier_others_name_a_person_or_partner(as_, opened) -> None:  # type: ignore[no-untyped-def]
    listed = as_("inami-expert").dossiers()
    assert listed.status_code == 200, listed.text
    assert opened["id"] in [e["resource"]["id"] for e in listed.json().get("entry", [])]
    found = refusal(as_("oa-physician").dossiers(), 422)
    assert (found["rule"], found["error"]) == ("RP-A4", "criteria-required")


def test_rp_a5_the_deceased_persons_dossier_is_closed_to_all(as_, cast) -> None:  # type: ignore[no-untyped-def]
    for key in ("oa-physician", "inami-inspector"):
        found = refusal(as_(key).post("EpisodeOfCare", dossier(cast.deceased)), 403)
        assert found["rule"] == "RP-A5"


def test_dossiers_are_searched_by_person_partner_and_status_with_paging(as_, opened, cast) -> None:  # type: ignore[no-untyped-def]
    coordinator = as_("oa-rtw-coordinator")
    second = coordinator.post("EpisodeOfCare", dossier(cast.unregistered))
    assert second.status_code == 201, second.text
    by_person = coordinator.dossiers(**{"patient-identifier": f"{SSIN_SYSTEM}|{cast.insured}"}).json()
    assert [e["resource"]["id"] for e in by_person["entry"]] == [opened["id"]]
    partner = f"{CBE_SYSTEM}|{opened['managingOrganization']['identifier']['value']}"
    first = coordinator.dossiers(partner=partner, _count=1).json()
    assert len(first["entry"]) == 1
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    rest = httpx.get(following, headers=coordinator.headers, timeout=30).json()
    ids = {first["entry"][0]["resource"]["id"]} | {e["resource"]["id"] for e in rest["entry"]}
    assert {opened["id"], second.json()["id"]} <= ids
    assert coordinator.dossiers(partner=partner, status="finished").json().get("entry", []) == []
    assert refusal(coordinator.dossiers(partner=partner, status="ended"), 400)["error"] == "invalid-status"


def test_a_dossier_and_an_inclusion_are_told_apart_each_against_its_own_profile(as_, opened, cast) -> None:  # type: ignore[no-untyped-def]
    body = dossier(cast.insured)
    body["type"] = [{"coding": [{"system": TYPE_SYSTEM, "code": "something-else"}]}]
    found = refusal(as_("oa-physician").post("EpisodeOfCare", body), 422)
    assert found["error"] == "profile-violation"
    metadata = httpx.get(f"{as_('oa-physician').base}/metadata", timeout=30).json()
    episode = next(r for r in metadata["rest"][0]["resource"] if r["type"] == "EpisodeOfCare")
    assert DOSSIER in episode["supportedProfile"] and "partner" in [p["name"] for p in episode["searchParam"]]


def test_rp_a1_the_insurer_closes_the_dossier(as_, cast) -> None:  # type: ignore[no-untyped-def]
    coordinator = as_("oa-physician-other")  # the insurer of the person registered with Actiris
    created = coordinator.post("EpisodeOfCare", dossier(cast.actiris))
    assert created.status_code == 201, created.text
    closed = coordinator.put(f"EpisodeOfCare/{created.json()['id']}", {**created.json(), "status": "finished"})
    assert closed.status_code == 200, closed.text
    assert valid(closed.json(), DOSSIER)["status"] == "finished"
    assert refusal(as_("reg-counsellor").put(f"EpisodeOfCare/{created.json()['id']}", closed.json()), 403)["rule"] == "RP-A2"


# ----------------------------------------------------------------- the form


def test_the_registration_form_is_published_as_a_questionnaire(as_) -> None:  # type: ignore[no-untyped-def]
    published = as_("reg-counsellor").get("Questionnaire/rtw-registration-form")
    assert published.status_code == 200 and published.json()["url"] == QUESTIONNAIRE
    assert FhirValidator.default().validate(published.json()).errors == []


def test_rp_f1_the_insurer_or_an_occupational_physician_fills_the_form(as_, opened, filled) -> None:  # type: ignore[no-untyped-def]
    assert filled["subject"]["reference"] == f"EpisodeOfCare/{opened['id']}"
    occupational = as_("prev-physician").post("QuestionnaireResponse", form(
        opened["id"], routing="occupational-physician",
        more=(answer("occupational-physician-name", valueString="Dr. Els Maes"),)))
    assert occupational.status_code == 201, occupational.text
    for key in ("prev-nurse", "reg-counsellor", "inami-expert"):
        assert refusal(as_(key).post("QuestionnaireResponse", form(opened["id"])), 403)["rule"] in ("RP-F1", "RP-A2", "RP-A4")
    assert refusal(as_("prev-nurse").post("QuestionnaireResponse", form(opened["id"])), 403)["rule"] == "RP-F1"
    wrong = refusal(as_("oa-rtw-coordinator").post("QuestionnaireResponse", form(opened["id"], routing="regional-request")), 422)
    assert (wrong["rule"], wrong["error"]) == ("RP-F1", "target-group-routing-c")
    assert "target-group" in wrong["expression"]


def test_rp_m1_the_counsellor_reads_the_form_without_the_start_date_the_insurer_with_it(as_, filled) -> None:  # type: ignore[no-untyped-def]
    counsellor = as_("reg-counsellor").get(f"QuestionnaireResponse/{filled['id']}")
    assert counsellor.status_code == 200, counsellor.text
    seen = links(valid(counsellor.json(), FORM))
    assert "incapacity-start" not in seen and seen["incapacity-one-year"] is True
    insurer = links(valid(as_("oa-rtw-coordinator").get(f"QuestionnaireResponse/{filled['id']}").json(), FORM))
    assert insurer["incapacity-start"] == "2025-03-03"


def test_rp_f2_the_regional_service_reads_forms_once_the_person_is_registered(as_, cast) -> None:  # type: ignore[no-untyped-def]
    made = as_("oa-rtw-coordinator").post("EpisodeOfCare", dossier(cast.unregistered))
    assert made.status_code in (200, 201), made.text
    form_made = as_("oa-rtw-coordinator").post("QuestionnaireResponse", form(made.json()["id"]))
    assert form_made.status_code == 201, form_made.text
    found = refusal(as_("reg-counsellor").get(f"QuestionnaireResponse/{form_made.json()['id']}"), 403)
    assert (found["rule"], found["error"]) == ("RP-F2", "not-registered")
    listed = refusal(as_("reg-counsellor").get("QuestionnaireResponse", subject=f"EpisodeOfCare/{made.json()['id']}"), 403)
    assert listed["rule"] == "RP-F2"


def test_rp_a6_the_physicians_question_is_for_the_three_physician_roles(as_, opened, filled) -> None:  # type: ignore[no-untyped-def]
    for key, shown in (("oa-physician", True), ("prev-physician", True), ("inami-inspector", True),
                       ("oa-rtw-coordinator", False), ("prev-nurse", False), ("reg-counsellor", False), ("inami-expert", False)):
        forms = as_(key).get("QuestionnaireResponse", subject=f"EpisodeOfCare/{opened['id']}")
        assert forms.status_code == 200, forms.text
        mine = next(e["resource"] for e in forms.json()["entry"] if e["resource"]["id"] == filled["id"])
        assert ("functional-capacities" in links(mine)) is shown, key
    written = refusal(as_("oa-rtw-coordinator").post("QuestionnaireResponse", form(opened["id"], medical=True)), 422)
    assert written["rule"] == "RP-A6"


# ------------------------------------------------------------------ RP-R2


def test_rp_r2_every_act_allowed_or_denied_through_fhir_leaves_one_audit_record(live, as_, opened, filled) -> None:  # type: ignore[no-untyped-def]
    def records() -> list[AuditRecord]:
        with live.gw.ctx.db.transaction() as session:
            return list(session.execute(select(AuditRecord).where(AuditRecord.action.like("rtw.%"))
                                        .order_by(AuditRecord.seq)).scalars().all())

    before = len(records())
    assert as_("inami-inspector").get(f"QuestionnaireResponse/{filled['id']}").status_code == 200
    assert as_("oa-physician-other").get(f"EpisodeOfCare/{opened['id']}").status_code == 403
    added = records()[before:]
    assert [(r.action, r.outcome, r.rule, r.channel) for r in added] == [
        ("rtw.form.read", "allowed", "RP-A4", "fhir"), ("rtw.dossier.read", "denied", "RP-A1", "fhir")]
    assert {r.resource_id for r in added} == {filled["id"], opened["id"][len("rtw-"):]}
