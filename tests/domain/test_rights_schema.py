"""Migrations 0005 (rights requests answered, consent versions) and 0008
(bulk-export jobs): an empty database upgraded to head has the model's
tables for them,
and a database at 0004 with a rights request keeps it, open and about all
of the person's data (DS-3, DS-4 still in force)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

import gateway.models  # noqa: F401
from gateway.domain.model import Base
from gateway.schema import upgrade

MINE = {"rights_request", "consent_decision", "export_job", "export_file", "export_chunk"}


def touches_mine(entry) -> bool:  # type: ignore[no-untyped-def]
    items = entry if isinstance(entry, list) else [entry]
    for item in items:
        for part in item[1:]:
            name = getattr(part, "name", None) or getattr(getattr(part, "table", None), "name", None)
            if name in MINE or getattr(getattr(part, "table", None), "name", None) in MINE or part in MINE:
                return True
    return False


def test_DS_3_DS_4_DS_5_migration_builds_the_model_and_keeps_requests(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    upgrade(url, "0004")
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO rights_request (id, patient_pseudonym, kind, status, text, created_at, version) "
                       "VALUES ('r1', 'p', 'restriction', 'active', NULL, CURRENT_TIMESTAMP, 1)"))
    upgrade(url)
    with engine.connect() as c:
        row = c.execute(text("SELECT status, target_type, processing FROM rights_request WHERE id = 'r1'")).one()
        diff = compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert tuple(row) == ("active", None, None)
    assert [d for d in diff if touches_mine(d)] == []
