"""Reading the audit trail: a patient's own access log (DS-1: who looked at
my data) and the auditors' view. Reading the trail is itself an act, and
audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.acts import Act
from gateway.domain.audit_subjects import is_token, pseudonyms_of, tokens_of
from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied, InvalidInput
from gateway.domain.model import AuditRecord
from gateway.domain.pseudonyms import PseudonymError
from gateway.domain.principal import Principal, Role


@dataclass(frozen=True)
class AccessEntry:
    seq: int
    at: datetime
    actor_niss: str | None
    actor_role: str
    actor_organisation: str | None
    action: str
    outcome: str
    rule: str | None
    patient_niss: str | None
    resource_type: str | None
    resource_id: str | None
    channel: str


class AccessLogService:
    def __init__(self, ctx: DomainContext) -> None:
        self.ctx = ctx

    def _entries(self, session: Session, rows: list[AuditRecord]) -> list[AccessEntry]:
        """The records as entries, people named again: a token through its
        subject row (a purged person's token names no one any more), a
        pseudonym of an older record directly."""
        subjects = pseudonyms_of(session, {v for r in rows for v in (r.actor_pseudonym, r.patient_pseudonym) if v})

        def reveal(value: str | None) -> str | None:
            if not value:
                return None
            if is_token(value):
                value = subjects.get(value)
                if value is None:
                    return None
            try:
                return self.ctx.pseudonyms.reveal(value)
            except PseudonymError:
                return None

        return [AccessEntry(r.seq, r.at, reveal(r.actor_pseudonym), r.actor_role, r.actor_organisation, r.action, r.outcome,
                            r.rule, reveal(r.patient_pseudonym), r.resource_type, r.resource_id, r.channel) for r in rows]

    def _named(self, session: Session, numbers: set[str]) -> list[str]:
        """How records name a person of these numbers: their tokens, and the
        pseudonyms records written before tokens hold."""
        pseudonyms = [self.ctx.pseudonyms.pseudonymise(n) for n in numbers]
        return [*pseudonyms, *tokens_of(session, pseudonyms)]

    def search(self, principal: Principal, *, patient_niss: str | None = None, actor_niss: str | None = None,
               limit: int = 100, before: int | None = None, channel: str = "internal") -> list[AccessEntry]:
        """IC-R8: auditors search the whole trail, newest first, by patient
        and by actor (any of their numbers)."""
        ctx = self.ctx

        def body(act: Act) -> list[AccessEntry]:
            act.require(ctx.policy.audit_search(principal))
            if not 1 <= limit <= ctx.settings.max_page_size:
                raise InvalidInput("page-size-out-of-range", f"Ask for 1 to {ctx.settings.max_page_size} entries.", rule="IC-A8", path="_count")
            query = select(AuditRecord)
            for niss, column, path in ((patient_niss, AuditRecord.patient_pseudonym, "patient"), (actor_niss, AuditRecord.actor_pseudonym, "agent")):
                if niss is None:
                    continue
                from gateway.domain.inclusions import check_patient_niss

                value = check_patient_niss(niss, path)
                person = ctx.register.person(value)
                numbers = {value, *((person.niss, *person.previous_niss) if person else ())}
                query = query.where(column.in_(self._named(act.session, numbers)))
            if before is not None:
                query = query.where(AuditRecord.seq < before)
            rows = act.session.execute(query.order_by(AuditRecord.seq.desc()).limit(limit)).scalars().all()
            act.detail.update(returned=len(rows), by_patient=patient_niss is not None, by_actor=actor_niss is not None)
            return self._entries(act.session, list(rows))

        return ctx.runner.run(principal, "audit.search", body, channel=channel, resource_type="audit")

    def about_me(self, principal: Principal, *, limit: int = 100, before: int | None = None, channel: str = "internal") -> list[AccessEntry]:
        """DS-1: every act about the calling patient, newest first (under
        current and former numbers), except their own reading of this log."""
        ctx = self.ctx

        def body(act: Act) -> list[AccessEntry]:
            if principal.role is not Role.PATIENT:
                raise AccessDenied("not-a-patient", "This log is for patients about themselves; auditors use the audit search.", rule="DS-1")
            if not 1 <= limit <= ctx.settings.max_page_size:
                raise InvalidInput("page-size-out-of-range", f"Ask for 1 to {ctx.settings.max_page_size} entries.", rule="IC-A8", path="_count")
            person = ctx.register.person(principal.niss)
            numbers = {principal.niss, *(person.previous_niss if person else ()), *((person.niss,) if person else ())}
            act.patient_pseudonym = ctx.pseudonyms.pseudonymise(person.niss if person else principal.niss)
            act.rule = "DS-1"
            query = select(AuditRecord).where(AuditRecord.patient_pseudonym.in_(self._named(act.session, numbers)),
                                              AuditRecord.action != "audit.about-me")
            if before is not None:
                query = query.where(AuditRecord.seq < before)
            rows = act.session.execute(query.order_by(AuditRecord.seq.desc()).limit(limit)).scalars().all()
            return self._entries(act.session, list(rows))

        return ctx.runner.run(principal, "audit.about-me", body, channel=channel, resource_type="audit")
