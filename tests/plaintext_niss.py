"""The IC-R10 check on what the gateway stored: no national number of the
sandbox in plaintext in the gateway's database.

Every gateway database a test creates is remembered (:func:`remember`); at
the end of the session :func:`scan` reads each SQLite file with its WAL, byte
for byte, for every NISS the sandbox registries hold (current and former),
in compact and in printed form. On PostgreSQL, where one database is shared
and emptied before each test, its rows are read as text just before each
emptying (:func:`scan_server_database`). ``python -m tests.plaintext_niss
FILE...`` scans other files, for example a PostgreSQL dump made by CI.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

_databases: list[Path] = []


def remember(url: str) -> None:
    """Note a gateway database (a ``sqlite:///`` URL) for the final scan."""
    if url.startswith("sqlite") and ":memory:" not in url:
        _databases.append(Path(url.split(":///", 1)[1]))


def _printed(niss: str) -> str:
    return f"{niss[0:2]}.{niss[2:4]}.{niss[4:6]}-{niss[6:9]}.{niss[9:11]}"


@lru_cache(maxsize=1)
def sandbox_numbers(seed: int = 2026) -> dict[bytes, str]:
    """Every sandbox NISS, as the byte strings that would betray it."""
    from gateway.ehealth.sandbox.registries import generate_registries

    needles: dict[bytes, str] = {}
    for person in generate_registries(seed).people:
        for niss in (person.niss, *person.previous_niss):
            needles[niss.encode()] = niss
            needles[_printed(niss).encode()] = niss
    return needles


def scan(files: Iterable[Path]) -> list[str]:
    """One line per file holding a sandbox NISS in plaintext."""
    needles = sandbox_numbers()
    found: list[str] = []
    for path in files:
        for candidate in (path, path.with_name(path.name + "-wal")):
            if not candidate.exists():
                continue
            data = candidate.read_bytes()
            hits = sorted({niss for needle, niss in needles.items() if needle in data})
            if hits:
                found.append(f"{candidate}: {len(hits)} NISS in plaintext, e.g. {hits[0]}")
    return found


def remembered() -> list[Path]:
    return list(dict.fromkeys(_databases))


_server_findings: list[str] = []
_server_scans = [0]


def scan_server_database(engine: Any, tables: Iterable[str], when: str) -> None:
    """Read every row of ``tables`` as text (PostgreSQL: the shared test
    database is emptied before each test, so it is read just before) and
    remember any sandbox NISS found in plaintext."""
    from sqlalchemy import text

    needles = sandbox_numbers()
    _server_scans[0] += 1
    with engine.connect() as connection:
        for table in tables:
            for (row,) in connection.execute(text(f"SELECT t::text FROM {table} t")):
                data = str(row).encode()
                hits = sorted({niss for needle, niss in needles.items() if needle in data})
                if hits:
                    _server_findings.append(f"table {table} after {when}: NISS {hits[0]} in plaintext")


def server_findings() -> tuple[int, list[str]]:
    return _server_scans[0], list(_server_findings)


if __name__ == "__main__":
    problems = scan(Path(arg) for arg in sys.argv[1:])
    for line in problems:
        print(line)
    print(f"IC-R10: {len(problems)} file(s) with a plaintext sandbox NISS in {len(sys.argv) - 1} scanned")
    raise SystemExit(1 if problems else 0)
