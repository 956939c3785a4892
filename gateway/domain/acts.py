"""Running one act: one transaction, one policy decision, one audit record.

A use case's body runs inside :meth:`ActRunner.run`. If it succeeds, its
audit record is appended in the same transaction as its writes (and sealed
into the chain once committed, :mod:`gateway.domain.audit_sealer`). If it raises
a :class:`DomainError` (a denial, a broken rule), everything it wrote is
rolled back and the refusal is audited in a transaction of its own, so a
refusal never changes stored data and is never lost from the trail (IC-R8,
IC-A9).
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gateway.domain import audit
from gateway.domain.audit import AuditEntry
from gateway.domain.audit_sealer import AuditSealer
from gateway.domain.audit_subjects import token_for
from gateway.domain.clock import Clock
from gateway.domain.database import Database
from gateway.domain.errors import AccessDenied, Concealed, Conflict, DomainError, VersionConflict
from gateway.domain.policy import Decision
from gateway.domain.pseudonyms import PseudonymService
from gateway.domain.principal import Principal, Role

log = logging.getLogger("gateway.acts")

T = TypeVar("T")

_PUBLIC_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-.]{0,63}")


def well_formed_id(value: str | None) -> bool:
    """Could ``value`` be one of our public ids (UUIDs and the like)? An id
    that cannot is unknown without looking, and is never written to the
    trail as sent (it may be huge, or not even encodable)."""
    return value is not None and _PUBLIC_ID.fullmatch(value) is not None


def audit_id(value: str | None) -> str | None:
    """A resource id as the audit trail keeps it."""
    if value is None:
        return None
    return value if well_formed_id(value) else "(malformed)"


# The outer transaction of an atomic group of acts (a FHIR transaction Bundle).
@dataclass
class _Group:
    session: Session
    pending: list[Callable[[], None]]


_OUTER: ContextVar["_Group | None"] = ContextVar("care_gateway_outer_transaction", default=None)


class AtomicAbort(Exception):
    """Raised inside an atomic group to undo everything it did so far."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


@dataclass
class Act:
    """What one use case is doing, filled in as it goes and then audited."""

    session: Session
    principal: Principal
    action: str
    channel: str
    now: datetime
    today: date
    actor_pseudonym: str
    patient_pseudonym: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    rule: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def require(self, decision: Decision, *, names_rule: bool = True) -> Decision:
        """Stop the act with an :class:`AccessDenied` unless the policy allowed
        it. ``names_rule=False`` for a preliminary check (the caller's
        standing) whose allowance is not the rule the act rests on."""
        if names_rule or not decision.allowed:
            self.rule = decision.rule
        if not decision.allowed:
            raise AccessDenied(decision.code, decision.reason, rule=decision.rule)
        return decision


class ActRunner:
    """Wraps use-case bodies in a transaction and the audit trail."""

    def __init__(self, db: Database, clock: Clock, pseudonyms: PseudonymService, sealer: AuditSealer | None = None) -> None:
        self.db = db
        self.clock = clock
        self.pseudonyms = pseudonyms
        self.sealer = sealer or AuditSealer(db)  # seals the records once their acts are committed

    @contextmanager
    def atomic(self) -> Iterator[Session]:
        """Run several acts in one transaction: all are kept, or none.

        Acts inside join the outer session and append their audit records in
        it; if any raises, everything is rolled back and only the refusal is
        audited (in its own transaction, by :meth:`run`)."""
        if _OUTER.get() is not None:
            raise RuntimeError("atomic groups do not nest")
        pending: list[Callable[[], None]] = []
        try:
            with self.db.transaction() as session:
                token = _OUTER.set(_Group(session, pending))
                try:
                    yield session
                finally:
                    _OUTER.reset(token)
            self.sealer.committed()
        finally:
            for write in pending:  # refusals, audited once the group's transaction is over
                write()

    def run(
        self,
        principal: Principal,
        action: str,
        body: Callable[[Act], T],
        *,
        channel: str = "internal",
        resource_type: str | None = None,
        resource_id: str | None = None,
        reads: bool = False,
    ) -> T:
        """Run ``body`` as one act. ``reads=True`` says the body only reads:
        where the database has one writer at a time (SQLite), it then reads
        from a snapshot without the write lock, so that its questions to the
        platform (IC-A1's therapeutic link, IC-R9's register) do not hold
        every other process's acts; its audit record follows in a short
        transaction of its own, committed before the answer is returned
        (as a refusal's always is)."""
        now = self.clock.now()
        actor = self.pseudonyms.pseudonymise(principal.niss)
        resource_id = audit_id(resource_id)
        state: dict[str, Any] = {}
        group = _OUTER.get()
        if group is not None:
            return self._run_inside(group, principal, action, body, channel, resource_type, resource_id, now, actor)
        apart = reads and self.db.one_writer
        try:
            with (self.db.snapshot() if apart else self.db.transaction()) as session:
                act = Act(
                    session, principal, action, channel, now, self.clock.today(), actor,
                    resource_type=resource_type, resource_id=resource_id,
                )
                state["act"] = act
                result = body(act)
                if not apart:
                    audit.append(session, self._entry(session, act, "allowed"), now)
            if apart:
                with self.db.transaction() as session:
                    audit.append(session, self._entry(session, act, "allowed"), now)
            self.sealer.committed()
            log.info("%s by %s (%s): allowed [%s]", action, principal.role, principal.organisation or "-", act.rule or "-")
            return result
        except StaleDataError as exc:
            error: DomainError = VersionConflict(
                "version-conflict",
                "The resource was changed by someone else meanwhile; read it again and retry with its current version.",
                path="version",
            )
            self._audit_refusal(state.get("act"), principal, action, channel, actor, error, now)
            raise error from exc
        except IntegrityError as exc:
            error = Conflict("concurrent-change", "A concurrent change collided with this one; retry.")
            self._audit_refusal(state.get("act"), principal, action, channel, actor, error, now)
            raise error from exc
        except DomainError as error:
            self._audit_refusal(state.get("act"), principal, action, channel, actor, error, now)
            raise

    def _run_inside(
        self, group: _Group, principal: Principal, action: str, body: Callable[[Act], T], channel: str,
        resource_type: str | None, resource_id: str | None, now: datetime, actor: str,
    ) -> T:
        """One act inside an atomic group, in the group's transaction. A
        refusal is re-raised (the group rolls back as a whole) and audited
        after the rollback, in a transaction of its own."""
        session = group.session
        act = Act(session, principal, action, channel, now, self.clock.today(), actor,
                  resource_type=resource_type, resource_id=resource_id)
        try:
            with session.no_autoflush:
                result = body(act)
            session.flush()
        except StaleDataError as exc:
            error: DomainError = VersionConflict("version-conflict", "The resource was changed meanwhile; read it again and retry.", path="version")
            group.pending.append(lambda: self._audit_refusal(act, principal, action, channel, actor, error, now))
            raise error from exc
        except DomainError as exc:
            refused = exc
            group.pending.append(lambda: self._audit_refusal(act, principal, action, channel, actor, refused, now))
            raise
        audit.append(session, self._entry(session, act, "allowed"), now)
        return result

    def _entry(self, session: Session, act: Act, outcome: str, error: DomainError | None = None) -> AuditEntry:
        """The record of an act. The patient, and a patient acting about
        themselves, are named by their audit token (:mod:`gateway.domain.audit_subjects`),
        so that purging a person cuts the link without touching a sealed record."""
        if isinstance(error, Concealed):  # the trail keeps what really happened
            error = error.actual
        patient = token_for(session, act.patient_pseudonym, act.now) if act.patient_pseudonym else None
        actor = act.actor_pseudonym
        if act.principal.role is Role.PATIENT:
            actor = patient if act.patient_pseudonym == actor and patient else token_for(session, actor, act.now)
        detail = dict(act.detail)
        if error is not None:
            detail["message"] = error.message
            if error.path:
                detail["path"] = error.path
        return AuditEntry(
            actor_pseudonym=actor,
            actor_role=act.principal.role.value,
            actor_organisation=act.principal.organisation,
            action=act.action,
            outcome=outcome,
            channel=act.channel,
            code=error.code if error else None,
            rule=(error.rule if error and error.rule else act.rule),
            patient_pseudonym=patient,
            resource_type=act.resource_type,
            resource_id=audit_id(act.resource_id),
            detail=detail,
        )

    def _audit_refusal(
        self,
        act: Act | None,
        principal: Principal,
        action: str,
        channel: str,
        actor: str,
        error: DomainError,
        now: datetime,
    ) -> None:
        actual = error.actual if isinstance(error, Concealed) else error
        outcome = "denied" if isinstance(actual, AccessDenied) else "refused"
        with self.db.transaction() as session:
            if act is None:
                act = Act(session, principal, action, channel, now, self.clock.today(), actor)
            audit.append(session, self._entry(session, act, outcome, error), now)
        self.sealer.committed()
        log.info(
            "%s by %s (%s): %s %s [%s] %s",
            action, principal.role, principal.organisation or "-", outcome, actual.code, actual.rule or "-", actual.message,
        )
