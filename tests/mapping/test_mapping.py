"""The mapping engine: paths both ways, types, ConceptMap codes, required
fields, and errors that name the wire path."""

from __future__ import annotations

import json
from datetime import date

import pytest
from lxml import etree

from gateway.mapping.conceptmaps import read_conceptmap
from gateway.mapping.mapping import MappingError, read_mapping
from gateway.mapping.paths import json_get, json_set, xml_get, xml_set

SSIN = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"


def test_json_paths_select_by_key_value_even_with_dots_in_the_value():
    doc: dict = {}
    json_set(doc, f"patient.identifier[system={SSIN}].value", "85073003328")
    json_set(doc, "extension[url=https://a.b/c.d].valuePeriod.start", "2026-04-01", arrays=frozenset({"extension"}))
    json_set(doc, "type.coding[0].code", "principal", arrays=frozenset({"type"}))
    assert doc["patient"]["identifier"] == {"system": SSIN, "value": "85073003328"}  # a Reference holds one Identifier
    assert doc["extension"] == [{"url": "https://a.b/c.d", "valuePeriod": {"start": "2026-04-01"}}]
    assert json_get(doc, f"patient.identifier[system={SSIN}].value") == "85073003328"
    assert json_get(doc, "patient.identifier[system=other].value") is None
    assert json_get(doc, "extension[url=https://a.b/c.d].valuePeriod.start") == "2026-04-01"
    assert json_get(doc, "type.coding.code") == "principal"
    assert json_get(doc, "type[1].coding.code") is None


def test_xml_paths_create_in_declared_order():
    ns = {"x": "urn:x"}
    root = etree.Element("{urn:x}Inclusion")
    xml_set(root, "x:Patient/x:Ssin", "85073003328", ns)
    xml_set(root, "x:Period/x:Start", "2026-03-10", ns)
    xml_set(root, "x:Patient/@kind", "person", ns)
    assert [etree.QName(c).localname for c in root] == ["Patient", "Period"]
    assert xml_get(root, "x:Patient/x:Ssin", ns) == "85073003328"
    assert xml_get(root, "x:Patient/@kind", ns) == "person"
    assert xml_get(root, "x:Missing/x:Thing", ns) is None


@pytest.fixture
def toy(tmp_path, monkeypatch):
    cm = tmp_path / "status.json"
    cm.write_text(json.dumps({
        "resourceType": "ConceptMap", "name": "status", "url": "urn:cm:status", "status": "active",
        "group": [{"element": [
            {"code": "principal", "target": [{"code": "P", "equivalence": "equivalent"}]},
            {"code": "information", "target": [{"code": "I", "equivalence": "equivalent"}]},
        ]}],
    }))
    yml = tmp_path / "thing.yaml"
    yml.write_text(f"""
entity: thing
description: a toy
fhir:
  resourceType: EpisodeOfCare
  arrays: [type, identifier]
  constants:
    - path: type.coding[0].system
      value: urn:cs
soap:
  namespaces: {{x: "urn:x"}}
  element: x:Thing
fields:
  - name: niss
    fhir: patient.identifier[system={SSIN}].value
    soap: x:Patient/x:Ssin
    required: true
  - name: status
    type: code
    conceptmap: status
    fhir: type.coding[0].code
    soap: x:Status
  - name: start
    type: date
    fhir: period.start
    soap: x:Start
""")
    import gateway.mapping.mapping as m

    monkeypatch.setattr(m, "conceptmap", lambda name: read_conceptmap(tmp_path / f"{name}.json"))
    return read_mapping(yml)


def test_mapping_round_trips_fhir_and_xml(toy):
    values = {"niss": "85073003328", "status": "information", "start": date(2026, 3, 10)}
    resource = toy.to_fhir(values)
    assert resource["type"][0]["coding"][0] == {"system": "urn:cs", "code": "I"}
    assert toy.from_fhir(resource) == values
    element = toy.to_xml(values, etree.Element("{urn:x}Thing"))
    assert xml_get(element, "x:Status", {"x": "urn:x"}) == "I"
    assert toy.from_xml(element) == values


def test_mapping_errors_name_the_wire_path(toy):
    with pytest.raises(MappingError) as err:
        toy.from_fhir({"resourceType": "EpisodeOfCare", "patient": {"identifier": [{"system": SSIN, "value": "1"}]},
                       "period": {"start": "10/03/2026"}})
    assert err.value.path == "EpisodeOfCare.period.start" and "date" in err.value.message
    with pytest.raises(MappingError) as err:
        toy.from_fhir({"resourceType": "EpisodeOfCare", "type": [{"coding": [{"code": "X"}]}],
                       "patient": {"identifier": [{"system": SSIN, "value": "1"}]}})
    assert err.value.code == "unknown-code" and "I, P" in err.value.message
    with pytest.raises(MappingError) as err:
        toy.from_xml(etree.Element("{urn:x}Thing"))
    assert (err.value.code, err.value.path) == ("required", "x:Patient/x:Ssin")


def test_docs_mapping_tables_are_generated_from_mappings(capsys):
    """docs/mappings.md is generated: it must say what mappings/ says."""
    from pathlib import Path

    from gateway.cli import main

    out = Path(__file__).resolve().parents[2] / "docs" / "mappings.md"
    assert main(["mappings", "docs", "--check", "--out", str(out)]) == 0, capsys.readouterr().err
