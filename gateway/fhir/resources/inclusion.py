"""EpisodeOfCare <-> inclusion (profile be-cg-inclusion).

Create declares (IC-F1); update changes status and dates (IC-F3), sending
the domain only the items that differ, so that each caller's rights apply
to what they really change; read, vread and history come from the
inclusion's versions; search runs the domain's inclusion search."""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.domain.inclusions import UNSET, DeclareInclusion, InclusionQuery
from gateway.domain.views import InclusionVersionView, InclusionView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import complete_recorded_by, instant, instant_predicate, nihii, period_predicate, ssin, values_of
from gateway.mapping.mapping import mapping

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-inclusion"
SP = "https://care-gateway.be/fhir/SearchParameter"


def fhir_status(start: date, end: date | None, today: date) -> str:
    """EpisodeOfCare.status from the declared dates (invariant cg-inclusion-1)."""
    if start > today:
        return "planned"
    if end is not None and end < today:
        return "finished"
    return "active"


class EpisodeOfCareHandler(ResourceHandler):
    resource_type = "EpisodeOfCare"
    profile = PROFILE
    interactions = ("read", "vread", "update", "create", "search-type", "history-instance", "history-type")
    conditional_create = True
    rev_includes = ("Provenance:target",)
    documentation = ("A patient's inclusion in an integrated-care project. Create declares it (IC-F1): give the research consent "
                     "extension unless the patient has a decision in force. Update changes status and dates (IC-F3). "
                     "The billing period (IC-R2) is computed by the server.")
    search_params = (
        SearchParam("patient-identifier", "token", "The patient's NISS: https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin|NISS",
                    f"{SP}/patient-identifier"),
        SearchParam("psi", "token", "The PSI's NIHII", f"{SP}/EpisodeOfCare-psi"),
        SearchParam("type", "token", "principal | information"),
        SearchParam("status", "token", "planned | active | finished"),
        SearchParam("date", "date", "The declared period"),
        SearchParam("_lastUpdated", "date", "When the inclusion last changed"),
    )
    paths = {
        "patient.niss": "EpisodeOfCare.patient.identifier",
        "psi.nihii": "EpisodeOfCare.managingOrganization.identifier",
        "status": "EpisodeOfCare.type",
        "start_date": "EpisodeOfCare.period.start",
        "end_date": "EpisodeOfCare.period.end",
        "consent.decision": "EpisodeOfCare.extension('https://care-gateway.be/fhir/StructureDefinition/research-consent')",
        "consent.date": "EpisodeOfCare.extension('https://care-gateway.be/fhir/StructureDefinition/research-consent')",
        "version": "EpisodeOfCare.meta.versionId",
        "_count": "_count",
        "id": "EpisodeOfCare.id",
    }

    # ---------------------------------------------------------------- views
    def to_fhir(self, call: Call, view: InclusionView) -> dict[str, Any]:
        values = {
            "id": view.id, "gateway_id": view.id, "patient_niss": view.patient_niss, "psi_nihii": view.psi_nihii,
            "status": view.status, "start_date": view.start_date, "end_date": view.end_date,
            "billing_start": view.billing_start, "billing_end": view.billing_end,
            "declared_by_nihii": view.declared_by_nihii, "declared_by_role": view.declared_by_role,
            "declared_by_niss": view.declared_by_niss if view.declared_by_role != "system" else None,
            "created_at": instant(view.created_at), "version": str(view.version), "updated_at": instant(view.updated_at),
        }
        resource = mapping("inclusion").to_fhir(values)
        resource["status"] = fhir_status(view.start_date, view.end_date, call.cases.clock.today())
        complete_recorded_by(resource)
        if view.restricted:  # DS-3: shown to whom the law requires, marked
            from gateway.fhir.resources.rights import RESTRICTED_LABEL

            resource.setdefault("meta", {})["security"] = [dict(RESTRICTED_LABEL)]
        return _tidy(resource)

    def _version_to_fhir(self, call: Call, v: InclusionVersionView, current: InclusionView) -> dict[str, Any]:
        items = v.items
        start = date.fromisoformat(str(items["start_date"]))
        end = date.fromisoformat(str(items["end_date"])) if items.get("end_date") else None
        view = InclusionView(
            id=current.id, version=v.version, patient_niss=call.cases.ctx.pseudonyms.reveal(str(items["patient"])),
            psi_nihii=str(items["psi"]), status=str(items["status"]), start_date=start, end_date=end,
            billing_start=date.fromisoformat(str(items["billing_start"])),
            billing_end=date.fromisoformat(str(items["billing_end"])) if items.get("billing_end") else None,
            declared_by_nihii=current.declared_by_nihii, declared_by_niss=current.declared_by_niss,
            declared_by_role=current.declared_by_role, last_actor_niss=v.actor_niss, last_actor_role=v.actor_role,
            closed_reason=items.get("closed_reason"), created_at=current.created_at, updated_at=v.at,  # type: ignore[arg-type]
        )
        return self.to_fhir(call, view)

    # --------------------------------------------------------- interactions
    def read(self, call: Call, id: str) -> dict[str, Any]:
        return self.to_fhir(call, call.cases.inclusions.get(call.principal, id, channel=CHANNEL))

    def _versions(self, call: Call, id: str) -> list[dict[str, Any]]:
        current = call.cases.inclusions.get(call.principal, id, channel=CHANNEL)
        return [self._version_to_fhir(call, v, current) for v in call.cases.inclusions.history(call.principal, id, channel=CHANNEL)]

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        for resource in self._versions(call, id):
            if resource["meta"]["versionId"] == vid:
                return resource
        raise FhirError.simple(404, "not-found", f"EpisodeOfCare/{id} has no version {vid}.", error_code="unknown-version")

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        versions = self._versions(call, id)
        return [(r, "POST" if r["meta"]["versionId"] == "1" else "PUT", r["meta"]["lastUpdated"]) for r in reversed(versions)]

    def history_type(self, call: Call, params: list[tuple[str, str]]) -> list[tuple[dict[str, Any], str, str]]:
        """Every version of the inclusions the caller may see (a named patient's,
        or a coordinator's PSI), newest first, bounded by ``_count`` inclusions."""
        from gateway.fhir.search import parse_count

        patient = values_of(params, "patient-identifier")
        count = parse_count(dict(params).get("_count"), call.cases.settings.default_page_size, call.cases.settings.max_page_size)
        since = instant_predicate("_since", ["ge" + v for v in values_of(params, "_since")])
        page = call.cases.inclusions.search(call.principal, InclusionQuery(
            patient_niss=ssin("patient-identifier", patient[0]) if patient else None, page_size=count), channel=CHANNEL)
        versions = []
        for view in page.items:
            for v in call.cases.inclusions.history(call.principal, view.id, channel=CHANNEL):
                if since is None or since(v.at):
                    resource = self._version_to_fhir(call, v, view)
                    versions.append((resource, "POST" if v.version == 1 else "PUT", resource["meta"]["lastUpdated"]))
        return sorted(versions, key=lambda item: item[2], reverse=True)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        values = mapping("inclusion").from_fhir(resource)
        view = call.cases.inclusions.declare(call.principal, DeclareInclusion(
            patient_niss=values["patient_niss"], psi_nihii=values["psi_nihii"], status=values["status"],
            start_date=values["start_date"], end_date=values["end_date"],
            consent_decision=values["consent_decision"], consent_date=values["consent_date"],
        ), channel=CHANNEL)
        return Written(self.to_fhir(call, view), True)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        wanted = mapping("inclusion").from_fhir(resource)
        view = call.cases.inclusions.replace(
            call.principal, id, status=wanted["status"], start_date=wanted["start_date"], end_date=wanted["end_date"],
            patient_niss=wanted["patient_niss"], psi_nihii=wanted["psi_nihii"],
            consent_decision=wanted["consent_decision"] if wanted["consent_decision"] is not None else UNSET,
            consent_date=wanted["consent_date"] if wanted["consent_date"] is not None else UNSET,
            expected_version=if_match, channel=CHANNEL,
        )
        return Written(self.to_fhir(call, view), False)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        patient = values_of(params, "patient-identifier")
        psi = values_of(params, "psi")
        kind = values_of(params, "type")
        statuses = set(values_of(params, "status"))
        period = period_predicate("date", values_of(params, "date"))
        today = call.cases.clock.today()

        def keep(start: date, end: date | None) -> bool:
            if statuses and fhir_status(start, end, today) not in statuses:
                return False
            return period is None or period(start, end)

        query = InclusionQuery(
            patient_niss=ssin("patient-identifier", patient[0]) if patient else None,
            psi_nihii=nihii("psi", psi[0]) if psi else None,
            status=kind[0].split("|")[-1] if kind else None,
            period=keep if (statuses or period) else None,
            updated=instant_predicate("_lastUpdated", values_of(params, "_lastUpdated")),
            page_size=count, cursor=cursor,
        )
        page = call.cases.inclusions.search(call.principal, query, channel=CHANNEL)
        included: list[dict[str, Any]] = []
        if values_of(params, "_revinclude"):  # Provenance:target, checked by check_includes
            from gateway.fhir.resources.audit import provenance

            for view in page.items:
                included += [provenance(v) for v in call.cases.inclusions.history(call.principal, view.id, channel=CHANNEL)]
        outcome = None
        if page.principal_elsewhere:
            outcome = {"resourceType": "OperationOutcome", "issue": [{
                "severity": "information", "code": "informational",
                "details": {"coding": [{"system": "https://care-gateway.be/fhir/CodeSystem/error-code", "code": "principal-elsewhere"},
                                       {"system": "https://care-gateway.be/fhir/CodeSystem/rule", "code": "IC-A3"}],
                            "text": "The patient has a principal inclusion in another integrated-care project (which one is not disclosed)."},
            }]}
        return SearchResult([self.to_fhir(call, v) for v in page.items], page.next_cursor, included, outcome=outcome)


def _tidy(resource: dict[str, Any]) -> dict[str, Any]:
    """Order the keys as FHIR JSON usually shows them (resourceType, id, meta first)."""
    first = ("resourceType", "id", "meta", "extension", "identifier", "status", "type")
    return {**{k: resource[k] for k in first if k in resource}, **{k: v for k, v in resource.items() if k not in first}}
