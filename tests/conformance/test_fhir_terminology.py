"""ValueSet expansion from the package and our profiles."""

from __future__ import annotations

from gateway.conformance.fhir.package import Definitions
from gateway.conformance.fhir.terminology import Membership, Terminology
from tests.conformance.fhir_testkit import BASE, validator


def test_our_value_sets_expand_completely() -> None:
    expansion = validator().terminology.expand(f"{BASE}/ValueSet/inclusion-status")
    assert expansion.complete
    assert expansion.codes == {(f"{BASE}/CodeSystem/inclusion-status", "principal"),
                               (f"{BASE}/CodeSystem/inclusion-status", "information")}
    assert expansion.contains(None, "principal") is Membership.IN
    assert expansion.contains(f"{BASE}/CodeSystem/inclusion-status", "primary") is Membership.NOT_IN
    assert expansion.contains("https://example.org/other", "principal") is Membership.NOT_IN


def test_core_value_sets_with_versioned_canonicals() -> None:
    expansion = validator().terminology.expand("http://hl7.org/fhir/ValueSet/consent-provision-type|4.0.1")
    assert {code for _, code in expansion.codes} == {"permit", "deny"}
    task_intent = validator().terminology.expand("http://hl7.org/fhir/ValueSet/task-intent")
    assert task_intent.contains(None, "order") is Membership.IN  # from a concept list of another system
    assert task_intent.contains(None, "unknown") is Membership.IN  # from the whole task-intent system


def _terminology(*resources: dict) -> Terminology:
    definitions = Definitions()
    definitions.add(resources)
    return Terminology(definitions)


def test_includes_excludes_imports_filters_and_grammars() -> None:
    cs = {"resourceType": "CodeSystem", "url": "urn:cs", "content": "complete",
          "concept": [{"code": "a", "concept": [{"code": "a1"}]}, {"code": "b"}, {"code": "c"}]}
    whole = {"resourceType": "ValueSet", "url": "urn:vs:whole", "compose": {
        "include": [{"system": "urn:cs"}], "exclude": [{"system": "urn:cs", "concept": [{"code": "c"}]}]}}
    imported = {"resourceType": "ValueSet", "url": "urn:vs:import", "compose": {"include": [{"valueSet": ["urn:vs:whole"]}]}}
    filtered = {"resourceType": "ValueSet", "url": "urn:vs:filter", "compose": {"include": [
        {"system": "urn:cs", "concept": [{"code": "b"}]},
        {"system": "http://snomed.info/sct", "filter": [{"property": "concept", "op": "is-a", "value": "1"}]}]}}
    grammar = {"resourceType": "ValueSet", "url": "urn:vs:mime", "compose": {"include": [{"system": "urn:ietf:bcp:13"}]}}
    terminology = _terminology(cs, whole, imported, filtered, grammar)
    expanded = terminology.expand("urn:vs:import")
    assert expanded.complete and {c for _, c in expanded.codes} == {"a", "a1", "b"}  # nested concepts, exclude
    partial = terminology.expand("urn:vs:filter")
    assert not partial.complete and "filters" in partial.partial[0]
    assert partial.contains("urn:cs", "b") is Membership.IN
    assert partial.contains("http://snomed.info/sct", "123") is Membership.UNDETERMINED
    mime = terminology.expand("urn:vs:mime")
    assert mime.contains(None, "application/fhir+json") is Membership.IN
    assert mime.contains(None, "fhir json") is Membership.NOT_IN
    unknown = terminology.expand("urn:vs:missing")
    assert not unknown.complete and unknown.contains(None, "x") is Membership.UNDETERMINED
