"""Backup and restore of the gateway's database (DS-7: availability).

A backup is the database's own format, so that the standard tools can read
it too: for SQLite a copy of the database file made with SQLite's online
backup API, for PostgreSQL a ``pg_dump`` archive in the custom format.

Both are consistent while the gateway serves. The backup first fixes a
snapshot (a read transaction on SQLite, whose WAL lets writers go on; an
exported snapshot of a REPEATABLE READ transaction on PostgreSQL, which
``pg_dump --snapshot`` then reads) and copies exactly what was committed at
that moment: a write acknowledged before it is in the backup, one
acknowledged after it is not, and no act is found without its audit
record, since both are written in one transaction.

A restore goes into an empty database only (never over data), then walks
the audit trail's hash chain from the genesis (IC-R8): a restore whose
chain does not verify is reported as broken.

Backups hold pseudonymised NISS, the audit trail and encrypted export files:
docs/backup.md says what to encrypt and where to keep them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from gateway.domain import audit
from gateway.domain.audit import ChainReport
from gateway.domain.database import Database, normalise_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done, said in a sentence for the operator."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup holds: its file, format, size, and the audit head at its snapshot."""

    path: Path
    format: str  # sqlite | pg_dump
    size: int
    audit_seq: int
    audit_hash: str

    def describe(self) -> str:
        return (f"backup written to {self.path} ({self.format}, {self.size} bytes); audit trail up to record "
                f"{self.audit_seq} (head {self.audit_hash[:16]}...)")


@dataclass(frozen=True)
class RestoreReport:
    """What a restore put in place and whether its audit chain verifies."""

    database: str
    format: str
    revision: str | None
    chain: ChainReport

    @property
    def ok(self) -> bool:
        return self.chain.intact

    def describe(self) -> str:
        return f"restored a {self.format} backup into {self.database} (schema {self.revision or 'unknown'}); {self.chain.describe()}"


# ------------------------------------------------------------------ backup


def backup(database_url: str, out: Path, *, after_snapshot: Callable[[], None] | None = None) -> BackupReport:
    """Write a consistent backup of ``database_url`` to ``out``.

    ``after_snapshot`` runs once the snapshot is fixed and before the copy
    is made (what it writes is not in the backup): it shows, in tests, that
    the gateway keeps serving writes while the backup runs."""
    url = make_url(normalise_url(database_url))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            seq, head = _sqlite_backup(_sqlite_path(url), partial, after_snapshot)
            fmt = "sqlite"
        elif url.get_backend_name() == "postgresql":
            seq, head = _pg_backup(url, partial, after_snapshot)
            fmt = "pg_dump"
        else:
            raise BackupError(f"No backup for {url.get_backend_name()} databases: the gateway runs on SQLite or PostgreSQL.")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(out, fmt, out.stat().st_size, seq, head)


def _sqlite_path(url) -> Path:  # type: ignore[no-untyped-def]
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database has nothing to back up; name a database file.")
    return Path(url.database)


def _private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only: a backup is as sensitive as the database."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)


def _sqlite_backup(source: Path, partial: Path, after_snapshot: Callable[[], None] | None) -> tuple[int, str]:
    if not source.exists():
        raise BackupError(f"The database file {source} does not exist; check --database or CARE_GATEWAY_DATABASE_URL.")
    src = sqlite3.connect(str(source), timeout=60, isolation_level=None)
    try:
        src.execute("PRAGMA busy_timeout=60000")
        src.execute("BEGIN")  # a read transaction: its snapshot is what the copy holds (WAL: writers go on)
        seq, head = _sqlite_head(src)
        if after_snapshot is not None:
            after_snapshot()
        _private_file(partial)
        dst = sqlite3.connect(str(partial), isolation_level=None)
        try:
            src.backup(dst)  # in one step, inside the read transaction: one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no WAL beside it
        finally:
            dst.close()
        src.execute("COMMIT")
    finally:
        src.close()
    check = sqlite3.connect(str(partial))
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        raise BackupError(f"The copy failed SQLite's integrity check ({result}); the database file may be damaged.")
    return seq, head


def _sqlite_head(connection: sqlite3.Connection) -> tuple[int, str]:
    try:
        row = connection.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    except sqlite3.OperationalError as exc:
        raise BackupError(f"This is not a care-gateway database ({exc}); run care-gateway db upgrade first.") from None
    return (row[0], row[1]) if row else (0, audit.GENESIS)


def _libpq(url) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The libpq URL without its password, and the environment that carries it (never on a command line)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed; install the PostgreSQL client tools (the server's major version or newer).")
    return found


def _pg_backup(url, partial: Path, after_snapshot: Callable[[], None] | None) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    import psycopg

    dsn, env = _libpq(url)
    dump = _tool("pg_dump")
    with psycopg.connect(dsn, password=env.get("PGPASSWORD")) as connection:
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        row = connection.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        seq, head = (row[0], row[1]) if row else (0, audit.GENESIS)
        if after_snapshot is not None:
            after_snapshot()
        _private_file(partial)
        done = subprocess.run(
            [dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", f"--file={partial}",
             f"--dbname={dsn}"],
            env=env, capture_output=True, text=True,
        )
        connection.rollback()  # the snapshot lives as long as this transaction: until pg_dump is done
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return seq, head


# ------------------------------------------------------------------ restore


def backup_format(path: Path) -> str:
    """``sqlite`` or ``pg_dump``, from the file's first bytes."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"The backup file {path} does not exist.") from None
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PG_MAGIC):
        return "pg_dump"
    raise BackupError(f"{path} is neither a SQLite backup nor a pg_dump archive made by care-gateway backup.")


def restore(backup_file: Path, database_url: str) -> RestoreReport:
    """Restore ``backup_file`` into the empty database ``database_url``, then
    verify the audit trail's hash chain there."""
    backup_file = Path(backup_file)
    fmt = backup_format(backup_file)
    url = make_url(normalise_url(database_url))
    backend = url.get_backend_name()
    if (fmt, backend) not in (("sqlite", "sqlite"), ("pg_dump", "postgresql")):
        wanted = "a SQLite database file" if fmt == "sqlite" else "a PostgreSQL database"
        raise BackupError(f"A {fmt} backup restores into {wanted}, not into {backend}; give --database accordingly.")
    if backend == "sqlite":
        _sqlite_restore(backup_file, _sqlite_path(url))
    else:
        _pg_restore(backup_file, url)
    return _check(url.render_as_string(hide_password=False), fmt)


def _refuse_non_empty(db: Database, where: str) -> None:
    tables = inspect(db.engine).get_table_names()
    if tables:
        raise BackupError(f"{where} is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}): a restore never writes "
                          "over data. Restore into a new, empty database, then point the gateway at it.")


def _sqlite_restore(backup_file: Path, target: Path) -> None:
    if target.exists() and target.stat().st_size > 0:
        db = Database(f"sqlite:///{target}")
        try:
            _refuse_non_empty(db, f"The database file {target}")
        finally:
            db.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        _private_file(target)
    src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target), isolation_level=None)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")  # as the gateway runs it
    finally:
        dst.close()
        src.close()


def _pg_restore(backup_file: Path, url) -> None:  # type: ignore[no-untyped-def]
    db = Database(url.render_as_string(hide_password=False))
    try:
        _refuse_non_empty(db, f"The database {url.database}")
    finally:
        db.dispose()
    dsn, env = _libpq(url)
    done = subprocess.run(
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         f"--dbname={dsn}", str(backup_file)],
        env=env, capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def _check(database_url: str, fmt: str) -> RestoreReport:
    from gateway.schema import current

    db = Database(database_url)
    try:
        with db.transaction() as session:
            chain = audit.verify(session)
    finally:
        db.dispose()
    shown = make_url(database_url).render_as_string(hide_password=True)
    return RestoreReport(shown, fmt, current(database_url), chain)


__all__ = ["BackupError", "BackupReport", "RestoreReport", "backup", "backup_format", "restore"]
