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


def _rules(finding_list: list) -> list[tuple[str, str]]:
    return [(rule, suffix) for _, rule, suffix, _, _ in finding_list]


def test_codings_are_checked_against_complete_code_systems_without_a_server() -> None:
    cs = {"resourceType": "CodeSystem", "url": "https://codes.example.be/cs", "version": "3", "content": "complete",
          "caseSensitive": False, "concept": [{"code": "Alpha", "display": "First letter",
                                               "designation": [{"language": "nl", "value": "Eerste letter"}]},
                                              {"code": "beta"}]}
    partial = {"resourceType": "CodeSystem", "url": "https://codes.example.be/fragment", "content": "fragment",
               "concept": [{"code": "x"}]}
    vs = {"resourceType": "ValueSet", "url": "https://codes.example.be/vs", "compose": {"include": [{"system": cs["url"]}]}}
    terminology = _terminology(cs, partial, vs)
    check = terminology.coding_findings
    assert check({"system": cs["url"], "code": "ALPHA", "display": "eerste LETTER"}) == []  # case-insensitive system
    assert check({"system": cs["url"], "code": "beta", "display": "anything"}) == []  # no display to compare with
    assert _rules(check({"system": cs["url"], "code": "gamma"})) == [("Unknown_Code_in_Version", ".code")]
    assert _rules(check({"system": cs["url"], "code": "alpha", "display": "Second letter"})) == [
        ("Display_Name_for__should_be_one_of__instead_of", ".display")]
    assert _rules(check({"system": cs["url"], "code": "alpha", "display": "First  letter"})) == [
        ("Display_Name_WS_for__should_be_one_of__instead_of", ".display")]
    assert check({"system": partial["url"], "code": "other"}) == []  # a fragment says nothing of absent codes
    assert check({"system": "https://codes.example.be/unknown", "code": "z"}) == []
    assert _rules(check({"system": vs["url"], "code": "Alpha"})) == [("Terminology_TX_System_ValueSet2", ".system")]
    assert _rules(check({"system": "letters", "code": "Alpha"})) == [("Terminology_TX_System_Relative", ".system")]


def test_display_issues_can_be_warnings_as_the_hl7_validator_allows() -> None:
    cs = {"resourceType": "CodeSystem", "url": "https://codes.example.be/cs", "content": "complete",
          "concept": [{"code": "a", "display": "First letter"}]}
    definitions = Definitions()
    definitions.add([cs])
    lenient = Terminology(definitions, display_warnings=True)
    assert [f[:2] for f in lenient.coding_findings({"system": cs["url"], "code": "a", "display": "x"})] == [
        ("warning", "Display_Name_for__should_be_one_of__instead_of")]
