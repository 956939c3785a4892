"""One test (or a few) per kind of check the validator makes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.fhir_testkit import (
    CBE, NIHDI, SSIN, errors, example, extra_profile, extra_validator, identifier, validator, warnings,
)


def core_patient(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p", **fields}


def check(resource: dict[str, Any], **kwargs: Any) -> list[tuple[str, str]]:
    return errors(validator().validate(resource, **kwargs))


# ---------------------------------------------------------------- structure
@pytest.mark.parametrize("resource, expected", [
    (["not", "an", "object"], [("structure", "$")]),
    ({"id": "x"}, [("structure", "$")]),
    ({"resourceType": "Inclusion"}, [("structure", "Inclusion")]),
    (core_patient(active=None), [("structure", "Patient.active")]),
    (core_patient(name=[]), [("structure", "Patient.name")]),
    (core_patient(name={"family": "Maes"}), [("structure", "Patient.name")]),
    (core_patient(gender=["male"]), [("structure", "Patient.gender")]),
    (core_patient(name=[{"given": ["A", None]}]), [("structure", "Patient.name[0].given[1]")]),
    (core_patient(name=[{"given": ["A", "B"], "_given": [None]}]), [("structure", "Patient.name[0].given")]),
    (core_patient(_gender="male", gender="male"), [("structure", "Patient.gender")]),
])
def test_json_shape(resource: Any, expected: list[tuple[str, str]]) -> None:
    assert check(resource) == expected


def test_invalid_json_text_is_fatal() -> None:
    result = validator().validate_json(b'{"resourceType": "Patient",')
    assert not result.valid and result.issues[0].severity == "fatal" and result.issues[0].rule == "structure"


# ----------------------------------------------------------- unknown elements
def test_unknown_elements_at_any_depth() -> None:
    resource = core_patient(nickname="Noa", name=[{"family": "Maes", "surname": "x"}], _birthdate={"id": "a"})
    assert sorted(check(resource)) == [
        ("unknown-element", "Patient._birthdate"),
        ("unknown-element", "Patient.name[0].surname"),
        ("unknown-element", "Patient.nickname"),
    ]


def test_r5_only_elements_are_unknown_in_r4() -> None:
    consent = example("Consent-research-agree")
    consent["decision"] = "permit"
    consent["provision"]["actor"] = [{"role": {"text": "x"}, "reference": {"display": "x"}}]
    assert check(consent) == [("unknown-element", "Consent.decision")]


# ---------------------------------------------------------------- choice types
def test_choice_types_resolve_by_suffix() -> None:
    assert check(core_patient(deceasedBoolean=False)) == []
    assert check(core_patient(deceasedDateTime="2026-06-01")) == []
    assert check(core_patient(deceasedString="yes")) == [("type", "Patient.deceasedString")]
    assert check(core_patient(deceasedBoolean=True, deceasedDateTime="2026-06-01")) == [("structure", "Patient.deceased[x]")]
    assert check(core_patient(deceasedFoo=True)) == [("unknown-element", "Patient.deceasedFoo")]


def test_a_profile_restricting_a_choice_refuses_the_other_types() -> None:
    patient = core_patient(birthDate="1985-07-30", deceasedDateTime="2026-06-01")
    result = extra_validator().validate(patient, profile=extra_profile("birth-required"))
    assert errors(result) == [("type", "Patient.deceasedDateTime")]


# ---------------------------------------------------------------- cardinality
def test_cardinality() -> None:
    inclusion = example("EpisodeOfCare-inclusion-principal")
    del inclusion["status"]
    inclusion["managingOrganization"].pop("identifier")
    assert sorted(check(inclusion)) == [
        ("cardinality", "EpisodeOfCare.managingOrganization.identifier"),
        ("cardinality", "EpisodeOfCare.status"),
    ]
    consent = example("Consent-research-agree")
    consent["category"].append({"text": "second"})
    consent["provision"]["provision"] = [{"type": "deny"}]
    assert sorted(check(consent)) == [
        ("cardinality", "Consent.category"),
        ("cardinality", "Consent.provision.provision"),
        ("pattern", "Consent.category[1]"),
    ]


# ------------------------------------------------------------------ primitives
@pytest.mark.parametrize("field, value, rule", [
    ("birthDate", "1985", None),
    ("birthDate", "1985-07", None),
    ("birthDate", "1985-07-30", None),
    ("birthDate", "1985-13-01", "format"),
    ("birthDate", "2026-02-30", "format"),
    ("birthDate", "30/07/1985", "format"),
    ("birthDate", "1985-07-30T10:00:00+02:00", "format"),
    ("birthDate", 19850730, "type"),
    ("deceasedDateTime", "2026-06-01T10:00:00+02:00", None),
    ("deceasedDateTime", "2026-06-01T10:00:00", "format"),
    ("active", True, None),
    ("active", "true", "type"),
    ("multipleBirthInteger", 2, None),
    ("multipleBirthInteger", 1.5, "type"),
    ("multipleBirthInteger", "2", "type"),
    ("multipleBirthInteger", True, "type"),
    ("multipleBirthInteger", 2**31, "format"),
    ("id", "abc-1.2", None),
    ("id", "a_b", "format"),
    ("id", "x" * 65, "format"),
    ("gender", " male", "format"),
    ("implicitRules", "http://x/a b", "format"),
])
def test_primitive_formats(field: str, value: Any, rule: str | None) -> None:
    found = check(core_patient(**{field: value}))
    assert found == ([] if rule is None else [(rule, f"Patient.{field}")])


def test_instant_decimal_positive_int_and_empty_string() -> None:
    assert check(core_patient(meta={"lastUpdated": "2026-04-20"})) == [("format", "Patient.meta.lastUpdated")]
    assert check(core_patient(meta={"lastUpdated": "2026-04-20T10:00:00.123Z"})) == []
    assert check(core_patient(name=[{"family": ""}])) == [("format", "Patient.name[0].family")]
    request = example("ServiceRequest-referral-return-to-work")
    request["quantityQuantity"] = {"value": "12.5"}
    assert check(request) == [("type", "ServiceRequest.quantityQuantity.value")]
    request["quantityQuantity"] = {"value": 12.5, "unit": "h"}
    assert check(request) == []
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["diagnosis"] = [{"condition": {"reference": "Condition/c1"}, "rank": 0}]
    assert check(inclusion) == [("format", "EpisodeOfCare.diagnosis[0].rank")]


# -------------------------------------------------------------- complex types
def test_complex_values_are_checked_by_recursion_into_their_type() -> None:
    patient = core_patient(identifier=[{"system": SSIN, "value": "85073003328", "period": {"start": "2020-02-30"}}],
                           maritalStatus="married")
    assert sorted(check(patient)) == [
        ("format", "Patient.identifier[0].period.start"),
        ("type", "Patient.maritalStatus"),
    ]


# ------------------------------------------------------------------ references
def test_reference_targets() -> None:
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["careManager"]["reference"] = "Organization/o1"
    inclusion["patient"]["reference"] = "https://fhir.example.be/fhir/Patient/p1"
    assert check(inclusion) == [("reference", "EpisodeOfCare.careManager.reference")]
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["patient"]["reference"] = "patient-1"
    assert check(inclusion) == [("reference", "EpisodeOfCare.patient.reference")]
    inclusion["patient"]["reference"] = "Inclusion/1"
    assert check(inclusion) == [("reference", "EpisodeOfCare.patient.reference")]
    team = example("CareTeam-clinical-group")
    team["subject"]["reference"] = "Patient/p1"
    team["subject"]["type"] = "Group"
    assert check(team) == [("reference", "CareTeam.subject.type")]


def test_contained_reference_is_checked_against_the_contained_type() -> None:
    consent = example("Consent-research-agree")
    consent["contained"] = [{"resourceType": "Organization", "id": "psi", "name": "PSI"}]
    consent["performer"] = [{"reference": "#psi"}]
    assert check(consent) == [("reference", "Consent.performer[0].reference")]


# -------------------------------------------------------------- fixed, pattern
def test_fixed_and_pattern() -> None:
    referral = example("ServiceRequest-referral-return-to-work")
    referral["intent"] = "plan"
    assert check(referral) == [("fixed", "ServiceRequest.intent")]
    consent = example("Consent-research-agree")
    consent["policy"][0]["uri"] = "https://example.org/policy"
    consent["scope"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "research"}],
                        "text": "research (extra text is allowed by a pattern)"}
    assert check(consent) == [("fixed", "Consent.policy[0].uri")]


# --------------------------------------------------------------------- bindings
def test_required_binding_on_code_and_codeable_concept() -> None:
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["status"] = "ongoing"
    inclusion["type"] = [{"text": "principal"}]
    assert sorted(check(inclusion)) == [
        ("binding", "EpisodeOfCare.status"),
        ("binding", "EpisodeOfCare.type[0]"),
        ("cardinality", "EpisodeOfCare.type[0].coding"),
    ]


def test_extensible_binding_outside_the_value_set_is_a_warning() -> None:
    result = validator().validate(core_patient(maritalStatus={  # HL7 Belgium's civil states are not R4's value set
        "coding": [{"system": "https://www.ehealth.fgov.be/standards/fhir/core/CodeSystem/cd-civilstate", "code": "26"}]}))
    assert result.valid
    assert warnings(result) == [("binding", "Patient.maritalStatus.coding[0].code")]
    assert warnings(validator().validate(core_patient(maritalStatus={"text": "widowed, remarried"}))) == []


def test_required_binding_that_cannot_be_expanded_is_a_warning() -> None:
    patient = core_patient(maritalStatus={"coding": [{"system": "http://snomed.info/sct", "code": "87915002"}]})
    result = extra_validator().validate(patient, profile=extra_profile("filtered-binding"))
    assert result.valid
    assert warnings(result) == [("binding", "Patient.maritalStatus.coding[0].code")]
    assert "filters" in result.warnings[0].message


def test_grammar_based_code_systems() -> None:
    assert check(core_patient(photo=[{"contentType": "image/jpeg"}])) == []
    assert check(core_patient(photo=[{"contentType": "jpeg"}])) == [("binding", "Patient.photo[0].contentType")]


# ---------------------------------------------------------------------- slicing
def test_open_identifier_slicing_accepts_other_systems_and_counts_slices() -> None:
    organization = example("Organization-psi")
    organization["identifier"].append({"system": "https://example.org/local", "value": "42"})
    assert check(organization) == []
    organization["identifier"].append(identifier(NIHDI, "71514833000"))
    assert check(organization) == [("slice", "Organization.identifier")]


def test_closed_slicing_refuses_unmatched_items_and_requires_its_slices() -> None:
    profile = extra_profile("closed-identifiers")
    patient = core_patient(identifier=[identifier(SSIN, "85073003328"), {"system": "https://example.org/mrn", "value": "7"}])
    assert errors(extra_validator().validate(patient, profile=profile)) == [("slice", "Patient.identifier[1]")]
    patient = core_patient(identifier=[{"system": "https://example.org/mrn", "value": "7"}])
    assert sorted(errors(extra_validator().validate(patient, profile=profile))) == [
        ("slice", "Patient.identifier"), ("slice", "Patient.identifier[0]")]


def test_pattern_discriminator_slices_codeable_concepts() -> None:
    referral = example("ServiceRequest-referral-return-to-work")
    referral["category"].append({"coding": [{"system": "https://care-gateway.be/fhir/CodeSystem/referral-programme",
                                             "code": "perinatal"}]})
    assert check(referral) == [("slice", "ServiceRequest.category")]


def test_extensions_by_url() -> None:
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["extension"].append({"url": "https://fhir.partner.be/StructureDefinition/local-note", "valueString": "ok"})
    assert check(inclusion) == [("Extension_EXT_Unknown_NotHere", "EpisodeOfCare.extension[2]")]  # no definition
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["extension"].append({"url": "https://care-gateway.be/fhir/StructureDefinition/billing", "valueString": "x"})
    assert check(inclusion) == [("Extension_EXT_Unknown_NotHere", "EpisodeOfCare.extension[2]")]
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["modifierExtension"] = [{"url": "https://fhir.partner.be/StructureDefinition/void", "valueBoolean": True}]
    assert check(inclusion) == [("Extension_EXT_Unknown_NotHere", "EpisodeOfCare.modifierExtension[0]")]
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["extension"][0]["valueDate"] = "2026-04-01"
    assert ("type", "EpisodeOfCare.extension[0].valueDate") in check(inclusion)


def test_known_core_extensions_are_validated_outside_slices_and_on_primitives() -> None:
    birth_time = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
    ok = core_patient(birthDate="1985-07-30", _birthDate={"extension": [{"url": birth_time, "valueDateTime": "1985-07-30T10:20:00+02:00"}]})
    assert check(ok) == []
    bad = core_patient(birthDate="1985-07-30", _birthDate={"extension": [{"url": birth_time, "valueString": "10:20"}]})
    assert check(bad) == [("type", "Patient.birthDate.extension[0].valueString")]


# ------------------------------------------------------------------- invariants
def test_core_invariants() -> None:
    patient = core_patient(
        text={"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>'},
        name=[{"family": "Maes", "period": {"start": "2020-01-01", "end": "2019-01-01"}}],
        contact=[{"gender": "female"}],
        extension=[{"url": "https://example.org/x", "valueString": "a", "extension": [{"url": "b", "valueString": "c"}]}],
        generalPractitioner=[{"reference": "#gp"}],
        managingOrganization={},
    )
    found = check(patient)
    assert ("per-1", "Patient.name[0].period") in found
    assert ("txt-1", "Patient.text.div") in found
    assert ("pat-1", "Patient.contact[0]") in found
    assert ("ext-1", "Patient.extension[0]") in found
    assert ("ref-1", "Patient.generalPractitioner[0]") in found
    assert ("ele-1", "Patient.managingOrganization") in found


def test_contained_resources_are_validated_and_must_be_referenced() -> None:
    consent = example("Consent-research-agree")
    consent["contained"] = [
        {"resourceType": "Patient", "id": "p1", "birthDate": "1985-02-30"},
        {"resourceType": "RelatedPerson", "id": "r1", "patient": {"reference": "#p1"},
         "contained": [{"resourceType": "Patient", "id": "p2"}]},
    ]
    consent["performer"] = [{"reference": "#p1"}]
    found = check(consent)
    assert ("format", "Consent.contained[0].birthDate") in found
    assert ("dom-2", "Consent") in found  # nested contained
    assert ("dom-3", "Consent.contained[1]") in found  # r1 is referred to by nobody: named, as the HL7 validator does


def test_ctm_1_resolves_contained_members() -> None:
    team = example("CareTeam-clinical-group")
    team["contained"] = [{"resourceType": "RelatedPerson", "id": "daughter", "patient": team["subject"]}]
    team["participant"][2] = {"member": {"reference": "#daughter"}, "onBehalfOf": team["participant"][0]["onBehalfOf"]}
    assert check(team) == [("ctm-1", "CareTeam.participant[2]")]


def test_bundle_entries_are_validated_by_their_own_type_and_profile() -> None:
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["patient"]["identifier"]["value"] = "85073003329"
    bundle = {"resourceType": "Bundle", "type": "transaction", "total": 2, "entry": [
        {"fullUrl": "urn:uuid:1c7e5f3a-0b1d-4a8e-9e5c-2b7d9f1a3c55", "resource": inclusion,
         "request": {"method": "POST", "url": "EpisodeOfCare"}},
        {"resource": {"resourceType": "Decision"}, "request": {"method": "POST", "url": "Decision"}},
    ]}
    assert sorted(check(bundle)) == [
        ("bdl-1", "Bundle"),
        ("cg-niss-1", "Bundle.entry[0].resource.patient.identifier"),
        ("structure", "Bundle.entry[1].resource"),
    ]


def test_an_invariant_that_cannot_be_evaluated_is_a_warning_naming_it() -> None:
    result = extra_validator().validate(core_patient(), profile=extra_profile("unsupported-invariant"))
    assert result.valid
    assert warnings(result) == [("test-1", "Patient")]
    assert result.warnings[0].code == "not-supported"


def test_best_practice_invariants_are_information() -> None:
    result = validator().validate(core_patient())
    assert result.valid and result.issues
    assert {(i.severity, i.rule) for i in result.issues} == {("information", "dom-6")}
    assert result.findings() == []


# --------------------------------------------------------------------- profiles
def test_profile_selection() -> None:
    inclusion = example("EpisodeOfCare-inclusion-principal")
    del inclusion["type"]
    assert check(inclusion) == [("cardinality", "EpisodeOfCare.type")]  # meta.profile used
    assert check(inclusion, profile="http://hl7.org/fhir/StructureDefinition/EpisodeOfCare") == []
    unknown = "https://fhir.partner.be/StructureDefinition/unknown"
    inclusion["meta"]["profile"] = [unknown]
    result = validator().validate(inclusion)
    assert result.valid and warnings(result) == [("Validation_VAL_Profile_Unknown", "EpisodeOfCare.meta.profile[0]")]
    assert result.profiles == ("http://hl7.org/fhir/StructureDefinition/EpisodeOfCare",)
    assert check(inclusion, profile=unknown) == [("Unable_to_locate_the_profile__in_order_to_validate_against_it", "EpisodeOfCare")]
    assert check(example("Patient-niss-2000"), profile="https://care-gateway.be/fhir/StructureDefinition/be-cg-inclusion") == [
        ("Validation_VAL_Profile_WrongType", "Patient")]


def test_cbe_and_nihii_checks_apply_wherever_our_profiles_type_an_identifier() -> None:
    task = example("Task-referral-accepted")
    task["owner"]["identifier"] = identifier(CBE, "0820563480")
    assert check(task) == [("cg-cbe-1", "Task.owner.identifier")]
    task["owner"]["identifier"] = identifier(CBE, "BE0820563481")  # compact digits only on the wire
    assert check(task) == [("cg-cbe-1", "Task.owner.identifier")]
    task["owner"]["identifier"] = identifier(NIHDI, "19234011004")
    assert check(task) == []
