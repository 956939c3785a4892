"""The shipped R4 core package and how the validator loads it."""

from __future__ import annotations

import hashlib
import re
import tarfile

from gateway.conformance.fhir import FhirValidator
from gateway.conformance.fhir.package import BELGIAN_PACKAGES, CORE_PACKAGE, Definitions
from gateway.contracts import ROOT, contract


def test_core_package_is_shipped_with_its_documented_checksum() -> None:
    package = contract("fhir", "packages", CORE_PACKAGE)
    readme = contract("fhir", "packages", "README.md").read_text(encoding="utf-8")
    documented = re.search(r"sha256 ([0-9a-f]{64})", readme)
    assert documented is not None
    assert hashlib.sha256(package.read_bytes()).hexdigest() == documented.group(1)
    assert package.resolve().is_relative_to(ROOT.resolve())  # inside the project, not ../shared


def test_belgian_packages_are_shipped_with_their_documented_checksums() -> None:
    readme = contract("fhir", "packages", "README.md").read_text(encoding="utf-8")
    for name in BELGIAN_PACKAGES:
        package = contract("fhir", "packages", name)
        assert f"{hashlib.sha256(package.read_bytes()).hexdigest()}  {name}" in readme
        assert package.resolve().is_relative_to(ROOT.resolve())
    definitions = FhirValidator.default().definitions
    assert definitions.kind_of("https://www.ehealth.fgov.be/standards/fhir/core/StructureDefinition/be-patient") == "resource"
    assert definitions.code_system("https://www.ehealth.fgov.be/standards/fhir/core/CodeSystem/cd-hcparty") is not None


def test_data_folders_are_not_python_packages() -> None:
    for folder in ("fhir", "profiles"):
        assert not list(contract(folder).rglob("__init__.py")), f"{folder}/ must stay a data folder"


def test_package_is_indexed_by_canonical_url_and_versioned_canonicals_resolve() -> None:
    definitions = Definitions()
    definitions.load_package(contract("fhir", "packages", CORE_PACKAGE))
    sd = definitions.structure_definition("http://hl7.org/fhir/StructureDefinition/EpisodeOfCare")
    assert sd is not None and sd["fhirVersion"] == "4.0.1" and "snapshot" in sd
    assert definitions.value_set("http://hl7.org/fhir/ValueSet/episode-of-care-status|4.0.1") is not None
    assert definitions.code_system("http://terminology.hl7.org/CodeSystem/consentscope") is not None
    assert definitions.is_resource_type("Consent") and not definitions.is_resource_type("Identifier")
    assert definitions.is_data_type("Identifier") and definitions.is_data_type("dateTime")
    assert not definitions.is_resource_type("Decision")


def test_package_holds_r4_not_r5(tmp_path) -> None:
    with tarfile.open(contract("fhir", "packages", CORE_PACKAGE)) as archive:
        manifest = archive.extractfile("package/package.json")
        assert manifest is not None and b'"4.0.1"' in manifest.read()
    consent = FhirValidator.default().structures.for_type("Consent")
    assert consent is not None
    assert "decision" not in consent.root.children  # R5-only
    assert "type" in consent.root.children["provision"].children


def test_default_validator_is_built_once() -> None:
    first = FhirValidator.default()
    assert FhirValidator.default() is first
    assert first.structures.for_type("Patient") is first.structures.for_type("Patient")  # cached structure
