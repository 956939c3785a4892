"""CareTeam <-> care team (profile be-cg-care-team).

Create and update (a whole replacement, If-Match for the version) call the
care-team use cases, which decide the kind's rules (CT-1..CT-3) and who may
manage the team; read and search show what CT-5 lets the caller see. A
member is named by one identifier; its kind comes from ``member.type``, else
from the reference or the identifier system (NISS: the patient, NIHII: a
practitioner, ``nihdi-organization``: an organisation)."""

from __future__ import annotations

import copy
from typing import Any

from gateway.domain.care_teams import CareTeamSpec, MemberSpec
from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.domain.views import CareTeamView, MemberView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import instant
from gateway.fhir.resources.fhirpaths import ElementPaths
from gateway.fhir.resources.incoming import concept_text, reference_identifier, reference_type
from gateway.fhir.resources.listing import PATIENT_IDENTIFIER, page, patient_niss, token_codes
from gateway.mapping.conceptmaps import conceptmap
from gateway.mapping.mapping import mapping

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-care-team"
KIND_SYSTEM = "https://care-gateway.be/fhir/CodeSystem/care-team-kind"
STATUS_SYSTEM = "http://hl7.org/fhir/care-team-status"
CORE_SP = "http://hl7.org/fhir/SearchParameter"
NAMED_BY_NIHII = ("practitioner", "organisation", "practitioner-role", "care-team")
_TYPE_BY_SYSTEM = {SSIN_SYSTEM: "Patient", NIHDI_SYSTEM: "Practitioner", NIHDI_SYSTEM + "-professional": "Practitioner",
                   NIHDI_SYSTEM + "-organization": "Organization"}


class CareTeamHandler(ResourceHandler):
    resource_type = "CareTeam"
    profile = PROFILE
    interactions = ("read", "vread", "history-instance", "create", "update", "search-type")
    documentation = (
        "A care team (CT-1 individual provider, CT-2 clinical group, CT-3 administrative group, in category). "
        "Members are named by identifier (NIHII for professionals and organisations, NISS for the patient and relatives) "
        "with member.type; onBehalfOf is not kept. Update replaces the team (send If-Match); the patient cannot change. "
        "Membership gives no access to inclusions (CT-4); members see the team, others need a care relationship with "
        "its patient (CT-5). Every version is kept: vread and _history answer any of them, to whoever may see the team now. "
        "Search needs patient-identifier, except for a patient, who searches their own teams; administrative groups "
        "without a patient are read by id."
    )
    search_params = (
        SearchParam("patient-identifier", "token", "The patient's NISS (system|NISS); required unless the caller is the patient",
                    PATIENT_IDENTIFIER),
        SearchParam("status", "token", "proposed | active | suspended | inactive | entered-in-error", f"{CORE_SP}/CareTeam-status"),
        SearchParam("category", "token", "individual | clinical-group | administrative-group (CodeSystem care-team-kind)",
                    f"{CORE_SP}/CareTeam-category"),
    )
    paths = ElementPaths("CareTeam", {
        "category": "CareTeam.category",
        "subject": "CareTeam.subject.identifier",
        "patient": "patient-identifier",
        "version": "CareTeam.meta.versionId",
        "id": "CareTeam.id",
    })

    # ---------------------------------------------------------------- views
    def to_fhir(self, view: CareTeamView) -> dict[str, Any]:
        resource = mapping("care_team").to_fhir({
            "id": view.id, "gateway_id": view.id, "kind": view.kind, "status": view.status, "name": view.name,
            "patient_niss": view.patient_niss, "managing_organisation": view.managing_organisation,
            "period_start": view.period_start, "period_end": view.period_end,
            "version": str(view.version), "updated_at": instant(view.updated_at),
        })
        resource["participant"] = [_participant(m) for m in view.members]
        return _tidy(resource)

    def spec_of(self, resource: dict[str, Any]) -> CareTeamSpec:
        values = mapping("care_team").from_fhir(resource)
        return CareTeamSpec(
            kind=values["kind"], status=values["status"], patient_niss=values["patient_niss"], name=values["name"],
            managing_organisation=values["managing_organisation"], period_start=values["period_start"],
            period_end=values["period_end"],
            members=tuple(_member(p, i) for i, p in enumerate(resource.get("participant") or [])),
        )

    # --------------------------------------------------------- interactions
    def read(self, call: Call, id: str) -> dict[str, Any]:
        return self.to_fhir(call.cases.care_teams.get(call.principal, id, channel=CHANNEL))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        if not (vid.isascii() and vid.isdigit()) or not 0 < len(vid) < 10:
            raise FhirError.simple(404, "not-found", f"CareTeam/{id} has no version {vid!r}.", error_code="unknown-version",
                                   expression="CareTeam.meta.versionId")
        return self.to_fhir(call.cases.care_teams.versions(call.principal, id, int(vid), channel=CHANNEL)[0])

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        resources = [self.to_fhir(v) for v in call.cases.care_teams.versions(call.principal, id, channel=CHANNEL)]
        return [(r, "POST" if r["meta"]["versionId"] == "1" else "PUT", r["meta"]["lastUpdated"]) for r in reversed(resources)]

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        view = call.cases.care_teams.create(call.principal, self.spec_of(resource), channel=CHANNEL)
        return Written(self.to_fhir(view), True)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        view = call.cases.care_teams.update(call.principal, id, self.spec_of(resource), expected_version=if_match, channel=CHANNEL)
        return Written(self.to_fhir(view), False)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        niss = patient_niss(call, params, "care teams")
        statuses = token_codes(params, "status", STATUS_SYSTEM)
        kinds = token_codes(params, "category", KIND_SYSTEM)
        kind_map = conceptmap("care-team-kind")
        views = [v for v in call.cases.care_teams.for_patient(call.principal, niss, channel=CHANNEL)
                 if (statuses is None or v.status in statuses) and (kinds is None or kind_map.to_wire(v.kind) in kinds)]
        return page([self.to_fhir(v) for v in views], count, cursor)


def _participant(member: MemberView) -> dict[str, Any]:
    by_nihii = member.kind in NAMED_BY_NIHII and member.nihii
    return mapping("care_team_member").to_fhir({
        "kind": member.kind, "nihii": member.nihii if by_nihii else None, "niss": None if by_nihii else member.niss,
        "role": member.role, "period_start": member.period_start, "period_end": member.period_end,
    })


def _member(participant: dict[str, Any], index: int) -> MemberSpec:
    """One participant as a member: its kind inferred where not given, NIHII systems made one."""
    participant = copy.deepcopy(participant)
    member = participant.setdefault("member", {})
    if not member.get("type"):
        inferred = reference_type(member) or _TYPE_BY_SYSTEM.get((member.get("identifier") or {}).get("system", ""))
        if inferred:
            member["type"] = inferred
    reference_identifier(member)
    for role in participant.get("role") or []:
        concept_text(role)
    values = mapping("care_team_member").from_fhir(participant, at=f"CareTeam.participant[{index}]")
    if not (values["niss"] or values["nihii"]):
        raise FhirError.simple(422, "required", "Name each member by identifier: NIHII (system .../NamingSystem/nihdi) for a "
                               "professional or organisation, NISS (system .../NamingSystem/ssin) for the patient or a relative.",
                               expression=f"CareTeam.participant[{index}].member.identifier", error_code="member-without-identifier",
                               rule="CT-5")
    return MemberSpec(kind=values["kind"], niss=values["niss"], nihii=values["nihii"], role=values["role"],
                      period_start=values["period_start"], period_end=values["period_end"])


def _tidy(resource: dict[str, Any]) -> dict[str, Any]:
    """FHIR JSON's usual key order (resourceType, id, meta first), for people reading it."""
    first = ("resourceType", "id", "meta", "identifier", "status", "category", "name", "subject", "period", "participant")
    return {**{k: resource[k] for k in first if k in resource}, **{k: v for k, v in resource.items() if k not in first}}
