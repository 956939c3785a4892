"""Every profession's CD-HCPARTY code exists in HL7 Belgium's code system
(be.core, shipped in fhir/packages/) with the display the gateway writes,
so a Practitioner the directory returns validates (IC-R9 read at display)."""

from __future__ import annotations

import json
import tarfile

from gateway.contracts import contract
from gateway.domain.professions import PROFESSIONS


def cd_hcparty() -> dict[str, str]:
    found = sorted(contract("fhir", "packages").glob("hl7.fhir.be.core-*.tgz"))
    assert found, "the be.core package ships in fhir/packages/"
    codes: dict[str, str] = {}
    with tarfile.open(found[-1]) as package:
        for member in package.getmembers():
            if "cd-hcparty" in member.name.lower() and member.name.endswith(".json"):
                resource = json.load(package.extractfile(member))  # type: ignore[arg-type]
                if resource.get("resourceType") == "CodeSystem":
                    codes.update({c["code"]: c.get("display", "") for c in resource.get("concept", [])})
    return codes


def test_IC_R9_every_profession_is_coded_as_hl7_belgium_codes_it():
    codes = cd_hcparty()
    for profession in PROFESSIONS.values():
        assert profession.hcparty in codes, profession.hcparty
        assert profession.display == codes[profession.hcparty], profession.code
