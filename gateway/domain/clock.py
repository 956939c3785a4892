"""Injected time, so that retention, effective dates and token lifetimes are
tested without sleeping."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""

    def today(self) -> date:
        """Today's calendar date in Belgium."""


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        return self.now().astimezone(BRUSSELS).date()


class FixedClock:
    """A clock that moves only when told to (tests, replays, what-if runs)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware instant")
        self._now = at.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.astimezone(BRUSSELS).date()

    def set(self, at: datetime) -> None:
        self._now = at.astimezone(timezone.utc)

    def advance(self, delta: timedelta) -> None:
        self._now += delta
