"""Consent <-> research consent decision (profile be-cg-research-consent).

A Consent holds one decision per version. Create records a new decision
(IC-A5..A7) as version 1 of a new Consent; an update (PUT with If-Match)
records the next decision as the next version of the same Consent, or, with
``status`` inactive, withdraws the consent (DS-5: a version that denies from
its date). History and vread show every version. The Consent holding the
patient's decision in force is ``active``; superseded and withdrawn ones are
``inactive``."""

from __future__ import annotations

from typing import Any

from gateway.domain.views import ConsentView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import complete_recorded_by, instant, ssin, values_of
from gateway.fhir.resources.inclusion import _tidy
from gateway.fhir.search import whole_number
from gateway.mapping.mapping import mapping

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-research-consent"


class ConsentHandler(ResourceHandler):
    resource_type = "Consent"
    profile = PROFILE
    interactions = ("read", "vread", "update", "history-instance", "create", "search-type")
    documentation = ("A patient's research consent decision (items 1 and 2). Recording a new decision (create) supersedes the one in "
                     "force; the patient (IC-A7), a provider with a therapeutic relationship (IC-A5) or the PSI's staff (IC-A6) may "
                     "record it. Update (PUT, If-Match required) records a new decision as the Consent's next version, or with "
                     "status inactive withdraws the consent (DS-5: research stops from its dateTime, legal obligations remain); "
                     "_history and vread show every version, with who recorded it (IC-R11).")
    search_params = (
        SearchParam("patient-identifier", "token", "The patient's NISS (required)", "https://care-gateway.be/fhir/SearchParameter/patient-identifier"),
        SearchParam("status", "token", "active (in force) | inactive (superseded)"),
    )
    paths = {"patient.niss": "Consent.patient.identifier", "consent.decision": "Consent.provision.type",
             "consent.date": "Consent.dateTime", "id": "Consent.id"}

    def to_fhir(self, view: ConsentView) -> dict[str, Any]:
        values = {
            "id": str(view.resource_id or view.id), "patient_niss": view.patient_niss, "decision": view.decision,
            "decision_date": view.decision_date, "recorded_by_niss": view.recorded_by_niss if view.recorded_by_role != "system" else None,
            "recorded_by_role": view.recorded_by_role, "recorded_by_organisation": view.recorded_by_organisation,
            "recorded_at": instant(view.recorded_at), "state": "active" if view.in_force and not view.withdrawn else "inactive",
            "version": str(view.version), "updated_at": instant(view.recorded_at),
        }
        resource = mapping("consent").to_fhir(values)
        complete_recorded_by(resource)
        return _tidy(resource)

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return self.to_fhir(call.cases.consents.get(call.principal, id, channel=CHANNEL))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        versions = call.cases.consents.versions(call.principal, id, channel=CHANNEL)
        found = [v for v in versions if str(v.version) == vid]
        if not found:
            raise FhirError.simple(404, "not-found", f"Consent/{id} has versions 1 to {len(versions)}.", error_code="unknown-version",
                                   expression="Consent.meta.versionId")
        return self.to_fhir(found[0])

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        """DS-5: every decision of the Consent, newest first, each with who recorded it."""
        resources = [self.to_fhir(v) for v in call.cases.consents.versions(call.principal, id, channel=CHANNEL)]
        return [(r, "POST" if r["meta"]["versionId"] == "1" else "PUT", r["meta"]["lastUpdated"]) for r in reversed(resources)]

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        """DS-5: the next decision, or (status inactive) the withdrawal, as the next version."""
        if if_match is None:
            raise FhirError.simple(428, "required", "Give If-Match: W/\"<versionId>\" of the Consent you read: a consent decision is "
                                   "never changed over one made meanwhile.", error_code="if-match-required", rule="DS-5")
        status = resource.get("status")
        if status not in ("active", "inactive"):
            raise FhirError.simple(422, "business-rule", "Update a consent with status active (a new decision) or inactive (withdraw "
                                   f"it), not {status!r}.", expression="Consent.status", error_code="invalid-status", rule="DS-5")
        values = mapping("consent").from_fhir(resource, only={"patient_niss", "decision", "decision_date"})
        view = call.cases.consents.update(call.principal, id, values["decision"], values["decision_date"], withdraw=status == "inactive",
                                          patient_niss=values["patient_niss"], expected_version=if_match, channel=CHANNEL)
        return Written(self.to_fhir(view), False)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        values = mapping("consent").from_fhir(resource, only={"patient_niss", "decision", "decision_date"})
        view = call.cases.consents.record(call.principal, values["patient_niss"], values["decision"], values["decision_date"], channel=CHANNEL)
        return Written(self.to_fhir(view), True)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        patient = values_of(params, "patient-identifier")
        if not patient:
            raise FhirError.simple(400, "required", "Search research consents by patient: patient-identifier=system|NISS.",
                                   expression="patient-identifier", error_code="patient-required")
        views = call.cases.consents.history(call.principal, ssin("patient-identifier", patient[0]), channel=CHANNEL)
        statuses = set(values_of(params, "status"))
        latest: dict[str, Any] = {}  # one Consent per id: its latest version the caller sees (DS-5)
        for v in reversed(views):
            latest.setdefault(str(v.resource_id or v.id), v)
        resources = [self.to_fhir(v) for v in latest.values()]
        resources = [r for r in resources if not statuses or r["status"] in statuses]
        start = whole_number(cursor) or 0
        page = resources[start:start + count]
        return SearchResult(page, str(start + count) if start + count < len(resources) else None)
