"""ServiceRequest and Task <-> referral (profiles be-cg-referral and
be-cg-referral-task).

One referral, two views. The ServiceRequest is the requester's: create
makes a referral with the caller as requester (RF-1); an update changes its
status only (request-status: active, on-hold, revoked, completed, by the
requester; a reason in the request-statusReason extension). Each named
performer has its own Task (``task-<referral id>`` for the first,
``task-<referral id>-<n>`` for the n-th): a create or update of its status is
that performer's step (received, accepted, rejected with statusReason,
in-progress, on-hold, completed, failed) or the requester's cancellation.
Which party may take which step is the domain's; who sees a referral is
RF-4, for both views. Every version is kept: vread and history answer any
of them (a Task's version is its referral's)."""

from __future__ import annotations

import copy
from typing import Any

from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.domain.professions import PROFESSIONS
from gateway.domain.referrals import FINAL_TASK, PerformerSpec, ReferralSpec, referral_of_task
from gateway.domain.views import PartyView, ReferralView
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
STATUS_REASON = "http://hl7.org/fhir/StructureDefinition/request-statusReason"
SR_STATUS, TASK_STATUS_MAP = "referral-status-service-request", "referral-status-task"

# the referral's items a ServiceRequest update may not change, and where they are
FIXED = {
    "patient_niss": "ServiceRequest.subject", "programme": "ServiceRequest.category", "category": "ServiceRequest.category",
    "service_requested": "ServiceRequest.code", "reason": "ServiceRequest.reasonCode",
    "valid_from": "ServiceRequest.occurrencePeriod.start", "valid_until": "ServiceRequest.occurrencePeriod.end",
    "performer_role": "ServiceRequest.performerType", "performers": "ServiceRequest.performer",
}
_READ = {"status", "status_reason", *FIXED} - {"performers"}


# ------------------------------------------------------------------ views


def service_request(view: ReferralView) -> dict[str, Any]:
    requester = view.party("requester")[0]
    performers = view.party("performer")
    profession = PROFESSIONS.get(requester.party_role or "")
    resource = mapping("referral").to_fhir({
        "id": view.id, "gateway_id": view.id, "status": view.status, "status_reason": view.status_reason, "programme": view.programme,
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
    if view.basis:
        from gateway.fhir.resources.perinatal import support_basis  # RF-3: the only programme with a basis today

        resource.update(support_basis(dict(view.basis), resource.get("reasonCode")))
    return _first(resource, ("resourceType", "id", "meta", "contained", "identifier", "status", "intent", "category", "code",
                             "subject", "occurrencePeriod", "authoredOn", "requester", "performerType", "performer"))


def task(view: ReferralView, performer: PartyView) -> dict[str, Any]:
    """One performer's Task of the referral."""
    requester = view.party("requester")[0]
    status = performer.task_status or "requested"
    resource = mapping("referral_task").to_fhir({
        "id": performer.task_id, "status": status, "status_reason": performer.task_reason,
        "business_status": "expired" if view.expired and status not in FINAL_TASK else None,
        "referral": f"ServiceRequest/{view.id}", "patient_niss": view.patient_niss, "requester_nihii": requester.nihii,
        "owner_nihii": performer.nihii, "owner_cbe": None if performer.nihii else performer.cbe,
        "valid_from": view.valid_from, "valid_until": view.valid_until, "created_at": instant(view.created_at),
        "updated_at": instant(view.updated_at), "version": str(view.version), "last_updated": instant(view.updated_at),
    })
    return _first(resource, ("resourceType", "id", "meta", "status", "statusReason", "businessStatus", "intent", "code", "focus", "for",
                             "authoredOn", "lastModified"))


def tasks(view: ReferralView) -> list[dict[str, Any]]:
    return [task(view, p) for p in view.party("performer")]


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


def _version_number(kind: str, id: str, vid: str) -> int:
    if not (vid.isascii() and vid.isdigit()) or not 0 < len(vid) < 10:
        raise FhirError.simple(404, "not-found", f"{kind}/{id} has no version {vid!r}.", error_code="unknown-version",
                               expression=f"{kind}.meta.versionId")
    return int(vid)


def _history(resources: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str, str]]:
    """Oldest-first versions as a history's entries, newest first."""
    return [(r, "POST" if r["meta"]["versionId"] == "1" else "PUT", r["meta"]["lastUpdated"]) for r in reversed(resources)]


class ServiceRequestHandler(ResourceHandler):
    resource_type = "ServiceRequest"
    profile = PROFILE
    interactions = ("read", "vread", "history-instance", "create", "update", "search-type")
    documentation = (
        "A referral (RF-1): only a care provider makes one, and is its requester (shown as a contained PractitionerRole; "
        "a body naming another requester is refused). The programme is category:programme, the referral type a second "
        "category's text, the discipline or service code.text, the validity occurrencePeriod, the performers (one or more) "
        "performer, their role performerType.text; authoredOn is set by the server. Status is the requester's: update "
        "changes it only (draft to active, active to on-hold and back, revoked or completed; the reason in the extension "
        "request-statusReason; other items cannot change). Revoking or completing cancels every open Task. Each performer "
        "moves its own Task. Only the requester, the named performers and those with a care relationship with the patient "
        "see it (RF-4). Every version is kept: vread and _history answer any of them. "
        "Search needs patient-identifier, except for a patient, who searches their own referrals."
    )
    search_params = (
        SearchParam("patient-identifier", "token", "The patient's NISS (system|NISS); required unless the caller is the patient",
                    PATIENT_IDENTIFIER),
        SearchParam("status", "token", "draft | active | on-hold | revoked | completed", f"{CORE_SP}/ServiceRequest-status"),
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
        number = _version_number("ServiceRequest", id, vid)
        return service_request(call.cases.referrals.versions(call.principal, id, number, channel=CHANNEL)[0])

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        return _history([service_request(v) for v in call.cases.referrals.versions(call.principal, id, channel=CHANNEL)])

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

        moved = call.cases.referrals.transition(call.principal, id, wanted["status"], of_referral=True, reason=wanted["status_reason"],
                                             expected_version=if_match, check=only_the_status, same_is_noop=True, channel=CHANNEL)
        return Written(service_request(moved), False)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        niss = patient_niss(call, params, "referrals")
        statuses = token_codes(params, "status", REQUEST_STATUS)
        to_wire = conceptmap(SR_STATUS).to_wire
        views = [v for v in call.cases.referrals.for_patient(call.principal, niss, channel=CHANNEL)
                 if statuses is None or to_wire(v.status) in statuses]
        return page([service_request(v) for v in views], count, cursor)


def _unknown_task(id: str) -> FhirError:
    return FhirError.simple(404, "not-found", f"No Task {id}: a referral's Tasks are task-<referral id> (its first performer's) "
                            "and task-<referral id>-<n> (its n-th performer's).", error_code="unknown-task", expression="Task.id")


class TaskHandler(ResourceHandler):
    resource_type = "Task"
    profile = TASK_PROFILE
    interactions = ("read", "vread", "history-instance", "create", "update", "search-type")
    documentation = (
        "A referral at one of its performers (RF-1): one Task per named performer, id task-<referral id> for the first "
        "and task-<referral id>-<n> for the n-th, focus the ServiceRequest, owner the performer, restriction.period the "
        "validity, businessStatus expired once an open referral is past it. Create (POST, the focus and owner naming the "
        "Task) or update (PUT, If-Match) with a new status is one step: the performer's (received, accepted, rejected "
        "with statusReason, in-progress, on-hold, completed, failed with statusReason) or the requester's (cancelled); "
        "201 when a POST moved it, 200 when it was already in that status. An expired referral cannot be accepted nor "
        "started; nothing moves while the requester holds it. Who sees it is RF-4. Every version is kept (a Task's "
        "version is its referral's): vread answers any of them. Search by focus, or by patient-identifier (a patient: "
        "their own)."
    )
    search_params = (
        SearchParam("focus", "reference", "The referral: ServiceRequest/<id>", f"{CORE_SP}/Task-focus"),
        SearchParam("patient-identifier", "token", "The patient's NISS (system|NISS); required unless focus is given or the "
                    "caller is the patient", PATIENT_IDENTIFIER),
        SearchParam("status", "token", "draft | requested | received | accepted | rejected | on-hold | in-progress | completed | "
                    "failed | cancelled", f"{CORE_SP}/Task-status"),
    )
    paths = ElementPaths("Task", {
        "status": "Task.status",
        "statusReason": "Task.statusReason",
        "occurrencePeriod.end": "Task.restriction.period.end",
        "subject": "Task.for.identifier",
        "patient": "patient-identifier",
        "version": "Task.meta.versionId",
        "performer": "Task.owner",
        "task": "Task.id",
        "id": "Task.focus",
    })

    def _referral_id(self, id: str) -> str:
        referral_id = referral_of_task(id)
        if referral_id is None:
            raise _unknown_task(id)
        return referral_id

    @staticmethod
    def _of(view: ReferralView, id: str) -> dict[str, Any]:
        performer = view.task(id)
        if performer is None:
            raise _unknown_task(id)
        return task(view, performer)

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return self._of(call.cases.referrals.get(call.principal, self._referral_id(id), channel=CHANNEL), id)

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        number = _version_number("Task", id, vid)
        return self._of(call.cases.referrals.versions(call.principal, self._referral_id(id), number, channel=CHANNEL)[0], id)

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        """The versions of the referral in which this Task changed (its first included)."""
        kept: list[dict[str, Any]] = []
        for view in call.cases.referrals.versions(call.principal, self._referral_id(id), channel=CHANNEL):
            resource = self._of(view, id)
            moved = ("status", "statusReason", "businessStatus")
            if not kept or any(resource.get(k) != kept[-1].get(k) for k in moved):
                kept.append(resource)
        return _history(kept)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        return self._move(call, resource, None, None)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        return self._move(call, resource, id, if_match)

    def _move(self, call: Call, resource: dict[str, Any], task_id: str | None, if_match: int | None) -> Written:
        """Take one Task to the status the caller asks, in one act (the domain
        decides whether they may). ``task_id`` is None for a create, whose focus
        names the referral and owner the performer; a create that moves it answers 201."""
        creating = task_id is None
        incoming = copy.deepcopy(resource)
        reference_identifier(incoming.get("owner"))
        values = mapping("referral_task").from_fhir(incoming, only={"status", "status_reason", "referral", "owner_nihii", "owner_cbe"})
        referral_id = _referral_id(values["referral"])
        if task_id is not None and referral_id != self._referral_id(task_id):
            raise FhirError.simple(422, "business-rule", f"Task/{task_id} is a task of ServiceRequest/{self._referral_id(task_id)}; "
                                   "its focus cannot change.", expression="Task.focus", error_code="focus-mismatch", rule="RF-1")
        owner = values["owner_nihii"] or values["owner_cbe"]
        before: dict[str, Any] = {}

        def owner_is_the_performer(view: ReferralView) -> None:
            performers = view.party("performer")
            if owner and owner not in {x for p in performers for x in (p.nihii, p.cbe) if x}:
                raise InvalidInput("owner-not-a-performer", f"The owner {owner} is not a performer named on the referral; the owner "
                                   "is the performer whose Task it is.", rule="RF-1", path="performer")
            if task_id is not None:
                mine = view.task(task_id)
                if mine is None:
                    raise NotFound("unknown-task", f"Referral {view.id} has no Task {task_id}.", rule="RF-1", path="task")
                if owner and owner not in (mine.nihii, mine.cbe):
                    raise InvalidInput("owner-not-a-performer", f"Task {task_id} is the Task of performer {mine.nihii or mine.cbe}, "
                                       f"not of {owner}; each performer has its own Task.", rule="RF-1", path="performer")
            before["view"] = view

        moved = call.cases.referrals.transition(
            call.principal, referral_id, values["status"], task=task_id, performer=None if task_id else owner,
            reason=values["status_reason"], expected_version=if_match, check=owner_is_the_performer, same_is_noop=True, channel=CHANNEL)
        if task_id is None:
            old = before["view"]
            changed = [p for p, q in zip(moved.party("performer"), old.party("performer")) if p.task_status != q.task_status]
            performer = changed[0] if changed else next((p for p in moved.party("performer") if owner in (p.nihii, p.cbe)),
                                                        _own_task(call, moved))
            return Written(task(moved, performer), creating and bool(changed))
        return Written(self._of(moved, task_id), False)

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
        kept = [t for v in sorted(views, key=lambda v: (v.created_at, v.id)) for t in tasks(v)
                if statuses is None or t["status"] in statuses]
        return page(kept, count, cursor)


def _own_task(call: Call, view: ReferralView) -> PartyView:
    """The caller's own Task of the referral (a POST that moved nothing and named no owner)."""
    mine = {x for x in (call.principal.nihii, call.principal.organisation_nihii, call.principal.organisation_cbe) if x}
    performers = view.party("performer")
    return next((p for p in performers if {p.nihii, p.cbe} & mine), performers[0])
