"""The database: one engine, sessions, and the per-backend details that make
SQLite and PostgreSQL behave alike for the use cases.

SQLite transactions begin ``IMMEDIATE`` (one writer at a time, no deadlock
between two readers upgrading); PostgreSQL runs READ COMMITTED and the use
cases lock the rows they depend on (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.sql import ClauseElement
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from gateway.domain.model import Base


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and pick the psycopg 3 driver for it."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine: Engine = _make_engine(self.url, echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # On SQLite a read-only unit begins DEFERRED: a WAL snapshot that takes
        # no write lock (see :meth:`snapshot`).
        self._snapshots = sessionmaker(self.engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False)
        event.listen(self._snapshots, "before_flush", _refuse_writes)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @property
    def one_writer(self) -> bool:
        """Whether the database lets one transaction write at a time
        (SQLite: every transaction takes the write lock as it begins)."""
        return self.dialect == "sqlite"

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A session that only reads, in one transaction. On SQLite it takes
        no write lock (``BEGIN DEFERRED``: a snapshot of what is committed),
        so readers in other processes do not queue behind it; anything it
        tries to write is refused before it reaches the database."""
        with self._snapshots() as session, session.begin():
            yield session

    def session(self) -> Session:
        return self._sessions()

    def compile(self, statement: ClauseElement) -> str:
        """A statement as literal SQL for this database (for :meth:`read_outside`)."""
        return str(statement.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}))

    def read_outside(self, statement: ClauseElement | str) -> list[tuple[Any, ...]]:
        """Run a read on a plain DB-API connection, outside any transaction.

        For look-ups made in the middle of a use case that already holds a
        write transaction (the sandbox register, TherLink's stored links):
        through a Session, SQLite would start a second ``BEGIN IMMEDIATE`` and
        wait on that first transaction for the whole busy timeout; an
        autocommit read takes no lock and sees what is committed.
        """
        sql = statement if isinstance(statement, str) else self.compile(statement)
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql)
                return [tuple(row) for row in cursor.fetchall()]
            finally:
                cursor.close()
        finally:
            connection.close()

    def create_schema(self) -> None:
        """Create the tables directly (tests); deployments use ``care-gateway db upgrade``.
        Every domain table module is imported first, so none is missing."""
        import gateway.domain.bulk_model  # noqa: F401
        import gateway.domain.rtw.model  # noqa: F401
        import gateway.domain.perinatal.model  # noqa: F401

        Base.metadata.create_all(self.engine)

    def drop_schema(self) -> None:
        Base.metadata.drop_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only unit of work tried to write")


def _make_engine(url: str, echo: bool) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url and url not in ("sqlite://", "sqlite+pysqlite://"):
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL with NORMAL: a commit is not synced to disk (a checkpoint is),
                # so it survives a crash of the process, and a power loss keeps the
                # database consistent but may lose the last commits (acts and their
                # audit records together). Real deployments run on PostgreSQL.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
            mode = "DEFERRED" if connection.get_execution_options().get("sqlite_begin") == "DEFERRED" else "IMMEDIATE"
            connection.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)
