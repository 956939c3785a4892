"""``care-gateway rtw``: return to work's operator commands.

- ``decision-run --week 2026-W49`` publishes INAMI's decisions of a week
  (RP-F5), showing its progress; run twice it changes nothing, killed
  midway and run again it publishes what is left, each decision once.
- ``statistics --from 2026-01 [--to 2026-06] --by region`` exports the
  anonymous counts after the small-cell check (RP-R3), as CSV or JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any


def cmd_decision_run(args: argparse.Namespace) -> int:
    from gateway.cli import _gateway
    from gateway.domain.errors import DomainError

    gw = _gateway(args)
    if gw.return_to_work is None:
        print("error: return to work is not configured on this gateway", file=sys.stderr)
        return 2

    def progress(done: int, total: int) -> None:
        print(f"\rdecision run {args.week}: {done}/{total} published", end="", file=sys.stderr, flush=True)

    try:
        report = gw.return_to_work.decisions.run(args.week, batch_size=args.batch_size, progress=progress)
    except DomainError as exc:
        print(f"\nerror: {exc.code} ({exc.rule or '-'}): {exc.message}", file=sys.stderr)
        return 1
    print(file=sys.stderr)
    print(report.describe())
    return 0


def _rows(release: Any) -> list[dict[str, Any]]:
    rows = []
    for group in release.groups:
        for cell in (*group.cells, group.total):
            rows.append({"period": group.period, release.dimension: cell.value, "requests": cell.requests,
                         "decisions": cell.decisions, "trainings": cell.trainings, "hours": cell.hours,
                         "suppressed": cell.suppressed or ""})
    return rows


def cmd_statistics(args: argparse.Namespace) -> int:
    from gateway.cli import _gateway
    from gateway.domain.errors import DomainError

    gw = _gateway(args)
    if gw.return_to_work is None:
        print("error: return to work is not configured on this gateway", file=sys.stderr)
        return 2
    try:
        release = gw.return_to_work.statistics.export(args.period_from, args.period_to, by=args.by)
    except DomainError as exc:
        print(f"error: {exc.code} ({exc.rule or '-'}): {exc.message}", file=sys.stderr)
        return 1
    out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout
    try:
        if args.format == "json":
            json.dump(asdict(release), out, indent=2)
            out.write("\n")
        else:
            writer = csv.DictWriter(out, fieldnames=["period", release.dimension, "requests", "decisions", "trainings",
                                                     "hours", "suppressed"])
            writer.writeheader()
            writer.writerows(_rows(release))
    finally:
        if args.out:
            out.close()
    return 0


def add_rtw_parser(commands: Any) -> None:
    from gateway.cli import _add_database, _positive

    rtw = commands.add_parser("rtw", help="return to work: the weekly decision run, statistics",
                              description="Return to work's operator commands (return-to-work.md).")
    actions = rtw.add_subparsers(dest="rtw_command", metavar="ACTION", required=True)
    run = actions.add_parser("decision-run", help="publish INAMI's decisions of a week (RP-F5)",
                             description="Publish the decisions INAMI recorded in an ISO week: in each dossier and in each "
                             "recipient's list. Progress is shown on stderr. Run twice, the second run changes nothing; "
                             "interrupted, run it again: each decision is published exactly once.")
    run.add_argument("--week", required=True, help="the ISO week, e.g. 2026-W49")
    run.add_argument("--batch-size", type=_positive, default=200, help="decisions published per transaction (default 200)")
    _add_database(run)
    run.set_defaults(func=cmd_decision_run)
    stats = actions.add_parser("statistics", help="export the anonymous statistics for INAMI (RP-R3)",
                               description="Export counts of requests, decisions, trainings and hours by month and one "
                               "dimension, after the small-cell check: a cell below the threshold is suppressed, and so is "
                               "any cell from which it could be recomputed with the totals.")
    stats.add_argument("--from", dest="period_from", required=True, help="the first month, YYYY-MM")
    stats.add_argument("--to", dest="period_to", help="the last month, YYYY-MM (default: the first)")
    stats.add_argument("--by", choices=("region", "insurer", "kind"), default="region", help="the dimension (default region)")
    stats.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")
    stats.add_argument("--out", type=Path, help="file to write (default stdout)")
    _add_database(stats)
    stats.set_defaults(func=cmd_statistics)
