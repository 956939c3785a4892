"""Shared fixtures: a database per test (SQLite file, or the PostgreSQL
database named by CARE_GATEWAY_TEST_DATABASE_URL, emptied between tests), a
fixed clock, the sandbox registries and their personas, the simulated
platform on a database of its own, a wired gateway."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from typing import Any, Iterator

import pytest
from sqlalchemy import text

import gateway.models  # noqa: F401  (every table)
from gateway.config import Settings
from gateway.domain.clock import FixedClock
from gateway.domain.database import Database
from gateway.domain.inclusions import DeclareInclusion
from gateway.domain.model import Base
from gateway.ehealth.sandbox.personas import Persona, personas as make_personas
from gateway.ehealth.sandbox.registries import SandboxRegistries, generate_registries
from gateway.schema import stamp_head
from gateway.ehealth.platform import Platform, PlatformSettings, build_platform
from gateway.wiring import Gateway, build_gateway
from tests.plaintext_niss import remember, remembered, scan, scan_server_database, server_findings

TEST_DATABASE_URL = os.environ.get("CARE_GATEWAY_TEST_DATABASE_URL")
TODAY = date(2026, 6, 15)


@pytest.fixture(scope="session")
def registries() -> SandboxRegistries:
    return generate_registries(2026)


@pytest.fixture(scope="session")
def personas(registries: SandboxRegistries) -> dict[str, Persona]:
    return make_personas(registries)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def _shared_database() -> Iterator[Database | None]:
    if not TEST_DATABASE_URL:
        yield None
        return
    db = Database(TEST_DATABASE_URL)
    db.drop_schema()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.create_schema()
    stamp_head(db.url)
    _SHARED[0] = db
    yield db
    db.dispose()


_SHARED: list[Database | None] = [None]


def empty_tables(db: Database) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def database(request, tmp_path, _shared_database: Database | None) -> Iterator[Database]:
    if _shared_database is not None:
        scan_server_database(_shared_database.engine, [t.name for t in Base.metadata.sorted_tables], request.node.nodeid)
        empty_tables(_shared_database)
        yield _shared_database
        return
    db = Database(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    db.create_schema()
    stamp_head(db.url)
    remember(db.url)
    yield db
    db.dispose()


def make_platform(directory, clock, public_url: str = "http://testserver") -> Platform:  # type: ignore[no-untyped-def]
    """The simulated platform on its own SQLite file: it is outside the
    gateway, whatever database the gateway runs on."""
    return build_platform(
        PlatformSettings(database_url=f"sqlite:///{directory / 'platform.sqlite3'}", public_url=public_url),
        clock=clock,
    )


@pytest.fixture
def platform(tmp_path, clock: FixedClock) -> Iterator[Platform]:
    sim = make_platform(tmp_path, clock)
    yield sim
    sim.db.dispose()


@pytest.fixture
def gw(database: Database, clock: FixedClock, platform: Platform) -> Gateway:
    """A gateway for tests of the domain: its fact sources are the simulated
    platform's own (no wire), so that a test's facts are read as they are;
    the faces' tests (``live``) reach the platform through the adapters."""
    from gateway.ehealth.sandbox.directory import SandboxDirectory

    return build_gateway(Settings(database_url=database.url, public_url=platform.settings.public_url),
                         clock=clock, db=database, platform=platform, facts=platform.facts,
                         register=platform.register, directory=SandboxDirectory(platform.registries))


def declaration(patient: Persona | str, psi: str, **overrides: object) -> DeclareInclusion:
    """A valid declaration of ``patient`` into ``psi`` as of the test clock's day."""
    values: dict[str, object] = dict(
        patient_niss=patient if isinstance(patient, str) else patient.niss,
        psi_nihii=psi,
        status="principal",
        start_date=date(2026, 3, 10),
        consent_decision="agree",
        consent_date=date(2026, 3, 10),
    )
    values.update(overrides)
    return DeclareInclusion(**values)  # type: ignore[arg-type]


def pytest_sessionfinish(session, exitstatus) -> None:  # type: ignore[no-untyped-def]
    """IC-R10 over the whole run: after every test, web sign-ins included,
    no gateway database file holds a sandbox NISS in plaintext."""
    files = remembered()
    scans, server = server_findings()
    if (not files and not scans) or session.config.option.collectonly:
        return
    if _SHARED[0] is not None:  # what the last test left in the shared database
        scan_server_database(_SHARED[0].engine, [t.name for t in Base.metadata.sorted_tables], "the last test")
        scans, server = server_findings()
    problems = scan(files) + server
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"IC-R10: scanned {len(files)} gateway database file(s) and {scans} state(s) of the "
                            f"shared database for plaintext NISS: {len(problems)} finding(s)")
        for line in problems:
            reporter.write_line(f"IC-R10 broken: {line}", red=True)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_report_header(config) -> str:  # type: ignore[no-untyped-def]
    if TEST_DATABASE_URL:
        return f"care-gateway test database: PostgreSQL ({TEST_DATABASE_URL.rsplit('@', 1)[-1]})"
    return "care-gateway test database: SQLite (a file per test)"


# ------------------------------------------------------------------ live HTTP


class LiveGateway:
    """A gateway served over real HTTP (uvicorn in a thread) on 127.0.0.1."""

    @classmethod
    def start(cls, db: Database, clock: FixedClock, platform_dir, **settings: Any) -> "LiveGateway":  # type: ignore[no-untyped-def]
        """The embedded default over HTTP: the gateway and the simulated
        platform it hosts, whose IdP issues tokens for this port (``settings``:
        other gateway settings than the defaults)."""
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        platform = make_platform(platform_dir, clock, base_url)
        gw = build_gateway(Settings(database_url=db.url, public_url=base_url, **settings), clock=clock, db=db, platform=platform)
        return cls(gw, clock, port)

    def __init__(self, gw: Gateway, clock: FixedClock, port: int) -> None:
        import threading

        import uvicorn

        from gateway.app import create_app

        self.gw = gw
        self.platform = gw.platform
        self.clock = clock
        self.port = port
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(gw), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        import time

        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live gateway did not start")
            time.sleep(0.02)

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def live(tmp_path_factory, _shared_database: Database | None) -> Iterator[LiveGateway]:
    """A live gateway per test module, on its own database, with a clock the
    tests can move (clients that sign messages should use ``live.clock``)."""
    yield from live_gateway(tmp_path_factory, _shared_database)


def live_gateway(tmp_path_factory, _shared_database: Database | None, **settings: Any) -> Iterator[LiveGateway]:  # type: ignore[no-untyped-def]
    """The body of the ``live`` fixture, for a module that needs other settings."""
    if _shared_database is not None:
        scan_server_database(_shared_database.engine, [t.name for t in Base.metadata.sorted_tables], "a module")
        empty_tables(_shared_database)
        db = _shared_database
    else:
        db = Database(f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.sqlite3'}")
        db.create_schema()
        stamp_head(db.url)
        remember(db.url)
    clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    server = LiveGateway.start(db, clock, tmp_path_factory.mktemp("live-platform"), **settings)
    yield server
    server.stop()
    server.gw.platform.db.dispose()
    if _shared_database is None:
        db.dispose()
