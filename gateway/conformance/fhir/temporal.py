"""Comparing FHIR date, dateTime and instant values as FHIRPath does.

fhirpathpy compares the wall-clock fields and ignores the time zone, so
``2026-05-01T09:00:00Z <= 2026-05-01T10:30:00+02:00`` came out true. FHIRPath
compares instants: two values with a zone are brought to UTC first (a value
without a zone, or a plain date, is compared on its wall clock). A value
given to a coarser precision than the other is compared on the fields both
have; when those are equal the answer is unknown (``None``), never a failure.
Seconds and their fraction are one precision.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

_PARTS = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2}(?:\.\d+)?))?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)

Fields = tuple[Decimal, ...]


def _fields(text: str, *, to_utc: bool = True) -> tuple[Fields, bool] | None:
    """(year, month, day, hour, minute, second) to the value's precision, and whether a zone was given."""
    match = _PARTS.match(text)
    if match is None:
        return None
    names = ("y", "m", "d", "h", "mi", "s")
    values = [match.group(n) for n in names]
    present = [v for v in values if v is not None]
    zone = match.group("tz")
    if zone is None or len(present) < 5 or not to_utc:
        return tuple(Decimal(v) for v in present), zone is not None
    second = Decimal(values[5]) if values[5] is not None else Decimal(0)
    whole = int(second)
    try:
        moment = datetime(int(values[0]), int(values[1]), int(values[2]), int(values[3]), int(values[4]), whole,
                          tzinfo=timezone.utc if zone == "Z" else _zone(zone))
    except ValueError:
        return None
    utc = moment.astimezone(timezone.utc)
    made = [Decimal(utc.year), Decimal(utc.month), Decimal(utc.day), Decimal(utc.hour), Decimal(utc.minute)]
    if values[5] is not None:
        made.append(Decimal(utc.second) + (second - whole))
    return tuple(made), True


def _zone(text: str) -> timezone:
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def compare(left: str, right: str) -> int | None:
    """-1, 0 or 1 as ``left`` is before, equal to or after ``right``; None when unknown or unreadable."""
    a, b = _fields(left), _fields(right)
    if a is None or b is None:
        return None
    (fa, zoned_a), (fb, zoned_b) = a, b
    if zoned_a != zoned_b or len(fa) <= 3 or len(fb) <= 3:
        # a zone on one side only, or a date against a time: compare the wall clocks (FHIRPath leaves it
        # to the implementation; the zone-less value is taken as local to the other)
        fa = _fields(left, to_utc=False)[0]  # type: ignore[index]
        fb = _fields(right, to_utc=False)[0]  # type: ignore[index]
    for x, y in zip(fa, fb):
        if x != y:
            return -1 if x < y else 1
    return 0 if len(fa) == len(fb) else None
