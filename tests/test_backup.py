"""DS-7 (availability): a backup taken while the gateway writes holds every
write acknowledged before it and nothing half-done, restores into an empty
database, and its audit chain verifies there (IC-R8). On SQLite and, with
CARE_GATEWAY_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from datetime import date
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from gateway.backup import BackupError, backup, restore
from gateway.cli import build_parser, main
from gateway.domain.database import Database
from gateway.domain.model import AuditRecord, ConsentDecision
from tests.conftest import declaration
from tests.plaintext_niss import remember


@pytest.fixture
def empty_target(gw, tmp_path) -> Iterator[str]:
    """An empty database of the same kind as the gateway's, to restore into."""
    if gw.db.dialect == "sqlite":
        path = tmp_path / "restored.sqlite3"
        remember(f"sqlite:///{path}")
        yield f"sqlite:///{path}"
        return
    url = make_url(gw.db.url)
    name = f"{url.database}_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def consent_ids(url: str) -> set[str]:
    db = Database(url)
    try:
        with db.transaction() as session:
            return set(session.execute(select(ConsentDecision.public_id)).scalars())
    finally:
        db.dispose()


def test_DS_7_backup_under_write_load_restores_every_acknowledged_write(gw, personas, tmp_path, empty_target):
    patient = personas["patient"]
    gw.inclusions.declare(personas["gp"].principal(), declaration(patient, personas["psi-admin"].organisation_nihii))
    declared = consent_ids(gw.db.url)  # the decision given with the declaration
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop, warmed_up = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def record(decision: str) -> str:
        view = gw.consents.record(patient.principal(), patient.niss, decision, date(2026, 6, 15))
        with lock:
            acknowledged.append(view.id)
        return view.id

    def writer() -> None:  # the gateway serving: one write after another, each acknowledged when committed
        try:
            n = 0
            while not stop.is_set():
                record("agree" if n % 2 else "refuse")
                n += 1
                if n == 20:
                    warmed_up.set()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)
            warmed_up.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        warmed_up.wait()
        with lock:
            before = list(acknowledged)  # committed before the backup starts: must all be in it
        after: list[str] = []
        report = backup(gw.db.url, tmp_path / "gateway.backup",
                        after_snapshot=lambda: after.extend(record("agree") for _ in range(3)))
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert len(after) == 3  # the gateway served writes while the backup was being taken

    restored = restore(report.path, empty_target)
    assert restored.ok, restored.describe()
    assert restored.chain.records == report.audit_seq  # the whole chain of the snapshot, verified from the genesis
    found = consent_ids(empty_target)
    assert set(before) <= found  # every write acknowledged before the backup
    assert not set(after) & found  # nothing committed after its snapshot
    assert found <= declared | set(acknowledged)  # and nothing that was never acknowledged
    db = Database(empty_target)
    try:
        with db.transaction() as session:  # each restored act has its audit record: they were one transaction
            recorded = session.scalar(select(func.count()).select_from(AuditRecord).where(
                AuditRecord.action == "consent.record", AuditRecord.outcome == "allowed"))
            rows = session.scalar(select(func.count()).select_from(ConsentDecision).where(ConsentDecision.public_id.in_(acknowledged)))
    finally:
        db.dispose()
    assert recorded == rows == len(found & set(acknowledged))


def test_DS_7_restore_refuses_a_database_with_data(gw, personas, tmp_path):
    gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    report = backup(gw.db.url, tmp_path / "gateway.backup")
    with pytest.raises(BackupError) as err:
        restore(report.path, gw.db.url)
    assert "not empty" in str(err.value)


def test_DS_7_IC_R8_a_tampered_backup_restores_with_a_broken_chain(gw, personas, tmp_path):
    if gw.db.dialect != "sqlite":
        pytest.skip("the backup file is edited with sqlite3")
    gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    gw.inclusions.consult(personas["gp"].principal(), personas["patient"].niss)
    report = backup(gw.db.url, tmp_path / "gateway.backup")
    edit = sqlite3.connect(report.path)
    edit.execute("UPDATE audit_record SET outcome = 'denied' WHERE seq = 1")
    edit.commit()
    edit.close()
    target = tmp_path / "restored.sqlite3"
    remember(f"sqlite:///{target}")
    restored = restore(report.path, f"sqlite:///{target}")
    assert not restored.ok and restored.chain.broken_at == 1
    assert "BROKEN" in restored.describe()


def test_DS_7_backup_and_restore_commands(gw, personas, tmp_path, empty_target, capsys):
    for words in (["backup"], ["restore"]):
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args([*words, "--help"])
        assert exit_.value.code == 0 and "usage: care-gateway" in capsys.readouterr().out
    gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    out = tmp_path / "nightly.backup"
    assert main(["backup", "--out", str(out), "--database", gw.db.url]) == 0
    assert "backup written to" in capsys.readouterr().out
    assert Path(out).stat().st_mode & 0o077 == 0  # readable by its owner only
    assert main(["restore", str(out), "--database", empty_target]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    assert main(["restore", str(out), "--database", empty_target]) == 2  # never over data
    assert "not empty" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "missing.backup"), "--database", empty_target]) == 2
