"""Belgian identifiers: NISS (national and BIS numbers), NIHII, CBE.

Validation returns what the number says (kind, birth date, sex, check
variant) or raises :class:`InvalidIdentifier` with a stable code; generation
builds numbers with valid check digits for the sandbox registries.
Rules: ``ehealth.md``, table *Identifiers*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

SSIN_SYSTEM = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
NIHDI_SYSTEM = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/nihdi"
CBE_SYSTEM = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/cbe"

_SEPARATORS = re.compile(r"[\s.\-/]")


class InvalidIdentifier(ValueError):
    """An identifier that fails its shape or check-digit rule."""

    def __init__(self, kind: str, code: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message


def compact(value: str) -> str:
    """Strip the usual separators (``85.07.30-033.28`` -> ``85073003328``)."""
    return _SEPARATORS.sub("", value.strip())


# --------------------------------------------------------------------- NISS


class NissKind(StrEnum):
    NATIONAL = "national"
    BIS_SEX_UNKNOWN = "bis-sex-unknown"
    BIS_SEX_KNOWN = "bis-sex-known"


@dataclass(frozen=True)
class Niss:
    """A checked NISS and what its digits say."""

    value: str
    kind: NissKind
    born_2000_or_later: bool
    birth_date: date | None
    sex: str | None  # "male" / "female" / None when a BIS number does not know it

    @property
    def is_bis(self) -> bool:
        return self.kind is not NissKind.NATIONAL


def _niss_check(first9: int, born_2000: bool) -> int:
    base = 2_000_000_000 + first9 if born_2000 else first9
    return 97 - (base % 97)


def check_niss(value: str) -> Niss:
    """Validate a NISS (national number or BIS) and decode it.

    The check is ``97 - (first9 mod 97)``; for people born in 2000 or later
    the nine digits are prefixed with ``2`` (the 2000 rule).
    """
    digits = compact(value)
    if not digits.isdigit() or len(digits) != 11:
        raise InvalidIdentifier("niss", "niss-format", f"A NISS has 11 digits; got {value!r}.")
    first9, cc = int(digits[:9]), int(digits[9:])
    if cc == _niss_check(first9, False):
        born_2000 = False
    elif cc == _niss_check(first9, True):
        born_2000 = True
    else:
        raise InvalidIdentifier(
            "niss", "niss-check-digits",
            f"NISS {digits} has wrong check digits {digits[9:]}: check the number for a typing error.",
        )
    yy, mm, dd, counter = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), int(digits[6:9])
    if mm <= 12:
        kind, month = NissKind.NATIONAL, mm
    elif 20 <= mm <= 32:
        kind, month = NissKind.BIS_SEX_UNKNOWN, mm - 20
    elif 40 <= mm <= 52:
        kind, month = NissKind.BIS_SEX_KNOWN, mm - 40
    else:
        raise InvalidIdentifier("niss", "niss-format", f"NISS {digits} has an impossible month field {mm:02d}.")
    if counter in (0, 999):
        raise InvalidIdentifier("niss", "niss-format", f"NISS {digits} has an impossible counter {counter:03d}.")
    year = (2000 if born_2000 else 1900) + yy
    birth: date | None = None
    if month and dd:
        try:
            birth = date(year, month, dd)
        except ValueError:
            raise InvalidIdentifier("niss", "niss-format", f"NISS {digits} encodes no real birth date.") from None
    sex = None if kind is NissKind.BIS_SEX_UNKNOWN else ("male" if counter % 2 else "female")
    return Niss(digits, kind, born_2000, birth, sex)


def is_valid_niss(value: str) -> bool:
    try:
        check_niss(value)
    except InvalidIdentifier:
        return False
    return True


def make_niss(birth: date, counter: int, *, bis: NissKind = NissKind.NATIONAL) -> str:
    """Build a NISS with valid check digits (counter 1..998: odd male, even female)."""
    if not 1 <= counter <= 998:
        raise ValueError("counter must be 1..998")
    offset = {NissKind.NATIONAL: 0, NissKind.BIS_SEX_UNKNOWN: 20, NissKind.BIS_SEX_KNOWN: 40}[bis]
    first9 = f"{birth.year % 100:02d}{birth.month + offset:02d}{birth.day:02d}{counter:03d}"
    return first9 + f"{_niss_check(int(first9), birth.year >= 2000):02d}"


# -------------------------------------------------------------------- NIHII


class NihiiVariant(StrEnum):
    MOD97 = "mod97"
    MOD89 = "mod89"


# First digit of a NIHII: the profession group (``ehealth.md``).
NIHII_GROUPS: dict[str, str] = {
    "1": "physician",
    "2": "physician",
    "3": "dentist",
    "4": "nurse-or-midwife",
    "5": "physiotherapist-or-speech-therapist",
    "6": "pharmacist",
    "7": "hospital",
    "8": "paramedical",
    "9": "other",
}


@dataclass(frozen=True)
class Nihii:
    value: str
    variant: NihiiVariant
    group: str
    qualification: str


def _nihii_check(first6: int, modulus: int) -> int:
    return modulus - (first6 % modulus)


def check_nihii(value: str) -> Nihii:
    """Validate an 11-digit NIHII (``N NNNNN CC QQQ``).

    The check is ``97 - (first6 mod 97)``; numbers issued since 2013 may use
    the modulo-89 variant (``89 - (first6 mod 89)``), accepted and reported.
    The deprecated 8-digit form is refused with a hint.
    """
    digits = compact(value)
    if digits.isdigit() and len(digits) == 8:
        raise InvalidIdentifier(
            "nihii", "nihii-deprecated-form",
            f"NIHII {digits} is in the deprecated 8-digit form: give the 11-digit number with its qualification code.",
        )
    if not digits.isdigit() or len(digits) != 11:
        raise InvalidIdentifier("nihii", "nihii-format", f"A NIHII has 11 digits; got {value!r}.")
    first6, cc = int(digits[:6]), int(digits[6:8])
    if cc == _nihii_check(first6, 97):
        variant = NihiiVariant.MOD97
    elif cc == _nihii_check(first6, 89):
        variant = NihiiVariant.MOD89
    else:
        raise InvalidIdentifier(
            "nihii", "nihii-check-digits",
            f"NIHII {digits} has wrong check digits {digits[6:8]}: check the number for a typing error.",
        )
    return Nihii(digits, variant, NIHII_GROUPS.get(digits[0], "unknown"), digits[8:])


def is_valid_nihii(value: str) -> bool:
    try:
        check_nihii(value)
    except InvalidIdentifier:
        return False
    return True


def make_nihii(group: int, serial: int, qualification: int, *, variant: NihiiVariant = NihiiVariant.MOD97) -> str:
    """Build a NIHII: group digit, 5-digit serial, check digits, 3-digit qualification."""
    if not (0 <= group <= 9 and 0 <= serial <= 99_999 and 0 <= qualification <= 999):
        raise ValueError("group 0..9, serial 0..99999, qualification 0..999")
    first6 = group * 100_000 + serial
    modulus = 97 if variant is NihiiVariant.MOD97 else 89
    cc = _nihii_check(first6, modulus)
    if cc > 99:  # cannot happen for 97/89, kept for clarity
        raise ValueError("no two-digit check for this serial")
    return f"{first6:06d}{cc:02d}{qualification:03d}"


# ---------------------------------------------------------------------- CBE


@dataclass(frozen=True)
class Cbe:
    value: str


def check_cbe(value: str) -> Cbe:
    """Validate an enterprise number: 10 digits, first 0 or 1, ``97 - (first8 mod 97)``."""
    digits = compact(value.upper().removeprefix("BE"))
    if not digits.isdigit() or len(digits) != 10 or digits[0] not in "01":
        raise InvalidIdentifier("cbe", "cbe-format", f"A CBE number has 10 digits starting with 0 or 1; got {value!r}.")
    if 97 - (int(digits[:8]) % 97) != int(digits[8:]):
        raise InvalidIdentifier(
            "cbe", "cbe-check-digits",
            f"CBE {digits} has wrong check digits {digits[8:]}: check the number for a typing error.",
        )
    return Cbe(digits)


def is_valid_cbe(value: str) -> bool:
    try:
        check_cbe(value)
    except InvalidIdentifier:
        return False
    return True


def make_cbe(serial: int, *, first: int = 0) -> str:
    """Build a CBE number from a 7-digit serial (first digit 0 or 1)."""
    if first not in (0, 1) or not 0 <= serial <= 9_999_999:
        raise ValueError("first 0 or 1, serial 0..9999999")
    first8 = first * 10_000_000 + serial
    return f"{first8:08d}{97 - (first8 % 97):02d}"
