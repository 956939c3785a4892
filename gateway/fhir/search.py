"""Search parameters of FHIR R4 (search.html): dates with prefixes, tokens
``system|code``, ``_count``, and opaque paging cursors."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from gateway.fhir.outcome import FhirError

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_DATE = re.compile(r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})(?:T(?P<t>[\d:.]+)(?P<z>Z|[+-]\d{2}:\d{2})?)?)?)?", re.ASCII)
_DIGITS = re.compile(r"[0-9]{1,9}")  # what a count or an offset may be: ASCII digits, within an int column's range


def whole_number(raw: str | None) -> int | None:
    """``raw`` as a small non-negative whole number, or None: only ASCII
    digits (``str.isdigit`` also takes '²', which ``int`` refuses) and no
    more than fits the database's integers."""
    return int(raw) if raw is not None and _DIGITS.fullmatch(raw) else None


@dataclass(frozen=True)
class DateParam:
    """A date search value as the range it stands for: [low, high]."""

    prefix: str
    low: datetime
    high: datetime

    def matches_range(self, start: datetime | None, end: datetime | None) -> bool:
        """Does the resource's period [start, end] (open ends allowed) satisfy the prefix?"""
        lo = start or datetime.min.replace(tzinfo=timezone.utc)
        hi = end or datetime.max.replace(tzinfo=timezone.utc)
        match self.prefix:
            case "eq":
                return self.low <= lo and hi <= self.high
            case "ne":
                return not (self.low <= lo and hi <= self.high)
            case "gt":
                return hi > self.high
            case "lt":
                return lo < self.low
            case "ge":
                return hi >= self.low
            case "le":
                return lo <= self.high
            case "sa":
                return lo > self.high
            case "eb":
                return hi < self.low
            case "ap":
                return lo <= self.high and hi >= self.low
        return False


def parse_date(name: str, raw: str) -> DateParam:
    prefix = raw[:2] if raw[:2] in PREFIXES else "eq"
    value = raw[2:] if raw[:2] in PREFIXES else raw
    m = _DATE.fullmatch(value)
    if not m:
        raise FhirError.simple(400, "invalid", f"{name}={raw!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime).",
                               expression=name, error_code="invalid-search-date")
    y, mo, d = int(m["y"]), m["m"], m["d"]
    try:
        if m["t"]:
            tz = m["z"] or "+00:00"
            instant = datetime.fromisoformat(f"{value[:10]}T{m['t']}{'+00:00' if tz == 'Z' else tz}")
            return DateParam(prefix, instant, instant)
        if d:
            day = date(y, int(mo), int(d))
            return DateParam(prefix, _start(day), _end(day))
        if mo:
            month = int(mo)
            return DateParam(prefix, _start(date(y, month, 1)), _end(date(y, month, calendar.monthrange(y, month)[1])))
        return DateParam(prefix, _start(date(y, 1, 1)), _end(date(y, 12, 31)))
    except ValueError:
        raise FhirError.simple(400, "invalid", f"{name}={raw!r} is not a real date.", expression=name, error_code="invalid-search-date") from None


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, timezone.utc)


def _end(day: date) -> datetime:
    return datetime.combine(day, time.max, timezone.utc)


def as_datetime(day: date | datetime | None, *, end: bool = False) -> datetime | None:
    if day is None:
        return None
    if isinstance(day, datetime):
        return day if day.tzinfo else day.replace(tzinfo=timezone.utc)
    return _end(day) if end else _start(day)


@dataclass(frozen=True)
class Token:
    system: str | None
    code: str


def parse_token(raw: str) -> Token:
    if "|" in raw:
        system, _, code = raw.partition("|")
        return Token(system or None, code)
    return Token(None, raw)


def parse_count(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    value = whole_number(raw) if len(raw) <= 9 else (maximum if raw.isascii() and raw.isdigit() else None)
    if value is None or value < 1:
        raise FhirError.simple(400, "invalid", f"_count must be a positive whole number, not {raw[:40]!r}.", expression="_count",
                               error_code="invalid-count")
    return min(value, maximum)
