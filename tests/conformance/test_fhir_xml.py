"""R4 XML: read into R4 JSON by the definitions, then the same validation."""

from __future__ import annotations

import pytest

from gateway.conformance.fhir.xml import XmlConversionError, xml_to_json
from tests.conformance.fhir_testkit import errors, validator

NS = 'xmlns="http://hl7.org/fhir"'


def convert(xml: str) -> tuple[dict, list[tuple[str, str]]]:
    resource, problems = xml_to_json(xml.encode(), validator().definitions, validator().structures)
    return resource, [(p.rule, p.expression) for p in problems]


def test_primitives_arrays_companions_and_choice_types() -> None:
    resource, problems = convert(f"""<Patient {NS}>
      <id value="p1"/>
      <extension url="https://example.org/x"><valueBoolean value="true"/></extension>
      <active value="true"/>
      <name><given value="An"/><given id="g2"><extension url="https://example.org/y"><valueString value="n"/></extension></given></name>
      <birthDate value="1985-07-30"/>
      <deceasedBoolean value="false"/>
      <multipleBirthInteger value="2"/>
    </Patient>""")
    assert problems == []
    assert resource == {
        "resourceType": "Patient", "id": "p1",
        "extension": [{"url": "https://example.org/x", "valueBoolean": True}],
        "active": True,
        "name": [{"given": ["An", None], "_given": [None, {"id": "g2", "extension": [
            {"url": "https://example.org/y", "valueString": "n"}]}]}],
        "birthDate": "1985-07-30", "deceasedBoolean": False, "multipleBirthInteger": 2,
    }
    assert errors(validator().validate(resource)) == [  # the example extensions have no definition
        ("TYPE_SPECIFIC_CHECKS_DT_URL_EXAMPLE", "Patient.extension[0].url"),
        ("Extension_EXT_Unknown_NotHere", "Patient.extension[0]"),
        ("TYPE_SPECIFIC_CHECKS_DT_URL_EXAMPLE", "Patient.name[0].given[1].extension[0].url"),
        ("Extension_EXT_Unknown_NotHere", "Patient.name[0].given[1].extension[0]")]


def test_contained_resources_and_narrative() -> None:
    resource, problems = convert(f"""<Consent {NS}>
      <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Refuses</p></div></text>
      <contained><Patient><id value="p"/><gender value="female"/></Patient></contained>
      <status value="active"/>
    </Consent>""")
    assert problems == []
    assert resource["text"]["div"] == '<div xmlns="http://www.w3.org/1999/xhtml"><p>Refuses</p></div>'
    assert resource["contained"] == [{"resourceType": "Patient", "id": "p", "gender": "female"}]


def test_xml_only_problems_have_json_paths() -> None:
    xml = f"""<Patient {NS}>
      <name>Maes<family value="Maes"/></name>
      <gender value="male"/>
      <birthDate value="1985-07-30" lang="nl"/>
      <active value="true"/>
      <x:photo xmlns:x="urn:other"><title value="portrait"/></x:photo>
    </Patient>"""
    _, problems = convert(xml)
    assert problems == [
        ("structure", "Patient.name[0]"),  # text content
        ("structure", "Patient.birthDate"),  # stray attribute
        ("structure", "Patient.active"),  # out of order: active comes before name
        ("structure", "Patient.photo[0]"),  # wrong namespace
    ]
    result = validator().validate_xml(xml.encode())
    assert not result.valid
    assert result.findings() == [*problems,  # nothing else is wrong, but for a photo that says nothing of its content
                                 ("TYPE_SPECIFIC_CHECKS_DT_ATT_NO_CONTENT", "Patient.photo[0]")]


def test_unknown_and_invalid_content_is_reported_by_the_validator() -> None:
    xml = f"""<Patient {NS}><active value="yes"/><nickname value="Noa"/><birthDate value="1985-02-30"/></Patient>"""
    assert sorted(errors(validator().validate_xml(xml.encode()))) == [
        ("format", "Patient.birthDate"), ("type", "Patient.active"), ("unknown-element", "Patient.nickname")]


def test_a_single_element_given_twice_is_reported() -> None:
    result = validator().validate_xml(f'<Patient {NS}><gender value="male"/><gender value="female"/></Patient>'.encode())
    assert errors(result) == [("structure", "Patient.gender")]


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?><!DOCTYPE Patient [<!ENTITY x SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>',
    b'<Patient xmlns="http://hl7.org/fhir"><id value="p"></Patient>',
])
def test_unsafe_or_malformed_xml_is_fatal(xml: bytes) -> None:
    result = validator().validate_xml(xml)
    assert not result.valid and result.issues[0].severity == "fatal"
    with pytest.raises(XmlConversionError):
        xml_to_json(xml, validator().definitions, validator().structures)


def test_wrong_root_namespace() -> None:
    result = validator().validate_xml(b'<Patient xmlns="urn:not-fhir"><id value="p"/></Patient>')
    assert ("structure", "Patient") in errors(result)
