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
