"""The IC-R10 check on what the gateway stored: no national number of the
sandbox in plaintext in the gateway's database.

Every gateway database a test creates is remembered (:func:`remember`); at
the end of the session :func:`scan` reads each SQLite file with its WAL, byte
for byte, for every NISS the sandbox registries hold (current and former),
in compact and in printed form. ``python -m tests.plaintext_niss FILE...``
scans other files, for example a PostgreSQL dump made by CI.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable

_databases: list[Path] = []


def remember(url: str) -> None:
    """Note a gateway database (a ``sqlite:///`` URL) for the final scan."""
    if url.startswith("sqlite") and ":memory:" not in url:
        _databases.append(Path(url.split(":///", 1)[1]))


def _printed(niss: str) -> str:
    return f"{niss[0:2]}.{niss[2:4]}.{niss[4:6]}-{niss[6:9]}.{niss[9:11]}"


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


if __name__ == "__main__":
    problems = scan(Path(arg) for arg in sys.argv[1:])
    for line in problems:
        print(line)
    print(f"IC-R10: {len(problems)} file(s) with a plaintext sandbox NISS in {len(sys.argv) - 1} scanned")
    raise SystemExit(1 if problems else 0)
