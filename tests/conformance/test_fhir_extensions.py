"""Extensions as the HL7 validator judges them: url present and absolute, parts
of a complex extension against its definition, unknown extensions refused by
default (accepted for trusted domains, never for modifiers), context, modifier
and simple/complex use of known ones; HL7 Belgium's pseudonymisation extension
comes from the shipped infsec package."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from gateway.conformance.fhir import FhirValidator
from gateway.conformance.fhir.package import default_definitions
from tests.conformance.fhir_testkit import PSEUDO, SSIN, errors, identifier, validator, warnings

PARTNER = "https://fhir.partner.be/StructureDefinition/"


def patient(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p", **fields}


@lru_cache(maxsize=1)
def trusting() -> FhirValidator:
    return FhirValidator(default_definitions(), extension_domains=(PARTNER,))


def test_Extension_EXT_Unknown_NotHere_unless_the_domain_is_trusted() -> None:
    resource = patient(extension=[{"url": PARTNER + "preferred-language", "valueCode": "nl"}])
    assert errors(validator().validate(resource)) == [("Extension_EXT_Unknown_NotHere", "Patient.extension[0]")]
    result = trusting().validate(resource)
    assert errors(result) == [] and warnings(result) == []
    assert [(i.severity, i.rule) for i in result.issues if i.rule.startswith("Extension")] == [
        ("information", "Extension_EXT_Unknown")]


def test_an_unknown_modifier_extension_is_refused_even_from_a_trusted_domain() -> None:
    resource = patient(modifierExtension=[{"url": PARTNER + "not-really", "valueBoolean": True}])
    assert errors(trusting().validate(resource)) == [("Extension_EXT_Unknown_NotHere", "Patient.modifierExtension[0]")]


def test_Extension_EXT_SubExtension_Invalid_and_absolute_parts() -> None:
    value = identifier(SSIN, "urn:be:fgov:pseudo:v2:abc", pseudonymised=True)
    assert errors(validator().validate(patient(identifier=[value]))) == []
    parts = value["_value"]["extension"][0]["extension"]
    parts.append({"url": "salt", "valueString": "x"})
    assert errors(validator().validate(patient(identifier=[value]))) == [
        ("Extension_EXT_SubExtension_Invalid", "Patient.identifier[0].value.extension[0].extension[1]")]
    parts[-1] = {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "masked"}
    assert errors(validator().validate(patient(identifier=[value]))) == []  # an extension on the extension, by its own url


def test_the_pseudonymisation_extension_is_validated_by_its_infsec_definition() -> None:
    assert validator().extensions.definition(PSEUDO) is not None
    value = identifier(SSIN, "urn:be:fgov:pseudo:v2:abc", pseudonymised=True)
    value["_value"]["extension"][0]["extension"] = [{"url": "marker", "valueBoolean": False},
                                                     {"url": "format", "valueCode": "hashed"}]
    found = errors(validator().validate(patient(identifier=[value])))
    base = "Patient.identifier[0].value.extension[0].extension"
    assert ("pattern", f"{base}[0].valueBoolean") in found  # marker is true when present
    assert ("binding", f"{base}[1].valueCode") in found  # direct | encrypted


def test_url_present_and_absolute() -> None:
    assert errors(validator().validate(patient(extension=[{"valueString": "x"}]))) == [
        ("Extension_EXT_Url_NotFound", "Patient.extension[0]"), ("cardinality", "Patient.extension[0].url")]
    assert errors(validator().validate(patient(extension=[{"url": "note", "valueString": "x"}]))) == [
        ("Extension_EXT_URL_Absolute", "Patient.extension[0].url")]


def test_context_modifier_and_simple_use_of_known_extensions() -> None:
    birth_time = {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1985-07-30T10:20:00Z"}
    assert errors(validator().validate(patient(birthDate="1985-07-30", _birthDate={"extension": [birth_time]}))) == []
    assert errors(validator().validate(patient(extension=[birth_time]))) == [
        ("Extension_EXTP_Context_Wrong", "Patient.extension[0]")]
    assert errors(validator().validate(patient(modifierExtension=[birth_time]))) == [
        ("Extension_EXT_Modifier_Y", "Patient.modifierExtension[0]"), ("Extension_EXTM_Context_Wrong", "Patient.modifierExtension[0]")]
    absent = {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason"}
    assert ("Extension_EXT_Simple_ABSENT", "Patient.birthDate.extension[0]") in errors(
        validator().validate(patient(_birthDate={"extension": [absent]})))
