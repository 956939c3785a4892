"""The in-process sealer: seals the audit trail after commits, in batches
(PostgreSQL; on SQLite each act's record is sealed as its transaction
commits, :mod:`gateway.domain.audit`).

Every act's commit calls :meth:`AuditSealer.committed`. One thread of the
process at a time seals (the others return at once: the running sealer
picks their records up), each seal taking everything committed so far, up
to a batch. So under load one seal covers many acts, and a lone act's
record is sealed before its call returns. The work one call does is
bounded (``rounds`` seals); what is left, or what another instance's sealer
was holding the head for, is sealed by the next commit or by a timer a
moment later. A failed seal never fails the act: its records stay
committed, unsealed, and are sealed by the next attempt (``care-gateway
audit seal`` does the same from the command line).
"""

from __future__ import annotations

import logging
import threading

from gateway.domain import audit
from gateway.domain.database import Database

log = logging.getLogger("gateway.audit")


class AuditSealer:
    """Seals committed audit records of ``db`` into the chain."""

    def __init__(self, db: Database, *, batch: int = audit.SEAL_BATCH, rounds: int = 4, retry_after: float = 0.2) -> None:
        self.db = db
        self.inline = db.dialect == "sqlite"  # sealed in the acts' own transactions (gateway.domain.audit)
        self.batch = batch
        self.rounds = rounds
        self.retry_after = retry_after
        self._pending = 0
        self._state = threading.Lock()
        self._sealing = threading.Lock()
        self._timer: threading.Timer | None = None

    def committed(self) -> None:
        """An act's records were committed: seal them, or leave them to the
        seal already running in this process (on SQLite they already are)."""
        if self.inline:
            return
        with self._state:
            self._pending += 1
        self.drain()

    def seal_once(self) -> int | None:
        """One seal in its own transaction: how many records, or None if
        another sealer held the head."""
        with self.db.transaction() as session:
            return audit.seal(session, limit=self.batch)

    def drain(self) -> None:
        """Seal until nothing is pending, at most ``rounds`` seals; leave the
        rest to a timer (and to the next commit)."""
        done, held = 0, False
        while True:
            if not self._sealing.acquire(blocking=False):
                return  # the running seal sees our records, or re-checks after it releases
            try:
                while self._pending and done < self.rounds and not held:
                    with self._state:
                        self._pending = 0
                    done += 1
                    try:
                        sealed = self.seal_once()
                    except Exception:  # noqa: BLE001 - the act is committed; its record is sealed later
                        log.warning("sealing the audit trail failed; retrying in %.1f s", self.retry_after, exc_info=True)
                        sealed = None
                    held = sealed is None  # another instance's sealer (or a failure): retry a moment later
                    if held or sealed >= self.batch:  # type: ignore[operator]
                        with self._state:
                            self._pending += 1
            finally:
                self._sealing.release()
            if not self._pending:
                return
            if held or done >= self.rounds:
                self._later()
                return

    def _later(self) -> None:
        with self._state:
            if self._timer is not None and self._timer.is_alive():
                return
            self._timer = threading.Timer(self.retry_after, self._tick)
            self._timer.daemon = True
            self._timer.start()

    def _tick(self) -> None:
        with self._state:
            self._timer = None
        self.drain()

    def close(self) -> None:
        """Cancel a pending retry (the records stay committed, to be sealed by
        the next sealer or ``care-gateway audit seal``)."""
        with self._state:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
