"""The audit trail (IC-R8): one record per act, allowed or denied, chained by
hash so that an edited, removed or re-ordered record is detected.

``hash = SHA-256(prev_hash || canonical JSON of the record's fields)``. The
head row is locked while a record is appended, so the chain has one order
even with several gateway instances on one PostgreSQL database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.domain.model import AuditHead, AuditRecord

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """What a use case says about one act, before it is chained."""

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


def _canonical(record: AuditRecord) -> bytes:
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


def record_hash(prev_hash: str, record: AuditRecord) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + _canonical(record)).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        session.flush()
        head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    return head


def append(session: Session, entry: AuditEntry, at: datetime) -> AuditRecord:
    """Chain one record after the head, in the caller's transaction."""
    head = _lock_head(session)
    record = AuditRecord(
        seq=head.seq + 1,
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
        prev_hash=head.hash,
        hash="",
    )
    record.hash = record_hash(head.hash, record)
    session.add(record)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=record.seq, hash=record.hash))
    head.seq, head.hash = record.seq, record.hash
    return record


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification: intact, or where and why it breaks."""

    intact: bool
    records: int
    broken_at: int | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.intact:
            return f"audit chain intact: {self.records} records verified"
        return f"audit chain BROKEN at record {self.broken_at}: {self.reason} ({self.records} records read)"


def _records(session: Session, batch: int = 2000) -> Iterator[AuditRecord]:
    last = 0
    while True:
        rows = session.execute(
            select(AuditRecord).where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(batch)
        ).scalars().all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> ChainReport:
    """Walk the chain from the genesis and check every link and the head."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for record in _records(session):
        count += 1
        if record.seq != expected_seq:
            return ChainReport(False, count, expected_seq, f"record {expected_seq} is missing (next is {record.seq})")
        if record.prev_hash != prev_hash:
            return ChainReport(False, count, record.seq, "its link to the previous record does not match")
        if record_hash(prev_hash, record) != record.hash:
            return ChainReport(False, count, record.seq, "its content does not match its hash (edited)")
        prev_hash, expected_seq = record.hash, expected_seq + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        return ChainReport(False, count, expected_seq, f"the head names record {head.seq} but the chain ends at {expected_seq - 1} (records removed from the end)")
    return ChainReport(True, count)
