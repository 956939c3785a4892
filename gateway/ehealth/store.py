"""The simulated platform's own tables, on a declarative base of their own.

The simulation keeps its state (the register's mutation feed, TherLink's
links, hub consents, the IdP's sign-ins and spent assertions, its replay
cache) in its own database, never in the gateway's: the gateway reaches the
platform only through its web services, as it would reach the real one. The
national register is the one place where a plaintext NISS may be stored
(``DESIGN.md``): this database *is* the simulated platform's.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from gateway.domain.database import Database


class PlatformBase(DeclarativeBase):
    """Base of every table of the simulated platform."""


def create_platform_schema(db: Database) -> None:
    """Create the simulation's tables (idempotent): its own, and a replay
    cache of the same shape as the gateway's, for the signed calls it receives."""
    import gateway.ehealth.hub_model  # noqa: F401  (registers the tables)
    import gateway.ehealth.model  # noqa: F401
    import gateway.ehealth.oauth_model  # noqa: F401
    from gateway.identity.model import SeenMessage

    PlatformBase.metadata.create_all(db.engine)
    SeenMessage.metadata.create_all(db.engine, tables=[SeenMessage.__table__])  # type: ignore[list-item]


def drop_platform_schema(db: Database) -> None:
    PlatformBase.metadata.drop_all(db.engine)
