"""The national register of the sandbox: people from the sandbox registries,
with the deaths and NISS changes of the mutation feed applied.

The feed is stored in the database (``register_mutation``), so every gateway
instance sees the same register. Each look-up asks the database for the
feed's last sequence number and applies only the events it has not seen.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import func, select, text
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.orm import Session

from gateway.domain.clock import Clock
from gateway.domain.database import Database
from gateway.domain.identifiers import check_niss, compact
from gateway.domain.ports import MutationKind, PersonRecord, RegisterMutation
from gateway.ehealth.model import RegisterMutationRow
from gateway.ehealth.sandbox.registries import SandboxRegistries

_COLUMNS = (
    RegisterMutationRow.seq,
    RegisterMutationRow.kind,
    RegisterMutationRow.niss,
    RegisterMutationRow.new_niss,
    RegisterMutationRow.effective,
)


@dataclass(frozen=True)
class _Applied:
    """The feed applied up to ``top``: changed records and the numbers the
    feed gave, both keyed by the number the registries file the person under."""

    top: int = 0
    records: Mapping[str, PersonRecord] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)

    def find(self, registries: SandboxRegistries, number: str) -> tuple[str, PersonRecord] | None:
        return _find(registries, self.records, self.aliases, number)

    def then(self, registries: SandboxRegistries, mutations: Iterable[RegisterMutation]) -> "_Applied":
        """This state with more mutations applied, oldest first."""
        top, records, aliases = self.top, dict(self.records), dict(self.aliases)
        for mutation in mutations:
            top = max(top, mutation.seq)
            found = _find(registries, records, aliases, mutation.niss)
            if found is None:
                continue
            key, record = found
            if mutation.kind is MutationKind.DEATH:
                record = replace(record, death_date=mutation.effective)
            elif mutation.new_niss:
                record = replace(record, niss=mutation.new_niss, previous_niss=(*record.previous_niss, record.niss))
                aliases[mutation.new_niss] = key
            records[key] = record
        return _Applied(top, records, aliases)


def _find(
    registries: SandboxRegistries, records: Mapping[str, PersonRecord], aliases: Mapping[str, str], number: str
) -> tuple[str, PersonRecord] | None:
    key = aliases.get(number) or registries.current_niss(number)
    if key is None:
        return None
    record = records.get(key) or registries.person(key)
    return (key, record) if record else None


def _as_mutation(row: Sequence[Any]) -> RegisterMutation:
    seq, kind, niss, new_niss, effective = row
    if not isinstance(effective, date):  # a raw SQLite cursor returns ISO text
        effective = date.fromisoformat(str(effective))
    return RegisterMutation(int(seq), MutationKind(kind), niss, effective, new_niss)


class SandboxNationalRegister:
    """NationalRegister over the sandbox registries and the stored feed, plus
    the sandbox console's way to announce deaths and NISS changes."""

    def __init__(self, registries: SandboxRegistries, database: Database, clock: Clock) -> None:
        self._registries = registries
        self._database = database
        self._clock = clock
        self._lock = threading.Lock()
        self._applied = _Applied()
        self._top_sql = self._sql(select(func.max(RegisterMutationRow.seq)))

    # -- NationalRegister

    def person(self, niss: str) -> PersonRecord | None:
        found = self._state().find(self._registries, compact(niss))
        return found[1] if found else None

    def mutations_after(self, seq: int, limit: int = 500) -> Sequence[RegisterMutation]:
        statement = select(*_COLUMNS).where(RegisterMutationRow.seq > int(seq)).order_by(RegisterMutationRow.seq)
        return [_as_mutation(row) for row in self._read(self._sql(statement.limit(int(limit))))]

    # -- the simulation's controls

    def inject_death(self, niss: str, on: date) -> RegisterMutation:
        """Announce a death (IC-R4), in its own transaction."""
        number = check_niss(niss).value
        with self._database.transaction() as session:
            person = self._known(self._locked_state(session), number)
            if person.death_date is not None:
                raise ValueError(
                    f"The person with NISS {person.niss} is already deceased (died {person.death_date.isoformat()}); "
                    "a death is announced once."
                )
            if on > self._clock.today():
                raise ValueError(f"Death date {on.isoformat()} is in the future: the register announces deaths that happened.")
            if person.birth_date and on < person.birth_date:
                raise ValueError(f"Death date {on.isoformat()} is before the birth date {person.birth_date.isoformat()}.")
            return self._append(session, MutationKind.DEATH, person.niss, None, on)

    def inject_niss_change(self, old_niss: str, new_niss: str, on: date) -> RegisterMutation:
        """Give a person a new number, e.g. a national number replacing a BIS
        number (IC-R5), in its own transaction."""
        old, new = check_niss(old_niss).value, check_niss(new_niss).value
        if old == new:
            raise ValueError(f"The new NISS {new} is the same as the old one.")
        with self._database.transaction() as session:
            applied = self._locked_state(session)
            person = self._known(applied, old)
            if person.niss != old:
                raise ValueError(f"NISS {old} is a former number of this person; their current number is {person.niss}.")
            if applied.find(self._registries, new) is not None:
                raise ValueError(f"NISS {new} already belongs to a person in the national register; choose an unused number.")
            return self._append(session, MutationKind.NISS_CHANGE, old, new, on)

    # -- internals

    def _known(self, applied: _Applied, number: str) -> PersonRecord:
        found = applied.find(self._registries, number)
        if found is None:
            raise ValueError(f"No person with NISS {number} in the sandbox national register.")
        return found[1]

    def _append(self, session: Session, kind: MutationKind, niss: str, new_niss: str | None, on: date) -> RegisterMutation:
        row = RegisterMutationRow(kind=kind.value, niss=niss, new_niss=new_niss, effective=on, created_at=self._clock.now())
        session.add(row)
        session.flush()
        return RegisterMutation(row.seq, kind, niss, on, new_niss)

    def _locked_state(self, session: Session) -> _Applied:
        """The feed as this write transaction sees it, writers serialised (on
        SQLite by BEGIN IMMEDIATE), so that seq order is commit order."""
        if self._database.dialect == "postgresql":
            session.execute(text("LOCK TABLE register_mutation IN EXCLUSIVE MODE"))
        rows = session.execute(select(*_COLUMNS).order_by(RegisterMutationRow.seq)).all()
        return _Applied().then(self._registries, map(_as_mutation, rows))

    def _state(self) -> _Applied:
        top = int(self._read(self._top_sql)[0][0] or 0)
        applied = self._applied
        if top == applied.top:
            return applied
        with self._lock:
            applied = self._applied
            if top < applied.top:  # the feed was emptied (a fresh database): start over
                applied = _Applied()
            if top != applied.top:
                statement = select(*_COLUMNS).where(RegisterMutationRow.seq > applied.top).order_by(RegisterMutationRow.seq)
                applied = applied.then(self._registries, map(_as_mutation, self._read(self._sql(statement))))
                self._applied = applied
        return applied

    def _sql(self, statement: ClauseElement) -> str:
        return self._database.compile(statement)

    def _read(self, sql: str) -> list[tuple[Any, ...]]:
        """Committed rows, read outside the caller's transaction (see :meth:`Database.read_outside`)."""
        return self._database.read_outside(sql)
