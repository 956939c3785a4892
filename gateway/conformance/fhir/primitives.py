"""Checks of FHIR primitive values in their JSON form.

The lexical rules are the ``regex`` extensions of the R4 primitive
StructureDefinitions (read from the package); on top of them this module
checks what a regex cannot: the JSON kind (number, boolean, string),
integer ranges, and that a date names a real calendar day.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

INT32 = (-(2**31), 2**31 - 1)
NUMERIC = {"integer", "positiveInt", "unsignedInt", "decimal"}
STRING_TYPES = {
    "string", "code", "id", "uri", "url", "canonical", "oid", "uuid", "markdown", "base64Binary",
    "date", "dateTime", "instant", "time", "xhtml",
}
PRIMITIVE_TYPES = NUMERIC | STRING_TYPES | {"boolean"}
_DATE_PART = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


@lru_cache(maxsize=64)
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def check_primitive(value: object, type_code: str, regex: str | None) -> tuple[str, str] | None:
    """Why ``value`` is not a valid ``type_code``, as (rule, message), or None when it is.

    The rule is ``type`` for a value of the wrong JSON kind (a string for a
    number, a decimal for an integer), ``format`` for a value of the right
    kind that breaks the lexical rule or range."""
    if type_code == "boolean":
        return None if isinstance(value, bool) else ("type", f"a boolean must be true or false, not {value!r}")
    if type_code in NUMERIC:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            return "type", f"a {type_code} must be a JSON number, not {value!r}"
        if type_code != "decimal":
            if isinstance(value, float) and not value.is_integer() or isinstance(value, Decimal) and value != int(value):
                return "type", f"a {type_code} must be a whole number, not {value!r}"
            number = int(value)
            if not INT32[0] <= number <= INT32[1]:
                return "format", f"{number} is out of the 32-bit range of {type_code}"
            if type_code == "positiveInt" and number < 1:
                return "format", f"a positiveInt must be 1 or more, not {number}"
            if type_code == "unsignedInt" and number < 0:
                return "format", f"an unsignedInt must be 0 or more, not {number}"
        return None
    if not isinstance(value, str):
        return "type", f"a {type_code} must be a JSON string, not {value!r}"
    if type_code == "xhtml":
        return None if value.strip() else ("format", "the narrative div must not be empty")
    if regex is not None and not _compiled(regex).fullmatch(value):
        return "format", f"{value!r} is not a valid {type_code}"
    if regex is None and not value.strip():
        return "format", f"a {type_code} must not be empty"
    if type_code in ("date", "dateTime", "instant"):
        match = _DATE_PART.match(value)
        if match:
            try:
                date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                return "format", f"{value!r} is not a real calendar date"
    return None
