"""NISS, NIHII and CBE checks and generation (``ehealth.md``, table Identifiers)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.identifiers import (
    InvalidIdentifier,
    NihiiVariant,
    NissKind,
    check_cbe,
    check_nihii,
    check_niss,
    is_valid_cbe,
    is_valid_nihii,
    is_valid_niss,
    make_cbe,
    make_nihii,
    make_niss,
)


def _with_check(first9: str, born_2000: bool = False) -> str:
    base = int(first9) + (2_000_000_000 if born_2000 else 0)
    return f"{first9}{97 - base % 97:02d}"


# ---------------------------------------------------------------- NISS


@pytest.mark.parametrize(
    ("value", "birth", "born_2000"),
    [
        ("85073003328", date(1985, 7, 30), False),
        ("17073003384", date(2017, 7, 30), True),
        ("93051822361", date(1993, 5, 18), False),
    ],
)
def test_niss_documented_examples_are_valid_and_decoded(value: str, birth: date, born_2000: bool) -> None:
    niss = check_niss(value)
    assert niss.value == value
    assert niss.kind is NissKind.NATIONAL and not niss.is_bis
    assert niss.birth_date == birth
    assert niss.born_2000_or_later is born_2000
    assert niss.sex == "male"  # counters 033, 033, 223 are odd


def test_niss_even_counter_is_a_woman() -> None:
    assert check_niss(make_niss(date(1990, 2, 3), 42)).sex == "female"


def test_niss_wrong_check_digits() -> None:
    with pytest.raises(InvalidIdentifier) as error:
        check_niss("85073003329")
    assert error.value.code == "niss-check-digits" and error.value.kind == "niss"
    assert "85073003329" in error.value.message
    assert not is_valid_niss("85073003329")


@pytest.mark.parametrize("value", ["8507300332", "850730033281", "8507300332X", ""])
def test_niss_wrong_length_or_characters(value: str) -> None:
    with pytest.raises(InvalidIdentifier) as error:
        check_niss(value)
    assert error.value.code == "niss-format"


def test_niss_separators_are_accepted() -> None:
    assert check_niss("85.07.30-033.28").value == "85073003328"
    assert check_niss(" 85073003328 ").value == "85073003328"


def test_niss_2000_rule_decides_the_century() -> None:
    first9 = "030102001"
    before, after = _with_check(first9), _with_check(first9, born_2000=True)
    assert before != after
    assert check_niss(before).birth_date == date(1903, 1, 2)
    assert not check_niss(before).born_2000_or_later
    assert check_niss(after).birth_date == date(2003, 1, 2)
    assert check_niss(after).born_2000_or_later
    assert make_niss(date(2003, 1, 2), 1) == after


def test_bis_number_with_sex_unknown() -> None:
    value = make_niss(date(1985, 7, 30), 33, bis=NissKind.BIS_SEX_UNKNOWN)
    assert value[2:4] == "27"  # month + 20
    niss = check_niss(value)
    assert niss.kind is NissKind.BIS_SEX_UNKNOWN and niss.is_bis
    assert niss.birth_date == date(1985, 7, 30)
    assert niss.sex is None


def test_bis_number_with_sex_known() -> None:
    value = make_niss(date(1985, 7, 30), 34, bis=NissKind.BIS_SEX_KNOWN)
    assert value[2:4] == "47"  # month + 40
    niss = check_niss(value)
    assert niss.kind is NissKind.BIS_SEX_KNOWN
    assert niss.sex == "female"
    assert niss.birth_date == date(1985, 7, 30)


@pytest.mark.parametrize("first9", ["851330001", "850230001", "850730000", "850730999"])
def test_niss_impossible_month_date_or_counter(first9: str) -> None:
    with pytest.raises(InvalidIdentifier) as error:
        check_niss(_with_check(first9))
    assert error.value.code == "niss-format"


def test_make_niss_refuses_counter_out_of_range() -> None:
    with pytest.raises(ValueError):
        make_niss(date(1985, 7, 30), 0)
    with pytest.raises(ValueError):
        make_niss(date(1985, 7, 30), 999)


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    counter=st.integers(min_value=1, max_value=998),
    kind=st.sampled_from(list(NissKind)),
)
def test_make_niss_always_passes_check_niss(birth: date, counter: int, kind: NissKind) -> None:
    niss = check_niss(make_niss(birth, counter, bis=kind))
    assert niss.kind is kind
    assert niss.birth_date == birth
    assert niss.born_2000_or_later is (birth.year >= 2000)
    if kind is NissKind.BIS_SEX_UNKNOWN:
        assert niss.sex is None
    else:
        assert niss.sex == ("male" if counter % 2 else "female")


# ---------------------------------------------------------------- NIHII


@pytest.mark.parametrize(
    ("value", "group", "qualification"),
    [
        ("19234011004", "physician", "004"),
        ("54263481527", "physiotherapist-or-speech-therapist", "527"),
        ("11530231003", "physician", "003"),
    ],
)
def test_nihii_documented_examples(value: str, group: str, qualification: str) -> None:
    nihii = check_nihii(value)
    assert nihii.variant is NihiiVariant.MOD97
    assert nihii.group == group
    assert nihii.qualification == qualification


def test_nihii_wrong_check_digits() -> None:
    with pytest.raises(InvalidIdentifier) as error:
        check_nihii("19234012004")
    assert error.value.code == "nihii-check-digits"
    assert not is_valid_nihii("19234012004")


@pytest.mark.parametrize("value", ["1923401100", "192340110044", "1923401100A"])
def test_nihii_wrong_length(value: str) -> None:
    with pytest.raises(InvalidIdentifier) as error:
        check_nihii(value)
    assert error.value.code == "nihii-format"


def test_nihii_eight_digit_form_is_deprecated() -> None:
    with pytest.raises(InvalidIdentifier) as error:
        check_nihii("19234011")
    assert error.value.code == "nihii-deprecated-form"
    assert "11-digit" in error.value.message


def test_nihii_separators_are_accepted() -> None:
    assert check_nihii("1-92340-11-004").value == "19234011004"


def test_nihii_mod89_variant_is_accepted_and_reported() -> None:
    value = make_nihii(1, 23401, 4, variant=NihiiVariant.MOD89)
    assert value[6:8] == f"{89 - 123401 % 89:02d}"
    assert value != "19234011004"
    assert check_nihii(value).variant is NihiiVariant.MOD89


@given(
    group=st.integers(0, 9),
    serial=st.integers(0, 99_999),
    qualification=st.integers(0, 999),
    variant=st.sampled_from(list(NihiiVariant)),
)
def test_make_nihii_round_trip(group: int, serial: int, qualification: int, variant: NihiiVariant) -> None:
    value = make_nihii(group, serial, qualification, variant=variant)
    nihii = check_nihii(value)
    assert len(value) == 11 and value[0] == str(group) and nihii.qualification == f"{qualification:03d}"
    first6 = group * 100_000 + serial
    both_match = 97 - first6 % 97 == 89 - first6 % 89
    assert nihii.variant is variant or (both_match and nihii.variant is NihiiVariant.MOD97)


# ------------------------------------------------------------------ CBE


@pytest.mark.parametrize("value", ["0820563481", "0403019261", "BE 0820.563.481", "be0403.019.261"])
def test_cbe_documented_examples(value: str) -> None:
    assert is_valid_cbe(value)
    assert len(check_cbe(value).value) == 10


def test_cbe_wrong_check_digits() -> None:
    with pytest.raises(InvalidIdentifier) as error:
        check_cbe("0820563482")
    assert error.value.code == "cbe-check-digits"


@pytest.mark.parametrize("value", ["820563481", "2820563481", "08205634811"])
def test_cbe_wrong_shape(value: str) -> None:
    with pytest.raises(InvalidIdentifier) as error:
        check_cbe(value)
    assert error.value.code == "cbe-format"


@given(serial=st.integers(0, 9_999_999), first=st.sampled_from([0, 1]))
def test_make_cbe_round_trip(serial: int, first: int) -> None:
    value = make_cbe(serial, first=first)
    assert check_cbe(value).value == value
    assert value[0] == str(first)
