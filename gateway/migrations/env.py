"""Alembic environment: the gateway's metadata, online migrations only."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import gateway.models  # noqa: F401  (every table)
from gateway.domain.model import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
