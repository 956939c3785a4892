"""Use cases of the registration form (AMF): fill it (RP-F1), read it
(RP-F2), with the minimisation of RP-M1 and the medical items of RP-A6.

The form's routing says who started the trajectory: ``insurer`` (the
insurer fills it), ``occupational-physician`` (an occupational physician
fills it and is its contact) or ``regional-request`` (routing C: the
regional service asked, and the insurer states whether the person belongs
to the target group).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.principal import Principal, Role
from gateway.domain.rtw.dossiers import CLOSED, RtwCore
from gateway.domain.rtw.model import RtwDossier, RtwForm
from gateway.domain.rtw.views import FormView

ROUTINGS = ("insurer", "occupational-physician", "regional-request")
ACTIVE, WITHDRAWN = "active", "withdrawn"
RESOURCE = "rtw-form"


@dataclass(frozen=True)
class FillForm:
    """The items of a registration form (``return-to-work.md``, RP-F1)."""

    dossier_id: str
    routing: str
    incapacity_start: date
    expectations: str | None = None  # towards the regional service
    work_problems: str | None = None  # problems met in work
    coordinator_name: str | None = None  # the insurer's contact persons
    advising_physician_name: str | None = None
    team_member_name: str | None = None
    target_group: bool | None = None  # routing C: the insurer's decision
    occupational_physician_name: str | None = None  # when an occupational physician fills it
    physician_expectations: str | None = None  # the physician's question (medical, RP-A6)
    functional_capacities: str | None = None  # capacities and limitations (medical, RP-A6)


def one_year_unfit(start: date, today: date) -> bool:
    """RP-M1: unfit for work for at least one year on ``today``."""
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        anniversary = date(start.year + 1, 3, 1)
    return today >= anniversary


def unknown_form() -> NotFound:
    return NotFound("unknown-form", "No registration form with this id.", path="id")


def _check(cmd: FillForm, principal: Principal, today: date) -> None:
    if cmd.routing not in ROUTINGS:
        raise InvalidInput("invalid-routing", f"The routing is one of {', '.join(ROUTINGS)}, not {cmd.routing!r}.",
                           rule="RP-F1", path="routing")
    if cmd.incapacity_start > today:
        raise InvalidInput("incapacity-start-in-future", f"The incapacity start date {cmd.incapacity_start} is in the future.",
                           rule="RP-F1", path="incapacity_start")
    if not (cmd.expectations or cmd.work_problems):
        raise InvalidInput("missing-expectations", "Give the expectations towards the regional service or the problems "
                           "met in work.", rule="RP-F1", path="expectations")
    occupational = principal.role is Role.PREV_PHYSICIAN
    if occupational != (cmd.routing == "occupational-physician"):
        raise InvalidInput("routing-not-yours", "The routing 'occupational-physician' is for a form an occupational "
                           "physician fills, and only for it; an insurer uses 'insurer' or 'regional-request'.",
                           rule="RP-F1", path="routing")
    if occupational and not cmd.occupational_physician_name:
        raise InvalidInput("missing-occupational-physician", "A form made by an occupational physician names them as contact.",
                           rule="RP-F1", path="occupational_physician_name")
    if not occupational and cmd.occupational_physician_name:
        raise InvalidInput("occupational-physician-not-author", "The occupational physician's contact is given only on a form "
                           "they fill.", rule="RP-F1", path="occupational_physician_name")
    if (cmd.routing == "regional-request") != (cmd.target_group is not None):
        raise InvalidInput("target-group-routing-c", "The insurer's target-group decision is given in routing C "
                           "('regional-request'), and only there.", rule="RP-F1", path="target_group")
    if not occupational and not (cmd.coordinator_name or cmd.advising_physician_name or cmd.team_member_name):
        raise InvalidInput("missing-insurer-contact", "Name at least one of the insurer's contact persons (return-to-work "
                           "coordinator, advising physician, team member).", rule="RP-F1", path="coordinator_name")
    if (cmd.physician_expectations or cmd.functional_capacities) and principal.role not in (Role.OA_PHYSICIAN, Role.PREV_PHYSICIAN):
        raise InvalidInput("medical-by-physician", "The physician's question (expectations, functional capacities and "
                           "limitations) is medical: only the advising or occupational physician writes it.",
                           rule="RP-A6", path="functional_capacities")


class FormService:
    """The registration-form use cases, for both faces."""

    def __init__(self, core: RtwCore) -> None:
        self.core = core

    def fill(self, principal: Principal, cmd: FillForm, *, channel: str = "internal") -> FormView:
        core = self.core

        def body(act: Act) -> FormView:
            dossier = core.load(act, cmd.dossier_id)
            niss = core.ctx.pseudonyms.reveal(dossier.insured_pseudonym)
            decision, _, _ = core.decide_for(act, niss, core.policy.create_form)
            if dossier.status == CLOSED:
                raise InvalidInput("dossier-closed", "The dossier is closed; open a new one first.", rule="RP-F1",
                                   path="dossier")
            _check(cmd, principal, act.today)
            row = RtwForm(
                id=str(uuid.uuid4()), dossier_id=dossier.id, routing=cmd.routing, status=ACTIVE,
                expectations=cmd.expectations, work_problems=cmd.work_problems, incapacity_start=cmd.incapacity_start,
                coordinator_name=cmd.coordinator_name, advising_physician_name=cmd.advising_physician_name,
                team_member_name=cmd.team_member_name, target_group=cmd.target_group,
                occupational_physician_name=cmd.occupational_physician_name,
                physician_expectations=cmd.physician_expectations, functional_capacities=cmd.functional_capacities,
                created_by_pseudonym=act.actor_pseudonym, created_by_role=principal.role.value,
                created_by_cbe=decision.organisation or "", created_at=act.now, updated_at=act.now,
            )
            act.session.add(row)
            dossier.updated_at = act.now  # the dossier's last change (RP-R1)
            act.session.flush()
            act.resource_id = row.id
            act.detail.update(dossier=dossier.id, routing=cmd.routing)
            return self._view(act, row, niss)

        return core.ctx.runner.run(principal, "rtw.form.fill", body, channel=channel, resource_type=RESOURCE)

    def read(self, principal: Principal, form_id: str, *, channel: str = "internal") -> FormView:
        core = self.core

        def body(act: Act) -> FormView:
            row = self._load(act, form_id)
            niss = core.ctx.pseudonyms.reveal(row.dossier.insured_pseudonym)
            core.decide_for(act, niss, core.policy.read_form)
            return self._view(act, row, niss)

        return core.ctx.runner.run(principal, "rtw.form.read", body, channel=channel, resource_type=RESOURCE,
                                   resource_id=form_id)

    def of_dossier(self, principal: Principal, dossier_id: str, *, channel: str = "internal") -> list[FormView]:
        """The forms of one dossier, as the caller may see them (RP-F2)."""
        core = self.core

        def body(act: Act) -> list[FormView]:
            dossier = core.load(act, dossier_id)
            niss = core.ctx.pseudonyms.reveal(dossier.insured_pseudonym)
            core.decide_for(act, niss, core.policy.read_form)
            rows = act.session.execute(select(RtwForm).where(RtwForm.dossier_id == dossier.id)
                                       .order_by(RtwForm.created_at, RtwForm.id)).scalars().all()
            act.detail["returned"] = len(rows)
            return [self._view(act, r, niss) for r in rows]

        return core.ctx.runner.run(principal, "rtw.form.search", body, channel=channel, resource_type=RESOURCE)

    def _load(self, act: Act, form_id: str) -> RtwForm:
        act.require(self.core.policy.standing(act.principal), names_rule=False)
        row = act.session.get(RtwForm, form_id) if well_formed_id(form_id) else None
        if row is None:
            raise unknown_form()
        act.patient_pseudonym = row.dossier.insured_pseudonym
        return row

    def _view(self, act: Act, row: RtwForm, niss: str) -> FormView:
        policy = self.core.policy
        medical = policy.medical(act.principal).allowed  # RP-A6
        start = row.incapacity_start if policy.sees_incapacity_start(act.principal) else None  # RP-M1
        act.detail.update(medical=medical, incapacity_start_shown=start is not None)
        return FormView(
            id=row.id, version=row.version, dossier_id=row.dossier_id, insured_niss=niss, routing=row.routing,
            status=row.status, incapacity_start=start, incapacity_one_year=one_year_unfit(row.incapacity_start, act.today),
            expectations=row.expectations, work_problems=row.work_problems,
            coordinator_name=row.coordinator_name,
            advising_physician_name=row.advising_physician_name, team_member_name=row.team_member_name,
            target_group=row.target_group, occupational_physician_name=row.occupational_physician_name,
            physician_expectations=row.physician_expectations if medical else None,
            functional_capacities=row.functional_capacities if medical else None,
            created_by_role=row.created_by_role, created_by_cbe=row.created_by_cbe,
            created_at=row.created_at, updated_at=row.updated_at, medical_shown=medical,
        )


__all__ = ["ACTIVE", "ROUTINGS", "WITHDRAWN", "FillForm", "FormService", "RtwDossier", "one_year_unfit"]
