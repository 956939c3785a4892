"""ServiceRequest and Task <-> return-to-work requests and their steps
(profiles be-cg-rtw-request and be-cg-rtw-step; RP-F3..RP-F5, RP-F7, RF-2).

A training or coaching request is a referral of the insured person to a
regional service, which is what an implementer expects a ServiceRequest
to be (category referral-programme#return-to-work, id ``rtw-<id>``); its
trainings are rtw-training extensions. The two steps that wait for
someone are Tasks whose focus is the request:

- ``rtw-validation-<id>``: the insurer's validation of a regional
  service's request (RP-F4): PUT status ``completed`` sends it to INAMI,
  ``rejected`` with a statusReason rejects it;
- ``rtw-decision-<id>``: INAMI's decision (RP-F5): PUT status
  ``completed`` with the outputs ``outcome`` and ``costs-granted``; the
  other parties see it once the weekly run published it.

``Task?code=https://care-gateway.be/fhir/CodeSystem/rtw-step|decision&week=2026-W25``
is the caller's party's list of decisions (RP-F7): a search set, filtered
for each recipient. :class:`ServiceRequestDispatch` and
:class:`RtwTaskDispatch` send each interaction to the handler of its kind.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.domain.rtw.decisions import RecordDecision
from gateway.domain.rtw.requests import FileRequest, TrainingItem
from gateway.domain.rtw.trajectory_views import DecisionLine, RequestView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import instant, values_of
from gateway.fhir.resources.fhirpaths import ElementPaths
from gateway.fhir.resources.listing import page
from gateway.fhir.resources.rtw_dossier import PREFIX as DOSSIER_PREFIX, dossier_id
from gateway.fhir.search import parse_token
from gateway.mapping.mapping import mapping

BASE = "https://care-gateway.be/fhir"
PROFILE = f"{BASE}/StructureDefinition/be-cg-rtw-request"
STEP_PROFILE = f"{BASE}/StructureDefinition/be-cg-rtw-step"
TRAINING = f"{BASE}/StructureDefinition/rtw-training"
KIND_SYSTEM = f"{BASE}/CodeSystem/rtw-request-kind"
STEP_SYSTEM = f"{BASE}/CodeSystem/rtw-step"
STATUS_SYSTEM = f"{BASE}/CodeSystem/rtw-request-status"
PROGRAMME = f"{BASE}/CodeSystem/referral-programme"
PARTY_SYSTEM = f"{BASE}/NamingSystem/rtw-party"
PREFIX = "rtw-"
VALIDATION, DECISION = "validation", "decision"
SP = f"{BASE}/SearchParameter"


def money(cents: int) -> dict[str, Any]:
    return {"value": float(Decimal(cents) / 100), "currency": "EUR"}


def money_cents(value: Any, where: str) -> int:
    if not isinstance(value, dict) or value.get("currency", "EUR") != "EUR" or not isinstance(value.get("value"), (int, float)):
        raise FhirError.simple(422, "invalid", "An amount is a Money in EUR.", expression=where, error_code="invalid-amount",
                               rule="RP-F3")
    return int((Decimal(str(value["value"])) * 100).to_integral_value())


def request_id(id: str) -> str:
    if not id.startswith(PREFIX):
        raise FhirError.simple(404, "not-found", "A return-to-work request's id is rtw-<id>.", error_code="unknown-request",
                               expression="ServiceRequest.id")
    return id[len(PREFIX):]


def is_rtw_request(resource: dict[str, Any]) -> bool:
    if PROFILE in (resource.get("meta") or {}).get("profile", []):
        return True
    return any(c.get("code") == "return-to-work" and c.get("system") == PROGRAMME
               for cat in resource.get("category", []) for c in cat.get("coding", []))


def _training(t: Any) -> dict[str, Any]:
    extension = mapping("rtw_training").to_fhir({"id": t.id, "title": t.title, "provider": t.provider,
                                                  "hours_planned": t.hours_planned, "hours_performed": t.hours_performed})
    parts = list(extension.get("extension", [])) + [{"url": "cost", "valueMoney": money(t.cost_cents)}]
    return {"id": extension.get("id"), "url": TRAINING, "extension": parts}


def request_to_fhir(view: RequestView) -> dict[str, Any]:
    resource = mapping("rtw_request").to_fhir({
        "id": PREFIX + view.id, "version": str(view.version), "dossier": f"EpisodeOfCare/{DOSSIER_PREFIX}{view.dossier_id}",
        "insured_niss": view.insured_niss, "form": f"QuestionnaireResponse/{view.form_id}" if view.form_id else None,
        "kind": view.kind, "project": view.project, "counsellor_name": view.counsellor_name, "status": view.status,
        "filed_by_cbe": view.filed_by_cbe or None, "regional_cbe": view.regional_cbe,
        "created_at": instant(view.created_at), "updated_at": instant(view.updated_at)})
    for info in resource.get("supportingInfo", []):  # the reference's type, as the mapping selects it
        info.setdefault("type", info["reference"].split("/")[0])
    for performer in resource.get("performer", []):
        performer.setdefault("type", "Organization" if "identifier" in performer else "Practitioner")
    resource["extension"] = [_training(t) for t in view.trainings]
    first = ("resourceType", "id", "meta", "extension", "status", "intent", "category", "code", "subject")
    return {**{k: resource[k] for k in first if k in resource}, **{k: v for k, v in resource.items() if k not in first}}


def file_command(resource: dict[str, Any]) -> FileRequest:
    """The request a client writes, read through mappings/rtw_request.yaml and rtw_training.yaml."""
    values = mapping("rtw_request").from_fhir(resource, only={"dossier", "form", "kind", "project", "counsellor_name",
                                                               "regional_cbe"})
    kind, _, target = (values["dossier"] or "").partition("/")
    if kind != "EpisodeOfCare" or not target:
        raise FhirError.simple(422, "required", "supportingInfo names the dossier: EpisodeOfCare/rtw-<id> (type EpisodeOfCare).",
                               expression="ServiceRequest.supportingInfo", error_code="missing-dossier", rule="RP-F3")
    trainings = []
    for i, ext in enumerate(resource.get("extension", [])):
        if ext.get("url") != TRAINING:
            continue
        where = f"ServiceRequest.extension[{i}]"
        t = mapping("rtw_training").from_fhir(ext, only={"title", "provider", "hours_planned"}, at=where)
        cost = next((p.get("valueMoney") for p in ext.get("extension", []) if p.get("url") == "cost"), None)
        trainings.append(TrainingItem(t["title"] or "", t["hours_planned"] or 0, money_cents(cost, f"{where}.extension('cost')"),
                                      t["provider"]))
    form = values["form"]
    return FileRequest(dossier_id=dossier_id(target), kind=values["kind"] or "", project=values["project"] or "",
                       trainings=tuple(trainings), counsellor_name=values["counsellor_name"],
                       form_id=form.partition("/")[2] if form else None, regional_cbe=values["regional_cbe"])


class RtwRequestHandler(ResourceHandler):
    resource_type = "ServiceRequest"
    profile = PROFILE
    interactions = ("read", "vread", "create", "search-type")
    documentation = ("A return-to-work training or coaching request (category referral-programme#return-to-work, id "
                     "rtw-<id>): filed (POST) by the regional service's counsellor on a valid registration form of the "
                     "dossier, or by the insurer with or without one (RP-F3, RP-F4); read by its parties and INAMI (RF-2); "
                     "searched by dossier. Its steps are Tasks of profile be-cg-rtw-step.")
    search_params = (SearchParam("dossier", "reference", "The dossier: EpisodeOfCare/rtw-<id>",
                                 f"{SP}/ServiceRequest-dossier"),
                     SearchParam("category", "token", f"{PROGRAMME}|return-to-work"))
    paths = {"dossier": "ServiceRequest.supportingInfo", "kind": "ServiceRequest.code", "project": "ServiceRequest.note",
             "trainings": "ServiceRequest.extension", "form": "ServiceRequest.supportingInfo",
             "regional_cbe": "ServiceRequest.performer", "id": "ServiceRequest.id"}

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return request_to_fhir(call.cases.return_to_work.requests.read(call.principal, request_id(id), channel=CHANNEL))

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        resource = self.read(call, id)
        if resource["meta"]["versionId"] != vid:
            raise FhirError.simple(404, "not-found", f"ServiceRequest/{id} is at version {resource['meta']['versionId']}; its "
                                   "history is its Tasks' and steps'.", error_code="unknown-version",
                                   expression="ServiceRequest.meta.versionId")
        return resource

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        view = call.cases.return_to_work.requests.file(call.principal, file_command(resource), channel=CHANNEL)
        return Written(request_to_fhir(view), True)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        dossiers = values_of(params, "dossier")
        if len(dossiers) != 1:
            raise FhirError.simple(400, "required", "Search return-to-work requests by dossier: dossier=EpisodeOfCare/rtw-<id>.",
                                   expression="dossier", error_code="dossier-required")
        target = dossiers[0].partition("/")[2] if "/" in dossiers[0] else dossiers[0]
        views = call.cases.return_to_work.requests.of_dossier(call.principal, dossier_id(target), channel=CHANNEL)
        return page([request_to_fhir(v) for v in views], count, cursor)


# ------------------------------------------------------------------ steps


def _step_id(id: str) -> tuple[str, str]:
    for step in (VALIDATION, DECISION):
        if id.startswith(f"{PREFIX}{step}-"):
            return step, id[len(PREFIX) + len(step) + 1:]
    raise FhirError.simple(404, "not-found", "A return-to-work step's id is rtw-validation-<request> or rtw-decision-<request>.",
                           error_code="unknown-step", expression="Task.id")


def _party(value: str) -> dict[str, Any]:
    return {"identifier": {"system": PARTY_SYSTEM, "value": value}}


def step_to_fhir(view: RequestView, step: str) -> dict[str, Any]:
    """The validation or decision Task of a request, as the caller sees the request."""
    status = view.status
    if step == VALIDATION:
        task_status = {"awaiting-validation": "requested", "rejected": "rejected"}.get(status, "completed")
        owner, requester = view.insurer_cbe, view.filed_by_cbe
        note = next((s for s in view.steps if s.step in ("validated", "rejected")), None)
        authored = view.created_at
    else:
        task_status = "completed" if view.decision is not None else "requested"
        owner, requester = "inami", view.filed_by_cbe
        note = None
        authored = view.received_at or view.created_at
    task: dict[str, Any] = {
        "resourceType": "Task", "id": f"{PREFIX}{step}-{view.id}",
        "meta": {"versionId": str(view.version), "lastUpdated": instant(view.updated_at), "profile": [STEP_PROFILE]},
        "status": task_status,
        "businessStatus": {"coding": [{"system": STATUS_SYSTEM, "code": status}]},
        "intent": "order",
        "code": {"coding": [{"system": STEP_SYSTEM, "code": step}]},
        "focus": {"reference": f"ServiceRequest/{PREFIX}{view.id}"},
        "for": {"identifier": {"system": SSIN_SYSTEM, "value": view.insured_niss}},
        "authoredOn": instant(authored),
        "lastModified": instant(view.updated_at),
        "requester": _party(requester),
        "owner": _party(owner),
        "input": [{"type": {"text": "costs-requested"}, "valueMoney": money(view.costs_requested_cents)}],
    }
    if note is not None and note.note:
        task["statusReason"] = {"text": note.note}
    if step == DECISION and view.decision is not None:
        d = view.decision
        task["output"] = [{"type": {"text": "outcome"}, "valueCode": d.outcome},
                          {"type": {"text": "costs-granted"}, "valueMoney": money(d.costs_granted_cents)},
                          {"type": {"text": "week"}, "valueString": d.week}]
        if d.reason:
            task["output"].append({"type": {"text": "reason"}, "valueString": d.reason})
        if d.published_at is not None:
            task["executionPeriod"] = {"end": instant(d.published_at)}
    return task


def line_to_fhir(line: DecisionLine) -> dict[str, Any]:
    """One line of a party's list of decisions (RP-F7), as its decision Task: no medical information."""
    return {
        "resourceType": "Task", "id": f"{PREFIX}{DECISION}-{line.request_id}", "meta": {"profile": [STEP_PROFILE]},
        "status": "completed", "businessStatus": {"coding": [{"system": STATUS_SYSTEM, "code": line.outcome}]},
        "intent": "order", "code": {"coding": [{"system": STEP_SYSTEM, "code": DECISION}]},
        "focus": {"reference": f"ServiceRequest/{PREFIX}{line.request_id}"},
        "for": {"identifier": {"system": SSIN_SYSTEM, "value": line.insured_niss}},
        "executionPeriod": {"end": instant(line.published_at)}, "owner": _party("inami"),
        "input": [{"type": {"text": "costs-requested"}, "valueMoney": money(line.costs_requested_cents)}],
        "output": [{"type": {"text": "outcome"}, "valueCode": line.outcome},
                   {"type": {"text": "costs-granted"}, "valueMoney": money(line.costs_granted_cents)},
                   {"type": {"text": "week"}, "valueString": line.week}],
    }


def is_rtw_step(resource: dict[str, Any]) -> bool:
    return any(c.get("system") == STEP_SYSTEM for c in (resource.get("code") or {}).get("coding", [])) or \
        STEP_PROFILE in (resource.get("meta") or {}).get("profile", [])


class RtwStepHandler(ResourceHandler):
    resource_type = "Task"
    profile = STEP_PROFILE
    interactions = ("read", "update", "search-type")
    documentation = ("A step of a return-to-work request (code rtw-step): rtw-validation-<request> is the insurer's "
                     "validation (PUT completed sends it to INAMI, rejected with statusReason rejects it, RP-F4); "
                     "rtw-decision-<request> INAMI's decision (PUT completed with outputs outcome and costs-granted, "
                     "RP-F5), seen by the other parties once published. Search by focus (the request), or "
                     f"code={STEP_SYSTEM}|decision&week=YYYY-Www[&week=YYYY-Www] for the caller's list of decisions (RP-F7).")
    search_params = (SearchParam("focus", "reference", "The request: ServiceRequest/rtw-<id>"),
                     SearchParam("code", "token", f"{STEP_SYSTEM}|validation or |decision"),
                     SearchParam("week", "token", "With code ...|decision: the ISO week(s) of publication, from and to",
                                 f"{SP}/Task-week"))
    paths = {"status": "Task.status", "note": "Task.statusReason", "outcome": "Task.output", "costs_granted": "Task.output",
             "week": "week", "id": "Task.id", "version": "Task.meta.versionId"}

    def read(self, call: Call, id: str) -> dict[str, Any]:
        step, rid = _step_id(id)
        view = call.cases.return_to_work.requests.read(call.principal, rid, channel=CHANNEL)
        return self._shown(view, step)

    def _shown(self, view: RequestView, step: str) -> dict[str, Any]:
        if step == VALIDATION and view.filed_by_party != "regional":
            raise FhirError.simple(404, "not-found", "An insurer's own request goes straight to INAMI: it has no validation step.",
                                   error_code="unknown-step", expression="Task.id", rule="RP-F4")
        if step == DECISION and view.received_at is None:
            raise FhirError.simple(404, "not-found", "The request has not reached INAMI: it has no decision step yet.",
                                   error_code="unknown-step", expression="Task.id", rule="RP-F5")
        return step_to_fhir(view, step)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        step, rid = _step_id(id)
        rtw = call.cases.return_to_work
        status = resource.get("status")
        if step == VALIDATION:
            if status not in ("completed", "rejected"):
                raise FhirError.simple(422, "business-rule", "The insurer completes the validation (send to INAMI) or rejects it "
                                       "with a statusReason.", expression="Task.status", error_code="invalid-status-change",
                                       rule="RP-F4")
            view = rtw.requests.validate(call.principal, rid, accept=status == "completed",
                                         note=(resource.get("statusReason") or {}).get("text"), version=if_match,
                                         channel=CHANNEL)
            return Written(step_to_fhir(view, step), False)
        if status != "completed":
            raise FhirError.simple(422, "business-rule", "INAMI completes the decision Task with its outputs outcome and "
                                   "costs-granted.", expression="Task.status", error_code="invalid-status-change", rule="RP-F5")
        outputs = {(o.get("type") or {}).get("text"): o for o in resource.get("output", [])}
        outcome = (outputs.get("outcome") or {}).get("valueCode") or ""
        granted = outputs.get("costs-granted")
        cmd = RecordDecision(rid, outcome, money_cents(granted.get("valueMoney"), "Task.output") if granted else 0,
                             (outputs.get("reason") or {}).get("valueString"))
        return Written(step_to_fhir(rtw.decisions.record(call.principal, cmd, channel=CHANNEL), step), False)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        rtw = call.cases.return_to_work
        focus = values_of(params, "focus")
        if focus:
            target = focus[0].partition("/")[2] if "/" in focus[0] else focus[0]
            view = rtw.requests.read(call.principal, request_id(target), channel=CHANNEL)
            steps = [s for s in (VALIDATION, DECISION)
                     if (s == VALIDATION and view.filed_by_party == "regional") or (s == DECISION and view.received_at)]
            return page([step_to_fhir(view, s) for s in steps], count, cursor)
        codes = [parse_token(p) for raw in values_of(params, "code") for p in raw.split(",")]
        weeks = values_of(params, "week")
        if [c.code for c in codes] != [DECISION] or not 1 <= len(weeks) <= 2:
            raise FhirError.simple(400, "required", f"Search return-to-work steps by focus, or the list of decisions with "
                                   f"code={STEP_SYSTEM}|decision&week=YYYY-Www (twice for a period).", expression="code",
                                   error_code="focus-or-week-required", rule="RP-F7")
        listed = rtw.lists.decisions(call.principal, min(weeks), max(weeks), page_size=count, cursor=cursor, channel=CHANNEL)
        return SearchResult([line_to_fhir(line) for line in listed.lines], listed.next_cursor)


# ------------------------------------------------------------------ dispatch


class ServiceRequestDispatch(ResourceHandler):
    """ServiceRequest, shared by referrals and return-to-work requests (by the ``rtw-`` id prefix, the written
    resource's category or profile, the searched category or dossier)."""

    resource_type = "ServiceRequest"

    def __init__(self, referral: ResourceHandler, rtw: RtwRequestHandler) -> None:
        self.referral, self.rtw = referral, rtw
        self.profile = referral.profile
        self.supported_profiles = tuple(p for p in (getattr(referral, "supported_profiles", None) or (referral.profile,))
                                        if p) + (rtw.profile,)  # type: ignore[operator]
        self.interactions = tuple(dict.fromkeys(referral.interactions + rtw.interactions))
        names = {p.name for p in referral.search_params}
        self.search_params = referral.search_params + tuple(p for p in rtw.search_params if p.name not in names)
        self.includes, self.rev_includes = referral.includes, referral.rev_includes
        self.conditional_create = referral.conditional_create
        self.documentation = f"{referral.documentation} {rtw.documentation}"
        self.paths = ElementPaths("ServiceRequest", {**rtw.paths, **referral.paths})

    def _by_id(self, id: str) -> ResourceHandler:
        return self.rtw if id.startswith(PREFIX) else self.referral

    def profile_for(self, resource: dict[str, Any]) -> str | None:
        if is_rtw_request(resource):
            return self.rtw.profile
        chooser = getattr(self.referral, "profile_for", None)
        return chooser(resource) if chooser else self.referral.profile

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return self._by_id(id).read(call, id)

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return self._by_id(id).vread(call, id, vid)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        return (self.rtw if is_rtw_request(resource) else self.referral).create(call, resource)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        return self._by_id(id).update(call, id, resource, if_match)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        categories = [parse_token(p) for raw in values_of(params, "category") for p in raw.split(",")]
        if values_of(params, "dossier") or any(c.code == "return-to-work" for c in categories):
            return self.rtw.search(call, params, count, cursor)
        return self.referral.search(call, params, count, cursor)

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        return self._by_id(id).history_instance(call, id)

    def history_type(self, call: Call, params: list[tuple[str, str]]) -> list[tuple[dict[str, Any], str, str]]:
        return self.referral.history_type(call, params)

    def find_existing(self, call: Call, criteria: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return self.referral.find_existing(call, criteria)


class RtwTaskDispatch(ResourceHandler):
    """Task, shared by referral tasks, rights requests (the existing dispatch) and return-to-work steps."""

    resource_type = "Task"

    def __init__(self, others: ResourceHandler, rtw: RtwStepHandler) -> None:
        self.others, self.rtw = others, rtw
        self.profile = others.profile
        self.supported_profiles = tuple(getattr(others, "supported_profiles", ()) or (others.profile,)) + (rtw.profile,)  # type: ignore[operator]
        self.interactions = tuple(dict.fromkeys(others.interactions + rtw.interactions))
        names = {p.name for p in others.search_params}
        self.search_params = others.search_params + tuple(p for p in rtw.search_params if p.name not in names)
        self.includes, self.rev_includes = others.includes, others.rev_includes
        self.documentation = f"{others.documentation} {rtw.documentation}"
        self.paths = ElementPaths("Task", {**rtw.paths, **dict(getattr(others, "paths", {}) or {})})

    def _by_id(self, id: str) -> ResourceHandler:
        return self.rtw if id.startswith(PREFIX) else self.others

    def profile_for(self, resource: dict[str, Any]) -> str | None:
        if is_rtw_step(resource):
            return self.rtw.profile
        chooser = getattr(self.others, "profile_for", None)
        return chooser(resource) if chooser else self.others.profile

    def read(self, call: Call, id: str) -> dict[str, Any]:
        return self._by_id(id).read(call, id)

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        return self._by_id(id).vread(call, id, vid)

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        return self.others.create(call, resource)

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        return self._by_id(id).update(call, id, resource, if_match)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        codes = [parse_token(p) for raw in values_of(params, "code") for p in raw.split(",")]
        focus = values_of(params, "focus")
        if any(c.system == STEP_SYSTEM for c in codes) or any(f.partition("/")[2].startswith(PREFIX) for f in focus):
            return self.rtw.search(call, params, count, cursor)
        return self.others.search(call, params, count, cursor)

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        return self._by_id(id).history_instance(call, id)

    def find_existing(self, call: Call, criteria: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return self.others.find_existing(call, criteria)


__all__ = ["PROFILE", "RtwRequestHandler", "RtwStepHandler", "RtwTaskDispatch", "ServiceRequestDispatch", "STEP_PROFILE",
           "request_to_fhir", "step_to_fhir"]
