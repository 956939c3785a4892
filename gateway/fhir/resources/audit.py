"""AuditEvent and Provenance (R4 core, read-only): the audit trail as the
people concerned may read it.

- ``AuditEvent``: a patient's own access log (DS-1, "who looked at my
  data"), from :meth:`AccessLogService.about_me`: one AuditEvent per act
  about them, newest first: what (our action code, the CRUDE action, the
  resource touched), when, who (their NISS, role and organisation) and how
  it ended (0 allowed, 4 denied, 8 refused, 12 failed). Only patients have
  this log; there is no auditor role in :class:`Principal` yet, so any other
  caller is refused by the domain (403, DS-1). An auditors' search needs
  that role and a domain use case first; the face adds no way around it.
- ``Provenance``: who changed an inclusion and how (IC-R8, item 10), from
  :meth:`InclusionService.history`: one Provenance per version, its target
  ``EpisodeOfCare/<id>/_history/<version>``, under the consult rules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gateway.domain.access_log import AccessEntry
from gateway.domain.errors import NotFound
from gateway.domain.identifiers import CBE_SYSTEM, NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.domain.pseudonyms import PseudonymError
from gateway.domain.views import InclusionVersionView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import instant, values_of
from gateway.fhir.resources.directory import offset_cursor, patient_id, pseudonym_of
from gateway.fhir.search import whole_number
from gateway.domain.principal import Role, SYSTEM_NISS

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

ACTION_SYSTEM = "https://care-gateway.be/fhir/CodeSystem/audit-action"  # the domain's act names (patient.read, ...)
ACTOR_ROLE = "https://care-gateway.be/fhir/CodeSystem/actor-role"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
OUTCOME = {"allowed": "0", "denied": "4", "refused": "8", "failed": "12"}
# The domain's resource kinds as FHIR resource types (``patient`` is the entity of every event already).
RESOURCE_TYPES = {"inclusion": "EpisodeOfCare", "consent": "Consent", "care-team": "CareTeam", "referral": "ServiceRequest",
                  "practitioner": "Practitioner", "organization": "Organization", "audit": "AuditEvent"}
_VERBS = {"R": {"read", "consult", "history", "search", "list-patients", "about-me", "list"},
          "C": {"declare", "create", "record", "file"},
          "U": {"modify", "update", "close", "transition", "lift", "death", "niss-change"},
          "D": {"purge"}}
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def crude(action: str) -> str:
    """AuditEvent.action (C R U D E) of one of our act names; E when it is neither."""
    verb = action.split(".")[1] if "." in action else action
    return next((code for code, verbs in _VERBS.items() if verb in verbs), "E")


def _organisation(value: str) -> dict[str, str]:
    return {"system": NIHDI_SYSTEM if len(value) == 11 else CBE_SYSTEM, "value": value}


def _person(niss: str | None) -> dict[str, Any] | None:
    """The actor as a Reference by NISS; None for the gateway itself or an organisation acting as itself."""
    if not niss or niss == SYSTEM_NISS:
        return None
    return {"identifier": {"system": SSIN_SYSTEM, "value": niss}}


def _role(role: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": ACTOR_ROLE, "code": role}]}]


# -------------------------------------------------------------- AuditEvent


def audit_event(cases: "UseCases", entry: AccessEntry) -> dict[str, Any]:
    person = _person(entry.actor_niss)
    agents: list[dict[str, Any]] = []
    if person is not None:
        agents.append({"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                                            "code": "humanuser", "display": "human user"}]},
                       "role": _role(entry.actor_role), "who": person, "requestor": True})
    if entry.actor_organisation:
        organisation: dict[str, Any] = {"who": {"type": "Organization", "identifier": _organisation(entry.actor_organisation)},
                                        "requestor": person is None}
        if person is None:
            organisation["role"] = _role(entry.actor_role)
        agents.append(organisation)
    if not agents:
        agents.append({"role": _role(entry.actor_role), "who": {"display": "care-gateway"}, "requestor": True})
    entities: list[dict[str, Any]] = []
    if entry.patient_niss:
        entities.append({"what": {"reference": f"Patient/{patient_id(cases, entry.patient_niss)}",
                                  "identifier": {"system": SSIN_SYSTEM, "value": entry.patient_niss}},
                         "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
                         "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"}})
    kind = RESOURCE_TYPES.get(entry.resource_type or "")
    if kind:
        touched: dict[str, Any] = {"type": {"system": "http://hl7.org/fhir/resource-types", "code": kind},
                                   "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "4",
                                            "display": "Domain Resource"}}
        if entry.resource_id and _FHIR_ID.match(entry.resource_id):
            touched["what"] = {"reference": f"{kind}/{entry.resource_id}"}
        entities.append(touched)
    event_type = ({"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"} if entry.channel == CHANNEL
                  else {"system": DICOM, "code": "110110", "display": "Patient Record"})
    event: dict[str, Any] = {
        "resourceType": "AuditEvent", "id": str(entry.seq), "type": event_type,
        "subtype": [{"system": ACTION_SYSTEM, "code": entry.action}],
        "action": crude(entry.action), "recorded": instant(entry.at),
        "outcome": OUTCOME.get(entry.outcome, "12"),
        "outcomeDesc": entry.outcome + (f" under rule {entry.rule}" if entry.rule else ""),
        "agent": agents,
        "source": {"site": entry.channel, "observer": {"display": "care-gateway"},
                   "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4",
                             "display": "Application Server"}]},
    }
    if entities:
        event["entity"] = entities
    return event


class AuditEventHandler(ResourceHandler):
    resource_type = "AuditEvent"
    interactions = ("search-type",)
    documentation = ("The security log (IC-R8) as AuditEvents, newest first (outcome 0 allowed, 4 denied, 8 refused). A patient reads "
                     "their own part of it (DS-1: who did what about them); an auditor of a public authority reads all of it and may "
                     "filter by patient and by agent.")
    search_params = (
        SearchParam("patient", "reference", "Patient/<id>: for a patient, themselves; for an auditor, any patient"),
        SearchParam("agent-identifier", "token", "Auditors: the acting person's NISS (ssin|NISS)"),
    )
    paths = {"_count": "_count"}

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        before = offset_cursor(cursor) if cursor is not None else None  # the seq of the last event of the page before
        if call.principal.role is Role.AUDITOR:
            return self._audit(call, params, count, before)
        wanted = [self._numbers(call, v) for v in values_of(params, "patient")]
        entries = call.cases.access_log.about_me(call.principal, limit=count, before=before, channel=CHANNEL)
        next_cursor = str(entries[-1].seq) if len(entries) == count else None
        kept = [e for e in entries if all(e.patient_niss in numbers for numbers in wanted)]
        return SearchResult([audit_event(call.cases, e) for e in kept], next_cursor if kept else None)

    def _audit(self, call: Call, params: list[tuple[str, str]], count: int, before: int | None) -> SearchResult:
        """An auditor's search over the whole trail (IC-R8)."""
        from gateway.fhir.resources.common import ssin

        patient = values_of(params, "patient")
        numbers = self._numbers(call, patient[0]) if patient else set()
        if patient and not numbers:
            return SearchResult([])
        agent = values_of(params, "agent-identifier")
        entries = call.cases.access_log.search(
            call.principal, patient_niss=sorted(numbers)[0] if numbers else None,
            actor_niss=ssin("agent-identifier", agent[0]) if agent else None, limit=count, before=before, channel=CHANNEL)
        next_cursor = str(entries[-1].seq) if len(entries) == count else None
        return SearchResult([audit_event(call.cases, e) for e in entries], next_cursor)

    @staticmethod
    def _numbers(call: Call, raw: str) -> set[str]:
        """Every NISS (current and former) of the patient a ``patient`` value names; empty if it names nobody."""
        parts = raw.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2] != "Patient":
            raise FhirError.simple(400, "invalid", f"patient must name a Patient, not {raw!r}.", expression="patient",
                                   error_code="wrong-reference-type")
        try:
            niss = call.cases.ctx.pseudonyms.reveal(pseudonym_of(parts[-1]))
        except PseudonymError:
            return set()
        person = call.cases.ctx.register.person(niss)
        return {niss, *((person.niss, *person.previous_niss) if person else ())}


# -------------------------------------------------------------- Provenance

V3_DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
_TARGET = re.compile(r"(?:^|/)EpisodeOfCare/([A-Za-z0-9\-.]{1,64})(?:/_history/([0-9]{1,9}))?$")


def provenance(version: InclusionVersionView) -> dict[str, Any]:
    created = version.action == "declare"
    agent: dict[str, Any] = {
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author",
                             "display": "Author"}]},
        "role": _role(version.actor_role),
        "who": _person(version.actor_niss) or {"display": "care-gateway (national register feed)"},
    }
    if version.actor_organisation:
        agent["onBehalfOf"] = {"type": "Organization", "identifier": _organisation(version.actor_organisation)}
    return {
        "resourceType": "Provenance", "id": f"{version.inclusion_id}-v{version.version}",
        "target": [{"reference": f"EpisodeOfCare/{version.inclusion_id}/_history/{version.version}"}],
        "recorded": instant(version.at),
        "activity": {"coding": [{"system": V3_DATA_OPERATION, "code": "CREATE" if created else "UPDATE",
                                 "display": "create" if created else "revise"}], "text": version.action},
        "agent": [agent],
    }


class ProvenanceHandler(ResourceHandler):
    resource_type = "Provenance"
    interactions = ("read", "search-type")
    documentation = ("IC-R8: who changed an inclusion, one Provenance per version (target EpisodeOfCare/<id>/_history/<v>): the "
                     "actor's NISS, role and organisation, when, create or update. Read under the inclusion's consult rules.")
    search_params = (SearchParam("target", "reference", "EpisodeOfCare/<id> (every version) or EpisodeOfCare/<id>/_history/<v>"),)
    paths = {"id": "Provenance.target"}

    def _versions(self, call: Call, inclusion_id: str) -> list[InclusionVersionView]:
        return call.cases.inclusions.history(call.principal, inclusion_id, channel=CHANNEL)

    def read(self, call: Call, id: str) -> dict[str, Any]:
        inclusion_id, _, version = id.rpartition("-v")
        if not inclusion_id or whole_number(version) is None:
            raise FhirError.simple(404, "not-found", f"No Provenance {id}: ids are <inclusion id>-v<version>.",
                                   expression="Provenance.id", error_code="unknown-provenance")
        for v in self._versions(call, inclusion_id):
            if v.version == int(version):
                return provenance(v)
        raise FhirError.simple(404, "not-found", f"EpisodeOfCare/{inclusion_id} has no version {version}.",
                               expression="Provenance.id", error_code="unknown-version")

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        targets = [(k, v) for k, v in params if k.split(":")[0] == "target"]
        if len(targets) != 1:
            raise FhirError.simple(400, "invalid", "Give one target=EpisodeOfCare/<id> (this server keeps provenance of inclusions).",
                                   expression="target", error_code="search-criteria-missing")
        name, raw = targets[0]
        if name == "target:EpisodeOfCare" and "/" not in raw:
            raw = f"EpisodeOfCare/{raw}"
        match = _TARGET.search(raw)
        if not match:
            raise FhirError.simple(400, "not-supported", f"target {raw!r}: this server keeps provenance of EpisodeOfCare only "
                                   "(EpisodeOfCare/<id> or EpisodeOfCare/<id>/_history/<version>).", expression="target",
                                   error_code="unsupported-target")
        inclusion_id, version = match.group(1), match.group(2)
        try:
            versions = self._versions(call, inclusion_id)
        except NotFound:  # audited as refused; no such inclusion (for this caller) has no provenance
            return SearchResult([], total=0)
        chosen = [provenance(v) for v in versions if version is None or v.version == int(version)]
        offset = offset_cursor(cursor)
        page = chosen[offset:offset + count]
        more = offset + count < len(chosen)
        return SearchResult(page, str(offset + count) if more else None, total=len(chosen))


def audit_handlers() -> list[ResourceHandler]:
    return [AuditEventHandler(), ProvenanceHandler()]
