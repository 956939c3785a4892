"""Declare and consult throughput through the use cases, with many inclusions
already stored (issue target: 100,000), on SQLite or PostgreSQL.

    python3 bench/inclusions.py                                   # SQLite in a temporary folder
    python3 bench/inclusions.py --database postgresql://me@localhost/cg_bench --reset

It prints its figures; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

import gateway.models  # noqa: E402,F401
from gateway.config import Settings  # noqa: E402
from gateway.domain.billing import billing_end, billing_start  # noqa: E402
from gateway.domain.clock import FixedClock  # noqa: E402
from gateway.domain.database import Database  # noqa: E402
from gateway.domain.identifiers import make_niss  # noqa: E402
from gateway.domain.inclusions import DeclareInclusion  # noqa: E402
from gateway.domain.model import Inclusion, Patient  # noqa: E402
from gateway.ehealth.sandbox.personas import personas  # noqa: E402
from gateway.wiring import build_gateway  # noqa: E402


def fill(gw, count: int, psis: list[str], batch: int = 5000) -> None:
    """Store ``count`` inclusions of synthetic patients directly (fast path)."""
    now = gw.clock.now()
    actor = gw.ctx.pseudonyms.pseudonymise(make_niss(date(1970, 1, 1), 1))
    done = 0
    started = time.perf_counter()
    while done < count:
        n = min(batch, count - done)
        patients, rows = [], []
        for i in range(done, done + n):
            niss = make_niss(date(1940, 1, 1) + timedelta(days=i // 400), 1 + (i % 400) * 2)
            pseudonym = gw.ctx.pseudonyms.pseudonymise(niss)
            start = date(2022, 1, 1) + timedelta(days=i % 1000)
            end = start + timedelta(days=365) if i % 3 == 0 else None
            patients.append({"pseudonym": pseudonym, "lock_counter": 0, "created_at": now})
            rows.append({
                "id": str(uuid.uuid4()), "patient_pseudonym": pseudonym, "psi_nihii": psis[i % len(psis)],
                "status": "principal", "start_date": start, "end_date": end,
                "billing_start": billing_start(start), "billing_end": billing_end(end),
                "declared_by_nihii": None, "declared_by_pseudonym": actor, "declared_by_role": "provider",
                "last_actor_pseudonym": actor, "last_actor_role": "provider", "closed_reason": None,
                "created_at": now, "updated_at": now, "version": 1,
            })
        with gw.db.transaction() as session:
            session.execute(insert(Patient), patients)
            session.execute(insert(Inclusion), rows)
        done += n
        rate = done / (time.perf_counter() - started)
        line = f"  stored {done:>7}/{count} inclusions ({rate:,.0f}/s)"
        if sys.stdout.isatty():
            print("\r" + line, end="", flush=True)
        elif done == count or done % (batch * 5) == 0:
            print(line, flush=True)
    if sys.stdout.isatty():
        print()


def measure(name: str, ops: int, action: Callable[[int], object]) -> None:
    latencies = []
    started = time.perf_counter()
    for i in range(ops):
        t0 = time.perf_counter()
        action(i)
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"{name:<8} {ops} ops in {elapsed:.2f} s = {ops / elapsed:,.0f} ops/s "
          f"(p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the gateway's tables in --database first")
    parser.add_argument("--inclusions", type=int, default=100_000, help="inclusions stored before measuring (default 100000)")
    parser.add_argument("--ops", type=int, default=500, help="declarations and consultations measured (default 500 each)")
    args = parser.parse_args(argv)

    tmp = None
    url = args.database
    if url is None:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/bench.sqlite3"
    elif not args.reset:
        parser.error("--database needs --reset: the benchmark recreates the gateway's tables")
    db = Database(url)
    db.drop_schema()
    db.create_schema()
    clock = FixedClock(datetime(2026, 6, 15, 12, tzinfo=timezone.utc))
    gw = build_gateway(Settings(database_url=db.url), clock=clock, db=db)
    cast = personas(gw.platform.registries)
    psis = sorted(o.nihii for o in gw.platform.registries.organisations if o.kind.value == "psi")
    print(f"database: {db.dialect} ({db.engine.url.render_as_string(hide_password=True)})")
    fill(gw, args.inclusions, psis)

    gp = cast["gp"]
    linked = [p.niss for p in gw.platform.registries.patients()
              if p.death_date is None and gw.ctx.facts.has_therapeutic_link(gp.niss, p.niss, clock.today())]
    alive = [p.niss for p in gw.platform.registries.patients() if p.death_date is None]
    principal = gp.principal()

    def declare(i: int) -> object:
        return gw.inclusions.declare(principal, DeclareInclusion(
            patient_niss=alive[i % len(alive)], psi_nihii=psis[i % len(psis)], status="information",
            start_date=date(2026, 1, 1) + timedelta(days=i % 150), consent_decision="agree", consent_date=date(2026, 1, 1),
        ))

    def consult(i: int) -> object:
        return gw.inclusions.consult(principal, linked[i % len(linked)])

    print(f"measuring with {args.inclusions:,} inclusions stored ({len(linked)} patients linked to the consulting GP)")
    measure("declare", args.ops, declare)
    measure("consult", args.ops, consult)
    db.dispose()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
