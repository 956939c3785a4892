"""Refusing a replayed message: each accepted signature is recorded until
its Timestamp expires, in the database (no state outside it, so any
instance behind a load balancer refuses a replay made to another)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from gateway.domain.database import Database
from gateway.identity.model import SeenMessage


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("ReplayGuard needs timezone-aware instants")
    return value.astimezone(timezone.utc)


class ReplayGuard:
    """Insert-or-refuse on the ``seen_message`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def seen(self, digest: str, expires: datetime, now: datetime) -> bool:
        """True if ``digest`` was recorded and has not expired (a replay: refuse
        it); otherwise record it until ``expires`` and return False.

        The primary key makes the check and the record one atomic step: of
        two instances receiving the same message at once, one insert fails."""
        now, expires = _utc(now), _utc(expires)
        try:
            with self.db.transaction() as session:
                session.execute(delete(SeenMessage).where(SeenMessage.expires <= now))
                session.add(SeenMessage(digest=digest, expires=expires))
                session.flush()
        except IntegrityError:
            return True
        return False

    def purge(self, now: datetime) -> int:
        """Forget the records that expired; returns how many."""
        with self.db.transaction() as session:
            result = session.execute(delete(SeenMessage).where(SeenMessage.expires <= _utc(now)))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
