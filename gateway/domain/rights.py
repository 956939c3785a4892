"""Requests of the people concerned about their data (privacy notice):
correction (DS-2), restriction (DS-3), objection (DS-4).

A correction request is recorded and shown to the providers who can
correct (the gateway does not rewrite items 7-9 on a patient's word: they
drive billing, IC-A7). A restriction or an objection takes effect when
filed: from then on the person's data leave no research export, while the
billing export, a legal obligation, continues. The person may lift their own
restriction or objection.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.acts import Act
from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied, InvalidInput, NotFound
from gateway.domain.model import RightsRequest
from gateway.identity.principal import Principal, Role

KINDS = {"correction": "DS-2", "restriction": "DS-3", "objection": "DS-4"}
RESEARCH_STOPPERS = ("restriction", "objection")


@dataclass(frozen=True)
class RightsRequestView:
    id: str
    kind: str
    rule: str
    status: str
    text: str | None
    created_at: datetime
    closed_at: datetime | None


def research_blocked(session: Session, pseudonym: str) -> bool:
    """Has the person an active restriction or objection (DS-3, DS-4)?"""
    return session.execute(
        select(RightsRequest.id).where(RightsRequest.patient_pseudonym == pseudonym, RightsRequest.status == "active",
                                       RightsRequest.kind.in_(RESEARCH_STOPPERS)).limit(1)
    ).first() is not None


class RightsService:
    def __init__(self, ctx: DomainContext) -> None:
        self.ctx = ctx

    def _view(self, r: RightsRequest) -> RightsRequestView:
        return RightsRequestView(r.id, r.kind, KINDS[r.kind], r.status, r.text, r.created_at, r.closed_at)

    def _me(self, act: Act) -> str:
        if act.principal.role is not Role.PATIENT:
            raise AccessDenied("not-a-patient", "A person files and lifts requests about their own data.", rule="IC-A9")
        person = self.ctx.register.person(act.principal.niss)
        act.patient_pseudonym = self.ctx.pseudonyms.pseudonymise(person.niss if person else act.principal.niss)
        return act.patient_pseudonym

    def file(self, principal: Principal, kind: str, text: str | None = None, *, channel: str = "internal") -> RightsRequestView:
        def body(act: Act) -> RightsRequestView:
            me = self._me(act)
            if kind not in KINDS:
                raise InvalidInput("invalid-request-kind", f"A request is one of {', '.join(KINDS)}, not {kind!r}.", path="kind")
            if kind == "correction" and not (text and text.strip()):
                raise InvalidInput("correction-without-text", "Say what is wrong and what it should be.", rule="DS-2", path="text")
            act.rule = KINDS[kind]
            row = RightsRequest(id=str(uuid.uuid4()), patient_pseudonym=me, kind=kind, status="active", text=text, created_at=act.now)
            act.session.add(row)
            act.session.flush()
            act.resource_id = row.id
            act.detail["kind"] = kind
            return self._view(row)

        return self.ctx.runner.run(principal, "rights.file", body, channel=channel, resource_type="rights-request")

    def lift(self, principal: Principal, request_id: str, *, channel: str = "internal") -> RightsRequestView:
        def body(act: Act) -> RightsRequestView:
            me = self._me(act)
            row = act.session.get(RightsRequest, request_id)
            if row is None or row.patient_pseudonym != me:
                raise NotFound("unknown-request", f"No request {request_id} of yours.", path="id")
            act.rule = KINDS[row.kind]
            row.status, row.closed_at = "closed", act.now
            act.session.flush()
            return self._view(row)

        return self.ctx.runner.run(principal, "rights.lift", body, channel=channel, resource_type="rights-request", resource_id=request_id)

    def mine(self, principal: Principal, *, channel: str = "internal") -> list[RightsRequestView]:
        def body(act: Act) -> list[RightsRequestView]:
            me = self._me(act)
            act.rule = "DS-1"
            rows = act.session.execute(select(RightsRequest).where(RightsRequest.patient_pseudonym == me)
                                       .order_by(RightsRequest.created_at)).scalars().all()
            return [self._view(r) for r in rows]

        return self.ctx.runner.run(principal, "rights.list", body, channel=channel, resource_type="rights-request")
