"""Schema migrations: a database upgraded with Alembic has exactly the
model's schema, and upgrading an existing database keeps its data."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import gateway.models  # noqa: F401
from gateway.cli import main
from gateway.domain.database import normalise_url
from gateway.domain.model import Base
from gateway.schema import current, head, upgrade


@pytest.fixture
def empty_url(tmp_path):
    url = os.environ.get("CARE_GATEWAY_TEST_MIGRATIONS_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    engine = create_engine(normalise_url(url))
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url


def test_upgrade_builds_exactly_the_model(empty_url):
    upgrade(empty_url)
    assert current(empty_url) is not None
    engine = create_engine(normalise_url(empty_url))
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_in_place_and_keeps_data(empty_url, capsys):
    assert main(["db", "upgrade", "--database", empty_url]) == 0
    assert f"empty -> {head()}" in capsys.readouterr().out
    engine = create_engine(normalise_url(empty_url))
    with engine.begin() as c:
        c.execute(text("INSERT INTO feed_cursor (name, position, updated_at) VALUES ('x', 7, CURRENT_TIMESTAMP)"))
    assert main(["db", "upgrade", "--database", empty_url]) == 0
    with engine.connect() as c:
        assert c.execute(text("SELECT position FROM feed_cursor WHERE name = 'x'")).scalar_one() == 7
        assert "inclusion" in inspect(c).get_table_names()
    engine.dispose()
