"""The replay table: insert-or-refuse, shared by every instance on the
database, forgetting what expired."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from gateway.domain.database import Database
from gateway.identity.model import SeenMessage
from gateway.identity.replay import ReplayGuard


def count(db: Database) -> int:
    with db.transaction() as session:
        return int(session.execute(select(func.count()).select_from(SeenMessage)).scalar_one())


def test_first_sight_is_recorded_and_the_second_refused(gw, clock):
    guard = ReplayGuard(gw.db)
    now = clock.now()
    assert guard.seen("a" * 64, now + timedelta(minutes=1), now) is False
    assert guard.seen("a" * 64, now + timedelta(minutes=1), now) is True
    assert guard.seen("b" * 64, now + timedelta(minutes=1), now) is False


def test_another_instance_on_the_same_database_refuses_the_replay(gw, clock):
    now = clock.now()
    assert ReplayGuard(gw.db).seen("c" * 64, now + timedelta(minutes=1), now) is False
    other = ReplayGuard(Database(gw.db.url))  # a second gateway process: its own engine, same database
    try:
        assert other.seen("c" * 64, now + timedelta(minutes=1), now) is True
    finally:
        other.db.dispose()


def test_expired_records_are_purged(gw, clock):
    guard = ReplayGuard(gw.db)
    now = clock.now()
    guard.seen("d" * 64, now + timedelta(seconds=30), now)
    guard.seen("e" * 64, now + timedelta(minutes=10), now)
    assert count(gw.db) == 2
    later = now + timedelta(minutes=1)
    assert guard.seen("f" * 64, later + timedelta(minutes=1), later) is False  # purges d on the way
    assert count(gw.db) == 2
    assert guard.seen("d" * 64, later + timedelta(minutes=1), later) is False  # expired: forgotten
    assert guard.purge(now + timedelta(hours=1)) == 3 and count(gw.db) == 0


def test_concurrent_deliveries_of_one_message_are_accepted_once(gw, clock):
    guard = ReplayGuard(gw.db)
    now = clock.now()
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def deliver() -> None:
        barrier.wait()
        results.append(guard.seen("9" * 64, now + timedelta(minutes=1), now))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False, True, True, True, True, True]
