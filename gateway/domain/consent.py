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
from gateway.domain.consent_versions import as_version, thread_of, thread_rows, versions_of
from gateway.domain.errors import AccessDenied, Concealed, InvalidInput, NotFound, VersionConflict
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
from gateway.domain.principal import Principal


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
            versions = versions_of(act.session, rows)  # DS-5: each decision as a version of its Consent
            return [as_version(v, r, versions) for i, r in enumerate(rows)
                    if (v := consent_view(ctx, r, in_force=i == len(rows) - 1)) is not None]

        return ctx.runner.run(principal, "consent.read", body, channel=channel, resource_type="consent", reads=True)

    def get(self, principal: Principal, consent_id: str, *, channel: str = "internal") -> ConsentView:
        """One recorded decision by its public id, under the consult rules of
        its patient; for PSI staff another project's decision does not exist
        (IC-A3)."""
        ctx = self.ctx

        def body(act: Act) -> ConsentView:
            row, seen = self._open(act, consent_id)
            return self._versions(act, row, seen)[-1]

        return ctx.runner.run(principal, "consent.read", body, channel=channel, resource_type="consent", resource_id=consent_id)

    def _open(self, act: Act, consent_id: str, *, modify: bool = False) -> tuple[ConsentDecision, list[ConsentDecision]]:
        """The first decision of Consent ``consent_id`` and the patient's
        decisions the caller sees, under the consult rules (or, ``modify``,
        the rules for changing the consent, IC-A5..IC-A7); for PSI staff
        another project's Consent does not exist (IC-A3)."""
        ctx, principal = self.ctx, act.principal
        own_psi = None
        if principal.role in PSI_ROLES:  # standing first: its refusal must not depend on the id
            own_psi = act.require(ctx.policy.standing(principal), names_rule=False).own_psi
        row = act.session.execute(
            select(ConsentDecision).where(ConsentDecision.public_id == consent_id)
        ).scalar_one_or_none() if well_formed_id(consent_id) else None
        if row is None or row.thread_id is not None:  # a later version's own id is never shown
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
        if modify:
            psi = self._psi_in_view(act, row.patient_pseudonym)
            decision = act.require(ctx.policy.modify(principal, niss, psi, {Field.CONSENT}, same_person=same))
        else:
            decision = act.require(ctx.policy.consult(principal, niss, same_person=same))
        return row, visible_consents(act.session, row.patient_pseudonym, decision.own_psi)

    def _versions(self, act: Act, first: ConsentDecision, seen: list[ConsentDecision]) -> list[ConsentView]:
        """The versions of ``first``'s Consent the caller sees, oldest first;
        only the patient's decision in force is in force."""
        rows = [r for r in seen if thread_of(r) == first.public_id] or [first]
        versions = versions_of(act.session, rows)
        return [as_version(consent_view(self.ctx, r, in_force=bool(seen) and seen[-1].id == r.id), r, versions)  # type: ignore[arg-type]
                for r in rows]

    def versions(self, principal: Principal, consent_id: str, *, channel: str = "internal") -> list[ConsentView]:
        """Every version of one Consent (DS-5: each decision, who recorded it, when), oldest first."""
        def body(act: Act) -> list[ConsentView]:
            row, seen = self._open(act, consent_id)
            views = self._versions(act, row, seen)
            act.detail["returned"] = len(views)
            return views

        return self.ctx.runner.run(principal, "consent.history", body, channel=channel, resource_type="consent",
                                   resource_id=consent_id)

    def update(
        self, principal: Principal, consent_id: str, decision: str, decision_date: date, *, withdraw: bool = False,
        patient_niss: str | None = None, expected_version: int | None = None, channel: str = "internal",
    ) -> ConsentView:
        """Record the next version of a Consent (DS-5): a new decision, or the
        withdrawal of the consent (stored as refuse from ``decision_date``),
        under the rules for changing it (IC-A5..IC-A7). ``expected_version``
        is the version the caller read (If-Match)."""
        ctx = self.ctx

        def body(act: Act) -> ConsentView:
            first, _ = self._open(act, consent_id, modify=True)
            act.rule = "DS-5" if withdraw else act.rule
            niss = ctx.pseudonyms.reveal(first.patient_pseudonym)
            if patient_niss is not None and check_patient_niss(patient_niss) not in self._numbers(niss):
                raise InvalidInput("immutable-element", "The patient of a consent cannot change; record a decision for the other "
                                   "patient.", rule="IC-R11", path="patient.niss")
            versions = thread_rows(act.session, consent_id)
            if expected_version is not None and expected_version != len(versions):
                raise VersionConflict("version-conflict", f"Consent {consent_id} is at version {len(versions)}, not "
                                      f"{expected_version}; read it again and retry.", path="version")
            value = "refuse" if withdraw else check_decision(decision)
            check_consent_date(decision_date, act.today)
            psi = self._psi_in_view(act, first.patient_pseudonym)
            inclusion = act.session.execute(  # PSI staff record with their own project's inclusion (IC-A6)
                select(Inclusion.id).where(Inclusion.patient_pseudonym == first.patient_pseudonym, Inclusion.psi_nihii == psi)
                .order_by(Inclusion.start_date.desc()).limit(1)).scalar_one_or_none() if psi is not None else None
            row = add_consent(act, first.patient_pseudonym, value, decision_date, inclusion)
            row.thread_id, row.withdrawn = consent_id, withdraw
            act.session.flush()
            act.resource_type, act.resource_id = "consent", consent_id
            act.detail.update(decision=value, version=len(versions) + 1, **({"withdrawn": True} if withdraw else {}))
            view = consent_view(ctx, row)
            return as_version(view, row, {row.id: (consent_id, len(versions) + 1)})  # type: ignore[arg-type]

        return ctx.runner.run(principal, "consent.withdraw" if withdraw else "consent.update", body, channel=channel,
                              resource_type="consent", resource_id=consent_id)

    def _numbers(self, niss: str) -> tuple[str, ...]:
        person = self.ctx.register.person(niss)
        return (niss, *((person.niss, *person.previous_niss) if person else ()))

    def current(self, principal: Principal, patient_niss: str, *, channel: str = "internal") -> ConsentView | None:
        history = self.history(principal, patient_niss, channel=channel)
        return history[-1] if history else None


def unknown_consent() -> NotFound:
    """The one answer for a consent id the caller cannot use (unknown, or another project's)."""
    return NotFound("unknown-consent", "No consent decision with this id.", path="id")


__all__ = ["ConsentService", "current_consent", "unknown_consent"]
