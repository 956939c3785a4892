"""Snapshot generation from our differentials."""

from __future__ import annotations

import json

import pytest

from gateway.conformance.fhir.snapshot import SnapshotError, SnapshotGenerator
from gateway.contracts import contract
from tests.conformance.fhir_testkit import BASE, NIHDI, SD, SSIN, errors, validator

OUR_STRUCTURES = sorted(
    json.loads(p.read_text(encoding="utf-8"))["url"] for p in contract("profiles").glob("StructureDefinition-*.json")
)


def snapshot(url: str) -> dict[str, dict]:
    definition = validator().structures.with_snapshot(url)
    assert definition is not None
    return {e["id"]: e for e in definition["snapshot"]["element"]}


@pytest.mark.parametrize("url", OUR_STRUCTURES)
def test_snapshot_is_complete_and_ordered(url: str) -> None:
    definition = validator().structures.with_snapshot(url)
    assert definition is not None
    elements = definition["snapshot"]["element"]
    ids = [e["id"] for e in elements]
    assert len(ids) == len(set(ids)), "element ids are unique"
    assert elements[0]["path"] == definition["type"]
    seen: set[str] = set()
    for element in elements[1:]:
        parent = element["id"].rsplit(".", 1)[0]
        if ":" in element["id"].rsplit(".", 1)[-1]:  # a slice: its sliced element comes first
            parent = element["id"].rsplit(":", 1)[0]
        assert parent in seen or parent == elements[0]["id"], f"{element['id']} comes after {parent}"
        seen.add(element["id"])
    for diff in definition["differential"]["element"]:
        assert diff["id"] in ids, f"differential element {diff['id']} is in the snapshot"


@pytest.mark.parametrize("url", OUR_STRUCTURES)
def test_generated_snapshot_is_a_valid_r4_structure_definition(url: str) -> None:
    result = validator().validate(validator().structures.with_snapshot(url))
    assert errors(result) == []


def test_inclusion_snapshot_carries_the_constraints() -> None:
    elements = snapshot(f"{SD}/be-cg-inclusion")
    type_ = elements["EpisodeOfCare.type"]
    assert (type_["min"], type_["max"]) == (1, "1")
    assert type_["binding"]["strength"] == "required"
    assert type_["binding"]["valueSet"] == f"{BASE}/ValueSet/inclusion-status"
    assert elements["EpisodeOfCare.type.coding"]["min"] == 1  # CodeableConcept unfolded
    assert elements["EpisodeOfCare.patient.identifier"]["type"][0]["profile"] == [f"{SD}/be-cg-identifier"]
    assert elements["EpisodeOfCare.patient.identifier.system"]["fixedUri"] == SSIN
    assert elements["EpisodeOfCare.managingOrganization"]["min"] == 1
    assert elements["EpisodeOfCare.managingOrganization.identifier.system"]["fixedUri"] == NIHDI
    assert elements["EpisodeOfCare.period.start"]["min"] == 1
    assert elements["EpisodeOfCare.careManager"]["type"][0]["targetProfile"] == [
        "http://hl7.org/fhir/StructureDefinition/Practitioner"]
    # identifier slicing on system, with the slice's fixed system
    assert elements["EpisodeOfCare.identifier"]["slicing"]["discriminator"] == [{"type": "value", "path": "system"}]
    gateway = elements["EpisodeOfCare.identifier:gateway"]
    assert (gateway["sliceName"], gateway["min"], gateway["max"], gateway["path"]) == ("gateway", 0, "1", "EpisodeOfCare.identifier")
    assert elements["EpisodeOfCare.identifier:gateway.system"]["fixedUri"] == f"{BASE}/NamingSystem/inclusion"
    # extension slices by url, typed by their extension profile
    assert elements["EpisodeOfCare.extension"]["slicing"]["discriminator"] == [{"type": "value", "path": "url"}]
    assert elements["EpisodeOfCare.extension:billingPeriod"]["type"][0]["profile"] == [f"{SD}/billing-period"]
    # our invariant added, the base's kept
    keys = [c["key"] for c in elements["EpisodeOfCare"]["constraint"]]
    assert "cg-inclusion-1" in keys and {"dom-2", "dom-3", "dom-4", "dom-5", "dom-6"} <= set(keys)


def test_consent_snapshot_fixes_r4_elements() -> None:
    elements = snapshot(f"{SD}/be-cg-research-consent")
    assert elements["Consent.scope"]["patternCodeableConcept"]["coding"][0]["code"] == "research"
    assert elements["Consent.provision"]["min"] == 1 and elements["Consent.provision.type"]["min"] == 1
    assert elements["Consent.provision.provision"]["max"] == "0"
    assert elements["Consent.policy.uri"]["fixedUri"] == f"{BASE}/policy/integrated-care-research"
    assert "Consent.decision" not in elements


def test_referral_and_task_snapshots() -> None:
    referral = snapshot(f"{SD}/be-cg-referral")
    assert referral["ServiceRequest.intent"]["fixedCode"] == "order"
    assert referral["ServiceRequest.category"]["slicing"]["discriminator"] == [{"type": "pattern", "path": "$this"}]
    programme = referral["ServiceRequest.category:programme"]
    assert programme["min"] == 1 and programme["binding"]["valueSet"] == f"{BASE}/ValueSet/referral-programme"
    assert [t["code"] for t in referral["ServiceRequest.occurrence[x]"]["type"]] == ["Period"]
    assert referral["ServiceRequest.requester"]["type"][0]["targetProfile"] == [
        "http://hl7.org/fhir/StructureDefinition/PractitionerRole"]
    task = snapshot(f"{SD}/be-cg-referral-task")
    assert task["Task.focus"]["min"] == 1
    assert any(c["key"] == "cg-task-1" for c in task["Task"]["constraint"])


def test_complex_extension_slices_are_closed_and_typed() -> None:
    elements = snapshot(f"{SD}/recorded-by")
    assert elements["Extension.extension"]["slicing"]["rules"] == "closed"
    assert elements["Extension.extension:role.url"]["fixedUri"] == "role"
    assert elements["Extension.extension:role.value[x]"]["binding"]["strength"] == "required"
    assert elements["Extension.extension:at"]["min"] == 1
    assert elements["Extension.value[x]"]["max"] == "0"


def test_identifier_profile_holds_the_three_checks() -> None:
    keys = {c["key"] for c in snapshot(f"{SD}/be-cg-identifier")["Identifier"]["constraint"]}
    assert {"cg-niss-1", "cg-nihii-1", "cg-cbe-1", "ele-1"} <= keys


def _generate(differential: list[dict]) -> list[dict]:
    profile = {
        "resourceType": "StructureDefinition", "url": "urn:test", "type": "EpisodeOfCare",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/EpisodeOfCare",
        "differential": {"element": differential},
    }
    return SnapshotGenerator(validator().structures.with_snapshot).generate(profile)


@pytest.mark.parametrize("differential, why", [
    ([{"id": "EpisodeOfCare.status", "path": "EpisodeOfCare.status", "min": 0}], "loosens"),
    ([{"id": "EpisodeOfCare.managingOrganization", "path": "EpisodeOfCare.managingOrganization", "max": "*"}], "loosens"),
    ([{"id": "EpisodeOfCare.period", "path": "EpisodeOfCare.period", "type": [{"code": "Range"}]}], "not allowed"),
    ([{"id": "EpisodeOfCare.inclusionStatus", "path": "EpisodeOfCare.inclusionStatus", "min": 1}], "not an element of EpisodeOfCare$"),
    ([{"id": "EpisodeOfCare.period.begin", "path": "EpisodeOfCare.period.begin"}], "not an element"),
    ([{"id": "EpisodeOfCare.status:x", "path": "EpisodeOfCare.status", "sliceName": "x"}], "without a slicing"),
])
def test_a_differential_may_only_restrict(differential: list[dict], why: str) -> None:
    with pytest.raises(SnapshotError, match=why):
        _generate(differential)


def test_a_slice_copies_the_unfolded_children_of_its_element() -> None:
    elements = {e["id"]: e for e in _generate([
        {"id": "EpisodeOfCare.identifier", "path": "EpisodeOfCare.identifier",
         "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"}},
        {"id": "EpisodeOfCare.identifier.use", "path": "EpisodeOfCare.identifier.use", "fixedCode": "official"},
        {"id": "EpisodeOfCare.identifier:a", "path": "EpisodeOfCare.identifier", "sliceName": "a", "max": "1"},
    ])}
    assert elements["EpisodeOfCare.identifier:a"]["min"] == 0
    assert elements["EpisodeOfCare.identifier:a.use"]["fixedCode"] == "official"
    assert "slicing" not in elements["EpisodeOfCare.identifier:a"]


def test_snapshots_generated_from_hl7_belgium_s_differentials_judge_as_theirs() -> None:
    """Every StructureDefinition of the three Belgian packages, snapshot removed, gets one generated here, and the
    corpus, the examples and the packages' own examples are judged the same with either."""
    import glob
    import json
    import tarfile

    from gateway.conformance.fhir import FhirValidator
    from gateway.conformance.fhir.package import BELGIAN_PACKAGES, CORE_PACKAGE, Definitions
    from gateway.contracts import contract

    resources, messages = [], []
    for name in BELGIAN_PACKAGES:
        with tarfile.open(contract("fhir", "packages", name)) as archive:
            for member in archive.getmembers():
                if not member.isfile() or not member.name.endswith(".json") or "/." in member.name:
                    continue
                resource = json.load(archive.extractfile(member))  # type: ignore[arg-type]
                if member.name.startswith("package/example/"):
                    messages.append(resource)
                elif resource.get("resourceType") in ("StructureDefinition", "ValueSet", "CodeSystem"):
                    resources.append({k: v for k, v in resource.items() if k != "snapshot"})
    definitions = Definitions()
    definitions.load_package(contract("fhir", "packages", CORE_PACKAGE))
    definitions.add(resources)
    definitions.load_folder(contract("profiles"))
    generated = FhirValidator(definitions)
    profiles = [r["url"] for r in resources if r["resourceType"] == "StructureDefinition" and r["kind"] != "logical"]
    assert len(profiles) == 21  # 14 of be.core, 3 of infsec, 4 of patient-care
    assert all(generated.structures.get(url) is not None for url in profiles)
    corpus = glob.glob(str(contract("conformance", "messages", "fhir") / "*" / "*.json"))
    messages += [json.loads(open(p, encoding="utf-8").read()) for p in corpus + glob.glob(str(contract("fhir", "examples") / "*.json"))
                 if not p.endswith(".expected.json")]
    shipped = FhirValidator.default()
    for message in messages:
        assert sorted(generated.validate(message).findings()) == sorted(shipped.validate(message).findings()), message.get("id")
