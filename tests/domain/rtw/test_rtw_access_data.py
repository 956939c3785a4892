"""RP-A7: the data looked up for access decisions are kept at most 24 hours,
then fetched again (a moved clock, counted at the sources); nothing of
them is written to the gateway's database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from gateway.domain.rtw.access_data import MAX_LIFETIME, AccessDataCache
from gateway.domain.rtw.service import ReturnToWork
from gateway.ehealth.rtw.facts import SandboxPartnerSources

SOURCES = ("cin-affiliation", "dimona", "seed-connect", "jobseeker")


def asked(state) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {s: state.calls[s] for s in SOURCES}


def test_rp_a7_access_data_are_fetched_again_after_24_hours(rtw: ReturnToWork, state, sandbox, who, clock) -> None:  # type: ignore[no-untyped-def]
    dossier, _ = rtw.dossiers.open(who("oa-physician"), sandbox.cast.insured)
    first = asked(state)
    assert all(first.values())
    clock.advance(timedelta(hours=23, minutes=59))
    rtw.dossiers.read(who("oa-physician"), dossier.id)
    assert asked(state) == first  # kept: less than 24 hours old
    clock.advance(timedelta(minutes=1))
    rtw.dossiers.read(who("oa-physician"), dossier.id)
    again = asked(state)
    assert all(again[s] > first[s] for s in SOURCES)  # 24 hours old: asked again


def test_rp_a7_a_longer_lifetime_is_cut_to_24_hours(state, clock) -> None:  # type: ignore[no-untyped-def]
    cache = AccessDataCache(SandboxPartnerSources(state), clock, lifetime=timedelta(days=7))
    assert cache.lifetime == MAX_LIFETIME
    niss = state.sandbox.cast.insured
    cache.about(niss, clock.today())
    clock.advance(MAX_LIFETIME)
    before = state.calls["cin-affiliation"]
    cache.about(niss, clock.today())
    assert state.calls["cin-affiliation"] == before + 1
    assert len(cache) == 1  # the expired entry is gone, not kept beside the new one


def test_rp_a7_access_data_never_reach_the_database(rtw: ReturnToWork, sandbox, who) -> None:  # type: ignore[no-untyped-def]
    rtw.dossiers.open(who("prev-nurse"), sandbox.cast.insured)
    employer = sandbox.employments_of(sandbox.cast.insured, rtw.ctx.clock.today())[0]
    with rtw.ctx.db.engine.connect() as connection:
        tables = [r[0] for r in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))] \
            if rtw.ctx.db.dialect == "sqlite" else []
        for table in tables:
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                assert employer.employer_cbe not in " ".join(str(v) for v in row)
                assert employer.employer_name not in " ".join(str(v) for v in row)
