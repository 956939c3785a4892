"""QuestionnaireResponse <-> registration form (AMF), and the published
Questionnaire it answers (profiles/Questionnaire-rtw-registration-form.json).

A form is a set of answers to fixed questions that several partners read,
each seeing part of it: a FHIR implementer expects a Questionnaire,
published once, and a QuestionnaireResponse per filled form (profile
be-cg-rtw-form), its subject the dossier (``EpisodeOfCare/rtw-<id>``).

- An insurer or an occupational physician fills it (POST, RP-F1).
- It is read (and searched by ``subject``, the dossier) by the partners with
  access; a regional service once the person is registered with it (RP-F2),
  then without the incapacity start date (RP-M1); the physician's question
  only by the three physician roles (RP-A6). What is not shown is absent.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from gateway.contracts import contract
from gateway.domain.rtw.forms import FillForm
from gateway.domain.rtw.views import FormView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import instant, values_of
from gateway.fhir.resources.listing import page
from gateway.fhir.resources.rtw_dossier import PREFIX, dossier_id
from gateway.mapping.mapping import mapping

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-rtw-form"
QUESTIONNAIRE_ID = "rtw-registration-form"
QUESTIONNAIRE = f"https://care-gateway.be/fhir/Questionnaire/{QUESTIONNAIRE_ID}"
ITEMS = ("routing", "incapacity_start", "expectations", "work_problems", "coordinator_name", "advising_physician_name",
         "team_member_name", "target_group", "occupational_physician_name", "physician_expectations", "functional_capacities")


def _item(link: str) -> str:
    return f"QuestionnaireResponse.item.where(linkId = '{link}')"


@lru_cache(maxsize=1)
def questionnaire() -> dict[str, Any]:
    """The published form, as data in profiles/."""
    return json.loads(contract("profiles", f"Questionnaire-{QUESTIONNAIRE_ID}.json").read_text(encoding="utf-8"))


def form_to_fhir(view: FormView) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(view, name) for name in ITEMS}
    values.update(id=view.id, version=str(view.version), dossier=f"EpisodeOfCare/{PREFIX}{view.dossier_id}",
                  status=view.status, incapacity_one_year=view.incapacity_one_year,
                  created_by_cbe=view.created_by_cbe or None, created_at=instant(view.created_at))
    resource = mapping("rtw_form").to_fhir(values)
    resource["meta"]["lastUpdated"] = instant(view.updated_at)
    order = [i["linkId"] for i in questionnaire()["item"]]
    resource["item"] = sorted(resource["item"], key=lambda i: order.index(i["linkId"]))
    first = ("resourceType", "id", "meta", "questionnaire", "status", "subject")
    return {**{k: resource[k] for k in first if k in resource}, **{k: v for k, v in resource.items() if k not in first}}


def _dossier_of(reference: str, where: str) -> str:
    kind, _, target = (reference or "").partition("/")
    if kind != "EpisodeOfCare" or not target or "/" in target:
        raise FhirError.simple(422, "invalid", f"{where} names the dossier: EpisodeOfCare/rtw-<id>.", expression=where,
                               error_code="invalid-dossier-reference", rule="RP-F1")
    return dossier_id(target)


class QuestionnaireResponseHandler(ResourceHandler):
    resource_type = "QuestionnaireResponse"
    profile = PROFILE
    interactions = ("read", "vread", "create", "search-type")
    documentation = ("A return-to-work registration form (AMF), answering Questionnaire/rtw-registration-form, its subject "
                     "the dossier: filled by the insurer or an occupational physician (RP-F1), read by the partners with "
                     "access; a regional service reads it once the person is registered with it (RP-F2), without the "
                     "incapacity start date (RP-M1); the physician's question is shown to physicians only (RP-A6).")
    search_params = (SearchParam("subject", "reference", "The dossier: EpisodeOfCare/rtw-<id>"),)
    paths = {
        "routing": _item("routing"),
        "incapacity_start": _item("incapacity-start"),
        "expectations": _item("expectations"),
        "target_group": _item("target-group"),
        "coordinator_name": _item("coordinator-name"),
        "occupational_physician_name": _item("occupational-physician-name"),
        "functional_capacities": _item("functional-capacities"),
        "dossier": "QuestionnaireResponse.subject",
        "id": "QuestionnaireResponse.id",
    }

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return form_to_fhir(call.cases.return_to_work.forms.read(call.principal, id, channel=CHANNEL))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        resource = self.read(call, id)
        if resource["meta"]["versionId"] != vid:
            raise FhirError.simple(404, "not-found", f"QuestionnaireResponse/{id} is at version "
                                   f"{resource['meta']['versionId']}; only the current version is kept.",
                                   error_code="unknown-version", expression="QuestionnaireResponse.meta.versionId")
        return resource

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        if resource.get("status") != "completed":
            raise FhirError.simple(422, "business-rule", "A registration form is sent completed.",
                                   expression="QuestionnaireResponse.status", error_code="invalid-initial-status", rule="RP-F1")
        values = mapping("rtw_form").from_fhir(resource, only=set(ITEMS) | {"dossier"})
        if values["incapacity_start"] is None:
            raise FhirError.simple(422, "required", "Give the start date of the incapacity for work.",
                                   expression=_item("incapacity-start"), error_code="missing-incapacity-start", rule="RP-F1")
        cmd = FillForm(dossier_id=_dossier_of(values.pop("dossier"), "QuestionnaireResponse.subject"), **values)
        return Written(form_to_fhir(call.cases.return_to_work.forms.fill(call.principal, cmd, channel=CHANNEL)), True)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        subjects = values_of(params, "subject")
        if len(subjects) != 1:
            raise FhirError.simple(400, "required", "Search registration forms by dossier: subject=EpisodeOfCare/rtw-<id>.",
                                   expression="subject", error_code="subject-required")
        target = _dossier_of(subjects[0], "subject") if "/" in subjects[0] else dossier_id(subjects[0])
        views = call.cases.return_to_work.forms.of_dossier(call.principal, target, channel=CHANNEL)
        return page([form_to_fhir(v) for v in views], count, cursor)


class QuestionnaireHandler(ResourceHandler):
    """The published registration form, served as it is in profiles/."""

    resource_type = "Questionnaire"
    interactions = ("read", "search-type")
    documentation = "The return-to-work registration form (AMF) every QuestionnaireResponse of profile be-cg-rtw-form answers."
    search_params = (SearchParam("url", "uri", "The canonical URL of the form"),)

    def read(self, call: Call, id: str) -> dict[str, Any]:
        if id != QUESTIONNAIRE_ID:
            raise FhirError.simple(404, "not-found", f"The only Questionnaire served is {QUESTIONNAIRE_ID}.",
                                   error_code="unknown-questionnaire", expression="Questionnaire.id")
        return questionnaire()

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        urls = values_of(params, "url")
        found = [questionnaire()] if not urls or QUESTIONNAIRE in urls else []
        return page(found, count, cursor)


__all__ = ["PROFILE", "QUESTIONNAIRE", "QuestionnaireHandler", "QuestionnaireResponseHandler", "form_to_fhir", "questionnaire"]
