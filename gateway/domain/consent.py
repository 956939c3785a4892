"""Use cases of the research-consent decision (items 1 and 2, IC-A5..IC-A7,
IC-R11).

The decision belongs to the patient: one decision is in force at a time
(the latest recorded), whichever inclusion it was recorded with, and every
earlier one stays as history with who recorded it and when.

PSI staff see only the decisions of their own project and those recorded
outside any project (IC-A3, :mod:`gateway.domain.visibility`): for them the
decision in force is the latest of these. A decision's public id is random;
the internal sequence orders decisions and is never shown.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied, Concealed, NotFound
from gateway.domain.inclusions import (
    check_decision,
    add_consent,
    check_consent_date,
    check_patient_niss,
    consent_view,
    current_consent,
)
from gateway.domain.model import ConsentDecision, Inclusion
from gateway.domain.policy import PSI_ROLES, Field
from gateway.domain.views import ConsentView
from gateway.domain.visibility import consent_projects, consent_visible, in_project, visible_consents
from gateway.identity.principal import Principal


class ConsentService:
    def __init__(self, ctx: DomainContext) -> None:
        self.ctx = ctx

    def _subject(self, act: Act, patient_niss: str) -> tuple[str, str, bool]:
        niss = check_patient_niss(patient_niss)
        person = self.ctx.register.person(niss)
        current = person.niss if person else niss
        same = person is not None and (act.principal.niss == person.niss or act.principal.niss in person.previous_niss)
        pseudonym = self.ctx.pseudonyms.pseudonymise(current)
        act.patient_pseudonym = pseudonym
        return current, pseudonym, same

    def _psi_in_view(self, act: Act, pseudonym: str) -> str | None:
        """The caller's own PSI if the patient is included there (IC-A6)."""
        own = self.ctx.policy.standing(act.principal).own_psi
        return own if own is not None and in_project(act.session, pseudonym, own) else None

    def record(
        self, principal: Principal, patient_niss: str, decision: str, decision_date: date, *, channel: str = "internal"
    ) -> ConsentView:
        """Record a new decision: by the patient (IC-A7), a provider or pharmacist
        with a therapeutic relationship (IC-A5), or the staff of a PSI the
        patient is included in (IC-A6)."""
        ctx = self.ctx

        def body(act: Act) -> ConsentView:
            niss, pseudonym, same = self._subject(act, patient_niss)
            psi = self._psi_in_view(act, pseudonym)
            act.require(ctx.policy.modify(principal, niss, psi, {Field.CONSENT}, same_person=same))
            check_decision(decision)
            check_consent_date(decision_date, act.today)
            query = select(Inclusion.id).where(Inclusion.patient_pseudonym == pseudonym)
            if psi is not None:  # PSI staff record with their own project's inclusion
                query = query.where(Inclusion.psi_nihii == psi)
            inclusion = act.session.execute(query.order_by(Inclusion.start_date.desc()).limit(1)).scalar_one_or_none()
            if inclusion is None:
                raise NotFound(
                    "no-inclusion", "This patient has no inclusion; the consent decision is recorded with a declaration (IC-F1).",
                    rule="IC-F1", path="patient.niss",
                )
            # The patient and care providers decide outside any project: their decision is every project's.
            row = add_consent(act, pseudonym, decision, decision_date, inclusion if principal.role in PSI_ROLES else None)
            act.session.flush()
            act.resource_type, act.resource_id = "consent", row.public_id
            act.detail["decision"] = decision
            return consent_view(ctx, row)  # type: ignore[return-value]

        return ctx.runner.run(principal, "consent.record", body, channel=channel, resource_type="consent")

    def history(self, principal: Principal, patient_niss: str, *, channel: str = "internal") -> list[ConsentView]:
        """Every decision recorded for the patient, the one in force last."""
        ctx = self.ctx

        def body(act: Act) -> list[ConsentView]:
            niss, pseudonym, same = self._subject(act, patient_niss)
            decision = act.require(ctx.policy.consult(principal, niss, same_person=same))
            if decision.own_psi is not None and self._psi_in_view(act, pseudonym) is None:
                raise NotFound("unknown-patient", "This patient is not included in your project.", rule="IC-A3", path="patient.niss")
            rows = visible_consents(act.session, pseudonym, decision.own_psi)
            act.detail["returned"] = len(rows)
            return [v for i, r in enumerate(rows) if (v := consent_view(ctx, r, in_force=i == len(rows) - 1)) is not None]

        return ctx.runner.run(principal, "consent.read", body, channel=channel, resource_type="consent")

    def get(self, principal: Principal, consent_id: str, *, channel: str = "internal") -> ConsentView:
        """One recorded decision by its public id, under the consult rules of
        its patient; for PSI staff another project's decision does not exist
        (IC-A3)."""
        ctx = self.ctx

        def body(act: Act) -> ConsentView:
            own_psi = None
            if principal.role in PSI_ROLES:  # standing first: its refusal must not depend on the id
                own_psi = act.require(ctx.policy.standing(principal), names_rule=False).own_psi
            row = act.session.execute(
                select(ConsentDecision).where(ConsentDecision.public_id == consent_id)
            ).scalar_one_or_none() if well_formed_id(consent_id) else None
            if row is None:
                raise unknown_consent()
            act.patient_pseudonym = row.patient_pseudonym
            if own_psi is not None and not (in_project(act.session, row.patient_pseudonym, own_psi)
                                            and consent_visible(row, consent_projects(act.session, [row]), own_psi)):
                act.rule = "IC-A3"
                raise Concealed(unknown_consent(), AccessDenied(
                    "not-own-psi", "A consent decision of another integrated-care project, or of a patient outside the caller's.",
                    rule="IC-A3"))
            niss = ctx.pseudonyms.reveal(row.patient_pseudonym)
            person = ctx.register.person(niss)
            same = person is not None and principal.niss in (person.niss, *person.previous_niss)
            decision = act.require(ctx.policy.consult(principal, niss, same_person=same))
            seen = visible_consents(act.session, row.patient_pseudonym, decision.own_psi)
            return consent_view(ctx, row, in_force=bool(seen) and seen[-1].id == row.id)  # type: ignore[return-value]

        return ctx.runner.run(principal, "consent.read", body, channel=channel, resource_type="consent", resource_id=consent_id)

    def current(self, principal: Principal, patient_niss: str, *, channel: str = "internal") -> ConsentView | None:
        history = self.history(principal, patient_niss, channel=channel)
        return history[-1] if history else None


def unknown_consent() -> NotFound:
    """The one answer for a consent id the caller cannot use (unknown, or another project's)."""
    return NotFound("unknown-consent", "No consent decision with this id.", path="id")


__all__ = ["ConsentService", "current_consent", "unknown_consent"]
