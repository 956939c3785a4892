"""Our profiles built on HL7 Belgium's: they declare their Belgian base, what
the gateway emits conforms to that base too, and a partner's BePatient
validates against our patient profile unchanged."""

from __future__ import annotations

import json
import tarfile
from typing import Any

import pytest

from gateway.contracts import contract
from tests.conformance.fhir_testkit import PROFILES, SD, errors, example, examples, validator, warnings

BE_CORE = "https://www.ehealth.fgov.be/standards/fhir/core/StructureDefinition/"
BE_CARE = "https://www.ehealth.fgov.be/standards/fhir/patient-care/StructureDefinition/"
BASES = {
    "be-cg-patient": BE_CORE + "be-patient",
    "be-cg-practitioner": BE_CORE + "be-practitioner",
    "be-cg-practitioner-role": BE_CORE + "be-practitionerrole",
    "be-cg-organization": BE_CORE + "be-organization",
    "be-cg-care-team": BE_CARE + "be-careteam",
}


def package_examples(package: str, prefix: str) -> list[dict[str, Any]]:
    with tarfile.open(contract("fhir", "packages", package)) as archive:
        return [json.load(archive.extractfile(m))  # type: ignore[arg-type]
                for m in archive.getmembers() if m.name.startswith(f"package/example/{prefix}")]


@pytest.mark.parametrize("ours, base", BASES.items())
def test_our_profiles_declare_their_hl7_belgium_base(ours: str, base: str) -> None:
    structure = validator().structures.get(f"{SD}/{ours}")
    assert structure is not None and structure.definition["baseDefinition"] == base
    assert validator().structures.get(base) is not None


def test_the_pseudonymisation_extension_is_infsec_s() -> None:
    identifier = validator().structures.get(f"{SD}/be-cg-identifier")
    assert identifier is not None
    [pseudonymised] = identifier.element("Identifier.value.extension").slices  # type: ignore[union-attr]
    assert pseudonymised.types[0].profiles == (
        "https://www.ehealth.fgov.be/standards/fhir/infsec/StructureDefinition/be-ext-pseudonymization",)


@pytest.mark.parametrize("path", [p for p in examples() if json.loads(p.read_text())["resourceType"] in
                                  {"Patient", "Practitioner", "PractitionerRole", "Organization", "CareTeam"}],
                         ids=lambda p: p.name)
def test_what_the_gateway_emits_conforms_to_the_belgian_base_too(path: Any) -> None:
    resource = json.loads(path.read_text())
    ours = resource["meta"]["profile"][0].rsplit("/", 1)[-1]
    result = validator().validate(resource, profile=BASES[ours])
    assert errors(result) == [] and warnings(result) == []


def test_a_partner_be_patient_validates_against_our_patient_profile_unchanged() -> None:
    partner = json.loads(contract("conformance", "messages", "fhir", "valid", "be-patient-from-partner.json").read_text())
    assert partner["meta"]["profile"] == [BE_CORE + "be-patient"]
    for profile in (BE_CORE + "be-patient", PROFILES["Patient"]):
        result = validator().validate(partner, profile=profile)
        assert errors(result) == [] and warnings(result) == [], profile


def test_hl7_belgium_s_pseudonymised_example_patients_validate_against_ours_unchanged() -> None:
    patients = package_examples("hl7.fhir.be.infsec-1.2.0.tgz", "Patient-")
    assert len(patients) == 3
    for patient in patients:
        assert errors(validator().validate(patient, profile=PROFILES["Patient"])) == []


def test_cg_niss_1_is_all_we_add_to_be_patient() -> None:
    """HL7 Belgium's own example patients carry made-up SSINs: valid BePatients, refused only for their check digits."""
    for patient in package_examples("hl7.fhir.be.core-2.1.2.tgz", "Patient-"):
        assert errors(validator().validate(patient, profile=BE_CORE + "be-patient")) == []
        assert errors(validator().validate(patient, profile=PROFILES["Patient"])) == [("cg-niss-1", "Patient.identifier[0]")]


def test_be_inv_ssin_applies_to_the_ssin_slice() -> None:
    patient = example("Patient-niss-2000")
    patient["identifier"][0]["value"] = "17.07.30-033.84"
    found = errors(validator().validate(patient))
    assert ("be-inv-SSIN", "Patient.identifier[0]") in found and ("cg-niss-1", "Patient.identifier[0]") in found


def test_hl7_belgium_s_identifier_invariants_evaluated_directly_mean_their_fhirpath() -> None:
    """be-inv-NIHDI, be-inv-SSIN and be-inv-CBE are evaluated without the FHIRPath engine (they sit on every
    identifier): on every kind of identifier, the direct answer is the engine's."""
    from gateway.conformance.fhir.invariants import _shaped

    organization = validator().structures.get(BE_CORE + "be-organization")
    assert organization is not None
    constraints = [c for c in organization.element("Organization.identifier").constraints  # type: ignore[union-attr]
                   if c.key in ("be-inv-NIHDI", "be-inv-SSIN", "be-inv-CBE")]
    assert len(constraints) == 3
    namespace = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/"
    pseudo = "https://www.ehealth.fgov.be/standards/fhir/infsec/StructureDefinition/be-ext-pseudonymization"
    compared = 0
    for system in ("nihdi", "nihdi-professional", "ssin", "cbe", "ehp"):
        for value in ("19234011004", "19234011", "85.07.30-033.28", "0820563481", "2820563481", "x85073003328x"):
            for marker in (None, pseudo, "https://fhir.partner.be/StructureDefinition/masked"):
                identifier: dict[str, Any] = {"system": namespace + system, "value": value}
                if marker:
                    identifier["_value"] = {"extension": [{"url": marker, "valueString": "x"}]}
                for constraint in constraints:
                    direct = _shaped(constraint.expression)  # type: ignore[arg-type]
                    assert direct is not None
                    engine = validator().fhirpath.evaluate(identifier, constraint.expression,  # type: ignore[arg-type]
                                                           focus_type="Identifier")
                    assert direct(identifier, None) is validator().fhirpath.truth(engine), (constraint.key, identifier)
                    compared += 1
    assert compared == 270
