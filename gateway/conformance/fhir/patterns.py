"""fixed[x] and pattern[x] comparison on JSON values.

``fixed``: the value is exactly the fixed value (no more, no less).
``pattern``: every property of the pattern is in the value; a list in the
pattern is matched item by item against some item of the value's list.
Numbers compare by value (``1`` equals ``1.0``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def equals_fixed(value: Any, fixed: Any) -> bool:
    if _number(value) and _number(fixed):
        return Decimal(str(value)) == Decimal(str(fixed))
    if isinstance(fixed, dict):
        return isinstance(value, dict) and value.keys() == fixed.keys() and all(
            equals_fixed(value[k], fixed[k]) for k in fixed
        )
    if isinstance(fixed, list):
        return isinstance(value, list) and len(value) == len(fixed) and all(
            equals_fixed(v, f) for v, f in zip(value, fixed)
        )
    return type(value) is type(fixed) and value == fixed


def matches_pattern(value: Any, pattern: Any) -> bool:
    if _number(value) and _number(pattern):
        return Decimal(str(value)) == Decimal(str(pattern))
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches_pattern(value[k], p) for k, p in pattern.items())
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(matches_pattern(item, p) for item in items) for p in pattern)
    return type(value) is type(pattern) and value == pattern
