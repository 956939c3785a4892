"""Return to work's weekly decision run (RP-F5) and a party's list of decisions
(RP-F7) at the issue's scale: 100,000 dossiers, a week of 5,000 requests with
their decisions recorded, on SQLite or PostgreSQL.

    python3 bench/rtw_decision_run.py                                   # SQLite in a temporary folder
    python3 bench/rtw_decision_run.py --database postgresql://me@localhost/cg_bench --reset

Figures printed:
- the decision run of the week (the use case: batches of 200, each one act
  with its audit record; a publication per recipient, the request's status
  and history step, the dossier's last change), against a bare reference
  doing the same writes with plain SQL in batches of the same size on
  another week of as many decisions;
- the latency of a regional list manager's list of decisions for the week
  (the use case: standing, rule, query, audit record; a page of 100),
  against the same query in plain SQL.

It asserts nothing about time.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import bindparam, insert, select, update  # noqa: E402

import gateway.models  # noqa: E402,F401
from gateway.config import Settings  # noqa: E402
from gateway.domain.clock import FixedClock  # noqa: E402
from gateway.domain.database import Database  # noqa: E402
from gateway.domain.identifiers import make_niss  # noqa: E402
from gateway.domain.rtw.model import RtwDossier  # noqa: E402
from gateway.domain.rtw.trajectory_model import (  # noqa: E402
    RtwDecision, RtwPublication, RtwRequest, RtwRequestStep, RtwTraining)
from gateway.ehealth.rtw.personas import rtw_personas  # noqa: E402
from gateway.ehealth.rtw.state import rtw_state  # noqa: E402
from gateway.wiring import build_gateway  # noqa: E402

WEEK, REFERENCE_WEEK = "2026-W25", "2026-W24"
BATCH = 200


def progress(line: str, last: bool) -> None:
    if sys.stdout.isatty():
        print("\r" + line, end="\n" if last else "", flush=True)
    elif last:
        print(line, flush=True)


def fill(gw, dossiers: int, requests: int, insurers: list[tuple[str, str]], regionals: list[tuple[str, str]],
         batch: int = 5000) -> None:
    """Store ``dossiers`` dossiers, then two weeks of ``requests`` submitted requests each, with two trainings, their
    history and a recorded, unpublished decision (fast path, plain inserts)."""
    now = gw.clock.now()
    actor = gw.ctx.pseudonyms.pseudonymise(make_niss(date(1970, 1, 1), 1))
    ids: list[str] = []
    started = time.perf_counter()
    for first in range(0, dossiers, batch):
        rows = []
        for i in range(first, min(first + batch, dossiers)):
            niss = make_niss(date(1950, 1, 1) + timedelta(days=i // 400), 1 + (i % 400) * 2)
            ids.append(str(uuid.uuid4()))
            rows.append({"id": ids[-1], "insured_pseudonym": gw.ctx.pseudonyms.pseudonymise(niss), "status": "open",
                         "opened_via": "insurer", "opened_by_pseudonym": actor, "opened_by_role": "oa-rtw-coordinator",
                         "opened_by_cbe": insurers[i % len(insurers)][0], "created_at": now, "updated_at": now, "version": 1})
        with gw.db.transaction() as session:
            session.execute(insert(RtwDossier), rows)
        progress(f"  stored {len(ids):>7}/{dossiers} dossiers ({len(ids) / (time.perf_counter() - started):,.0f}/s)",
                 len(ids) == dossiers)
    for w, (week, decided) in enumerate(((REFERENCE_WEEK, now - timedelta(days=7)), (WEEK, now))):
        for first in range(0, requests, batch):
            reqs, trainings, steps, decisions = [], [], [], []
            for i in range(first, min(first + batch, requests)):
                rid = str(uuid.uuid4())
                insurer_cbe, insurer_code = insurers[i % len(insurers)]
                regional_cbe, region = regionals[i % len(regionals)]
                reqs.append({"id": rid, "dossier_id": ids[(i * 17 + w) % len(ids)], "form_id": None, "kind": "training",
                             "project": "A training project", "counsellor_name": None, "status": "decided",
                             "filed_by_party": "regional", "filed_by_cbe": regional_cbe, "filed_by_role": "reg-counsellor",
                             "filed_by_pseudonym": actor, "insurer_cbe": insurer_cbe, "insurer_code": insurer_code,
                             "regional_cbe": regional_cbe, "region": region, "received_at": decided, "created_at": decided,
                             "updated_at": decided, "version": 3})
                for position in (1, 2):
                    trainings.append({"id": str(uuid.uuid4()), "request_id": rid, "position": position, "title": "Training",
                                      "provider": None, "hours_planned": 40, "cost_cents": 100_000})
                for seq, (step, status) in enumerate((("filed", "awaiting-validation"), ("validated", "submitted"),
                                                      ("decided", "decided")), start=1):
                    steps.append({"id": str(uuid.uuid4()), "request_id": rid, "seq": seq, "step": step, "status": status,
                                  "actor_role": "bench", "actor_cbe": None, "rule": "RP-F4", "note": None, "at": decided})
                decisions.append({"id": str(uuid.uuid4()), "request_id": rid, "outcome": "approved" if i % 3 else "refused",
                                  "costs_granted_cents": 150_000 if i % 3 else 0, "reason": None,
                                  "decided_by_role": "inami-expert", "decided_by_pseudonym": actor, "decided_at": decided,
                                  "week": week, "published_at": None})
            with gw.db.transaction() as session:
                for table, rows in ((RtwRequest, reqs), (RtwTraining, trainings), (RtwRequestStep, steps),
                                    (RtwDecision, decisions)):
                    session.execute(insert(table), rows)
        print(f"  stored {requests:,} requests with their decisions in {week}", flush=True)


def reference_run(db: Database, week: str, now: datetime) -> int:
    """The run's writes in plain SQL, batch by batch: what the use case costs beyond them is its acts and audit."""
    published = 0
    while True:
        with db.transaction() as session:
            batch = session.execute(select(RtwDecision.id, RtwDecision.request_id, RtwDecision.outcome)
                                    .where(RtwDecision.week == week, RtwDecision.published_at.is_(None))
                                    .order_by(RtwDecision.decided_at, RtwDecision.id).limit(BATCH)).all()
            if not batch:
                return published
            requests = {r.id: r for r in session.execute(select(RtwRequest.id, RtwRequest.filed_by_cbe, RtwRequest.insurer_cbe,
                                                                 RtwRequest.dossier_id)
                                                          .where(RtwRequest.id.in_([b.request_id for b in batch]))).all()}
            publications, steps = [], []
            for decision_id, request_id, outcome in batch:
                r = requests[request_id]
                for recipient in sorted({r.filed_by_cbe, r.insurer_cbe}):
                    publications.append({"id": str(uuid.uuid4()), "decision_id": decision_id, "request_id": request_id,
                                         "recipient": recipient, "week": week, "published_at": now})
                steps.append({"id": str(uuid.uuid4()), "request_id": request_id, "seq": 4, "step": "published",
                              "status": outcome, "actor_role": "system", "actor_cbe": None, "rule": "RP-F5", "note": None,
                              "at": now})
            requests_t, dossiers_t = RtwRequest.__table__, RtwDossier.__table__
            session.execute(update(requests_t).where(requests_t.c.id == bindparam("rid"))
                            .values(status=bindparam("st"), updated_at=now, version=requests_t.c.version + 1),
                            [{"rid": request_id, "st": outcome} for _, request_id, outcome in batch])
            session.execute(update(dossiers_t).where(dossiers_t.c.id == bindparam("did")).values(updated_at=now),
                            [{"did": r.dossier_id} for r in requests.values()])
            session.execute(insert(RtwPublication), publications)
            session.execute(insert(RtwRequestStep), steps)
            session.execute(update(RtwDecision).where(RtwDecision.id.in_([b.id for b in batch])).values(published_at=now))
            published += len(batch)


def latencies(ops: int, action: Callable[[int], object]) -> tuple[float, float, float]:
    found = []
    for i in range(ops):
        t0 = time.perf_counter()
        action(i)
        found.append((time.perf_counter() - t0) * 1000)
    found.sort()
    return statistics.median(found), found[int(len(found) * 0.95) - 1], sum(found) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the gateway's tables in --database first")
    parser.add_argument("--dossiers", type=int, default=100_000, help="dossiers stored (default 100000)")
    parser.add_argument("--requests", type=int, default=5_000, help="requests of the week (default 5000)")
    parser.add_argument("--ops", type=int, default=200, help="list queries measured (default 200)")
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
    sandbox = rtw_state(gw.platform).sandbox
    insurers = sorted((o.cbe, code) for code, o in sandbox.insurers.items())
    regionals = sorted((o.cbe, o.region or "") for o in sandbox.regional.values())
    print(f"database: {db.dialect} ({db.engine.url.render_as_string(hide_password=True)})")
    fill(gw, args.dossiers, args.requests, insurers, regionals)

    rtw = gw.return_to_work
    t0 = time.perf_counter()
    reference = reference_run(db, REFERENCE_WEEK, clock.now())
    bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = rtw.decisions.run(WEEK, batch_size=BATCH, progress=lambda done, total: progress(
        f"  decision run {WEEK}: {done}/{total} published", done == total))
    run = time.perf_counter() - t0
    again = time.perf_counter()
    second = rtw.decisions.run(WEEK, batch_size=BATCH)
    rerun = time.perf_counter() - again
    print(f"decision run  {report.published:,} decisions in {run:.2f} s ({report.published / run:,.0f}/s); "
          f"bare SQL {reference:,} in {bare:.2f} s; ratio x{run / bare:.1f}")
    print(f"second run    {second.published} published, {second.already:,} already, in {rerun:.2f} s")

    persona = rtw_personas(sandbox)["reg-list-manager"]
    issuer = next(iter(rtw.policy.sign_in.regional_issuers))
    principal = dataclasses.replace(persona.principal("otp"), extra={"iss": issuer})
    party = principal.organisation_cbe

    def listed(i: int) -> object:
        return rtw.lists.decisions(principal, WEEK, page_size=100)

    def bare_list(i: int) -> object:
        with db.transaction() as session:
            return session.execute(select(RtwPublication.decision_id, RtwPublication.request_id, RtwDecision.outcome,
                                          RtwDecision.costs_granted_cents, RtwRequest.kind, RtwRequest.dossier_id)
                                   .join(RtwDecision, RtwDecision.id == RtwPublication.decision_id)
                                   .join(RtwRequest, RtwRequest.id == RtwPublication.request_id)
                                   .where(RtwPublication.recipient == party, RtwPublication.week == WEEK)
                                   .order_by(RtwPublication.id).limit(100)).all()

    lines = len(listed(0).lines)  # type: ignore[attr-defined]
    p50, p95, total = latencies(args.ops, listed)
    b50, b95, _ = latencies(args.ops, bare_list)
    print(f"list query    {args.ops} queries of a page of {lines} lines: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
          f"({args.ops / total:,.0f}/s); bare SQL p50 {b50:.1f} ms, p95 {b95:.1f} ms; ratio x{p50 / b50:.1f} at p50")
    db.dispose()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
