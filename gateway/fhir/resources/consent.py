"""Consent <-> research consent decision (profile be-cg-research-consent).

Each recorded decision is one Consent; the one in force is ``active``, the
ones it superseded ``inactive``. Create records a new decision (IC-A5..A7);
there is no update: a decision is changed by recording a new one."""

from __future__ import annotations

from typing import Any

from gateway.domain.views import ConsentView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import complete_recorded_by, instant, ssin, values_of
from gateway.fhir.resources.inclusion import _tidy
from gateway.mapping.mapping import mapping

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-research-consent"


class ConsentHandler(ResourceHandler):
    resource_type = "Consent"
    profile = PROFILE
    interactions = ("read", "vread", "create", "search-type")
    documentation = ("A patient's research consent decision (items 1 and 2). Recording a new decision supersedes the one in force; "
                     "the patient (IC-A7), a provider with a therapeutic relationship (IC-A5) or the PSI's staff (IC-A6) may record it.")
    search_params = (
        SearchParam("patient-identifier", "token", "The patient's NISS (required)", "https://care-gateway.be/fhir/SearchParameter/patient-identifier"),
        SearchParam("status", "token", "active (in force) | inactive (superseded)"),
    )
    paths = {"patient.niss": "Consent.patient.identifier", "consent.decision": "Consent.provision.type",
             "consent.date": "Consent.dateTime", "id": "Consent.id"}

    def to_fhir(self, view: ConsentView) -> dict[str, Any]:
        values = {
            "id": str(view.id), "patient_niss": view.patient_niss, "decision": view.decision,
            "decision_date": view.decision_date, "recorded_by_niss": view.recorded_by_niss if view.recorded_by_role != "system" else None,
            "recorded_by_role": view.recorded_by_role, "recorded_by_organisation": view.recorded_by_organisation,
            "recorded_at": instant(view.recorded_at), "state": "active" if view.in_force else "inactive",
            "version": "1", "updated_at": instant(view.recorded_at),
        }
        resource = mapping("consent").to_fhir(values)
        complete_recorded_by(resource)
        return _tidy(resource)

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return self.to_fhir(call.gw.consents.get(call.principal, id, channel=CHANNEL))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        if vid != "1":
            raise FhirError.simple(404, "not-found", f"Consent/{id} has only version 1: a decision is never changed, only superseded.",
                                   error_code="unknown-version")
        return self.read(call, id)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        values = mapping("consent").from_fhir(resource, only={"patient_niss", "decision", "decision_date"})
        view = call.gw.consents.record(call.principal, values["patient_niss"], values["decision"], values["decision_date"], channel=CHANNEL)
        return Written(self.to_fhir(view), True)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        patient = values_of(params, "patient-identifier")
        if not patient:
            raise FhirError.simple(400, "required", "Search research consents by patient: patient-identifier=system|NISS.",
                                   expression="patient-identifier", error_code="patient-required")
        views = call.gw.consents.history(call.principal, ssin("patient-identifier", patient[0]), channel=CHANNEL)
        statuses = set(values_of(params, "status"))
        resources = [self.to_fhir(v) for v in reversed(views)]
        resources = [r for r in resources if not statuses or r["status"] in statuses]
        start = int(cursor) if cursor and cursor.isdigit() else 0
        page = resources[start:start + count]
        return SearchResult(page, str(start + count) if start + count < len(resources) else None)
