"""Task <-> a person's rights request (profile be-cg-rights-request, DS-2..DS-4).

What an implementer expects of a request that someone else must act on: a
Task per request, with the person as requester and as ``for``, ``code`` the
kind (correction, restriction, objection), ``focus`` the data it names (an
EpisodeOfCare or a Consent; none: all of the person's data), an objection's
processing as its one ``input``. Its id is ``rights-<request id>``.

- The person creates it (POST, status ``requested``) and withdraws it (PUT,
  status ``cancelled``).
- Those it concerns (the data protection officer, the provider who declared
  the data, the staff of its project) find it with
  ``Task?code=https://care-gateway.be/fhir/CodeSystem/rights-request-kind|``
  and answer it with a PUT: ``completed`` (an ``output`` may say what was
  done) or ``rejected`` with ``statusReason.text`` (why).
- ``businessStatus.text`` says whether a restriction or objection is in force.

Referral Tasks (``task-<referral id>``) share the type: :class:`TaskDispatch`
sends each interaction to the handler of its kind of Task.
"""

from __future__ import annotations

import copy
from typing import Any

from gateway.domain.errors import InvalidInput
from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.domain.rights import KINDS, RightsRequestView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import instant, values_of
from gateway.fhir.resources.fhirpaths import ElementPaths
from gateway.fhir.resources.listing import PATIENT_IDENTIFIER, page, token_codes
from gateway.fhir.search import parse_token

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-rights-request"
KIND_SYSTEM = "https://care-gateway.be/fhir/CodeSystem/rights-request-kind"
PROCESSING_SYSTEM = "https://care-gateway.be/fhir/CodeSystem/processing"
IDENTIFIER_SYSTEM = "https://care-gateway.be/fhir/NamingSystem/rights-request"
TASK_STATUS = "http://hl7.org/fhir/task-status"
PREFIX = "rights-"
STATUS_TO_FHIR = {"active": "requested", "done": "completed", "refused": "rejected", "closed": "cancelled"}
FHIR_TO_OUTCOME = {"completed": "done", "rejected": "refused"}
DISPLAY = {"correction": "Correction", "restriction": "Restriction", "objection": "Objection"}
TARGETS = {"inclusion": "EpisodeOfCare", "consent": "Consent"}
# DS-3's mark on a restricted inclusion shown to whom the law requires.
RESTRICTED_LABEL = {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R", "display": "restricted"}
ROLE_LABEL = {"dpo": "data protection officer", "provider": "care provider", "pharmacist": "pharmacist",
              "psi-administrative": "integrated-care project staff", "psi-coordinator": "integrated-care project coordinator"}


def rights_task(view: RightsRequestView) -> dict[str, Any]:
    """A request as its Task."""
    person = {"type": "Patient", "identifier": {"system": SSIN_SYSTEM, "value": view.patient_niss}}
    task: dict[str, Any] = {
        "resourceType": "Task", "id": PREFIX + view.id,
        "meta": {"versionId": str(view.version), "lastUpdated": instant(view.updated_at), "profile": [PROFILE]},
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": view.id}],
        "status": STATUS_TO_FHIR[view.status],
        "intent": "order",
        "code": {"coding": [{"system": KIND_SYSTEM, "code": view.kind, "display": DISPLAY[view.kind]}],
                 "text": f"{DISPLAY[view.kind]} ({view.rule})"},
        "for": person, "requester": copy.deepcopy(person),
        "authoredOn": instant(view.created_at), "lastModified": instant(view.updated_at),
    }
    if view.kind != "correction":
        task["businessStatus"] = {"text": "in force" if view.in_force else "not in force"}
    if view.status == "refused":
        task["statusReason"] = {"text": view.answer}
    if view.text:
        task["description"] = view.text
    if view.target_type:
        task["focus"] = ({"reference": f"{TARGETS[view.target_type]}/{view.target_id}"} if view.target_id
                         else {"type": TARGETS[view.target_type], "display": "the research consent decision"})
    if view.processing:
        task["input"] = [{"type": {"text": "processing"},
                          "valueCodeableConcept": {"coding": [{"system": PROCESSING_SYSTEM, "code": view.processing}]}}]
    if view.answered_by_role:
        task["owner"] = {"display": ROLE_LABEL.get(view.answered_by_role, view.answered_by_role)}
    if view.status == "done" and view.answer:
        task["output"] = [{"type": {"text": "answer"}, "valueString": view.answer}]
    return task


def is_rights_task(resource: dict[str, Any]) -> bool:
    coded = any(c.get("system") == KIND_SYSTEM for c in (resource.get("code") or {}).get("coding", []))
    return coded or PROFILE in (resource.get("meta") or {}).get("profile", [])


class RightsTaskHandler(ResourceHandler):
    resource_type = "Task"
    profile = PROFILE
    interactions = ("read", "vread", "create", "update", "search-type")
    documentation = (
        "A person's rights request (DS-2 correction, DS-3 restriction, DS-4 objection) is a Task, id rights-<id>, profile "
        "be-cg-rights-request: the person is requester and for, code the kind, focus the data named (none: all their data), "
        "input the processing an objection names. The person creates it (requested) and withdraws it (PUT cancelled); the data "
        "protection officer, the provider who declared the data and its project's staff find it by code and answer it with a PUT "
        "If-Match: completed, or rejected with statusReason.text. A restriction or objection is in force from its creation "
        "(businessStatus)."
    )
    search_params = (
        SearchParam("code", "token", f"{KIND_SYSTEM}|[kind]: rights requests (the caller's own, or those that concern them)",
                    "http://hl7.org/fhir/SearchParameter/Task-code"),
        SearchParam("status", "token", "requested | completed | rejected | cancelled", "http://hl7.org/fhir/SearchParameter/Task-status"),
        SearchParam("patient-identifier", "token", "The person's NISS (system|NISS)", PATIENT_IDENTIFIER),
    )
    paths = {"kind": "Task.code", "text": "Task.description", "target": "Task.focus", "processing": "Task.input",
             "status": "Task.status", "reason": "Task.statusReason.text", "version": "Task.meta.versionId", "id": "Task.id",
             "patient": "patient-identifier"}

    @staticmethod
    def _id(id: str) -> str:
        if not id.startswith(PREFIX):
            raise FhirError.simple(404, "not-found", f"No Task {id}: a rights request's Task is rights-<id>.",
                                   error_code="unknown-task", expression="Task.id")
        return id[len(PREFIX):]

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return rights_task(call.cases.rights.get(call.principal, self._id(id), channel=CHANNEL))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        task = self.read(call, id)
        if task["meta"]["versionId"] != vid:
            raise FhirError.simple(404, "not-found", f"Task/{id} is at version {task['meta']['versionId']}; only the current "
                                   "version is kept (its answer and who gave it are part of it).", error_code="unknown-version",
                                   expression="Task.meta.versionId")
        return task

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        if resource.get("status") != "requested":
            raise FhirError.simple(422, "business-rule", "A rights request is created with status requested.",
                                   expression="Task.status", error_code="invalid-initial-status", rule="DS-2")
        kind = _kind(resource)
        for element in ("for", "requester"):
            niss = ((resource.get(element) or {}).get("identifier") or {}).get("value")
            if niss is not None and niss != call.principal.niss:
                raise FhirError.simple(422, "business-rule", f"Task.{element} is the person filing the request: you file "
                                       "requests about your own data.", expression=f"Task.{element}.identifier",
                                       error_code="not-the-caller", rule=KINDS[kind])
        target_type, target_id = _focus(resource)
        view = call.cases.rights.file(call.principal, kind, resource.get("description"), target_type=target_type,
                                      target_id=target_id, processing=_processing(resource), channel=CHANNEL)
        return Written(rights_task(view), True)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        request_id = self._id(id)
        current = call.cases.rights.get(call.principal, request_id, channel=CHANNEL)
        for element, now in (("code", _kind(resource)), ("focus", _focus(resource)), ("processing", _processing(resource))):
            before = {"code": current.kind, "focus": (current.target_type, current.target_id),
                      "processing": current.processing}[element]
            if now != before:
                raise FhirError.simple(422, "business-rule", f"Only the status of a rights request changes (and its answer); "
                                       f"its {element} cannot.", expression=f"Task.{'input' if element == 'processing' else element}",
                                       error_code="immutable-element", rule=KINDS[current.kind])
        status = resource.get("status")
        if status == STATUS_TO_FHIR[current.status]:
            return Written(rights_task(current), False)
        if status == "cancelled":
            view = call.cases.rights.lift(call.principal, request_id, expected_version=if_match, channel=CHANNEL)
        elif status in FHIR_TO_OUTCOME:
            reason = (resource.get("statusReason") or {}).get("text") if status == "rejected" else next(
                (o.get("valueString") for o in resource.get("output", []) if o.get("valueString")), None)
            view = call.cases.rights.answer(call.principal, request_id, FHIR_TO_OUTCOME[status], reason,
                                            expected_version=if_match, channel=CHANNEL)
        else:
            raise FhirError.simple(422, "business-rule", f"A rights request moves to completed, rejected (answers) or cancelled "
                                   f"(withdrawn by the person), not {status!r}.", expression="Task.status",
                                   error_code="invalid-status-change", rule=KINDS[current.kind])
        return Written(rights_task(view), False)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        kinds = token_codes(params, "code", KIND_SYSTEM) or set()
        kinds.discard("")
        statuses = token_codes(params, "status", TASK_STATUS)
        patients = values_of(params, "patient-identifier")
        if call.principal.role == "patient":  # the person: their own requests
            views = call.cases.rights.mine(call.principal, channel=CHANNEL)
            if patients and any(parse_token(p).code != call.principal.niss for p in patients):
                views = []
        else:
            patient = parse_token(patients[0]).code if patients else None
            views = call.cases.rights.concerning(call.principal, patient_niss=patient, channel=CHANNEL)
        kept = [rights_task(v) for v in views
                if (not kinds or v.kind in kinds) and (statuses is None or STATUS_TO_FHIR[v.status] in statuses)]
        return page(kept, count, cursor)


def _kind(resource: dict[str, Any]) -> str:
    codes = [c.get("code") for c in (resource.get("code") or {}).get("coding", []) if c.get("system") == KIND_SYSTEM]
    if len(codes) != 1 or codes[0] not in KINDS:
        raise InvalidInput("invalid-request-kind", f"Task.code is one coding of {KIND_SYSTEM}: {', '.join(KINDS)}.", path="kind")
    return str(codes[0])


def _focus(resource: dict[str, Any]) -> tuple[str | None, str | None]:
    focus = resource.get("focus")
    if not focus:
        return None, None
    reference = focus.get("reference") or ""
    kind, _, target = reference.partition("/")
    by_type = {v: k for k, v in TARGETS.items()}
    if not reference and focus.get("type") == "Consent":
        return "consent", None
    if kind not in by_type or not target or "/" in target:
        raise InvalidInput("invalid-target", "Task.focus names EpisodeOfCare/<id> or Consent/<id> (none: all your data).", path="target")
    return by_type[kind], target


def _processing(resource: dict[str, Any]) -> str | None:
    for item in resource.get("input", []):
        for coding in (item.get("valueCodeableConcept") or {}).get("coding", []):
            if coding.get("system") == PROCESSING_SYSTEM:
                return str(coding.get("code"))
    return None


class TaskDispatch(ResourceHandler):
    """The Task type, shared by referral tasks and rights requests: each
    interaction goes to the handler of its kind of Task (by id prefix, by
    the created Task's code or profile, by the searched code)."""

    resource_type = "Task"

    def __init__(self, referral: ResourceHandler, rights: RightsTaskHandler) -> None:
        self.referral, self.rights = referral, rights
        self.profile = referral.profile
        self.supported_profiles = tuple(p for p in (referral.profile, rights.profile) if p)
        self.interactions = tuple(dict.fromkeys(referral.interactions + rights.interactions))
        names = {p.name for p in referral.search_params}
        self.search_params = referral.search_params + tuple(p for p in rights.search_params if p.name not in names)
        self.documentation = f"{referral.documentation} {rights.documentation}"
        self.paths = ElementPaths("Task", {**rights.paths, **referral.paths})  # referral paths as they were

    def _by_id(self, id: str) -> ResourceHandler:
        return self.rights if id.startswith(PREFIX) else self.referral

    def profile_for(self, resource: dict[str, Any]) -> str | None:
        """The profile a written Task is validated against."""
        return (self.rights if is_rights_task(resource) else self.referral).profile

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return self._by_id(id).read(call, id)

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return self._by_id(id).vread(call, id, vid)

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        return self._by_id(id).history_instance(call, id)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        return (self.rights if is_rights_task(resource) else self.referral).create(call, resource)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        return self._by_id(id).update(call, id, resource, if_match)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        rights = any(parse_token(part).system == KIND_SYSTEM for raw in values_of(params, "code") for part in raw.split(","))
        if rights:
            return self.rights.search(call, params, count, cursor)
        if values_of(params, "code"):
            raise FhirError.simple(400, "not-supported", f"Task?code= searches rights requests: code={KIND_SYSTEM}|[kind].",
                                   expression="code", error_code="unsupported-code-system")
        return self.referral.search(call, params, count, cursor)

    def find_existing(self, call: Call, criteria: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return self.search(call, criteria, 2, None).matches


__all__ = ["PROFILE", "RightsTaskHandler", "TaskDispatch", "rights_task"]
