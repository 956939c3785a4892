"""ServiceRequest and Task <-> referral (profiles be-cg-referral and
be-cg-referral-task).

One referral, two views. The ServiceRequest is the requester's: create
makes a referral with the caller as requester (RF-1); an update changes its
status only (revoked, or draft to active, by the requester). The Task is the
performer's: its id is ``task-<referral id>``, and a create or update of its
status moves the referral (accepted, completed by the performer). Which
party may take which step is the domain's ``TRANSITIONS``; who sees a
referral is RF-4, for both views."""

from __future__ import annotations

import copy
from typing import Any

from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.domain.professions import PROFESSIONS
from gateway.domain.referrals import PerformerSpec, ReferralSpec
from gateway.domain.views import ReferralView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import instant, values_of
from gateway.fhir.resources.fhirpaths import ElementPaths
from gateway.fhir.resources.incoming import concept_text, reference_identifier
from gateway.fhir.resources.listing import PATIENT_IDENTIFIER, page, patient_niss, token_codes
from gateway.mapping.conceptmaps import conceptmap
from gateway.mapping.mapping import mapping

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-referral"
TASK_PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-referral-task"
PROGRAMME_SYSTEM = "https://care-gateway.be/fhir/CodeSystem/referral-programme"
REQUEST_STATUS = "http://hl7.org/fhir/request-status"
TASK_STATUS = "http://hl7.org/fhir/task-status"
CORE_SP = "http://hl7.org/fhir/SearchParameter"
TASK_PREFIX = "task-"
SR_STATUS, TASK_STATUS_MAP = "referral-status-service-request", "referral-status-task"

# the referral's items a ServiceRequest update may not change, and where they are
FIXED = {
    "patient_niss": "ServiceRequest.subject", "programme": "ServiceRequest.category", "category": "ServiceRequest.category",
    "service_requested": "ServiceRequest.code", "reason": "ServiceRequest.reasonCode",
    "valid_from": "ServiceRequest.occurrencePeriod.start", "valid_until": "ServiceRequest.occurrencePeriod.end",
    "performer_role": "ServiceRequest.performerType", "performers": "ServiceRequest.performer",
}
_READ = {"status", *FIXED} - {"performers"}


# ------------------------------------------------------------------ views


def service_request(view: ReferralView) -> dict[str, Any]:
    requester = view.party("requester")[0]
    performers = view.party("performer")
    profession = PROFESSIONS.get(requester.party_role or "")
    resource = mapping("referral").to_fhir({
        "id": view.id, "gateway_id": view.id, "status": view.status, "programme": view.programme,
        "category": view.category or None, "service_requested": view.service_requested, "reason": view.reason,
        "patient_niss": view.patient_niss, "valid_from": view.valid_from, "valid_until": view.valid_until,
        "performer_role": next((p.party_role for p in performers if p.party_role), None),
        "requester_nihii": requester.nihii, "requester_niss": None if requester.nihii else requester.niss,
        "requester_hcparty": profession.hcparty if profession else None,
        "created_at": instant(view.created_at), "version": str(view.version), "updated_at": instant(view.updated_at),
    })
    if performers:
        resource["performer"] = [mapping("referral_performer").to_fhir({"nihii": p.nihii, "cbe": None if p.nihii else p.cbe})
                                 for p in performers]
    resource["contained"] = [_first(c, ("resourceType", "id", "meta")) for c in resource["contained"]]
    return _first(resource, ("resourceType", "id", "meta", "contained", "identifier", "status", "intent", "category", "code",
                             "subject", "occurrencePeriod", "authoredOn", "requester", "performerType", "performer"))


def task(view: ReferralView) -> dict[str, Any]:
    requester = view.party("requester")[0]
    performer = next(iter(view.party("performer")), None)
    resource = mapping("referral_task").to_fhir({
        "id": TASK_PREFIX + view.id, "status": view.status, "referral": f"ServiceRequest/{view.id}",
        "patient_niss": view.patient_niss, "requester_nihii": requester.nihii,
        "owner_nihii": performer.nihii if performer else None,
        "owner_cbe": performer.cbe if performer and not performer.nihii else None,
        "valid_from": view.valid_from, "valid_until": view.valid_until, "created_at": instant(view.created_at),
        "updated_at": instant(view.updated_at), "version": str(view.version), "last_updated": instant(view.updated_at),
    })
    return _first(resource, ("resourceType", "id", "meta", "status", "intent", "code", "focus", "for", "authoredOn", "lastModified"))


def _first(resource: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """FHIR JSON's usual key order, for people reading it."""
    return {**{k: resource[k] for k in keys if k in resource}, **{k: v for k, v in resource.items() if k not in keys}}


# ---------------------------------------------------------------- incoming


def _normalised(resource: dict[str, Any]) -> dict[str, Any]:
    """A copy in the one form the mapping reads: the programme category
    first, concepts with text, NIHII identifiers under ``nihdi``."""
    incoming = copy.deepcopy(resource)
    categories = incoming.get("category") or []
    categories.sort(key=lambda c: not any(x.get("system") == PROGRAMME_SYSTEM for x in c.get("coding", [])))
    for concept in [*categories[1:], incoming.get("code"), *(incoming.get("reasonCode") or []), incoming.get("performerType")]:
        concept_text(concept)
    for ref in [incoming.get("requester"), *(incoming.get("performer") or [])]:
        reference_identifier(ref)
    for contained in incoming.get("contained") or []:
        reference_identifier(contained.get("practitioner"))
    return incoming


def _performers(incoming: dict[str, Any], role: str | None) -> list[PerformerSpec]:
    out = []
    for i, ref in enumerate(incoming.get("performer") or []):
        values = mapping("referral_performer").from_fhir(ref, at=f"ServiceRequest.performer[{i}]")
        out.append(PerformerSpec(nihii=values["nihii"], cbe=values["cbe"], party_role=role))
    return out


def _named_requester(incoming: dict[str, Any]) -> dict[str, Any] | None:
    """The identifier the body gives its requester: on the reference, or on a contained PractitionerRole's practitioner."""
    requester = incoming.get("requester") or {}
    if isinstance(requester.get("identifier"), dict):
        return requester["identifier"]
    ref = str(requester.get("reference") or "")
    if ref.startswith("#"):
        for contained in incoming.get("contained") or []:
            if contained.get("id") == ref[1:] and contained.get("resourceType") == "PractitionerRole":
                ident = (contained.get("practitioner") or {}).get("identifier")
                return ident if isinstance(ident, dict) else None
    return None


def _check_requester(incoming: dict[str, Any], nihii: str | None, niss: str, *, code: str, message: str) -> None:
    """RF-1: the requester is whoever made the referral; a body naming someone else is refused."""
    named = _named_requester(incoming)
    if named is None or (named.get("system"), named.get("value")) in {(NIHDI_SYSTEM, nihii), (SSIN_SYSTEM, niss)}:
        return
    raise FhirError.simple(422, "business-rule", message, expression="ServiceRequest.requester", error_code=code, rule="RF-1")


def _referral_id(reference: str) -> str:
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[:parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == "ServiceRequest" and parts[-1]:
        return parts[-1]
    raise FhirError.simple(422, "invalid", f"Task.focus must be a reference ServiceRequest/<id> to a referral, not {reference!r}.",
                           expression="Task.focus", error_code="invalid-focus", rule="RF-1")


def _unchanged(current: dict[str, Any], if_match: int | None) -> Written:
    """A write that moves nothing still honours If-Match (412 on an outdated version)."""
    version, kind = int(current["meta"]["versionId"]), current["resourceType"]
    if if_match is not None and if_match != version:
        raise FhirError.simple(412, "conflict", f"{kind}/{current['id']} is at version {version}, not {if_match}.",
                               error_code="version-conflict", expression=f"{kind}.meta.versionId")
    return Written(current, False)


def _fixed_items(view: ReferralView) -> dict[str, Any]:
    """The stored items an update must repeat, as the mapping reads them."""
    return {
        "patient_niss": view.patient_niss, "programme": view.programme, "category": view.category or None,
        "service_requested": view.service_requested, "reason": view.reason, "valid_from": view.valid_from,
        "valid_until": view.valid_until, "performer_role": next((p.party_role for p in view.party("performer") if p.party_role), None),
        "performers": [(p.nihii, None if p.nihii else p.cbe) for p in view.party("performer")],
    }


# ------------------------------------------------------------------ handlers


class ServiceRequestHandler(ResourceHandler):
    resource_type = "ServiceRequest"
    profile = PROFILE
    interactions = ("read", "vread", "create", "update", "search-type")
    documentation = (
        "A referral (RF-1): only a care provider makes one, and is its requester (shown as a contained PractitionerRole; "
        "a body naming another requester is refused). The programme is category:programme, the referral type a second "
        "category's text, the discipline or service code.text, the validity occurrencePeriod, the performers' role "
        "performerType.text; authoredOn is set by the server. Update changes status only (revoked, or draft to active, "
        "by the requester; other items cannot change); a performer accepts or completes through the Task. Accepted "
        "shows as active here. Only the requester, the named performers and those with a care relationship with the "
        "patient see it (RF-4). Only the current version is kept: vread answers the current versionId only. "
        "Search needs patient-identifier, except for a patient, who searches their own referrals."
    )
    search_params = (
        SearchParam("patient-identifier", "token", "The patient's NISS (system|NISS); required unless the caller is the patient",
                    PATIENT_IDENTIFIER),
        SearchParam("status", "token", "draft | active | completed | revoked", f"{CORE_SP}/ServiceRequest-status"),
    )
    paths = ElementPaths("ServiceRequest", {
        "subject": "ServiceRequest.subject.identifier",
        "patient": "patient-identifier",
        "category": "ServiceRequest.category",
        "version": "ServiceRequest.meta.versionId",
        "id": "ServiceRequest.id",
    })

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return service_request(call.cases.referrals.get(call.principal, id, channel=CHANNEL))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return _current_version(self.read(call, id), vid)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        incoming = _normalised(resource)
        values = mapping("referral").from_fhir(incoming, only=_READ)
        _check_requester(incoming, call.principal.nihii, call.principal.niss, code="requester-not-caller",
                         message="The requester is the professional making the referral: name yourself (your NIHII) as "
                                 "requester, or leave the identifier out.")
        spec = ReferralSpec(
            patient_niss=values["patient_niss"], category=values["category"] or "", service_requested=values["service_requested"],
            programme=values["programme"], reason=values["reason"], valid_from=values["valid_from"],
            valid_until=values["valid_until"], status=values["status"],
            performers=tuple(_performers(incoming, values["performer_role"])),
        )
        return Written(service_request(call.cases.referrals.create(call.principal, spec, channel=CHANNEL)), True)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        """One act (as the SOAP face's ChangeReferralStatus): the domain reads
        the referral, this check refuses any change but the status, and a
        request for the status it already shows changes nothing."""
        incoming = _normalised(resource)
        wanted = mapping("referral").from_fhir(incoming, only=_READ)
        wanted["performers"] = [(p.nihii, p.cbe) for p in _performers(incoming, None)]

        def only_the_status(view: ReferralView) -> None:
            requester = view.party("requester")[0]
            named = _named_requester(incoming)
            if named is not None and (named.get("system"), named.get("value")) not in {
                    (NIHDI_SYSTEM, requester.nihii), (SSIN_SYSTEM, requester.niss or "")}:
                raise InvalidInput("immutable-element", "The requester of a referral cannot change; send it back as you read it.",
                                   rule="RF-1", path="requester")
            stored = _fixed_items(view)
            for name, element in FIXED.items():
                if stored[name] != wanted[name]:
                    raise InvalidInput("immutable-element", f"Only the status of a referral changes ({element} differs from the "
                                       "stored referral); to ask for something else, revoke it and make a new referral.",
                                       rule="RF-1", path=element.split(".", 1)[1])

        def target(view: ReferralView) -> str:
            same = incoming.get("status") == conceptmap(SR_STATUS).to_wire(view.status)
            return view.status if same else wanted["status"]

        moved = call.cases.referrals.transition(call.principal, id, target, expected_version=if_match, check=only_the_status,
                                             same_is_noop=True, channel=CHANNEL)
        return Written(service_request(moved), False)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        niss = patient_niss(call, params, "referrals")
        statuses = token_codes(params, "status", REQUEST_STATUS)
        to_wire = conceptmap(SR_STATUS).to_wire
        views = [v for v in call.cases.referrals.for_patient(call.principal, niss, channel=CHANNEL)
                 if statuses is None or to_wire(v.status) in statuses]
        return page([service_request(v) for v in views], count, cursor)


class TaskHandler(ResourceHandler):
    resource_type = "Task"
    profile = TASK_PROFILE
    interactions = ("read", "vread", "create", "update", "search-type")
    documentation = (
        "A referral at its performer (RF-1): one Task per referral, id task-<referral id>, focus the ServiceRequest, "
        "owner the (first) performer, restriction.period the validity. Create (POST) or update (PUT, If-Match) with a "
        "new status moves the referral: accepted and completed by a named performer, cancelled (revoked) by the "
        "requester; 201 when a POST moved it, 200 when it was already in that status. rejected, in-progress and "
        "businessStatus (RF-2 steps) are not kept yet. Who sees it is RF-4. Only the current version is kept: vread "
        "answers the current versionId only. Search by focus, or by patient-identifier (a patient: their own)."
    )
    search_params = (
        SearchParam("focus", "reference", "The referral: ServiceRequest/<id>", f"{CORE_SP}/Task-focus"),
        SearchParam("patient-identifier", "token", "The patient's NISS (system|NISS); required unless focus is given or the "
                    "caller is the patient", PATIENT_IDENTIFIER),
        SearchParam("status", "token", "draft | requested | accepted | completed | cancelled", f"{CORE_SP}/Task-status"),
    )
    paths = ElementPaths("Task", {
        "status": "Task.status",
        "occurrencePeriod.end": "Task.restriction.period.end",
        "subject": "Task.for.identifier",
        "patient": "patient-identifier",
        "version": "Task.meta.versionId",
        "id": "Task.focus",
    })

    def _referral(self, call: Call, id: str) -> ReferralView:
        if not id.startswith(TASK_PREFIX):
            raise FhirError.simple(404, "not-found", f"No Task {id}: a referral's Task is task-<referral id>.",
                                   error_code="unknown-task", expression="Task.id")
        return call.cases.referrals.get(call.principal, id[len(TASK_PREFIX):], channel=CHANNEL)

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return task(self._referral(call, id))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return _current_version(self.read(call, id), vid)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        return self._move(call, resource, None, None)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        if not id.startswith(TASK_PREFIX):
            raise FhirError.simple(404, "not-found", f"No Task {id}: a referral's Task is task-<referral id>.",
                                   error_code="unknown-task", expression="Task.id")
        return self._move(call, resource, id[len(TASK_PREFIX):], if_match)

    def _move(self, call: Call, resource: dict[str, Any], task_of: str | None, if_match: int | None) -> Written:
        """Take the referral to the Task's status as the caller asks, in one act
        (the domain decides whether they may). ``task_of`` is None for a create,
        whose focus names the referral; a create that moves it answers 201."""
        creating = task_of is None
        incoming = copy.deepcopy(resource)
        reference_identifier(incoming.get("owner"))
        values = mapping("referral_task").from_fhir(incoming, only={"status", "referral", "owner_nihii", "owner_cbe"})
        referral_id = _referral_id(values["referral"])
        if task_of is not None and referral_id != task_of:
            raise FhirError.simple(422, "business-rule", f"Task/{TASK_PREFIX}{task_of} is the task of ServiceRequest/{task_of}; "
                                   "its focus cannot change.", expression="Task.focus", error_code="focus-mismatch", rule="RF-1")
        owner = values["owner_nihii"] or values["owner_cbe"]
        before: dict[str, str] = {}

        def owner_is_a_performer(view: ReferralView) -> None:
            before["status"] = view.status
            if owner and owner not in {x for p in view.party("performer") for x in (p.nihii, p.cbe) if x}:
                raise InvalidInput("owner-not-a-performer", f"The owner {owner} is not a performer named on the referral; the owner "
                                   "is the performer who takes it on.", rule="RF-1", path="owner")

        def target(view: ReferralView) -> str:
            same = incoming.get("status") == conceptmap(TASK_STATUS_MAP).to_wire(view.status)
            return view.status if same else values["status"]

        moved = call.cases.referrals.transition(call.principal, referral_id, target, expected_version=if_match,
                                             check=owner_is_a_performer, same_is_noop=True, channel=CHANNEL)
        return Written(task(moved), creating and moved.status != before.get("status"))

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        statuses = token_codes(params, "status", TASK_STATUS)
        focus = values_of(params, "focus")
        if focus:
            views = []
            for ref in {r for raw in focus for r in raw.split(",")}:
                try:
                    views.append(call.cases.referrals.get(call.principal, _referral_id(ref if "/" in ref else f"ServiceRequest/{ref}"),
                                                       channel=CHANNEL))
                except NotFound:
                    continue
        else:
            views = call.cases.referrals.for_patient(call.principal, patient_niss(call, params, "tasks"), channel=CHANNEL)
        to_wire = conceptmap(TASK_STATUS_MAP).to_wire
        kept = [task(v) for v in sorted(views, key=lambda v: (v.created_at, v.id)) if statuses is None or to_wire(v.status) in statuses]
        return page(kept, count, cursor)


def _current_version(resource: dict[str, Any], vid: str) -> dict[str, Any]:
    current = resource["meta"]["versionId"]
    if current != vid:
        raise FhirError.simple(404, "not-found", f"{resource['resourceType']}/{resource['id']} is at version {current}; only the "
                               "current version is kept.", error_code="unknown-version",
                               expression=f"{resource['resourceType']}.meta.versionId")
    return resource
