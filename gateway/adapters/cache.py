"""Answers of the platform kept for a while, bounded by the injected clock.

Each kind of fact has its own lifetime (:class:`Lifetimes`, constructor
arguments with these defaults):

======================  ==========  =================================================
kind                    default     why
======================  ==========  =================================================
``directory``           1 hour      CoBrHa records and searches (professional with
                                    quality and visa, organisation, EHP) change
                                    rarely; a visa is still checked against its
                                    end date at every decision, so a kept record
                                    never lengthens a visa
``person``              none        national-register look-ups: names, birth date,
                                    death and current number come from the register
                                    at display time (IC-R9); the mutation feed is
                                    never kept either
``insurer``             15 minutes  insurer affiliation (IC-R7), asked for a day
``memberships``         60 seconds  roles in PSIs, pharmacies and insurers
                                    (IC-A2, IC-A3): a revoked role stops working
                                    within a minute
``links``               none        therapeutic links: IC-A1 and IC-A2 ask the
                                    attribute authority "at each call", so a revoked
                                    link stops working at the next call
``negative`` (a cap)    60 seconds  an answer that says "none" (no link, no such
                                    NIHII, no member) is kept no longer than this,
                                    and never longer than its kind's own lifetime
======================  ==========  =================================================

A lifetime of zero keeps nothing. Errors are never kept: the next call asks
again. An entry is fresh from the instant it was stored until its expiry,
read on the clock (a clock moved back makes it stale, not immortal). The
cache holds at most ``max_entries`` answers (the oldest go first); it lives
in this process's memory only, so several gateway instances each keep their own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Callable, Hashable, TypeVar

from gateway.domain.clock import Clock

T = TypeVar("T")


@dataclass(frozen=True)
class Lifetimes:
    """How long each kind of answer is kept (see the module's table)."""

    directory: timedelta = timedelta(hours=1)
    person: timedelta = timedelta(0)  # IC-R9: read at display time
    insurer: timedelta = timedelta(minutes=15)
    memberships: timedelta = timedelta(seconds=60)
    links: timedelta = timedelta(0)  # IC-A1/IC-A2: asked at each call
    negative: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < timedelta(0):
                raise ValueError(f"the cache lifetime of {f.name} cannot be negative")

    def of(self, kind: str, *, negative: bool = False) -> timedelta:
        kinds = {f.name for f in fields(self)} - {"negative"}
        if kind not in kinds:
            raise KeyError(f"no cache lifetime for {kind!r}; kinds: {', '.join(sorted(kinds))}")
        lifetime: timedelta = getattr(self, kind)
        return min(lifetime, self.negative) if negative else lifetime

    @classmethod
    def none(cls) -> "Lifetimes":
        """Keep nothing: every question goes to the platform."""
        return cls(*(timedelta(0) for _ in fields(cls)))


def is_negative(value: Any) -> bool:
    """"None", "no" or "nothing": kept no longer than a positive answer."""
    return value is None or value is False or (isinstance(value, (tuple, list)) and not value)


@dataclass
class _Entry:
    value: Any
    stored: datetime
    expires: datetime


class TimedCache:
    """A thread-safe map of answers, each fresh until its kind's lifetime is over."""

    def __init__(self, clock: Clock, lifetimes: Lifetimes | None = None, *, max_entries: int = 10_000) -> None:
        self.clock = clock
        self.lifetimes = lifetimes or Lifetimes()
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._entries: dict[tuple[str, Hashable], _Entry] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, key: Hashable, fetch: Callable[[], T]) -> T:
        """The kept answer to ``(kind, key)`` if fresh, else ``fetch()`` (kept
        for its lifetime; an exception is raised through and nothing is kept)."""
        now = self.clock.now()
        with self._lock:
            entry = self._entries.get((kind, key))
            if entry is not None and entry.stored <= now < entry.expires:
                self.hits += 1
                return entry.value  # type: ignore[no-any-return]
            self.misses += 1
        value = fetch()
        self.put(kind, key, value)
        return value

    def put(self, kind: str, key: Hashable, value: Any) -> None:
        """Keep an answer learnt on the way (a search's records, for the reads by number)."""
        lifetime = self.lifetimes.of(kind, negative=is_negative(value))
        if lifetime > timedelta(0):
            stored = self.clock.now()
            with self._lock:
                self._entries.pop((kind, key), None)
                self._entries[(kind, key)] = _Entry(value, stored, stored + lifetime)
                self._trim(stored)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _trim(self, now: datetime) -> None:
        if len(self._entries) <= self.max_entries:
            return
        for key in [k for k, e in self._entries.items() if not e.stored <= now < e.expires]:
            del self._entries[key]
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]
