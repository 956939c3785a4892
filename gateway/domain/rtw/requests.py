"""Training and coaching requests (RP-F3, RP-F4, RF-2): a referral of the
insured person to a regional service, with its own status history.

- A regional service's counsellor files a request on a valid registration
  form of the dossier; it waits for the insurer's validation
  (``awaiting-validation``), which sends it to INAMI (``submitted``) or
  rejects it (``rejected``) (RP-F4).
- The insurer files a request with or without a form; it goes straight to
  INAMI (``submitted``).
- INAMI records its decision (``decided``, seen by INAMI only) and the weekly
  run publishes it (``approved`` or ``refused``) (RP-F5,
  :mod:`gateway.domain.rtw.decisions`).

Every step is one act (rule, audit record, a new version of the request)
and one row of the request's history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.policy import Decision
from gateway.domain.principal import Principal
from gateway.domain.rtw import trajectory_policy as rules
from gateway.domain.rtw.dossiers import CLOSED, RtwCore
from gateway.domain.rtw.model import RtwDossier, RtwForm
from gateway.domain.rtw.roles import PartnerKind, partner_kind
from gateway.domain.rtw.trajectory_model import RtwDecision, RtwHours, RtwRequest, RtwRequestStep, RtwTraining
from gateway.domain.rtw.trajectory_views import DecisionView, RequestView, StepView, TrainingView

KINDS = ("training", "coaching")
AWAITING, SUBMITTED, REJECTED, DECIDED, APPROVED, REFUSED = (
    "awaiting-validation", "submitted", "rejected", "decided", "approved", "refused")
STATUSES = (AWAITING, SUBMITTED, REJECTED, DECIDED, APPROVED, REFUSED)
RESOURCE = "rtw-request"
MAX_TRAININGS = 20


@dataclass(frozen=True)
class TrainingItem:
    title: str
    hours_planned: int
    cost_cents: int
    provider: str | None = None


@dataclass(frozen=True)
class FileRequest:
    """A training or coaching request (RP-F3): the project, the trainings and their costs, the counsellor."""

    dossier_id: str
    kind: str
    project: str
    trainings: tuple[TrainingItem, ...] = field(default_factory=tuple)
    counsellor_name: str | None = None
    form_id: str | None = None  # the registration form it rests on (required from a regional service)
    regional_cbe: str | None = None  # an insurer's request: the regional service it is referred to


def unknown_request() -> NotFound:
    return NotFound("unknown-request", "No return-to-work request with this id.", path="id")


def _check(cmd: FileRequest) -> None:
    if cmd.kind not in KINDS:
        raise InvalidInput("invalid-kind", f"A request is for a training or a coaching, not {cmd.kind!r}.", rule="RP-F3",
                           path="kind")
    if not (cmd.project or "").strip():
        raise InvalidInput("missing-project", "Describe the training project.", rule="RP-F3", path="project")
    if not cmd.trainings:
        raise InvalidInput("missing-trainings", "Name at least one training (or coaching) with its hours and cost.",
                           rule="RP-F3", path="trainings")
    if len(cmd.trainings) > MAX_TRAININGS:
        raise InvalidInput("too-many-trainings", f"A request names at most {MAX_TRAININGS} trainings.", rule="RP-F3",
                           path="trainings")
    for i, t in enumerate(cmd.trainings):
        if not (t.title or "").strip():
            raise InvalidInput("missing-training-title", "Give each training a title.", rule="RP-F3", path=f"trainings[{i}].title")
        if not 0 < t.hours_planned <= 10_000:
            raise InvalidInput("invalid-hours", "The planned hours of a training are between 1 and 10,000.", rule="RP-F3",
                               path=f"trainings[{i}].hours")
        if not 0 <= t.cost_cents <= 100_000_000:
            raise InvalidInput("invalid-cost", "The cost of a training is between 0 and 1,000,000 euro.", rule="RP-F3",
                               path=f"trainings[{i}].cost")


class Trajectory:
    """What the request, decision, list and message use cases share."""

    def __init__(self, core: RtwCore) -> None:
        self.core = core

    def dossier_rule(self, act: Act, dossier: RtwDossier, rule) -> tuple[Decision, object, object]:  # type: ignore[no-untyped-def]
        """The dossier's access (RP-A1..RP-A5), then ``rule(principal, access_decision, person, data)``."""
        core = self.core
        niss = core.ctx.pseudonyms.reveal(dossier.insured_pseudonym)

        def decide(principal: Principal, person, data):  # type: ignore[no-untyped-def]
            return rule(principal, core.policy.access_dossier(principal, person, data), person, data)

        return core.decide_for(act, niss, decide)

    def load_request(self, act: Act, request_id: str) -> RtwRequest:
        act.require(self.core.policy.standing(act.principal), names_rule=False)
        row = act.session.get(RtwRequest, request_id) if well_formed_id(request_id) else None
        if row is None:
            raise unknown_request()
        dossier = act.session.get(RtwDossier, row.dossier_id)
        assert dossier is not None
        act.patient_pseudonym = dossier.insured_pseudonym
        return row

    def require_party(self, act: Act, row: RtwRequest) -> None:
        """RF-2: the caller sees the request's dossier and is a party to the request."""
        dossier = act.session.get(RtwDossier, row.dossier_id)
        assert dossier is not None
        self.dossier_rule(act, dossier, lambda p, seen, *_: rules.see_request(p, seen, parties(row)))

    def step(self, act: Act, row: RtwRequest, step: str, status: str, rule: str, note: str | None = None) -> None:
        """One row of the history, the request's new status and version, the dossier's last change (RP-R1)."""
        seq = len(row.steps) + 1
        row.steps.append(RtwRequestStep(
            id=str(uuid.uuid4()), seq=seq, step=step, status=status, actor_role=act.principal.role.value,
            actor_cbe=act.principal.organisation_cbe, rule=rule, note=note, at=act.now))
        row.status, row.updated_at = status, act.now
        dossier = act.session.get(RtwDossier, row.dossier_id)
        if dossier is not None:
            dossier.updated_at = act.now
        act.session.flush()
        act.resource_id = row.id
        act.detail.update(request=row.id, step=step, status=status)

    def view(self, act: Act, row: RtwRequest, niss: str | None = None) -> RequestView:
        """The request as the caller sees it: before publication, a decision is INAMI's only (RP-F5)."""
        if niss is None:
            dossier = act.session.get(RtwDossier, row.dossier_id)
            niss = self.core.ctx.pseudonyms.reveal(dossier.insured_pseudonym) if dossier else ""
        inami = partner_kind(act.principal) is PartnerKind.INAMI
        decision_row = act.session.execute(select(RtwDecision).where(RtwDecision.request_id == row.id)).scalar_one_or_none()
        decision = None
        if decision_row is not None and (inami or decision_row.published_at is not None):
            decision = decision_view(decision_row)
        status, steps = row.status, list(row.steps)
        if not inami:
            if status == DECIDED:
                status = SUBMITTED
            steps = [s for s in steps if s.step != "decided"]
        performed = performed_hours(act, [t.id for t in row.trainings])
        return RequestView(
            id=row.id, version=row.version, dossier_id=row.dossier_id, insured_niss=niss, form_id=row.form_id,
            kind=row.kind, project=row.project, counsellor_name=row.counsellor_name, status=status,
            filed_by_party=row.filed_by_party, filed_by_cbe=row.filed_by_cbe, filed_by_role=row.filed_by_role,
            insurer_cbe=row.insurer_cbe, regional_cbe=row.regional_cbe, received_at=row.received_at,
            created_at=row.created_at, updated_at=row.updated_at,
            trainings=tuple(TrainingView(t.id, t.position, t.title, t.provider, t.hours_planned, t.cost_cents,
                                         performed.get(t.id, 0)) for t in row.trainings),
            steps=tuple(StepView(s.seq, s.step, s.status, s.actor_role, s.actor_cbe, s.rule, s.note, s.at) for s in steps),
            decision=decision,
        )


def parties(row: RtwRequest) -> frozenset[str]:
    return frozenset(p for p in (row.filed_by_cbe, row.insurer_cbe, row.regional_cbe) if p)


def decision_view(row: RtwDecision) -> DecisionView:
    return DecisionView(row.id, row.request_id, row.outcome, row.costs_granted_cents, row.reason, row.decided_by_role,
                        row.decided_at, row.week, row.published_at)


def performed_hours(act: Act, training_ids: list[str]) -> dict[str, int]:
    if not training_ids:
        return {}
    from sqlalchemy import func

    rows = act.session.execute(select(RtwHours.training_id, func.sum(RtwHours.hours))
                               .where(RtwHours.training_id.in_(training_ids)).group_by(RtwHours.training_id)).all()
    return {tid: int(total or 0) for tid, total in rows}


class RequestService:
    """The request use cases (RP-F3, RP-F4, RF-2), for both faces."""

    def __init__(self, trajectory: Trajectory) -> None:
        self.t = trajectory
        self.core = trajectory.core

    def file(self, principal: Principal, cmd: FileRequest, *, channel: str = "internal") -> RequestView:
        t, core = self.t, self.core

        def body(act: Act) -> RequestView:
            dossier = core.load(act, cmd.dossier_id)
            form = self._form(act, dossier, cmd.form_id)
            decision, person, data = t.dossier_rule(act, dossier, lambda p, seen, *_: rules.file_request(p, seen, form is not None))
            if dossier.status == CLOSED:
                raise InvalidInput("dossier-closed", "The dossier is closed; open a new one first.", rule="RP-F3", path="dossier")
            _check(cmd)
            if data is None or data.insurer is None:  # type: ignore[attr-defined]
                raise InvalidInput("no-insurer", "The membership data name no insurer for this person: the request "
                                   "cannot be validated or decided.", rule="RP-F4", path="dossier")
            kind = partner_kind(principal)
            registrations = {r.cbe: r for r in data.registrations}  # type: ignore[attr-defined]
            if kind is PartnerKind.REGIONAL:
                regional = principal.organisation_cbe
            else:
                regional = cmd.regional_cbe or (next(iter(registrations)) if len(registrations) == 1 else None)
                if regional is not None and regional not in registrations:
                    raise InvalidInput("not-registered", "The person is not registered as job seeker with this regional "
                                       "service (JobSeeker).", rule="RP-F3", path="regional_cbe")
            insurer = data.insurer  # type: ignore[attr-defined]
            row = RtwRequest(
                id=str(uuid.uuid4()), dossier_id=dossier.id, form_id=form.id if form else None, kind=cmd.kind,
                project=cmd.project.strip(), counsellor_name=cmd.counsellor_name, status=AWAITING,
                filed_by_party="regional" if kind is PartnerKind.REGIONAL else "insurer",
                filed_by_cbe=decision.organisation or "", filed_by_role=principal.role.value,
                filed_by_pseudonym=act.actor_pseudonym, insurer_cbe=insurer.cbe, insurer_code=insurer.code,
                regional_cbe=regional, region=registrations[regional].region if regional in registrations else None,
                created_at=act.now, updated_at=act.now,
                trainings=[RtwTraining(id=str(uuid.uuid4()), position=i + 1, title=x.title.strip(), provider=x.provider,
                                       hours_planned=x.hours_planned, cost_cents=x.cost_cents)
                           for i, x in enumerate(cmd.trainings)],
            )
            act.session.add(row)
            act.session.flush()
            if kind is PartnerKind.REGIONAL:
                t.step(act, row, "filed", AWAITING, "RP-F3")
            else:
                t.step(act, row, "filed", SUBMITTED, "RP-F4", "filed by the insurer: straight to INAMI")
                row.received_at = act.now
            act.detail.update(dossier=dossier.id, kind=cmd.kind, trainings=len(cmd.trainings))
            return t.view(act, row)

        return core.ctx.runner.run(principal, "rtw.request.file", body, channel=channel, resource_type=RESOURCE)

    def _form(self, act: Act, dossier: RtwDossier, form_id: str | None) -> RtwForm | None:
        """A valid form of the dossier: the one named, or the latest active one (RP-F3). Routing C needs the
        insurer's target-group decision."""
        forms = [f for f in dossier.forms if f.status == "active"]
        if form_id is not None:
            forms = [f for f in forms if f.id == form_id]
            if not forms:
                raise InvalidInput("unknown-form", "The dossier has no active registration form with this id.", rule="RP-F3",
                                   path="form")
        valid = [f for f in forms if f.routing != "regional-request" or f.target_group is True]
        return valid[-1] if valid else None

    def validate(self, principal: Principal, request_id: str, *, accept: bool, note: str | None = None,
                 version: int | None = None, channel: str = "internal") -> RequestView:
        """RP-F4: the insurer sends a regional service's request on to INAMI, or rejects it (with a reason)."""
        t, core = self.t, self.core

        def body(act: Act) -> RequestView:
            row = t.load_request(act, request_id)
            dossier = act.session.get(RtwDossier, row.dossier_id)
            t.dossier_rule(act, dossier, lambda p, seen, *_: rules.validate_request(p, seen, row.insurer_cbe))
            if version is not None and version != row.version:
                from gateway.domain.errors import VersionConflict

                raise VersionConflict("version-conflict", f"The request is at version {row.version}; read it again.",
                                      path="version")
            if row.status != AWAITING:
                raise InvalidInput("not-awaiting-validation", f"The request is {row.status}: only a request awaiting "
                                   "validation is validated.", rule="RP-F4", path="status")
            if not accept and not (note or "").strip():
                raise InvalidInput("missing-reason", "Say why the request is rejected.", rule="RP-F4", path="note")
            if accept:
                t.step(act, row, "validated", SUBMITTED, "RP-F4", note)
                row.received_at = act.now
            else:
                t.step(act, row, "rejected", REJECTED, "RP-F4", note)
            act.session.flush()
            return t.view(act, row)

        return core.ctx.runner.run(principal, "rtw.request.validate", body, channel=channel, resource_type=RESOURCE,
                                   resource_id=request_id)

    def read(self, principal: Principal, request_id: str, *, channel: str = "internal") -> RequestView:
        t, core = self.t, self.core

        def body(act: Act) -> RequestView:
            row = t.load_request(act, request_id)
            t.require_party(act, row)
            return t.view(act, row)

        return core.ctx.runner.run(principal, "rtw.request.read", body, channel=channel, resource_type=RESOURCE,
                                   resource_id=request_id)

    def of_dossier(self, principal: Principal, dossier_id: str, *, channel: str = "internal") -> list[RequestView]:
        """The requests of a dossier the caller is a party to (RF-2)."""
        t, core = self.t, self.core

        def body(act: Act) -> list[RequestView]:
            dossier = core.load(act, dossier_id)
            _, person, _ = t.dossier_rule(act, dossier, lambda p, seen, *_: seen)
            rows = act.session.execute(select(RtwRequest).where(RtwRequest.dossier_id == dossier.id)
                                       .order_by(RtwRequest.created_at, RtwRequest.id)).scalars().all()
            mine = rules.party_of(principal)
            inami = partner_kind(principal) is PartnerKind.INAMI
            seen = [r for r in rows if inami or mine in parties(r)]
            act.rule = "RF-2"
            act.detail["returned"] = len(seen)
            niss = core.ctx.pseudonyms.reveal(dossier.insured_pseudonym)
            return [t.view(act, r, niss) for r in seen]

        return core.ctx.runner.run(principal, "rtw.request.search", body, channel=channel, resource_type=RESOURCE)


def iso_week(at: datetime) -> str:
    from gateway.domain.clock import BRUSSELS

    year, week, _ = at.astimezone(BRUSSELS).isocalendar()
    return f"{year}-W{week:02d}"
