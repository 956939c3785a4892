"""EpisodeOfCare <-> return-to-work dossier (profile be-cg-rtw-dossier).

A dossier is an episode of the insured person's care that several partners
share, which is what an implementer expects an EpisodeOfCare to be; it is
told from an integrated-care inclusion (the same resource type) by its
type ``rtw-episode-type#rtw-dossier`` and its id ``rtw-<dossier id>``.
:class:`EpisodeOfCareDispatch` sends each interaction to the handler of its
kind of episode, as :class:`~gateway.fhir.resources.rights.TaskDispatch`
does for Task; each kind is validated against its own profile.

- An insurer or a prevention service opens a dossier with a POST (the open
  one is returned if there is one); its partners close it with a PUT whose
  status is ``finished``.
- Search by person (``patient-identifier``), by partner (``partner``, the
  CBE that opened it), by status (``active`` | ``finished``), with
  ``type=https://care-gateway.be/fhir/CodeSystem/rtw-episode-type|rtw-dossier``.
- The partners the sources name are looked up at read time (RP-A7) and
  shown as a contained CareTeam; the name comes from the national register.
"""

from __future__ import annotations

from typing import Any

from gateway.domain.identifiers import CBE_SYSTEM
from gateway.domain.rtw.dossiers import DossierQuery
from gateway.domain.rtw.views import DossierView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import cbe, instant, ssin, values_of
from gateway.fhir.resources.fhirpaths import ElementPaths
from gateway.fhir.search import parse_token
from gateway.mapping.conceptmaps import conceptmap
from gateway.mapping.mapping import mapping

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-rtw-dossier"
TYPE_SYSTEM = "https://care-gateway.be/fhir/CodeSystem/rtw-episode-type"
TYPE_CODE = "rtw-dossier"
PARTNER_ROLE = "https://care-gateway.be/fhir/CodeSystem/rtw-partner-role"
PREFIX = "rtw-"
SP = "https://care-gateway.be/fhir/SearchParameter"


def is_dossier(resource: dict[str, Any]) -> bool:
    """Whether a written EpisodeOfCare is a return-to-work dossier (by profile or type)."""
    if PROFILE in (resource.get("meta") or {}).get("profile", []):
        return True
    return any(c.get("system") == TYPE_SYSTEM for t in resource.get("type", []) for c in t.get("coding", []))


def dossier_id(id: str) -> str:
    if not id.startswith(PREFIX):
        raise FhirError.simple(404, "not-found", "A return-to-work dossier's id is rtw-<id>.", error_code="unknown-dossier",
                               expression="EpisodeOfCare.id")
    return id[len(PREFIX):]


def _participant(role: str, cbe_value: str, name: str, start: Any = None, end: Any = None) -> dict[str, Any]:
    item: dict[str, Any] = {"role": [{"coding": [{"system": PARTNER_ROLE, "code": role}]}],
                            "member": {"identifier": {"system": CBE_SYSTEM, "value": cbe_value}, "display": name}}
    if start is not None:
        item["period"] = {"start": start.isoformat(), **({"end": end.isoformat()} if end is not None else {})}
    return item


def partners(view: DossierView) -> dict[str, Any] | None:
    """The partners the sources name, as a contained CareTeam (never stored)."""
    members = []
    if view.insurer is not None:
        members.append(_participant("insurer", view.insurer.cbe, view.insurer.name))
    members += [_participant("employer", e.employer_cbe, e.employer_name, e.start, e.end) for e in view.employers]
    members += [_participant("prevention-service", s.cbe, s.name) for s in view.prevention_services]
    members += [_participant("regional-service", r.cbe, r.name, r.registered_on) for r in view.registrations]
    if not members:
        return None
    return {"resourceType": "CareTeam", "id": "partners", "status": "active", "name": "Return-to-work partners",
            "participant": members}


def dossier_to_fhir(view: DossierView) -> dict[str, Any]:
    name = " ".join(n for n in (view.first_name, view.last_name) if n) or None
    resource = mapping("rtw_dossier").to_fhir({
        "id": PREFIX + view.id, "version": str(view.version), "insured_niss": view.insured_niss, "status": view.status,
        "opened_by_cbe": view.opened_by_cbe or None, "created_at": instant(view.created_at),
        "updated_at": instant(view.updated_at), "person_name": name, "trio_dossier": view.trio_dossier,
    })
    team = partners(view)
    if team is not None:
        resource["contained"] = [team]
        resource["team"] = [{"reference": "#partners"}]
    first = ("resourceType", "id", "meta", "contained", "extension", "status", "type")
    return {**{k: resource[k] for k in first if k in resource}, **{k: v for k, v in resource.items() if k not in first}}


class RtwDossierHandler(ResourceHandler):
    resource_type = "EpisodeOfCare"
    profile = PROFILE
    interactions = ("read", "vread", "create", "update", "search-type")
    documentation = ("A return-to-work dossier (type rtw-episode-type#rtw-dossier, id rtw-<id>): opened by the insured "
                     "person's insurer or a prevention service of their employer (POST), closed by a PUT with status "
                     "finished; searched with type=https://care-gateway.be/fhir/CodeSystem/rtw-episode-type|rtw-dossier "
                     "by patient-identifier, partner (CBE) and status (RP-A1..RP-A5).")
    search_params = (
        SearchParam("patient-identifier", "token", "The insured person's NISS", f"{SP}/patient-identifier"),
        SearchParam("partner", "token", "The partner organisation that opened the dossier: "
                    f"{CBE_SYSTEM}|CBE", f"{SP}/EpisodeOfCare-partner"),
        SearchParam("type", "token", f"{TYPE_SYSTEM}|{TYPE_CODE} for dossiers"),
        SearchParam("status", "token", "active (open) | finished (closed)"),
    )
    paths = {
        "insured.niss": "EpisodeOfCare.patient.identifier",
        "trio": "EpisodeOfCare",
        "_count": "_count",
        "id": "EpisodeOfCare.id",
    }

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return dossier_to_fhir(call.cases.return_to_work.dossiers.read(call.principal, dossier_id(id), channel=CHANNEL))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        resource = self.read(call, id)
        if resource["meta"]["versionId"] != vid:
            raise FhirError.simple(404, "not-found", f"EpisodeOfCare/{id} is at version {resource['meta']['versionId']}; only "
                                   "the current version of a dossier is kept.", error_code="unknown-version",
                                   expression="EpisodeOfCare.meta.versionId")
        return resource

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        if resource.get("status") != "active":
            raise FhirError.simple(422, "business-rule", "A dossier is opened with status active.", expression="EpisodeOfCare.status",
                                   error_code="invalid-initial-status", rule="RP-A1")
        values = mapping("rtw_dossier").from_fhir(resource, only={"insured_niss"})
        view, created = call.cases.return_to_work.dossiers.open(call.principal, values["insured_niss"], channel=CHANNEL)
        return Written(dossier_to_fhir(view), created)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        """Only the status changes, and only to finished (closing is idempotent, so
        there is no lost update to guard against with If-Match). One act: the
        close, or the read that shows an open dossier unchanged."""
        rtw = call.cases.return_to_work.dossiers
        wanted = resource.get("status")
        if wanted == "finished":
            return Written(dossier_to_fhir(rtw.close(call.principal, dossier_id(id), channel=CHANNEL)), False)
        if wanted == "active":
            current = rtw.read(call.principal, dossier_id(id), channel=CHANNEL)
            if current.status == "open":
                return Written(dossier_to_fhir(current), False)
        raise FhirError.simple(422, "business-rule", "Only the status of a dossier changes, from active to finished (closed); "
                               "a closed dossier stays closed: open a new one.", expression="EpisodeOfCare.status",
                               error_code="invalid-status-change", rule="RP-A1")

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        patient = values_of(params, "patient-identifier")
        partner = values_of(params, "partner")
        statuses = values_of(params, "status")
        if len(patient) > 1 or len(partner) > 1 or len(statuses) > 1:
            raise FhirError.simple(400, "invalid", "Give patient-identifier, partner and status at most once each.",
                                   expression="EpisodeOfCare", error_code="one-value-only")
        status = None
        if statuses:
            status = conceptmap("rtw-dossier-status").to_domain(parse_token(statuses[0]).code)
            if status is None:
                raise FhirError.simple(400, "invalid", "status is active (open) or finished (closed).", expression="status",
                                       error_code="invalid-status")
        query = DossierQuery(insured_niss=ssin("patient-identifier", patient[0]) if patient else None,
                             partner_cbe=cbe("partner", partner[0]) if partner else None,
                             status=status, page_size=count, cursor=cursor)
        page = call.cases.return_to_work.dossiers.search(call.principal, query, channel=CHANNEL)
        return SearchResult([dossier_to_fhir(v) for v in page.items], page.next_cursor)


def _searches_dossiers(params: list[tuple[str, str]]) -> bool:
    types = [parse_token(part) for raw in values_of(params, "type") for part in raw.split(",")]
    return any(t.system == TYPE_SYSTEM or t.code == TYPE_CODE for t in types) or bool(values_of(params, "partner"))


class EpisodeOfCareDispatch(ResourceHandler):
    """The EpisodeOfCare type, shared by integrated-care inclusions and
    return-to-work dossiers: each interaction goes to the handler of its kind
    (by the ``rtw-`` id prefix, by the written resource's profile or type, by
    the searched type or partner)."""

    resource_type = "EpisodeOfCare"

    def __init__(self, inclusion: ResourceHandler, dossier: RtwDossierHandler) -> None:
        self.inclusion, self.dossier = inclusion, dossier
        self.profile = inclusion.profile
        self.supported_profiles = tuple(p for p in (inclusion.profile, dossier.profile) if p)
        self.interactions = tuple(dict.fromkeys(inclusion.interactions + dossier.interactions))
        names = {p.name for p in inclusion.search_params}
        self.search_params = inclusion.search_params + tuple(p for p in dossier.search_params if p.name not in names)
        self.conditional_create = inclusion.conditional_create
        self.includes, self.rev_includes = inclusion.includes, inclusion.rev_includes
        self.documentation = f"{inclusion.documentation} {dossier.documentation}"
        self.paths = ElementPaths("EpisodeOfCare", {**dossier.paths, **inclusion.paths})

    def _by_id(self, id: str) -> ResourceHandler:
        return self.dossier if id.startswith(PREFIX) else self.inclusion

    def profile_for(self, resource: dict[str, Any]) -> str | None:
        """The profile a written EpisodeOfCare is validated against."""
        return (self.dossier if is_dossier(resource) else self.inclusion).profile

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return self._by_id(id).read(call, id)

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return self._by_id(id).vread(call, id, vid)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        return (self.dossier if is_dossier(resource) else self.inclusion).create(call, resource)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        return self._by_id(id).update(call, id, resource, if_match)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        if _searches_dossiers(params):
            return self.dossier.search(call, params, count, cursor)
        return self.inclusion.search(call, params, count, cursor)

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        return self._by_id(id).history_instance(call, id)

    def history_type(self, call: Call, params: list[tuple[str, str]]) -> list[tuple[dict[str, Any], str, str]]:
        return self.inclusion.history_type(call, params)

    def find_existing(self, call: Call, criteria: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return self.search(call, criteria, 2, None).matches


__all__ = ["EpisodeOfCareDispatch", "PROFILE", "RtwDossierHandler", "dossier_to_fhir", "is_dossier"]
