"""References resolved inside Bundles as R4 says, and the rules of each kind of
Bundle (documents, messages, search sets, transactions)."""

from __future__ import annotations

from typing import Any

from gateway.conformance.fhir.bundles import Entries
from tests.conformance.fhir_testkit import errors, validator, warnings

BASE = "https://fhir.partner.be/fhir/"


def entry(url: str | None, resource: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resource} if url is None else {"fullUrl": url, "resource": resource}


def test_resolution_follows_the_fullurl_of_the_referring_entry() -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        entry(BASE + "Patient/p", {"resourceType": "Patient", "id": "p", "meta": {"versionId": "2"}}),
        entry("urn:uuid:0b3c7e3e-9a1d-4c55-8c2e-1f1f1f1f1f1f", {"resourceType": "Patient", "id": "q"}),
    ]}
    entries = Entries.of(bundle, "Bundle")
    assert entries.resolve("Patient/p", BASE + "Observation/o").targets == [0]  # relative to a RESTful fullUrl
    assert entries.resolve("Patient/p", "urn:uuid:0b3c7e3e-9a1d-4c55-8c2e-1f1f1f1f1f1f").targets == []  # not from a urn
    assert entries.resolve(BASE + "Patient/p/_history/2", None).targets == [0]
    assert entries.resolve(BASE + "Patient/p/_history/1", None).targets == []
    assert entries.resolve("urn:uuid:0b3c7e3e-9a1d-4c55-8c2e-1f1f1f1f1f1f", None).targets == [1]


def test_reference_types_are_checked_against_the_entry_they_resolve_to() -> None:
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {**entry("urn:uuid:0b3c7e3e-9a1d-4c55-8c2e-1f1f1f1f1f1f", {"resourceType": "Organization", "name": "PSI"}),
         "request": {"method": "POST", "url": "Organization"}},
        {**entry(None, {"resourceType": "EpisodeOfCare", "status": "active",
                        "patient": {"reference": "urn:uuid:0b3c7e3e-9a1d-4c55-8c2e-1f1f1f1f1f1f"}}),
         "request": {"method": "POST", "url": "EpisodeOfCare"}},
    ]}
    assert errors(validator().validate(bundle)) == [("reference", "Bundle.entry[1].resource.patient.reference")]


def test_versioned_reference_to_an_entry_without_version_is_a_warning() -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        entry(BASE + "Patient/p", {"resourceType": "Patient", "id": "p"}),
        entry(BASE + "List/l", {"resourceType": "List", "id": "l", "status": "current", "mode": "working",
                                "entry": [{"item": {"reference": "Patient/p/_history/4"}}]}),
    ]}
    result = validator().validate(bundle)
    assert result.valid
    assert warnings(result) == [("Bundle_BUNDLE_FullUrl_NeedVersion", "Bundle.entry[1].resource.entry[0].item.reference")]


def test_message_focus_must_resolve_and_entries_be_reachable() -> None:
    header = {"resourceType": "MessageHeader", "id": "h", "eventCoding": {"system": "https://x.be/events", "code": "e"},
              "source": {"endpoint": "https://x.be"}, "focus": [{"reference": "Patient/absent"}]}
    bundle = {"resourceType": "Bundle", "type": "message", "timestamp": "2026-05-04T08:00:00Z", "entry": [
        entry(BASE + "MessageHeader/h", header), entry(BASE + "Patient/p", {"resourceType": "Patient", "id": "p"})]}
    result = validator().validate(bundle)
    assert errors(result) == [("Bundle_BUNDLE_Entry_NotFound", "Bundle.entry[0].resource.focus[0].reference")]
    assert warnings(result) == [("Bundle_BUNDLE_Entry_Orphan_MESSAGE", "Bundle.entry[1]")]


def test_documents_and_messages_need_entries_with_fullurls() -> None:
    empty = {"resourceType": "Bundle", "type": "message", "timestamp": "2026-05-04T08:00:00Z"}
    assert ("Bundle_BUNDLE_Entry_NoFirst", "Bundle") in errors(validator().validate(empty))
    header = {"resourceType": "MessageHeader", "id": "h", "eventCoding": {"system": "https://x.be/events", "code": "e"},
              "source": {"endpoint": "https://x.be"}}
    anonymous = {**empty, "entry": [{"resource": header}]}
    assert errors(validator().validate(anonymous)) == [("Bundle_BUNDLE_Entry_NoFullUrl", "Bundle.entry[0]")]
