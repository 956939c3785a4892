"""Communication <-> return-to-work messages and the medical exchange
(profile be-cg-rtw-message; RP-F6, RP-F8, RP-A6).

A message between the parties of a dossier is what an implementer expects
a Communication to be: ``about`` the dossier (EpisodeOfCare/rtw-<id>), its
sender and recipient parties by identifier (rtw-party: a CBE, or
``inami``), category rtw-message-kind ``message``. Medical data from an
insurer's advising physician to INAMI's medical inspector are a
Communication of category ``medical`` to ``inami``. A message is shown to
the two parties of its conversation only, medical data to the inspector and
the sending advising physician only; search by ``about`` gives the caller's
own. Written through mappings/rtw_message.yaml.
"""

from __future__ import annotations

from typing import Any

from gateway.domain.rtw.messages import MEDICAL
from gateway.domain.rtw.trajectory_views import MessageView
from gateway.fhir.handler import CHANNEL, Call, ResourceHandler, SearchParam, SearchResult, Written
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import instant, values_of
from gateway.fhir.resources.listing import page
from gateway.fhir.resources.rtw_dossier import PREFIX as DOSSIER_PREFIX, dossier_id
from gateway.mapping.mapping import mapping

PROFILE = "https://care-gateway.be/fhir/StructureDefinition/be-cg-rtw-message"
PREFIX = "rtw-"
SP = "https://care-gateway.be/fhir/SearchParameter"


def message_to_fhir(view: MessageView) -> dict[str, Any]:
    resource = mapping("rtw_message").to_fhir({
        "id": PREFIX + view.id, "dossier": f"EpisodeOfCare/{DOSSIER_PREFIX}{view.dossier_id}", "kind": view.kind,
        "sender": view.sender, "recipient": view.recipient, "subject": view.subject, "body": view.body,
        "sent_at": instant(view.sent_at)})
    first = ("resourceType", "id", "meta", "status", "category")
    return {**{k: resource[k] for k in first if k in resource}, **{k: v for k, v in resource.items() if k not in first}}


def _dossier(reference: str | None, where: str) -> str:
    kind, _, target = (reference or "").partition("/")
    if kind != "EpisodeOfCare" or not target:
        raise FhirError.simple(422, "required", f"{where} names the dossier: EpisodeOfCare/rtw-<id>.", expression=where,
                               error_code="invalid-dossier-reference", rule="RP-F6")
    return dossier_id(target)


class CommunicationHandler(ResourceHandler):
    resource_type = "Communication"
    profile = PROFILE
    interactions = ("read", "create", "search-type")
    documentation = ("A message between two parties of a return-to-work dossier (category rtw-message-kind#message, RP-F6) "
                     "or medical data for INAMI's medical inspector (#medical, RP-F8), about the dossier "
                     "(EpisodeOfCare/rtw-<id>); sender and recipient by rtw-party identifier (a CBE, or inami). Seen by "
                     "the two parties of its conversation only; medical data by the inspector and the sending advising "
                     "physician only (RP-A6). Search by about (the dossier), optionally recipient (the other party).")
    search_params = (SearchParam("about", "reference", "The dossier: EpisodeOfCare/rtw-<id>", f"{SP}/Communication-about-dossier"),
                     SearchParam("recipient", "token", "The other party of the conversation (a CBE, or inami)"))
    paths = {"body": "Communication.payload", "dossier": "Communication.about", "id": "Communication.id",
             "recipient": "Communication.recipient"}

    def read(self, call: Call, id: str) -> dict[str, Any]:
        if not id.startswith(PREFIX):
            raise FhirError.simple(404, "not-found", "A return-to-work message's id is rtw-<id>.", error_code="unknown-message",
                                   expression="Communication.id")
        return message_to_fhir(call.cases.return_to_work.messages.read(call.principal, id[len(PREFIX):], channel=CHANNEL))

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        values = mapping("rtw_message").from_fhir(resource, only={"dossier", "kind", "recipient", "subject", "body"})
        dossier = _dossier(values["dossier"], "Communication.about")
        messages = call.cases.return_to_work.messages
        if values["kind"] == MEDICAL:
            view = messages.send_medical(call.principal, dossier, values["body"] or "", subject=values["subject"],
                                         channel=CHANNEL)
        else:
            view = messages.send(call.principal, dossier, values["recipient"] or "", values["body"] or "",
                                 subject=values["subject"], channel=CHANNEL)
        return Written(message_to_fhir(view), True)

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        about = values_of(params, "about")
        if len(about) != 1:
            raise FhirError.simple(400, "required", "Search messages by dossier: about=EpisodeOfCare/rtw-<id>.",
                                   expression="about", error_code="about-required")
        target = _dossier(about[0] if "/" in about[0] else f"EpisodeOfCare/{about[0]}", "about")
        other = values_of(params, "recipient")
        party = other[0].split("|")[-1] if other else None
        views = call.cases.return_to_work.messages.of_dossier(call.principal, target, with_party=party, channel=CHANNEL)
        return page([message_to_fhir(v) for v in views], count, cursor)


__all__ = ["CommunicationHandler", "PROFILE", "message_to_fhir"]
