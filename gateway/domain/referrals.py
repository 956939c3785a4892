"""Referrals (RF-1, RF-4): a provider (the requester) refers a patient for a
discipline or service, with a reason and a validity period, to one or more
named performers.

Two statuses move over time, as a FHIR implementer expects of a
ServiceRequest and its Tasks:

- the referral's own (request-status), the requester's: draft -> active;
  active <-> on-hold; revoked (every open Task is cancelled with the
  reason) or completed (open Tasks cancelled) from any open status;
- each performer's Task (task-status), that performer's: requested ->
  received -> accepted | rejected (a reason); accepted -> in-progress |
  on-hold | completed; in-progress <-> on-hold; in-progress -> completed |
  failed (a reason); the requester cancels a Task that is not final.

The referral completes by itself once every Task is final and one of them
completed. A performer may not accept nor start an expired referral, nor
move while the requester holds it. Every step is one audited act (RF-1) and
a new version; every version is kept (:class:`ReferralVersion`) for vread
and history, read under the rules of the current state (RF-4).

Only the requester, the named performers and the people with a care
relationship with the patient see a referral (RF-4). Other programmes add
their own refusals with :meth:`ReferralService.register_guard`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import flag_modified

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied, Concealed, DomainError, InvalidInput, NotFound, VersionConflict
from gateway.domain.identifiers import InvalidIdentifier, check_cbe, check_nihii
from gateway.domain.inclusions import check_patient_niss, living_person
from gateway.domain.model import Referral, ReferralParty, ReferralVersion
from gateway.domain.policy import PSI_ROLES
from gateway.domain.subjects import subject_of
from gateway.domain.views import PartyView, ReferralView
from gateway.domain.principal import Principal

PROGRAMMES = ("general", "perinatal", "return-to-work")
REQUESTER, PERFORMER = "requester", "performer"
# the referral's status (request-status) -> {next status: who may move it there}
TRANSITIONS: dict[str, dict[str, str]] = {
    "draft": {"active": REQUESTER, "revoked": REQUESTER},
    "active": {"on-hold": REQUESTER, "revoked": REQUESTER, "completed": REQUESTER},
    "on-hold": {"active": REQUESTER, "revoked": REQUESTER, "completed": REQUESTER},
    "revoked": {},
    "completed": {},
}
# a performer's Task (task-status) -> {next status: who may move it there}
TASK_TRANSITIONS: dict[str, dict[str, str]] = {
    "draft": {},  # the referral is a draft: nothing to act on yet
    "requested": {"received": PERFORMER, "accepted": PERFORMER, "rejected": PERFORMER, "cancelled": REQUESTER},
    "received": {"accepted": PERFORMER, "rejected": PERFORMER, "cancelled": REQUESTER},
    "accepted": {"in-progress": PERFORMER, "on-hold": PERFORMER, "completed": PERFORMER, "cancelled": REQUESTER},
    "in-progress": {"on-hold": PERFORMER, "completed": PERFORMER, "failed": PERFORMER, "cancelled": REQUESTER},
    "on-hold": {"in-progress": PERFORMER, "cancelled": REQUESTER},
    "rejected": {}, "completed": {}, "failed": {}, "cancelled": {},
}
OPEN = ("draft", "active", "on-hold")
FINAL_TASK = ("rejected", "completed", "failed", "cancelled")
NEEDS_REASON = ("rejected", "failed")
TASK_ONLY = tuple(s for s in TASK_TRANSITIONS if s not in TRANSITIONS)  # requested, received, accepted, rejected, ...
REQUEST_ONLY = tuple(s for s in TRANSITIONS if s not in TASK_TRANSITIONS)  # active, revoked
OPERATIONS = ("create", "read", "transition", "search")
TASK_PREFIX = "task-"

Guard = Callable[[Act, str, str, "str | None"], None]
Basis = Callable[[Session, str], tuple[tuple[str, str], ...]]


def task_id(referral_id: str, index: int) -> str:
    """The Task of the ``index``-th performer (0: ``task-<id>``, then ``task-<id>-2``, ...)."""
    return f"{TASK_PREFIX}{referral_id}" if index == 0 else f"{TASK_PREFIX}{referral_id}-{index + 1}"


def referral_of_task(task: str) -> str | None:
    """The referral id a Task id names (ids are UUIDs: 36 characters), or None."""
    if not task.startswith(TASK_PREFIX):
        return None
    rest = task[len(TASK_PREFIX):]
    if len(rest) > 36 and rest[36] == "-":
        return rest[:36]
    return rest or None


def referral_snapshot(r: Referral) -> dict[str, Any]:
    """What a kept version holds: what moves (the parties never change; no person appears)."""
    return {"status": r.status, "status_reason": r.status_reason,
            "tasks": [[p.id, p.task_status, p.task_reason] for p in r.parties if p.role == PERFORMER]}


@dataclass(frozen=True)
class PerformerSpec:
    nihii: str | None = None
    cbe: str | None = None
    party_role: str | None = None


@dataclass(frozen=True)
class ReferralSpec:
    patient_niss: str
    category: str
    service_requested: str
    programme: str = "general"
    reason: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    status: str = "active"
    performers: tuple[PerformerSpec, ...] = field(default_factory=tuple)


class ReferralService:
    def __init__(self, ctx: DomainContext) -> None:
        self.ctx = ctx
        self._guards: dict[str, list[Guard]] = {}
        self._bases: dict[str, Basis] = {}

    # ---------------------------------------------------------------- guards
    def register_guard(self, programme: str, guard: Guard) -> None:
        """Add a programme's own refusal to every referral act of that programme.

        ``guard(act, patient_niss, operation, referral_id)`` is called inside
        the act (its refusal is audited like any other) with the patient's
        current NISS, the operation: ``create``, ``read`` (a read, a version,
        a history), ``transition`` (any step of the referral or of a Task) or
        ``search``, and the referral's id (None for a create), so that a
        programme can judge each referral by what it rests on. It returns None
        to let the act go on, or raises a DomainError (e.g. AccessDenied with
        the programme's rule id) to refuse it; in a search the refused
        referrals are left out, the others shown.
        Register at wiring time: guards are never removed."""
        if programme not in PROGRAMMES:
            raise ValueError(f"unknown referral programme {programme!r}; one of {', '.join(PROGRAMMES)}")
        self._guards.setdefault(programme, []).append(guard)

    def register_basis(self, programme: str, basis: Basis) -> None:
        """Say what a programme's referrals rest on (``basis(session, referral
        id)`` gives (name, value) pairs, read with each view), so that every
        read of such a referral, on any face, carries it: the programme keeps
        its own table, the workflow stays the same for all."""
        if programme not in PROGRAMMES:
            raise ValueError(f"unknown referral programme {programme!r}; one of {', '.join(PROGRAMMES)}")
        self._bases[programme] = basis

    def _guard(self, act: Act, programme: str, patient_niss: str, operation: str, referral_id: str | None = None) -> None:
        for guard in self._guards.get(programme, ()):
            guard(act, patient_niss, operation, referral_id)

    # ---------------------------------------------------------------- views
    def _view(self, r: Referral, today: date, snapshot: dict[str, Any] | None = None, at: Any = None,
              version: int | None = None) -> ReferralView:
        """The referral now, or (``snapshot``) as one kept version shows it."""
        reveal = self.ctx.pseudonyms.reveal
        state = snapshot or referral_snapshot(r)
        tasks = {party_id: (status, reason) for party_id, status, reason in state["tasks"]}
        parties, index = [], 0
        for p in r.parties:
            view = PartyView(p.role, reveal(p.party_pseudonym) if p.party_pseudonym else None, p.party_nihii, p.party_cbe, p.party_role)
            if p.role == PERFORMER:
                status, reason = tasks.get(p.id, (p.task_status, p.task_reason))
                view = replace(view, task_status=status, task_reason=reason, task_id=task_id(r.id, index))
                index += 1
            parties.append(view)
        status = state["status"]
        session = object_session(r)
        basis = self._bases[r.programme](session, r.id) if r.programme in self._bases and session is not None else ()
        return ReferralView(
            id=r.id, version=version or r.version, patient_niss=reveal(r.patient_pseudonym), programme=r.programme, category=r.category,
            service_requested=r.service_requested, reason=r.reason, status=status, valid_from=r.valid_from,
            valid_until=r.valid_until, parties=tuple(parties), created_at=r.created_at, updated_at=at or r.updated_at,
            status_reason=state["status_reason"],
            expired=status in OPEN and r.valid_until is not None and today > r.valid_until, basis=basis,
        )

    def _record(self, act: Act, r: Referral, action: str) -> None:
        """Keep the version the act just made."""
        act.session.flush()
        act.session.add(ReferralVersion(referral_id=r.id, version=r.version, action=action, at=act.now,
                                        actor_role=act.principal.role.value, snapshot=referral_snapshot(r)))
        act.session.flush()

    def _parties(self, r: Referral, principal: Principal) -> list[ReferralParty]:
        """The parties of the referral the caller is (the requester, a performer, or both)."""
        me = self.ctx.pseudonyms.pseudonymise(principal.niss)
        ids = {x for x in (principal.nihii, principal.organisation_nihii, principal.organisation_cbe) if x}
        return [p for p in r.parties
                if p.party_pseudonym == me or (p.party_nihii and p.party_nihii in ids) or (p.party_cbe and p.party_cbe in ids)]

    def _party_role(self, r: Referral, principal: Principal) -> str | None:
        """Which party of the referral the caller is, if any (the requester first)."""
        roles = {p.role for p in self._parties(r, principal)}
        return REQUESTER if REQUESTER in roles else next(iter(sorted(roles)), None)

    # ------------------------------------------------------------- create
    def create(self, principal: Principal, spec: ReferralSpec, *, channel: str = "internal") -> ReferralView:
        ctx = self.ctx

        def body(act: Act) -> ReferralView:
            niss = check_patient_niss(spec.patient_niss, "subject")
            act.patient_pseudonym = ctx.pseudonyms.pseudonymise(niss)
            act.require(ctx.policy.referral_create(principal))
            if spec.programme not in PROGRAMMES:
                raise InvalidInput("invalid-programme", f"The programme must be one of {', '.join(PROGRAMMES)}.", rule="RF-1", path="category")
            if not spec.service_requested.strip():
                raise InvalidInput("missing-service", "Name the discipline or service the patient is referred to.", rule="RF-1", path="code")
            if spec.status not in ("draft", "active"):
                raise InvalidInput("invalid-initial-status", "A new referral is 'draft' or 'active'.", rule="RF-1", path="status")
            if spec.valid_from and spec.valid_until and spec.valid_until < spec.valid_from:
                raise InvalidInput("end-before-start", "The validity period ends before it starts.", rule="RF-1", path="occurrencePeriod.end")
            person = living_person(ctx, niss)
            self._guard(act, spec.programme, person.niss, "create")
            parties = [ReferralParty(role=REQUESTER, party_pseudonym=act.actor_pseudonym, party_nihii=principal.nihii,
                                     party_role=principal.quality)]
            first_task = "draft" if spec.status == "draft" else "requested"
            seen: set[tuple[str | None, str | None]] = set()
            for i, perf in enumerate(spec.performers):
                try:
                    nihii = check_nihii(perf.nihii).value if perf.nihii else None
                    cbe = check_cbe(perf.cbe).value if perf.cbe else None
                except InvalidIdentifier as exc:
                    raise InvalidInput(exc.code, exc.message, rule="RF-1", path=f"performer[{i}].identifier") from None
                if not (nihii or cbe):
                    raise InvalidInput("performer-without-identifier", "Name a performer by its NIHII or CBE.", rule="RF-1", path=f"performer[{i}]")
                if (nihii, cbe) in seen:
                    raise InvalidInput("performer-named-twice", "Name each performer once: each has one Task.", rule="RF-1",
                                       path=f"performer[{i}]")
                seen.add((nihii, cbe))
                parties.append(ReferralParty(role=PERFORMER, party_nihii=nihii, party_cbe=cbe, party_role=perf.party_role,
                                             task_status=first_task))
            r = Referral(
                id=str(uuid.uuid4()), patient_pseudonym=ctx.pseudonyms.pseudonymise(person.niss), programme=spec.programme,
                category=spec.category, service_requested=spec.service_requested, reason=spec.reason, status=spec.status,
                valid_from=spec.valid_from or act.today, valid_until=spec.valid_until, created_at=act.now, updated_at=act.now,
                parties=parties,
            )
            act.session.add(r)
            self._record(act, r, "create")
            act.resource_id = r.id
            act.detail.update(programme=spec.programme, status=spec.status, performers=len(parties) - 1)
            return self._view(r, act.today)

        return ctx.runner.run(principal, "referral.create", body, channel=channel, resource_type="referral")

    # --------------------------------------------------------------- reads
    def _load(self, act: Act, referral_id: str) -> Referral:
        if act.principal.role in PSI_ROLES:  # standing first: its refusal must not depend on the id
            act.require(self.ctx.policy.standing(act.principal), names_rule=False)
        r = act.session.get(Referral, referral_id) if well_formed_id(referral_id) else None
        if r is None:
            raise unknown_referral()
        act.patient_pseudonym = r.patient_pseudonym
        return r

    def _require_read(self, act: Act, r: Referral, operation: str = "read") -> str | None:
        """RF-4 on the referral's current state, then the programme's guard; for
        PSI staff a referral they are no party to does not exist (IC-A3)."""
        niss = self.ctx.pseudonyms.reveal(r.patient_pseudonym)
        person = self.ctx.register.person(niss)
        same = person is not None and act.principal.niss in (person.niss, *person.previous_niss)
        party = self._party_role(r, act.principal)
        decision = self.ctx.policy.referral_read(act.principal, niss, party, same_person=same)
        if not decision.allowed and act.principal.role in PSI_ROLES:
            act.rule = decision.rule
            raise Concealed(unknown_referral(), AccessDenied(decision.code, decision.reason, rule=decision.rule))
        act.require(decision)
        self._guard(act, r.programme, person.niss if person else niss, operation, r.id)
        return party

    def get(self, principal: Principal, referral_id: str, *, channel: str = "internal") -> ReferralView:
        def body(act: Act) -> ReferralView:
            r = self._load(act, referral_id)
            self._require_read(act, r)
            return self._view(r, act.today)

        return self.ctx.runner.run(principal, "referral.read", body, channel=channel, resource_type="referral", resource_id=referral_id)

    def versions(self, principal: Principal, referral_id: str, version: int | None = None, *,
                 channel: str = "internal") -> list[ReferralView]:
        """Every kept version, oldest first (or only ``version``), read under
        RF-4 as the referral stands now: an unknown version is NotFound."""
        def body(act: Act) -> list[ReferralView]:
            r = self._load(act, referral_id)
            self._require_read(act, r)
            query = select(ReferralVersion).where(ReferralVersion.referral_id == r.id)
            if version is not None:
                query = query.where(ReferralVersion.version == min(max(version, 0), 2**31 - 1))  # an integer column's range
                act.detail["version"] = version
            rows = act.session.execute(query.order_by(ReferralVersion.version)).scalars().all()
            if version is not None and not rows:
                raise NotFound("unknown-version", f"Referral {r.id} has no version {version}; it is at version {r.version}.",
                               rule="RF-4", path="version")
            act.detail["returned"] = len(rows)
            return [self._view(r, act.today, row.snapshot, row.at, row.version) for row in rows]

        action = "referral.read" if version is not None else "referral.history"
        return self.ctx.runner.run(principal, action, body, channel=channel, resource_type="referral", resource_id=referral_id)

    # ---------------------------------------------------------- transitions
    def transition(self, principal: Principal, referral_id: str, status: str | Callable[[ReferralView], str], *,
                   task: str | None = None, performer: str | None = None, of_referral: bool = False, reason: str | None = None,
                   expected_version: int | None = None, check: Callable[[ReferralView], None] | None = None,
                   same_is_noop: bool = False, channel: str = "internal") -> ReferralView:
        """Take one step (RF-1): of the referral (the requester's), or of one
        performer's Task, named by ``task`` (its id) or ``performer`` (its NIHII
        or CBE), or (``of_referral``) of the referral itself. Naming none,
        active and revoked are the referral's steps; a Task-only status
        (accepted, rejected, ...), or on-hold and completed asked by a
        performer who is not the requester, a step of the caller's own Task;
        else of the referral. ``reason``: why (required to reject or fail a
        Task; kept on a revocation and on the Tasks it cancels).

        ``check`` lets a face refuse (with a DomainError, audited like any
        refusal) a request whose other items differ from the stored
        referral; ``same_is_noop`` answers a request for the current status
        with the referral unchanged (an idempotent FHIR update)."""
        ctx = self.ctx

        def body(act: Act) -> ReferralView:
            r = self._load(act, referral_id)
            self._require_read(act, r, "transition")
            current = self._view(r, act.today)
            if check is not None:
                check(current)
            wanted = status(current) if callable(status) else status
            mine = self._parties(r, principal)
            target = None if of_referral else self._target(r, current, mine, wanted, task, performer)
            act.rule = "RF-1"
            now_status = target.task_status if target is not None else r.status
            if same_is_noop and wanted == now_status:
                self._check_version(r, expected_version)
                act.detail.update(transition="unchanged", task=_task_of(current, target))
                return current
            if target is None:
                self._request_step(act, r, mine, wanted, reason)
            else:
                self._task_step(act, r, current, target, mine, wanted, reason)
            self._check_version(r, expected_version)
            r.updated_at = act.now
            flag_modified(r, "updated_at")  # a Task's step is a new version of its referral, even at the same instant
            self._record(act, r, f"task:{wanted}" if target is not None else wanted)
            return self._view(r, act.today)

        return ctx.runner.run(principal, "referral.transition", body, channel=channel, resource_type="referral", resource_id=referral_id)

    @staticmethod
    def _check_version(r: Referral, expected: int | None) -> None:
        if expected is not None and expected != r.version:
            raise VersionConflict("version-conflict", f"Referral {r.id} is at version {r.version}, not {expected}.", path="version")

    def _target(self, r: Referral, view: ReferralView, mine: list[ReferralParty], wanted: str, task: str | None,
                performer: str | None) -> ReferralParty | None:
        """The performer party whose Task the step is about, or None for the referral's own step."""
        performers = [p for p in r.parties if p.role == PERFORMER]
        if task is not None:
            party = view.task(task)
            if party is None:
                raise NotFound("unknown-task", f"Referral {r.id} has no Task {task}.", rule="RF-1", path="task")
            return performers[[p.task_id for p in view.party(PERFORMER)].index(task)]
        if performer is not None:
            found = [p for p in performers if performer in (p.party_nihii, p.party_cbe)]
            if not found:
                raise InvalidInput("not-a-performer", f"{performer} is not a performer named on referral {r.id}.", rule="RF-1",
                                   path="performer")
            return found[0]
        is_requester = any(p.role == REQUESTER for p in mine)
        own = [p for p in mine if p.role == PERFORMER]
        if wanted in REQUEST_ONLY:
            return None
        if wanted in TASK_ONLY or (own and not is_requester):
            if own:
                return own[0]
            if wanted == "cancelled" and is_requester:
                open_ = [p for p in performers if p.task_status not in FINAL_TASK]
                if len(open_) == 1:
                    return open_[0]
                raise InvalidInput("performer-required", "Name the performer whose Task you cancel (or revoke the whole referral).",
                                   rule="RF-1", path="performer")
            if wanted in TASK_ONLY:
                if not performers:
                    raise InvalidInput("no-performer", "The referral names no performer: there is no Task to move.", rule="RF-1",
                                       path="status")
                raise AccessDenied("not-the-right-party", f"Only a performer named on the referral may make its Task '{wanted}'.",
                                   rule="RF-1")
        return None

    def _request_step(self, act: Act, r: Referral, mine: list[ReferralParty], wanted: str, reason: str | None) -> None:
        allowed = TRANSITIONS.get(r.status, {})
        if wanted not in allowed:
            nexts = ", ".join(allowed) or "none (final)"
            raise InvalidInput("invalid-transition", f"A referral in status '{r.status}' cannot become '{wanted}'; next: {nexts}.",
                               rule="RF-1", path="status")
        if not any(p.role == REQUESTER for p in mine):
            raise AccessDenied("not-the-right-party", f"Only the requester may make a referral '{wanted}'.", rule="RF-1")
        act.detail.update(transition=f"{r.status}->{wanted}")
        if wanted == "active" and r.status == "draft":
            for p in r.parties:
                if p.role == PERFORMER and p.task_status == "draft":
                    p.task_status = "requested"
        if wanted in ("revoked", "completed"):
            closing = reason or ("The requester revoked the referral." if wanted == "revoked" else "The requester completed the referral.")
            cancelled = []
            for i, p in enumerate(x for x in r.parties if x.role == PERFORMER):
                if p.task_status not in FINAL_TASK:
                    p.task_status, p.task_reason = "cancelled", closing
                    cancelled.append(task_id(r.id, i))
            act.detail["cancelled"] = cancelled
            r.status_reason = reason
        r.status = wanted

    def _task_step(self, act: Act, r: Referral, view: ReferralView, target: ReferralParty, mine: list[ReferralParty],
                   wanted: str, reason: str | None) -> None:
        current = target.task_status or "requested"
        allowed = TASK_TRANSITIONS.get(current, {})
        if wanted not in allowed:
            nexts = ", ".join(allowed) or ("none: the referral is a draft" if current == "draft" else "none (final)")
            raise InvalidInput("invalid-transition", f"A Task in status '{current}' cannot become '{wanted}'; next: {nexts}.",
                               rule="RF-1", path="status")
        who = allowed[wanted]
        if who == PERFORMER and target not in mine:
            raise AccessDenied("not-the-right-party", f"Only the performer named on this Task may make it '{wanted}'.", rule="RF-1")
        if who == REQUESTER and not any(p.role == REQUESTER for p in mine):
            raise AccessDenied("not-the-right-party", f"Only the requester may make a Task '{wanted}'.", rule="RF-1")
        if who == PERFORMER and r.status == "on-hold":
            raise InvalidInput("referral-on-hold", "The requester has put the referral on hold; wait until they resume it.",
                               rule="RF-1", path="status")
        if wanted in NEEDS_REASON and not (reason or "").strip():
            raise InvalidInput("reason-required", f"Say why the Task is {wanted} (Task.statusReason).", rule="RF-1", path="statusReason")
        starts = wanted == "accepted" or (wanted == "in-progress" and current == "accepted")
        if starts and view.valid_until and act.today > view.valid_until:
            raise InvalidInput("referral-expired", f"The referral was valid until {view.valid_until}; ask the requester for a new one.",
                               rule="RF-1", path="occurrencePeriod.end")
        index = [p for p in r.parties if p.role == PERFORMER].index(target)
        act.detail.update(transition=f"{current}->{wanted}", task=task_id(r.id, index))
        target.task_status = wanted
        target.task_reason = reason if wanted in FINAL_TASK or wanted == "on-hold" else None
        tasks = [p.task_status for p in r.parties if p.role == PERFORMER]
        if r.status in ("active", "on-hold") and all(t in FINAL_TASK for t in tasks) and "completed" in tasks:
            r.status = "completed"  # every Task is final and one was done
            act.detail["referral"] = "completed"

    # --------------------------------------------------------------- search
    def for_patient(self, principal: Principal, patient_niss: str, *, channel: str = "internal") -> list[ReferralView]:
        """The patient's referrals the caller may see (RF-4), less those a programme's guard refuses."""
        ctx = self.ctx

        def body(act: Act) -> list[ReferralView]:
            who = subject_of(ctx, principal, patient_niss, "patient")  # under any of the person's numbers (IC-R5)
            act.patient_pseudonym = who.pseudonym
            rows = act.session.execute(select(Referral).where(Referral.patient_pseudonym == act.patient_pseudonym)
                                       .order_by(Referral.created_at, Referral.id)).scalars().all()
            refused: set[str] = set()  # the referrals a programme's guard refuses
            programmes: set[str] = set()
            for r in rows:
                if r.programme in self._guards:
                    try:
                        self._guard(act, r.programme, who.niss, "search", r.id)
                    except DomainError:
                        refused.add(r.id)
                        programmes.add(r.programme)
            visible = [self._view(r, act.today) for r in rows if r.id not in refused
                       and ctx.policy.referral_read(principal, who.niss, self._party_role(r, principal), same_person=who.same_person).allowed]
            act.rule = "RF-4"
            act.detail["returned"] = len(visible)
            if programmes:
                act.detail["refused_programmes"] = sorted(programmes)
            return visible

        return ctx.runner.run(principal, "referral.search", body, channel=channel, resource_type="referral")


def _task_of(view: ReferralView, target: ReferralParty | None) -> str | None:
    if target is None:
        return None
    performers = view.party(PERFORMER)
    return next((p.task_id for p in performers if (p.nihii, p.cbe) == (target.party_nihii, target.party_cbe)), None)


def unknown_referral() -> NotFound:
    """The one answer for a referral id the caller cannot use."""
    return NotFound("unknown-referral", "No referral with this id.", path="id")
