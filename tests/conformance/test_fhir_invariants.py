"""FHIRPath invariants: the Belgian identifier checks agree with the domain's
own checks, pseudonymised values are skipped, and the fhirpathpy adapter
behaves as FHIRPath says."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from gateway.conformance.fhir.fhirpath import FhirPath, html_is_safe, install
from gateway.domain.identifiers import (
    NissKind, NihiiVariant, is_valid_cbe, is_valid_nihii, is_valid_niss, make_cbe, make_nihii, make_niss,
)
from tests.conformance.fhir_testkit import CBE, NIHDI, PSEUDO, SD, SSIN, errors, example, identifier, validator

BE_NS = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem"


def invariant(key: str) -> str:
    structure = validator().structures.get(f"{SD}/be-cg-identifier")
    assert structure is not None
    return next(c.expression for c in structure.root.constraints if c.key == key)  # type: ignore[return-value]


def holds(key: str, value: dict[str, Any]) -> bool:
    engine = validator().fhirpath
    return engine.truth(engine.evaluate(value, invariant(key), focus_type="Identifier"))


def _with_check(first: str, cc: int) -> str:
    return f"{first}{cc:02d}"


def test_niss_invariant_agrees_with_the_domain_check() -> None:
    rng = random.Random(2026)
    compared = 0
    for _ in range(150):
        birth = date(1920, 1, 1) + timedelta(days=rng.randrange(0, 105 * 365))
        kind = rng.choice([NissKind.NATIONAL, NissKind.NATIONAL, NissKind.BIS_SEX_UNKNOWN, NissKind.BIS_SEX_KNOWN])
        valid = make_niss(birth, rng.randrange(1, 999), bis=kind)
        assert holds("cg-niss-1", identifier(SSIN, valid)), valid
        for cc in rng.sample(range(100), 12):
            number = _with_check(valid[:9], cc)
            assert holds("cg-niss-1", identifier(SSIN, number)) is is_valid_niss(number), number
            compared += 1
    assert compared == 1800


@pytest.mark.parametrize("number, valid", [
    ("85073003328", True), ("17073003384", True), ("93051822361", True),  # ehealth.md; 17... uses the 2000 rule
    ("85073003329", False), ("8507300332", False), ("850730033280", False), ("85.07.30-033.28", False), ("8507300332A", False),
])
def test_niss_examples(number: str, valid: bool) -> None:
    assert holds("cg-niss-1", identifier(SSIN, number)) is valid


def test_nihii_invariant_agrees_with_the_domain_check_for_both_variants() -> None:
    rng = random.Random(97)
    for _ in range(150):
        variant = rng.choice([NihiiVariant.MOD97, NihiiVariant.MOD89])
        valid = make_nihii(rng.randrange(1, 10), rng.randrange(0, 100_000), rng.randrange(0, 1000), variant=variant)
        system = rng.choice([NIHDI, f"{BE_NS}/nihdi-professional", f"{BE_NS}/nihdi-organization"])
        assert holds("cg-nihii-1", identifier(system, valid)), valid
        for cc in rng.sample(range(100), 10):
            number = valid[:6] + f"{cc:02d}" + valid[8:]
            assert holds("cg-nihii-1", identifier(system, number)) is is_valid_nihii(number), number
    assert holds("cg-nihii-1", identifier(NIHDI, "12340142004"))  # a modulo-89 number
    assert not holds("cg-nihii-1", identifier(NIHDI, "19234011"))  # deprecated 8-digit form


def test_cbe_invariant_agrees_with_the_domain_check() -> None:
    rng = random.Random(89)
    for _ in range(150):
        valid = make_cbe(rng.randrange(0, 10_000_000), first=rng.choice([0, 1]))
        assert holds("cg-cbe-1", identifier(CBE, valid)), valid
        for cc in rng.sample(range(100), 10):
            number = valid[:8] + f"{cc:02d}"
            assert holds("cg-cbe-1", identifier(CBE, number)) is is_valid_cbe(number), number
    assert not holds("cg-cbe-1", identifier(CBE, "2820563481"[:8] + "81"))  # first digit 2
    assert not holds("cg-cbe-1", identifier(CBE, "BE0820563481"))


def test_checks_apply_only_to_their_system() -> None:
    assert holds("cg-niss-1", identifier(NIHDI, "19234011004"))
    assert holds("cg-nihii-1", identifier(SSIN, "85073003328"))
    assert holds("cg-cbe-1", identifier("https://example.org/ids", "anything"))
    assert holds("cg-niss-1", {"system": SSIN})  # no value: nothing to check (cardinality says if one is needed)


def test_pseudonymised_values_are_not_checked_other_extensions_do_not_exempt() -> None:
    pseudonym = "urn:be:fgov:pseudo:v2:BGlFdaY9Pta7sBhJj2HgUDLtEYvOg3lGDXfB9ZDpQ1Y"
    assert holds("cg-niss-1", identifier(SSIN, pseudonym, pseudonymised=True))
    assert holds("cg-nihii-1", identifier(NIHDI, "not-a-number", pseudonymised=True))
    assert holds("cg-cbe-1", identifier(CBE, "x", pseudonymised=True))
    assert not holds("cg-niss-1", identifier(SSIN, pseudonym))
    other = identifier(SSIN, pseudonym)
    other["_value"] = {"extension": [{"url": "https://example.org/note", "valueString": "masked"}]}
    assert not holds("cg-niss-1", other)


def test_resource_invariants_of_our_profiles() -> None:
    team = example("CareTeam-clinical-group")
    team["participant"][1]["member"] = {"display": "Tom Janssens"}
    assert errors(validator().validate(team)) == [("cg-careteam-1", "CareTeam.participant[1]")]
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["extension"][0]["valuePeriod"] = {"end": "2026-12-31"}
    assert errors(validator().validate(inclusion)) == [("cg-billing-1", "EpisodeOfCare.extension[0]")]
    inclusion = example("EpisodeOfCare-inclusion-principal")
    inclusion["status"] = "finished"
    inclusion["period"]["end"] = "2026-06-30"
    assert errors(validator().validate(inclusion)) == []
    task = example("Task-referral-accepted")
    del task["owner"]
    task["status"] = "requested"
    assert errors(validator().validate(task)) == []


# ------------------------------------------------------------ the adapter
def test_primitive_and_companion_are_one_node() -> None:
    engine = FhirPath()
    value = identifier(SSIN, "85073003328", pseudonymised=True)
    assert engine.evaluate(value, "value.count()", focus_type="Identifier") == [1]
    assert engine.evaluate(value, "value.extension.url", focus_type="Identifier") == [PSEUDO]
    assert engine.evaluate(value, "value.substring(0, 2)", focus_type="Identifier") == ["85"]
    patient = {"resourceType": "Patient", "name": [{"given": ["An", "Bo"], "_given": [None, {"id": "g2"}]}],
               "_birthDate": {"extension": [{"url": "https://example.org/x", "valueString": "unknown"}]}}
    assert engine.evaluate(patient, "name.given") == ["An", "Bo"]
    assert engine.evaluate(patient, "name.given.id") == ["g2"]
    assert engine.evaluate(patient, "birthDate.extension.value") == ["unknown"]
    assert engine.evaluate(patient, "birthDate.hasValue()") == [False]
    assert engine.evaluate(patient, "name.given.first().hasValue()") == [True]
    install()  # idempotent


def test_as_function_filters_like_the_hl7_validator_and_trace_is_silent(capsys) -> None:
    engine = FhirPath()
    resource = {"resourceType": "Patient", "managingOrganization": {"reference": "#o"}, "contained": [{"resourceType": "Organization", "id": "o"}]}
    assert engine.evaluate(resource, "descendants().as(canonical).count() >= 0") == [True]
    assert engine.evaluate(resource, "managingOrganization.reference.trace('r')") == ["#o"]
    assert capsys.readouterr().out == ""


def test_truth_fails_only_on_false() -> None:
    assert FhirPath.truth([True]) and FhirPath.truth([]) and FhirPath.truth(["x"])
    assert not FhirPath.truth([False])


@pytest.mark.parametrize("div, safe", [
    ('<div xmlns="http://www.w3.org/1999/xhtml"><p>Inclusion <b>principal</b></p></div>', True),
    ('<div xmlns="http://www.w3.org/1999/xhtml"><script>x()</script></div>', False),
    ('<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">a</p></div>', False),
    ('<div xmlns="http://www.w3.org/1999/xhtml">   </div>', False),
    ("<div><p>no namespace</p></div>", False),
    ('<div xmlns="http://www.w3.org/1999/xhtml"><p>unclosed</div>', False),
])
def test_narrative_checks(div: str, safe: bool) -> None:
    assert html_is_safe(div) is safe
