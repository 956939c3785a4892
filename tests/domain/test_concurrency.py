"""IC-R1 under concurrency: two simultaneous principal declarations for one
patient end with exactly one stored; two changes of one version, with one
version conflict."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import func, select

from gateway.domain.errors import Conflict, DomainError
from gateway.domain.inclusions import InclusionChanges
from gateway.domain.model import Inclusion
from tests.conftest import declaration


def race(n: int, action) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_IC_R1_concurrent_principal_declarations_store_exactly_one(gw, personas):
    psis = [personas["psi-admin"].organisation_nihii, personas["psi-admin-other"].organisation_nihii]
    actors = [personas["gp"].principal(), personas["nurse"].principal()]
    for _ in range(3):
        results = race(2, lambda i: gw.inclusions.declare(actors[i], declaration(personas["patient-2"], psis[i])))
        ok = [r for r in results if not isinstance(r, Exception)]
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(ok) == 1 and len(refused) == 1, results
        assert isinstance(refused[0], Conflict) and refused[0].rule == "IC-R1"
        with gw.db.transaction() as s:
            assert s.execute(
                select(func.count()).select_from(Inclusion).where(Inclusion.status == "principal")
            ).scalar_one() == 1
            s.execute(Inclusion.__table__.delete())


def test_concurrent_changes_of_one_version_end_with_one_conflict(gw, personas):
    inc = gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    actors = [personas["gp"].principal(), personas["nurse"].principal()]
    results = race(
        2,
        lambda i: gw.inclusions.modify(actors[i], inc.id, InclusionChanges(start_date=date(2026, 3, 1 + i)), expected_version=1),
    )
    errors = [r for r in results if isinstance(r, DomainError)]
    assert len(errors) == 1 and errors[0].category == "version-conflict", results
    assert gw.inclusions.get(actors[0], inc.id).version == 2


def test_IC_A1_IC_R8_a_read_waiting_on_the_attribute_authority_holds_no_write(gw, platform, personas, monkeypatch):
    """A read asks the attribute authority inside its act (IC-A1, at each
    call). Meanwhile another act may write: on SQLite the read reads from a
    snapshot and takes the one write lock only to append its audit record,
    after the answer is known (IC-R8: committed before the answer is given)."""
    from gateway.domain import audit
    from gateway.domain.model import AuditRecord

    gp = personas["gp"].principal()
    inc = gw.inclusions.declare(gp, declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    inside, release, written = threading.Event(), threading.Event(), threading.Event()
    asked = platform.facts.has_therapeutic_link  # the domain tests' gateway asks the platform's facts directly
    reader: list[threading.Thread] = []

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        if threading.current_thread() is reader[0]:
            inside.set()
            assert release.wait(60)
        return asked(*args, **kwargs)

    monkeypatch.setattr(platform.facts, "has_therapeutic_link", held)
    read: list[object] = []
    reader.append(threading.Thread(target=lambda: read.append(gw.inclusions.get(gp, inc.id))))
    reader[0].start()
    try:
        assert inside.wait(30)

        def write() -> None:
            gw.inclusions.declare(gp, declaration(personas["patient-2"], personas["psi-admin"].organisation_nihii))
            written.set()

        writer = threading.Thread(target=write)
        writer.start()
        assert written.wait(30), "the declaration waited on the read's transaction"
        assert not read  # the read is still inside its question
    finally:
        release.set()
        reader[0].join(60)
    assert read and read[0].id == inc.id  # type: ignore[attr-defined]
    with gw.db.transaction() as s:
        reads = s.execute(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.action == "inclusion.read", AuditRecord.outcome == "allowed")).scalar_one()
        assert reads == 1
    gw.ctx.runner.sealer.drain()
    with gw.db.transaction() as s:
        report = audit.verify(s)
        assert report.intact and report.unsealed == 0, report


def test_a_read_only_unit_refuses_to_write(gw):
    import pytest

    from gateway.domain.model import Inclusion as Row

    with pytest.raises(RuntimeError, match="read-only"):
        with gw.db.snapshot() as session:
            session.add(Row(id="x"))
            session.flush()
