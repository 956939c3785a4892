"""Requests of the people concerned about their data (privacy notice):
correction (DS-2), restriction (DS-3), objection (DS-4).

A person files a request about named data: one inclusion, their research
consent decision, or all of their data. The people able to act on it see
the requests that concern them and answer them, ``done`` or ``refused``
with a reason: the data protection officer (every request), the provider or
pharmacist who declared a named inclusion, and the staff of the project it
belongs to (IC-A3: a project sees nothing of another's). The person sees
the status and the answer, and may withdraw the request.

A correction is recorded and shown to those who can correct (the gateway
does not rewrite items 7-9 on a patient's word: they drive billing, IC-A7).
A restriction takes effect when filed: the restricted data leave the
research export at once and are shown only to whom the law requires, marked
restricted (:func:`may_see_restricted`); the billing export, a legal
obligation, continues. An objection names the processing it objects to and
stops it when filed. A restriction or objection stays in force while it is
open or ``done``; it ends when the person withdraws it or a handler refuses
it with a reason (GDPR art. 18(3), 21(1)).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied, Concealed, Conflict, InvalidInput, NotFound
from gateway.domain.model import ConsentDecision, Inclusion, RightsRequest
from gateway.domain.policy import PSI_ROLES, Decision
from gateway.domain.principal import Principal, Role

KINDS = {"correction": "DS-2", "restriction": "DS-3", "objection": "DS-4"}
RESEARCH_STOPPERS = ("restriction", "objection")
TARGETS = ("inclusion", "consent")  # and None: all of the person's data
OUTCOMES = ("done", "refused")
IN_FORCE = ("active", "done")  # a restriction or objection in these states has its effect
OPEN = "active"

# The processings a person may object to (DS-4), with what an objection does.
PROCESSINGS = {
    "research": "use for statistics and research: the research exports to the insurers, forwarded to the IMA (IC-R7)",
}
# Processings that rest on a legal obligation: an objection cannot stop them (DS-5's "legal obligations remain").
LEGAL_OBLIGATIONS = {
    "billing": "the billing exports to your insurer rest on the law on compulsory health insurance "
               "(coordinated on 14 July 1994) and go on",
}
HANDLER_ROLES = (Role.DPO, Role.PROVIDER, Role.PHARMACIST, *PSI_ROLES)


@dataclass(frozen=True)
class RightsRequestView:
    id: str
    kind: str
    rule: str
    status: str
    text: str | None
    created_at: datetime
    closed_at: datetime | None
    patient_niss: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    processing: str | None = None
    answer: str | None = None
    answered_at: datetime | None = None
    answered_by_role: str | None = None
    answered_by_organisation: str | None = None
    version: int = 1

    @property
    def in_force(self) -> bool:
        """Does the restriction or objection have its effect now?"""
        return self.kind in RESEARCH_STOPPERS and self.status in IN_FORCE

    @property
    def updated_at(self) -> datetime:
        return self.closed_at or self.answered_at or self.created_at


# ------------------------------------------------------------------ effects


def _in_force(kind: str | tuple[str, ...]) -> ColumnElement[bool]:
    kinds = (kind,) if isinstance(kind, str) else kind
    return and_(RightsRequest.kind.in_(kinds), RightsRequest.status.in_(IN_FORCE))


def research_blocked(session: Session, pseudonym: str) -> bool:
    """Is all research use of the person stopped: an objection to research
    (DS-4), or a restriction of all their data or of their consent decision,
    on which research rests (DS-3)?"""
    return session.execute(
        select(RightsRequest.id).where(
            RightsRequest.patient_pseudonym == pseudonym,
            or_(and_(_in_force("objection"), or_(RightsRequest.processing.is_(None), RightsRequest.processing == "research")),
                and_(_in_force("restriction"), or_(RightsRequest.target_type.is_(None), RightsRequest.target_type == "consent"))),
        ).limit(1)
    ).first() is not None


def restricted_inclusions(session: Session, pseudonym: str) -> set[str] | None:
    """The person's inclusions under a restriction in force (DS-3): ``None``
    when a restriction covers all of their data (every inclusion is)."""
    rows = session.execute(
        select(RightsRequest.target_type, RightsRequest.target_id).where(
            RightsRequest.patient_pseudonym == pseudonym, _in_force("restriction"),
            or_(RightsRequest.target_type.is_(None), RightsRequest.target_type == "inclusion"))
    ).all()
    if any(target_type is None for target_type, _ in rows):
        return None
    return {target_id for _, target_id in rows if target_id}


def is_restricted(session: Session, inc: Inclusion) -> bool:
    restricted = restricted_inclusions(session, inc.patient_pseudonym)
    return restricted is None or inc.id in restricted


def restricted_among(session: Session, rows: list[Inclusion]) -> set[str]:
    """The ids of those of ``rows`` under a restriction in force (DS-3)."""
    marked: set[str] = set()
    for pseudonym in {r.patient_pseudonym for r in rows}:
        restricted = restricted_inclusions(session, pseudonym)
        marked |= {r.id for r in rows if r.patient_pseudonym == pseudonym and (restricted is None or r.id in restricted)}
    return marked


def may_see_restricted(act: Act, decision: Decision, inc: Inclusion) -> bool:
    """DS-3: who still sees (and changes) a restricted inclusion, because the
    law requires it: the person (their right of access, DS-1), the staff of
    its project (billing, a legal obligation), the one who declared it (who
    handles the request), and the gateway itself. Others acting under a
    therapeutic relationship no longer see it."""
    if act.principal.role in (Role.PATIENT, Role.SYSTEM):
        return True
    if decision.own_psi is not None:
        return inc.psi_nihii == decision.own_psi
    return inc.declared_by_pseudonym == act.actor_pseudonym


def shown_under_restriction(act: Act, decision: Decision, rows: list[Inclusion]) -> tuple[list[Inclusion], set[str]]:
    """The inclusions ``rows`` as the caller may see them (DS-3), and which of
    those shown are restricted (to be marked)."""
    marked = restricted_among(act.session, rows)
    if not marked:
        return rows, marked
    kept = [r for r in rows if r.id not in marked or may_see_restricted(act, decision, r)]
    if len(kept) < len(rows):
        act.detail["withheld_restricted"] = len(rows) - len(kept)
    return kept, marked & {r.id for r in kept}


def guard_restricted(act: Act, decision: Decision, inc: Inclusion) -> bool:
    """For an act on one inclusion: stop it, as for an unknown inclusion, when
    the inclusion is restricted and the caller is not one the law requires
    to see it (the trail records the real refusal); else say whether it is
    restricted (to mark it)."""
    if not is_restricted(act.session, inc):
        return False
    if not may_see_restricted(act, decision, inc):
        from gateway.domain.inclusions import unknown_inclusion

        act.rule = "DS-3"
        raise Concealed(unknown_inclusion(inc.id), AccessDenied(
            "restricted", "The patient restricted the use of this inclusion (DS-3): it is shown only to the patient, its project, "
            "the provider who declared it and the data protection officer.", rule="DS-3"))
    return True


# ------------------------------------------------------------------ use cases


class RightsService:
    def __init__(self, ctx: DomainContext) -> None:
        self.ctx = ctx

    def _view(self, r: RightsRequest, *, reveal_patient: bool = True) -> RightsRequestView:
        return RightsRequestView(
            r.id, r.kind, KINDS[r.kind], r.status, r.text, r.created_at, r.closed_at,
            patient_niss=self.ctx.pseudonyms.reveal(r.patient_pseudonym) if reveal_patient else None,
            target_type=r.target_type, target_id=r.target_id, processing=r.processing, answer=r.answer,
            answered_at=r.answered_at, answered_by_role=r.answered_by_role,
            answered_by_organisation=r.answered_by_organisation, version=r.version,
        )

    def _me(self, act: Act) -> str:
        if act.principal.role is not Role.PATIENT:
            raise AccessDenied("not-a-patient", "A person files and withdraws requests about their own data.", rule="IC-A9")
        person = self.ctx.register.person(act.principal.niss)
        act.patient_pseudonym = self.ctx.pseudonyms.pseudonymise(person.niss if person else act.principal.niss)
        return act.patient_pseudonym

    # -------------------------------------------------------- the person

    def file(self, principal: Principal, kind: str, text: str | None = None, *, target_type: str | None = None,
             target_id: str | None = None, processing: str | None = None, channel: str = "internal") -> RightsRequestView:
        """File a request (DS-2..DS-4) about ``target_type``/``target_id``
        (None: all of the caller's data); an objection names its processing
        (default: research)."""
        def body(act: Act) -> RightsRequestView:
            me = self._me(act)
            if kind not in KINDS:
                raise InvalidInput("invalid-request-kind", f"A request is one of {', '.join(KINDS)}, not {kind!r}.", path="kind")
            act.rule = KINDS[kind]
            if kind == "correction" and not (text and text.strip()):
                raise InvalidInput("correction-without-text", "Say what is wrong and what it should be.", rule="DS-2", path="text")
            self._check_target(act, me, kind, target_type, target_id)
            named = self._check_processing(kind, processing)
            row = RightsRequest(id=str(uuid.uuid4()), patient_pseudonym=me, kind=kind, status=OPEN, text=text, created_at=act.now,
                                target_type=target_type, target_id=target_id, processing=named)
            act.session.add(row)
            act.session.flush()
            act.resource_id = row.id
            act.detail.update(kind=kind, target=target_type or "all", **({"processing": named} if named else {}))
            return self._view(row)

        return self.ctx.runner.run(principal, "rights.file", body, channel=channel, resource_type="rights-request")

    def _check_target(self, act: Act, me: str, kind: str, target_type: str | None, target_id: str | None) -> None:
        if target_type is None:
            if target_id is not None:
                raise InvalidInput("target-without-type", "Say what the id names: an inclusion or a consent decision.",
                                   rule=KINDS[kind], path="target")
            return
        if target_type not in TARGETS:
            raise InvalidInput("invalid-target", f"A request names an inclusion, a consent decision, or nothing (all your data), "
                               f"not {target_type!r}.", rule=KINDS[kind], path="target")
        if target_type == "inclusion" and not target_id:
            raise InvalidInput("target-without-id", "Name the inclusion by its id.", rule=KINDS[kind], path="target")
        if target_id is None:
            return
        owner: str | None = None
        if well_formed_id(target_id):
            if target_type == "inclusion":
                inc = act.session.get(Inclusion, target_id)
                owner = inc.patient_pseudonym if inc else None
            else:
                owner = act.session.execute(select(ConsentDecision.patient_pseudonym).where(or_(
                    ConsentDecision.public_id == target_id, ConsentDecision.thread_id == target_id)).limit(1)).scalar_one_or_none()
        if owner != me:
            raise NotFound("unknown-target", f"You have no {target_type} {target_id}.", rule=KINDS[kind], path="target")

    @staticmethod
    def _check_processing(kind: str, processing: str | None) -> str | None:
        if kind != "objection":
            if processing is not None:
                raise InvalidInput("processing-not-for-kind", "Only an objection names a processing.", rule=KINDS[kind], path="processing")
            return None
        named = processing or "research"
        if named in LEGAL_OBLIGATIONS:
            raise InvalidInput("legal-obligation", f"You cannot object to {named}: {LEGAL_OBLIGATIONS[named]}. The data protection "
                               "officer can tell you more.", rule="DS-4", path="processing")
        if named not in PROCESSINGS:
            raise InvalidInput("unknown-processing", f"An objection names one of: {', '.join(PROCESSINGS)}; not {named!r}.",
                               rule="DS-4", path="processing")
        return named

    def lift(self, principal: Principal, request_id: str, *, expected_version: int | None = None,
             channel: str = "internal") -> RightsRequestView:
        """The person withdraws their request; a restriction or objection ends."""
        def body(act: Act) -> RightsRequestView:
            me = self._me(act)
            row = act.session.get(RightsRequest, request_id) if well_formed_id(request_id) else None
            if row is None or row.patient_pseudonym != me:
                raise NotFound("unknown-request", f"No request {request_id} of yours.", path="id")
            act.rule = KINDS[row.kind]
            _check_version(row, expected_version)
            if row.status not in IN_FORCE:
                raise Conflict("request-closed", f"This request is already {row.status}.", rule=act.rule, path="status")
            row.status, row.closed_at = "closed", act.now
            act.session.flush()
            return self._view(row)

        return self.ctx.runner.run(principal, "rights.lift", body, channel=channel, resource_type="rights-request", resource_id=request_id)

    def mine(self, principal: Principal, *, channel: str = "internal") -> list[RightsRequestView]:
        def body(act: Act) -> list[RightsRequestView]:
            me = self._me(act)
            act.rule = "DS-1"
            rows = act.session.execute(select(RightsRequest).where(RightsRequest.patient_pseudonym == me)
                                       .order_by(RightsRequest.created_at, RightsRequest.id)).scalars().all()
            return [self._view(r) for r in rows]

        return self.ctx.runner.run(principal, "rights.list", body, channel=channel, resource_type="rights-request")

    # -------------------------------------------------------- who handles them

    def _handler(self, act: Act) -> Decision:
        """The caller's standing as one who handles requests (checked at each call)."""
        if act.principal.role not in HANDLER_ROLES:
            raise AccessDenied("not-a-handler", "Rights requests are handled by the data protection officer, the provider who "
                               "declared the data and the staff of its project.", rule="IC-A9")
        return act.require(self.ctx.policy.standing(act.principal), names_rule=False)

    def _concerning(self, act: Act, standing: Decision) -> ColumnElement[bool]:
        """The requests that concern the caller, as a condition on RightsRequest."""
        if act.principal.role is Role.DPO:
            return true()
        if standing.own_psi is not None:
            mine = Inclusion.psi_nihii == standing.own_psi
        elif act.principal.role in (Role.PROVIDER, Role.PHARMACIST):
            mine = Inclusion.declared_by_pseudonym == act.actor_pseudonym
        else:
            return false()
        named = exists().where(Inclusion.id == RightsRequest.target_id, mine)
        of_patient = exists().where(Inclusion.patient_pseudonym == RightsRequest.patient_pseudonym, mine)
        return or_(and_(RightsRequest.target_type == "inclusion", named),
                   and_(or_(RightsRequest.target_type.is_(None), RightsRequest.target_type == "consent"), of_patient))

    def concerning(self, principal: Principal, *, status: str | None = None, patient_niss: str | None = None,
                   kind: str | None = None, channel: str = "internal") -> list[RightsRequestView]:
        """The requests the caller may act on, oldest first."""
        def body(act: Act) -> list[RightsRequestView]:
            standing = self._handler(act)
            act.rule = "DS-2" if kind is None else KINDS.get(kind, "DS-2")
            query = select(RightsRequest).where(self._concerning(act, standing))
            if status is not None:
                query = query.where(RightsRequest.status == status)
            if kind is not None:
                query = query.where(RightsRequest.kind == kind)
            if patient_niss is not None:
                from gateway.domain.inclusions import check_patient_niss

                person = self.ctx.register.person(check_patient_niss(patient_niss, "patient"))
                numbers = {patient_niss, *((person.niss, *person.previous_niss) if person else ())}
                query = query.where(RightsRequest.patient_pseudonym.in_([self.ctx.pseudonyms.pseudonymise(n) for n in numbers]))
            rows = act.session.execute(query.order_by(RightsRequest.created_at, RightsRequest.id)).scalars().all()
            act.detail["returned"] = len(rows)
            return [self._view(r) for r in rows]

        return self.ctx.runner.run(principal, "rights.concerning", body, channel=channel, resource_type="rights-request")

    def get(self, principal: Principal, request_id: str, *, channel: str = "internal") -> RightsRequestView:
        """One request, for its person or one it concerns; for anyone else it does not exist."""
        def body(act: Act) -> RightsRequestView:
            row = self._visible(act, request_id)
            act.rule = KINDS[row.kind]
            return self._view(row)

        return self.ctx.runner.run(principal, "rights.read", body, channel=channel, resource_type="rights-request", resource_id=request_id)

    def _visible(self, act: Act, request_id: str) -> RightsRequest:
        unknown = NotFound("unknown-request", f"No rights request {request_id}.", path="id")
        row = act.session.get(RightsRequest, request_id) if well_formed_id(request_id) else None
        if row is None:
            raise unknown
        act.patient_pseudonym = row.patient_pseudonym
        if act.principal.role is Role.PATIENT:
            if self._me(act) != row.patient_pseudonym:
                raise unknown
            return row
        standing = self._handler(act)
        concerns = act.session.execute(select(RightsRequest.id).where(RightsRequest.id == row.id, self._concerning(act, standing))).first()
        if concerns is None:
            raise unknown
        return row

    def answer(self, principal: Principal, request_id: str, outcome: str, reason: str | None = None, *,
               expected_version: int | None = None, channel: str = "internal") -> RightsRequestView:
        """Answer an open request: ``done`` (corrected; restriction or objection
        confirmed, it stays in force) or ``refused`` with the reason the person
        reads (a restriction or objection refused ends)."""
        def body(act: Act) -> RightsRequestView:
            if act.principal.role is Role.PATIENT:
                raise AccessDenied("not-a-handler", "A person withdraws their request; answering it is for those who handle it.",
                                   rule="IC-A9")
            row = self._visible(act, request_id)
            act.rule = KINDS[row.kind]
            _check_version(row, expected_version)
            if outcome not in OUTCOMES:
                raise InvalidInput("invalid-outcome", f"An answer is done or refused, not {outcome!r}.", rule=act.rule, path="status")
            if row.status != OPEN:
                raise Conflict("request-answered", f"This request is already {row.status}.", rule=act.rule, path="status")
            if outcome == "refused" and not (reason and reason.strip()):
                raise InvalidInput("refusal-without-reason", "A refusal gives the person its reason (and the legal basis).",
                                   rule=act.rule, path="reason")
            row.status, row.answer, row.answered_at = outcome, reason, act.now
            row.answered_by_pseudonym, row.answered_by_role = act.actor_pseudonym, act.principal.role.value
            row.answered_by_organisation = act.principal.organisation
            act.session.flush()
            act.detail.update(kind=row.kind, outcome=outcome)
            return self._view(row)

        return self.ctx.runner.run(principal, "rights.answer", body, channel=channel, resource_type="rights-request",
                                   resource_id=request_id)


def _check_version(row: RightsRequest, expected: int | None) -> None:
    if expected is not None and expected != row.version:
        from gateway.domain.errors import VersionConflict

        raise VersionConflict("version-conflict", f"The request is at version {row.version}, not {expected}; read it again.",
                              path="version")
