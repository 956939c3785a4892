"""The data looked up for access decisions, kept at most 24 hours (RP-A7).

:class:`AccessData` is what the access rules compare a caller's CBE with,
for one insured person: the insurer, the prevention services of the current
employers, the regional services where the person is registered.
:class:`AccessDataCache` keeps each answer in memory for ``lifetime`` (at
most :data:`MAX_LIFETIME`, whatever is configured), then asks the sources
again. Nothing of it is ever written to the database.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Hashable, TypeVar

from gateway.domain.clock import Clock
from gateway.domain.rtw.ports import (
    Employment,
    InsurerAffiliation,
    JobSeekerRegistration,
    PartnerSources,
    PreventionService,
    StaffRole,
)

MAX_LIFETIME = timedelta(hours=24)  # RP-A7
T = TypeVar("T")


@dataclass(frozen=True)
class AccessData:
    """What the sources say about one insured person, on one day."""

    insurer: InsurerAffiliation | None
    employments: tuple[Employment, ...]
    prevention_services: tuple[PreventionService, ...]
    registrations: tuple[JobSeekerRegistration, ...]

    def prevention_cbes(self) -> frozenset[str]:
        return frozenset(s.cbe for s in self.prevention_services)

    def regional_cbes(self) -> frozenset[str]:
        return frozenset(r.cbe for r in self.registrations)


class AccessDataCache:
    """The sources behind a cache whose entries live at most 24 hours (RP-A7)."""

    def __init__(self, sources: PartnerSources, clock: Clock, lifetime: timedelta = MAX_LIFETIME) -> None:
        self.sources = sources
        self.clock = clock
        self.lifetime = min(lifetime, MAX_LIFETIME)
        self._entries: dict[Hashable, tuple[datetime, object]] = {}
        self._lock = threading.Lock()

    def _get(self, key: Hashable, fetch: Callable[[], T]) -> T:
        now = self.clock.now()
        with self._lock:
            held = self._entries.get(key)
            if held is not None and now - held[0] < self.lifetime:
                return held[1]  # type: ignore[return-value]
        value = fetch()
        with self._lock:
            self._entries[key] = (now, value)
            self._forget_expired(now)
        return value

    def _forget_expired(self, now: datetime) -> None:
        expired = [k for k, (at, _) in self._entries.items() if now - at >= self.lifetime]
        for key in expired:
            del self._entries[key]

    def about(self, niss: str, on: date) -> AccessData:
        """The access data of one insured person (fetched, or kept from less than 24 hours ago)."""

        def fetch() -> AccessData:
            employments = tuple(self.sources.employments_of(niss, on))
            services: list[PreventionService] = []
            for employment in employments:
                services.extend(self.sources.prevention_services_of(employment.employer_cbe, on))
            return AccessData(self.sources.insurer_of(niss, on), employments, tuple(services),
                              tuple(self.sources.registrations_of(niss, on)))

        return self._get(("person", niss), fetch)

    def staff_roles(self, niss: str) -> tuple[StaffRole, ...]:
        return self._get(("staff", niss), lambda: tuple(self.sources.staff_roles(niss)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
