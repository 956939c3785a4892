"""Answers kept for a time read from the injected clock, per kind: the
directory longer, memberships short, therapeutic links and register
look-ups not at all by default (IC-A1 asks "at each call", IC-R9 reads the
register at display time); a negative answer never longer than a positive
one; an error never kept."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from gateway.adapters import errors
from gateway.adapters.cache import Lifetimes, TimedCache
from gateway.domain.clock import FixedClock
from gateway.domain.ports import SourceUnavailable

AA, BOOK, RN = "AttributeAuthority/v1", "AddressBook/v1", "consultRN/v1"


def test_IC_A1_by_default_a_link_is_asked_at_each_call(in_process, personas):
    facts, calls, clock = in_process.adapters.facts, in_process.calls, in_process.clock
    gp, patient = personas["gp"].niss, personas["patient"].niss
    assert Lifetimes().links == timedelta(0)
    assert facts.has_therapeutic_link(gp, patient, clock.today()) and facts.has_therapeutic_link(gp, patient, clock.today())
    assert calls.count(AA) == 2


def test_IC_A1_a_configured_link_lifetime_is_honoured(in_process, make_side, personas):
    kept = make_side(in_process, lifetimes=Lifetimes(links=timedelta(seconds=60), negative=timedelta(seconds=60)))
    facts, calls, clock = kept.adapters.facts, kept.calls, kept.clock
    gp, patient = personas["gp"].niss, personas["patient"].niss
    assert facts.has_therapeutic_link(gp, patient, clock.today()) and facts.has_therapeutic_link(gp, patient, clock.today())
    assert calls.count(AA) == 1
    clock.advance(timedelta(seconds=59))
    facts.has_therapeutic_link(gp, patient, clock.today())
    assert calls.count(AA) == 1
    clock.advance(timedelta(seconds=1))
    facts.has_therapeutic_link(gp, patient, clock.today())
    assert calls.count(AA) == 2


def test_directory_records_are_kept_longer_than_memberships(in_process, personas):
    facts, calls, clock = in_process.adapters.facts, in_process.calls, in_process.clock
    gp, admin = personas["gp"], personas["psi-admin"]
    facts.professional(gp.nihii), facts.memberships(admin.niss)
    clock.advance(timedelta(minutes=30))
    facts.professional(gp.nihii), facts.memberships(admin.niss)
    assert (calls.count(BOOK), calls.count(AA)) == (1, 2)
    clock.advance(timedelta(minutes=31))
    facts.professional(gp.nihii)
    assert calls.count(BOOK) == 2


def test_IC_R9_a_person_is_read_at_each_display_and_the_insurer_is_kept(in_process, personas):
    facts, register, calls, clock = in_process.adapters.facts, in_process.adapters.register, in_process.calls, in_process.clock
    patient = personas["patient"].niss
    register.person(patient), facts.insurer_of(patient, clock.today())
    register.person(patient), facts.insurer_of(patient, clock.today())
    assert (calls.count(RN, "SearchBySSIN"), calls.count(AA)) == (2, 1)
    clock.advance(timedelta(minutes=16))
    facts.insurer_of(patient, clock.today())
    assert calls.count(AA) == 2


def test_a_negative_answer_is_kept_no_longer_than_a_positive_one(in_process, make_side, personas):
    long_links = make_side(in_process, lifetimes=Lifetimes(links=timedelta(minutes=10), negative=timedelta(seconds=30)))
    facts, calls, clock = long_links.adapters.facts, long_links.calls, long_links.clock
    yes = (personas["gp"].niss, personas["patient"].niss, clock.today())
    no = (personas["gp-no-link"].niss, personas["patient"].niss, clock.today())
    assert facts.has_therapeutic_link(*yes) and not facts.has_therapeutic_link(*no)
    clock.advance(timedelta(seconds=31))
    facts.has_therapeutic_link(*yes), facts.has_therapeutic_link(*no)
    assert calls.count(AA) == 3  # the "no" was asked again, the "yes" was not
    short_links = make_side(in_process, lifetimes=Lifetimes(links=timedelta(seconds=10), negative=timedelta(minutes=5)))
    short_links.adapters.facts.has_therapeutic_link(*no)
    clock.advance(timedelta(seconds=11))
    short_links.adapters.facts.has_therapeutic_link(*no)
    assert short_links.calls.count(AA) == 2  # the cap cannot lengthen a kind's own lifetime


def test_an_error_is_never_kept(in_process, make_side, personas):
    outage = {"on": True}

    class Flaky(httpx.BaseTransport):
        def __init__(self, inner: httpx.BaseTransport) -> None:
            self.inner = inner

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if outage["on"]:
                return httpx.Response(503, text="maintenance")
            return self.inner.handle_request(request)

    flaky = make_side(in_process, wrap=Flaky)
    with pytest.raises(SourceUnavailable) as err:
        flaky.adapters.facts.memberships(personas["psi-admin"].niss)
    assert err.value.code == errors.HTTP_ERROR
    outage["on"] = False
    assert flaky.adapters.facts.memberships(personas["psi-admin"].niss)


def test_lifetimes_of_zero_keep_nothing_and_a_clock_moved_back_makes_entries_stale():
    clock = FixedClock(datetime(2026, 6, 15, 12, tzinfo=timezone.utc))
    fetched: list[int] = []

    def fetch() -> int:
        fetched.append(1)
        return len(fetched)

    nothing = TimedCache(clock, Lifetimes.none())
    assert (nothing.get("links", "k", fetch), nothing.get("links", "k", fetch)) == (1, 2) and len(nothing) == 0
    cache = TimedCache(clock)
    assert cache.get("directory", "k", fetch) == cache.get("directory", "k", fetch) == 3
    clock.advance(timedelta(minutes=-1))
    assert cache.get("directory", "k", fetch) == 4
    with pytest.raises(ValueError):
        Lifetimes(links=timedelta(seconds=-1))


def test_the_cache_is_bounded():
    clock = FixedClock(datetime(2026, 6, 15, 12, tzinfo=timezone.utc))
    cache = TimedCache(clock, max_entries=3)
    for key in range(5):
        cache.get("directory", key, lambda key=key: key)
    assert len(cache) == 3 and cache.get("directory", 0, lambda: "again") == "again"
