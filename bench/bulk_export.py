"""A bulk export of many inclusions (issue target: 1,000,000) to one insurer
(IC-R7), against a bare reference, with the time and the peak memory of each.

    python3 bench/bulk_export.py                          # 1,000,000 inclusions, SQLite in a temporary folder
    python3 bench/bulk_export.py --inclusions 100000
    python3 bench/bulk_export.py --database postgresql://me@localhost/cg_bench   # an empty database

- the export: the domain's job (gateway.domain.bulk_export) as the FHIR face
  runs it: keyset batches, each patient's insurer asked once, every line
  rendered as an R4 EpisodeOfCare or Consent through the mappings, sealed
  into chunks in the database; then every file read back and decrypted;
- the reference: the same inclusion rows read straight from the database
  and written as plain JSON lines to a file (no pseudonym, no mapping, no
  sealing, no policy).

Each runs in a fresh interpreter (multiprocessing "spawn"), which reports
its own peak resident memory: the export's must not grow with the number of
inclusions. The insurer facts are a stand-in that says every patient is a
member of insurer 100 (the wire calls to the platform are not measured).
It prints its figures; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
INSURER_NIHII = "90010060000"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


class BenchFacts:
    """Every patient a member of insurer 100; the insurer known; nothing else."""

    def organisation(self, nihii: str):  # type: ignore[no-untyped-def]
        from gateway.domain.ports import OrganisationKind, OrganisationRecord

        if nihii != INSURER_NIHII:
            return None
        return OrganisationRecord(nihii=INSURER_NIHII, cbe="0411702543", kind=OrganisationKind.INSURER,
                                  name="Mutualités chrétiennes (bench)", insurer_code="100")

    def insurer_of(self, patient_niss: str, on: date) -> str | None:
        return "100"

    def professional(self, nihii: str) -> None:
        return None

    def memberships(self, niss: str) -> list[Any]:
        return []

    def has_therapeutic_link(self, professional_niss: str, patient_niss: str, on: date) -> bool:
        return False

    def pharmacy_has_therapeutic_link(self, pharmacy_nihii: str, patient_niss: str, on: date) -> bool:
        return False


class NoRegister:
    def person(self, niss: str) -> None:
        return None

    def mutations_after(self, seq: int, limit: int = 500) -> list[Any]:
        return []


def context(url: str):  # type: ignore[no-untyped-def]
    import gateway.models  # noqa: F401
    from gateway.config import Settings
    from gateway.domain.clock import FixedClock
    from gateway.domain.context import DomainContext
    from gateway.domain.database import Database
    from gateway.domain.pseudonyms import PseudonymService

    settings = Settings(database_url=url)
    return DomainContext(Database(url), FixedClock(NOW), PseudonymService.from_secret(settings.pseudonym_secret), BenchFacts(),
                         NoRegister(), settings)


def fill(url: str, count: int, batch: int = 20_000) -> None:
    """``count`` inclusions of as many synthetic patients, each with a decision in force (agree)."""
    from sqlalchemy import insert

    from gateway.domain.billing import billing_end, billing_start
    from gateway.domain.identifiers import make_niss
    from gateway.domain.model import ConsentDecision, Inclusion

    ctx = context(url)
    ctx.db.create_schema()
    actor = ctx.pseudonyms.pseudonymise(make_niss(date(1970, 1, 1), 1))
    done = 0
    while done < count:
        n = min(batch, count - done)
        inclusions, consents = [], []
        for i in range(done, done + n):
            niss = make_niss(date(1930, 1, 1) + timedelta(days=i // 400), 1 + (i % 400) * 2)
            pseudonym = ctx.pseudonyms.pseudonymise(niss)
            start = date(2022, 1, 1) + timedelta(days=i % 1000)
            end = start + timedelta(days=365) if i % 3 == 0 else None
            inclusions.append({
                "id": str(uuid.uuid4()), "patient_pseudonym": pseudonym, "psi_nihii": "98132227000", "status": "principal",
                "start_date": start, "end_date": end, "billing_start": billing_start(start), "billing_end": billing_end(end),
                "declared_by_nihii": "10000197004", "declared_by_pseudonym": actor, "declared_by_role": "provider",
                "last_actor_pseudonym": actor, "last_actor_role": "provider", "closed_reason": None,
                "created_at": NOW, "updated_at": NOW, "version": 1,
            })
            consents.append({
                "public_id": str(uuid.uuid4()), "patient_pseudonym": pseudonym, "decision": "agree", "decision_date": start,
                "recorded_at": NOW, "recorded_by_pseudonym": actor, "recorded_by_role": "provider",
                "recorded_by_organisation": None, "inclusion_id": None, "withdrawn": False,
            })
        with ctx.db.transaction() as session:
            session.execute(insert(Inclusion), inclusions)
            session.execute(insert(ConsentDecision), consents)
        done += n
    ctx.db.dispose()


def run_export(url: str, out: Any) -> None:
    """In a fresh interpreter: the job, then every file read back."""
    from gateway.domain.bulk_export import BulkExportService
    from gateway.domain.principal import Principal, Role
    from gateway.fhir.bulk import Renderer

    ctx = context(url)
    service = BulkExportService(ctx)
    baseline = peak_mib()
    insurer = Principal("00000000000", Role.INSURER, organisation_nihii=INSURER_NIHII)
    started = time.perf_counter()
    job = service.kick_off(insurer, cohort="billing")
    service.run(job.id, insurer, Renderer(ctx.clock, "billing"))
    produced = time.perf_counter() - started
    view = service.status(insurer, job.id)
    lines = size = 0
    for f in view.files:
        file_id, _ = service.open_file(insurer, job.id, f.name)
        for chunk in service.chunks(job.id, file_id):
            size += len(chunk)
            lines += chunk.count(b"\n")
    total = time.perf_counter() - started
    out.send({"status": view.status, "files": len(view.files), "lines": lines, "bytes": size, "produce": produced,
              "total": total, "baseline": baseline, "peak": peak_mib()})


def run_reference(url: str, path: str, out: Any) -> None:
    """In a fresh interpreter: the same rows as JSON lines, straight from the database to a file."""
    from sqlalchemy import create_engine, text

    from gateway.domain.database import normalise_url

    engine = create_engine(normalise_url(url))
    baseline = peak_mib()
    started = time.perf_counter()
    lines = 0
    with engine.connect() as connection, open(path, "w", encoding="utf-8") as handle:
        rows = connection.execution_options(stream_results=True, yield_per=5000).execute(text(
            "SELECT id, patient_pseudonym, psi_nihii, status, start_date, end_date, billing_start, billing_end, "
            "declared_by_nihii, declared_by_role, updated_at, version FROM inclusion ORDER BY patient_pseudonym, id"))
        for row in rows:
            handle.write(json.dumps({"resourceType": "EpisodeOfCare", "id": row[0], "patient": row[1], "psi": row[2], "status": row[3],
                                     "start": str(row[4]), "end": str(row[5]) if row[5] else None, "billing": [str(row[6]), str(row[7])],
                                     "declaredBy": row[8], "role": row[9], "updated": str(row[10]), "version": row[11]}) + "\n")
            lines += 1
    out.send({"lines": lines, "bytes": os.path.getsize(path), "total": time.perf_counter() - started, "baseline": baseline,
              "peak": peak_mib()})


def in_child(target: Any, *args: Any) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe()
    process = spawn.Process(target=target, args=(*args, child))
    process.start()
    result = parent.recv()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inclusions", type=int, default=1_000_000)
    parser.add_argument("--database", help="an empty database (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        started = time.perf_counter()
        fill(url, args.inclusions)
        print(f"stored {args.inclusions} inclusions and their decisions in {time.perf_counter() - started:.0f} s")
        reference = in_child(run_reference, url, str(Path(folder) / "reference.ndjson"))
        export = in_child(run_export, url)
    print(f"reference (rows straight to JSON lines): {reference['lines']} lines, {reference['bytes'] / 2**20:.0f} MiB in "
          f"{reference['total']:.1f} s; peak memory {reference['peak']:.0f} MiB (after imports {reference['baseline']:.0f} MiB)")
    print(f"bulk export ({export['status']}, {export['files']} files): {export['lines']} NDJSON lines "
          f"(EpisodeOfCare and Consent), {export['bytes'] / 2**20:.0f} MiB; produced in {export['produce']:.1f} s, read back "
          f"in {export['total'] - export['produce']:.1f} s; peak memory {export['peak']:.0f} MiB "
          f"(after imports {export['baseline']:.0f} MiB)")
    per_line = export["produce"] / max(1, export["lines"])
    print(f"ratio to the reference: time x{export['total'] / reference['total']:.1f} (export and read back), "
          f"x{export['produce'] / reference['total']:.1f} (export alone, {per_line * 1e6:.0f} us per line); "
          f"peak memory x{export['peak'] / reference['peak']:.1f}")


if __name__ == "__main__":
    main()
