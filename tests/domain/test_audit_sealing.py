"""IC-R8 with an audit trail that does not serialise the gateway: records
are appended in the act's transaction without a lock and sealed into the
hash chain in batches; verification covers everything sealed, says how
much waits, and detects any edit, removal or reordering of sealed records."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, func, insert, select, text, update

from gateway.cli import main
from gateway.domain import audit
from gateway.domain.audit import AuditEntry
from gateway.domain.audit_sealer import AuditSealer
from gateway.domain.database import normalise_url
from gateway.domain.model import AuditHead, AuditRecord
from gateway.schema import upgrade
from tests.domain.test_concurrency import race

AT = datetime(2026, 6, 15, 12, tzinfo=timezone.utc)


def entry(n: int) -> AuditEntry:
    return AuditEntry(actor_pseudonym=f"actor-{n}", actor_role="provider", action="inclusion.consult", outcome="allowed",
                      channel="fhir", detail={"n": n})


def append_committed(db, count: int) -> None:
    """Records committed and not sealed yet, as on PostgreSQL between an
    act's commit and the next seal (SQLite seals them as they commit)."""
    for n in range(count):
        with db.transaction() as s:
            audit.append(s, entry(n), AT)
            s.info.pop(audit._APPENDED, None)


def chain(db) -> list[tuple[int, int | None]]:
    with db.transaction() as s:
        return [tuple(r) for r in s.execute(select(AuditRecord.seq, AuditRecord.position).order_by(AuditRecord.seq)).all()]


def report(db) -> audit.ChainReport:
    with db.transaction() as s:
        return audit.verify(s)


def seal(db, limit: int = audit.SEAL_BATCH) -> int | None:
    with db.transaction() as s:
        return audit.seal(s, limit=limit)


def test_IC_R8_appended_records_wait_unsealed_and_verify_says_how_many(database):
    append_committed(database, 3)
    assert chain(database) == [(1, None), (2, None), (3, None)]
    waiting = report(database)
    assert (waiting.intact, waiting.records, waiting.unsealed) == (True, 0, 3)
    assert "3 record(s) appended since the last seal are not sealed yet" in waiting.describe()
    assert seal(database) == 3
    assert chain(database) == [(1, 1), (2, 2), (3, 3)]
    sealed = report(database)
    assert (sealed.intact, sealed.records, sealed.unsealed) == (True, 3, 0)


def test_IC_R8_on_sqlite_a_record_is_sealed_as_its_act_commits(database):
    with database.transaction() as s:
        audit.append(s, entry(1), AT)
    expected = [(1, None)] if database.dialect == "postgresql" else [(1, 1)]  # PostgreSQL: by the sealer, after the commit
    assert chain(database) == expected
    with database.transaction() as s:  # rolled back: neither the record nor its seal
        audit.append(s, entry(2), AT)
        s.rollback()
    assert chain(database) == expected


def test_IC_R8_a_seal_takes_at_most_its_batch_in_seq_order(database):
    append_committed(database, 5)
    assert seal(database, limit=2) == 2
    assert seal(database, limit=2) == 2
    assert report(database).unsealed == 1
    assert seal(database, limit=2) == 1
    assert seal(database) == 0
    assert chain(database) == [(n, n) for n in range(1, 6)]


def test_IC_R8_a_record_committed_after_a_seal_is_chained_by_the_next(database):
    """A record may commit after a later seq was sealed (PostgreSQL hands
    out seq before commit): it is chained after, never lost nor inserted."""
    with database.transaction() as s:
        s.execute(insert(AuditRecord.__table__).values(seq=10, at=AT, actor_pseudonym="a", actor_role="provider",
                                                       action="x", outcome="allowed", channel="fhir", detail={}))
    assert seal(database) == 1
    with database.transaction() as s:
        s.execute(insert(AuditRecord.__table__).values(seq=5, at=AT, actor_pseudonym="b", actor_role="provider",
                                                       action="y", outcome="allowed", channel="fhir", detail={}))
    assert seal(database) == 1
    assert chain(database) == [(5, 2), (10, 1)]
    assert report(database).intact


def test_IC_R8_every_concurrent_act_is_sealed_once_in_one_chain(gw, personas):
    patient = personas["patient"]
    results = race(8, lambda i: [gw.inclusions.consult(patient.principal(), patient.niss) for _ in range(5)])
    assert not [r for r in results if isinstance(r, Exception)], results
    rows = chain(gw.db)
    assert len(rows) == 40 and sorted(p for _, p in rows) == list(range(1, 41))
    verified = report(gw.db)
    assert (verified.intact, verified.records, verified.unsealed) == (True, 40, 0)


def test_IC_R8_reordering_sealed_records_is_detected(database):
    append_committed(database, 4)
    seal(database)
    with database.transaction() as s:  # swap the places of records 2 and 3
        s.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(position=-2))
        s.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(position=2))
        s.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(position=3))
    broken = report(database)
    assert (broken.intact, broken.broken_at) == (False, 2)
    assert "link" in broken.reason


def test_IC_R8_renumbering_or_unsealing_a_sealed_record_is_detected(database):
    append_committed(database, 3)
    seal(database)
    with database.transaction() as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(seq=20))
    assert "edited" in report(database).reason
    with database.transaction() as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 20).values(seq=2, position=None))
    broken = report(database)
    assert (broken.intact, broken.broken_at) == (False, 2) and "missing" in broken.reason


def test_IC_R8_removing_the_head_is_detected(database):
    append_committed(database, 2)
    seal(database)
    with database.transaction() as s:
        s.execute(AuditHead.__table__.delete())
    assert "head is missing" in report(database).reason


def test_IC_R8_the_sealer_is_bounded_and_leaves_the_rest_for_later(database):
    append_committed(database, 5)
    sealer = AuditSealer(database, batch=2, rounds=1, retry_after=3600)
    sealer.inline = False  # the after-commit sealer PostgreSQL uses, on whichever database runs the tests
    try:
        sealer.committed()
        assert report(database).unsealed == 3
        sealer.drain()
        sealer.drain()
        assert report(database).unsealed == 0
    finally:
        sealer.close()
    assert report(database).intact


@pytest.mark.skipif(not (os.environ.get("CARE_GATEWAY_TEST_DATABASE_URL") or "").startswith("postgres"),
                    reason="row locks that a sealer skips: PostgreSQL only")
def test_IC_R8_a_sealer_does_not_wait_for_another(database):
    append_committed(database, 2)
    seal(database)
    append_committed(database, 1)
    with database.transaction() as holder:
        holder.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update())
        assert seal(database) is None  # skipped at once, nothing done
    assert seal(database) == 1
    assert report(database).intact


def test_IC_R8_audit_seal_and_verify_commands(database, capsys, monkeypatch):
    monkeypatch.setenv("CARE_GATEWAY_DATABASE_URL", database.url)
    append_committed(database, 3)
    assert main(["audit", "verify"]) == 0
    assert "intact: 0 records verified; 3 record(s) appended since the last seal are not sealed yet" in capsys.readouterr().out
    assert main(["audit", "seal"]) == 0
    assert "sealed 3 record(s); the chain now holds 3" in capsys.readouterr().out
    assert main(["audit", "verify"]) == 0
    assert "intact: 3 records verified; none waits to be sealed" in capsys.readouterr().out


@pytest.fixture
def empty_url(tmp_path):
    url = os.environ.get("CARE_GATEWAY_TEST_MIGRATIONS_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    engine = create_engine(normalise_url(url))
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url


def test_IC_R8_a_chain_made_before_migration_0007_still_verifies(empty_url):
    """Records chained one by one under the head lock keep their hashes:
    their position is their seq, and appends go on after them."""
    upgrade(empty_url, "0006")
    engine = create_engine(normalise_url(empty_url))
    prev = audit.GENESIS
    with engine.begin() as c:
        for seq in (1, 2, 3):
            values = dict(seq=seq, at=AT, actor_pseudonym=f"a{seq}", actor_role="provider", actor_organisation=None,
                          action="inclusion.consult", outcome="allowed", code=None, rule="IC-A1", patient_pseudonym="p",
                          resource_type=None, resource_id=None, channel="soap", detail={"count": seq})
            digest = audit.record_hash(prev, type("Old", (), values))
            c.execute(text("INSERT INTO audit_record (seq, at, actor_pseudonym, actor_role, action, outcome, rule, "
                           "patient_pseudonym, channel, detail, prev_hash, hash) VALUES (:seq, :at, :actor_pseudonym, "
                           ":actor_role, :action, :outcome, :rule, :patient_pseudonym, :channel, :detail, :prev, :hash)"),
                      {**values, "detail": f'{{"count": {seq}}}', "prev": prev, "hash": digest})
            prev = digest
        c.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 3, :h)"), {"h": prev})
    engine.dispose()
    upgrade(empty_url)
    from gateway.domain.database import Database

    db = Database(empty_url)
    try:
        assert report(db).intact and report(db).records == 3
        append_committed(db, 1)
        assert seal(db) == 1
        with db.transaction() as s:
            assert s.execute(select(func.max(AuditRecord.seq))).scalar_one() == 4
        assert (report(db).intact, report(db).records) == (True, 4)
    finally:
        db.dispose()
