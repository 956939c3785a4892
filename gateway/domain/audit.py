"""The audit trail (IC-R8): one record per act, allowed or denied, made
tamper-evident by a hash chain that is sealed in batches.

Two steps, so that no act waits on another act's audit record:

1. **Append** (:func:`append`), in the act's own transaction: the record is
   inserted with the next ``seq`` from the database (SQLite's rowid,
   PostgreSQL's sequence). No row is locked; the record commits or rolls
   back with the act, so a committed act never lacks its record.
2. **Seal** (:func:`seal`): on SQLite in the act's transaction as it
   commits (it holds the database's write lock anyway); on PostgreSQL after
   commits, by whoever runs it (the
   in-process sealer of :mod:`gateway.domain.audit_sealer`, or
   ``care-gateway audit seal``): the head row is locked by the sealer only,
   the committed records not yet sealed are taken in ``seq`` order and
   chained after the head, each given its ``position`` and
   ``hash = SHA-256(prev_hash || canonical JSON of the record's fields)``.

A record that commits after a seal began, even with a lower ``seq``, is
sealed by the next one: the chain's order is the order of sealing, and
``seq`` is kept inside each hash. :func:`verify` walks the chain by
position from the genesis: an edited, removed, re-ordered or unsealed
sealed record, or a chain cut short of its head, is reported. Records not
yet sealed are counted, not verified: that is the window (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

from sqlalchemy import bindparam, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain.model import AuditHead, AuditRecord

GENESIS = "0" * 64
SEAL_BATCH = 1000

_RECORDS = AuditRecord.__table__
_HEADS = AuditHead.__table__
_CONTENT = [_RECORDS.c[name] for name in (
    "seq", "at", "actor_pseudonym", "actor_role", "actor_organisation", "action", "outcome", "code", "rule",
    "patient_pseudonym", "resource_type", "resource_id", "channel", "detail")]


@dataclass(frozen=True)
class AuditEntry:
    """What a use case says about one act, before it is appended."""

    actor_pseudonym: str
    actor_role: str
    action: str
    outcome: str  # allowed | denied | refused | failed
    channel: str = "internal"
    actor_organisation: str | None = None
    code: str | None = None
    rule: str | None = None
    patient_pseudonym: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def _canonical(record: Any) -> bytes:
    """The hashed form of a record's content (a mapped record or a row).
    ``position`` is not in it: the chain's links fix the order."""
    body = {
        "seq": record.seq,
        "at": _utc(record.at).isoformat(timespec="microseconds"),
        "actor": [record.actor_pseudonym, record.actor_role, record.actor_organisation],
        "action": record.action,
        "outcome": record.outcome,
        "code": record.code,
        "rule": record.rule,
        "patient": record.patient_pseudonym,
        "resource": [record.resource_type, record.resource_id],
        "channel": record.channel,
        "detail": record.detail,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def record_hash(prev_hash: str, record: Any) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + _canonical(record)).hexdigest()


def append(session: Session, entry: AuditEntry, at: datetime) -> None:
    """Append one record in the caller's transaction, unsealed. Takes no lock
    beyond the new row: concurrent acts append side by side. (On SQLite it
    is sealed as the transaction commits: :func:`_seal_in_sqlite_commits`.)"""
    session.info[_APPENDED] = True
    session.execute(insert(_RECORDS).values(
        at=_utc(at),
        actor_pseudonym=entry.actor_pseudonym,
        actor_role=entry.actor_role,
        actor_organisation=entry.actor_organisation,
        action=entry.action,
        outcome=entry.outcome,
        code=entry.code,
        rule=entry.rule,
        patient_pseudonym=entry.patient_pseudonym,
        resource_type=entry.resource_type,
        resource_id=entry.resource_id,
        channel=entry.channel,
        detail=dict(entry.detail),
    ))


# ------------------------------------------------------------------ sealing

_APPENDED = "care_gateway_audit_appended"


@event.listens_for(Session, "before_commit")
def _seal_in_sqlite_commits(session: Session) -> None:
    """SQLite's write transactions hold the database's one write lock
    already: sealing there, as the act commits, adds no wait and leaves no
    window. PostgreSQL's acts run side by side and are sealed after their
    commits (:mod:`gateway.domain.audit_sealer`)."""
    if session.info.pop(_APPENDED, False) and session.get_bind().dialect.name == "sqlite":
        seal(session)


def _lock_head(session: Session) -> tuple[int, str] | None:
    """The head's (position, hash), locked for this sealer; None when another
    sealer holds it (PostgreSQL's SKIP LOCKED: it will seal what is there)."""
    query = select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.id == 1)
    row = session.execute(query.with_for_update(skip_locked=True)).first()
    if row is not None:
        return int(row[0]), str(row[1])
    if session.execute(query).first() is not None:
        return None  # it exists and is locked
    try:
        with session.begin_nested():
            session.execute(insert(_HEADS).values(id=1, seq=0, hash=GENESIS))
    except IntegrityError:  # another sealer made it meanwhile
        return None
    return 0, GENESIS


def seal(session: Session, *, limit: int = SEAL_BATCH) -> int | None:
    """Chain up to ``limit`` committed unsealed records after the head, in
    ``seq`` order, in the caller's transaction. Returns how many were
    sealed, or None if another sealer is at work (nothing was done)."""
    head = _lock_head(session)
    if head is None:
        return None
    position, prev_hash = head
    rows = session.execute(
        select(*_CONTENT).where(_RECORDS.c.position.is_(None)).order_by(_RECORDS.c.seq).limit(limit)
    ).all()
    if not rows:
        return 0
    links: list[dict[str, Any]] = []
    for row in rows:
        position += 1
        digest = record_hash(prev_hash, row)
        links.append({"k": row.seq, "p": position, "ph": prev_hash, "h": digest})
        prev_hash = digest
    session.execute(
        update(_RECORDS).where(_RECORDS.c.seq == bindparam("k"))
        .values(position=bindparam("p"), prev_hash=bindparam("ph"), hash=bindparam("h")),
        links,
        execution_options={"synchronize_session": False},
    )
    session.execute(update(_HEADS).where(_HEADS.c.id == 1).values(seq=position, hash=prev_hash))
    return len(rows)


def unsealed(session: Session) -> int:
    """How many committed records wait to be sealed."""
    return int(session.execute(select(func.count()).select_from(_RECORDS).where(_RECORDS.c.position.is_(None))).scalar_one())


# ------------------------------------------------------------- verification


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification: intact, or where and why it breaks;
    and how many records are not sealed yet (not covered by the chain)."""

    intact: bool
    records: int
    broken_at: int | None = None
    reason: str | None = None
    unsealed: int = 0

    def describe(self) -> str:
        waiting = (f"; {self.unsealed} record(s) appended since the last seal are not sealed yet "
                   "(care-gateway audit seal seals them now)") if self.unsealed else "; none waits to be sealed"
        if self.intact:
            return f"audit chain intact: {self.records} records verified{waiting}"
        return (f"audit chain BROKEN at record {self.broken_at} of the chain: {self.reason} "
                f"({self.records} records read{waiting})")


def _sealed(session: Session, batch: int = 2000) -> Iterator[Mapping[str, Any]]:
    last = 0
    columns = [*_CONTENT, _RECORDS.c.position, _RECORDS.c.prev_hash, _RECORDS.c.hash]
    while True:
        rows = session.execute(
            select(*columns).where(_RECORDS.c.position > last).order_by(_RECORDS.c.position).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].position


def verify(session: Session) -> ChainReport:
    """Walk the sealed chain from the genesis: every position present once,
    every link and hash right, the head at the chain's end."""
    prev_hash, expected, count = GENESIS, 1, 0
    waiting = unsealed(session)
    for record in _sealed(session):
        count += 1
        if record.position != expected:
            return ChainReport(False, count, expected, f"record {expected} is missing (next is {record.position})", waiting)
        if record.prev_hash != prev_hash:
            return ChainReport(False, count, expected, "its link to the previous record does not match", waiting)
        if record_hash(prev_hash, record) != record.hash:
            return ChainReport(False, count, expected, "its content does not match its hash (edited)", waiting)
        prev_hash, expected = record.hash, expected + 1
    head = session.execute(select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.id == 1)).first()
    if head is None and count:
        return ChainReport(False, count, expected, "the chain's head is missing", waiting)
    if head is not None and (head.seq != expected - 1 or head.hash != prev_hash):
        return ChainReport(False, count, expected, f"the head names record {head.seq} but the chain ends at "
                           f"{expected - 1} (records removed from the end)", waiting)
    return ChainReport(True, count, unsealed=waiting)
