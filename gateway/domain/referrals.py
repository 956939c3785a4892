"""Referrals (RF-1, RF-4): a provider (the requester) refers a patient for a
discipline or service, with a reason and a validity period; the referral's
status then moves over time: draft -> active -> accepted (by a named
performer) -> completed, or revoked by the requester.

Only the requester, the named performers and the people with a care
relationship with the patient see a referral (RF-4).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from sqlalchemy import select

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied, Concealed, InvalidInput, NotFound, VersionConflict
from gateway.domain.identifiers import InvalidIdentifier, check_cbe, check_nihii
from gateway.domain.inclusions import check_patient_niss, living_person
from gateway.domain.model import Referral, ReferralParty
from gateway.domain.policy import PSI_ROLES
from gateway.domain.subjects import subject_of
from gateway.domain.views import PartyView, ReferralView
from gateway.domain.principal import Principal

PROGRAMMES = ("general", "perinatal", "return-to-work")
# status -> {next status: who may move it there}
TRANSITIONS: dict[str, dict[str, str]] = {
    "draft": {"active": "requester", "revoked": "requester"},
    "active": {"accepted": "performer", "revoked": "requester"},
    "accepted": {"completed": "performer", "revoked": "requester"},
    "completed": {},
    "revoked": {},
}


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

    def _view(self, r: Referral) -> ReferralView:
        reveal = self.ctx.pseudonyms.reveal
        return ReferralView(
            id=r.id, version=r.version, patient_niss=reveal(r.patient_pseudonym), programme=r.programme, category=r.category,
            service_requested=r.service_requested, reason=r.reason, status=r.status, valid_from=r.valid_from,
            valid_until=r.valid_until,
            parties=tuple(PartyView(p.role, reveal(p.party_pseudonym) if p.party_pseudonym else None, p.party_nihii, p.party_cbe,
                                    p.party_role) for p in r.parties),
            created_at=r.created_at, updated_at=r.updated_at,
        )

    def _party_role(self, r: Referral, principal: Principal) -> str | None:
        """Which party of the referral the caller is, if any."""
        me = self.ctx.pseudonyms.pseudonymise(principal.niss)
        ids = {x for x in (principal.nihii, principal.organisation_nihii, principal.organisation_cbe) if x}
        for p in r.parties:
            if p.party_pseudonym == me or (p.party_nihii and p.party_nihii in ids) or (p.party_cbe and p.party_cbe in ids):
                return p.role
        return None

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
            parties = [ReferralParty(role="requester", party_pseudonym=act.actor_pseudonym, party_nihii=principal.nihii,
                                     party_role=principal.quality)]
            for i, perf in enumerate(spec.performers):
                try:
                    nihii = check_nihii(perf.nihii).value if perf.nihii else None
                    cbe = check_cbe(perf.cbe).value if perf.cbe else None
                except InvalidIdentifier as exc:
                    raise InvalidInput(exc.code, exc.message, rule="RF-1", path=f"performer[{i}].identifier") from None
                if not (nihii or cbe):
                    raise InvalidInput("performer-without-identifier", "Name a performer by its NIHII or CBE.", rule="RF-1", path=f"performer[{i}]")
                parties.append(ReferralParty(role="performer", party_nihii=nihii, party_cbe=cbe, party_role=perf.party_role))
            r = Referral(
                id=str(uuid.uuid4()), patient_pseudonym=ctx.pseudonyms.pseudonymise(person.niss), programme=spec.programme,
                category=spec.category, service_requested=spec.service_requested, reason=spec.reason, status=spec.status,
                valid_from=spec.valid_from or act.today, valid_until=spec.valid_until, created_at=act.now, updated_at=act.now,
                parties=parties,
            )
            act.session.add(r)
            act.session.flush()
            act.resource_id = r.id
            act.detail.update(programme=spec.programme, status=spec.status)
            return self._view(r)

        return ctx.runner.run(principal, "referral.create", body, channel=channel, resource_type="referral")

    def _load(self, act: Act, referral_id: str) -> Referral:
        if act.principal.role in PSI_ROLES:  # standing first: its refusal must not depend on the id
            act.require(self.ctx.policy.standing(act.principal), names_rule=False)
        r = act.session.get(Referral, referral_id) if well_formed_id(referral_id) else None
        if r is None:
            raise unknown_referral()
        act.patient_pseudonym = r.patient_pseudonym
        return r

    def _require_read(self, act: Act, r: Referral) -> str | None:
        """RF-4; for PSI staff a referral they are no party to does not exist (IC-A3)."""
        niss = self.ctx.pseudonyms.reveal(r.patient_pseudonym)
        person = self.ctx.register.person(niss)
        same = person is not None and act.principal.niss in (person.niss, *person.previous_niss)
        party = self._party_role(r, act.principal)
        decision = self.ctx.policy.referral_read(act.principal, niss, party, same_person=same)
        if not decision.allowed and act.principal.role in PSI_ROLES:
            act.rule = decision.rule
            raise Concealed(unknown_referral(), AccessDenied(decision.code, decision.reason, rule=decision.rule))
        act.require(decision)
        return party

    def get(self, principal: Principal, referral_id: str, *, channel: str = "internal") -> ReferralView:
        def body(act: Act) -> ReferralView:
            r = self._load(act, referral_id)
            self._require_read(act, r)
            return self._view(r)

        return self.ctx.runner.run(principal, "referral.read", body, channel=channel, resource_type="referral", resource_id=referral_id)

    def transition(self, principal: Principal, referral_id: str, status: str | Callable[[ReferralView], str], *,
                   expected_version: int | None = None,
                   check: Callable[[ReferralView], None] | None = None, same_is_noop: bool = False,
                   channel: str = "internal") -> ReferralView:
        """Move the referral's status (RF-1), by the party the step belongs to.

        ``check`` lets a face refuse (with a DomainError, audited like any
        refusal) a request whose other items differ from the stored
        referral; ``same_is_noop`` answers a request for the current status
        with the referral unchanged (an idempotent FHIR update)."""
        ctx = self.ctx

        def body(act: Act) -> ReferralView:
            r = self._load(act, referral_id)
            party = self._require_read(act, r)
            current = self._view(r)
            if check is not None:
                check(current)
            wanted = status(current) if callable(status) else status
            if same_is_noop and wanted == r.status:
                if expected_version is not None and expected_version != r.version:
                    raise VersionConflict("version-conflict", f"Referral {r.id} is at version {r.version}, not {expected_version}.",
                                          path="version")
                act.detail.update(transition="unchanged")
                return self._view(r)
            allowed = TRANSITIONS.get(r.status, {})
            if wanted not in allowed:
                nexts = ", ".join(allowed) or "none (final)"
                raise InvalidInput("invalid-transition", f"A referral in status '{r.status}' cannot become '{wanted}'; next: {nexts}.",
                                   rule="RF-1", path="status")
            if party != allowed[wanted]:
                raise AccessDenied("not-the-right-party", f"Only the {allowed[wanted]} may make a referral '{wanted}'.", rule="RF-1")
            if wanted == "accepted" and r.valid_until and act.today > r.valid_until:
                raise InvalidInput("referral-expired", f"The referral was valid until {r.valid_until}; ask the requester for a new one.",
                                   rule="RF-1", path="occurrencePeriod.end")
            if expected_version is not None and expected_version != r.version:
                raise VersionConflict("version-conflict", f"Referral {r.id} is at version {r.version}, not {expected_version}.", path="version")
            act.detail.update(transition=f"{r.status}->{wanted}")
            act.rule = "RF-1"
            r.status, r.updated_at = wanted, act.now
            act.session.flush()
            return self._view(r)

        return ctx.runner.run(principal, "referral.transition", body, channel=channel, resource_type="referral", resource_id=referral_id)

    def for_patient(self, principal: Principal, patient_niss: str, *, channel: str = "internal") -> list[ReferralView]:
        """The patient's referrals the caller may see (RF-4)."""
        ctx = self.ctx

        def body(act: Act) -> list[ReferralView]:
            who = subject_of(ctx, principal, patient_niss, "patient")  # under any of the person's numbers (IC-R5)
            act.patient_pseudonym = who.pseudonym
            rows = act.session.execute(select(Referral).where(Referral.patient_pseudonym == act.patient_pseudonym)
                                       .order_by(Referral.created_at, Referral.id)).scalars().all()
            visible = [self._view(r) for r in rows
                       if ctx.policy.referral_read(principal, who.niss, self._party_role(r, principal), same_person=who.same_person).allowed]
            act.rule = "RF-4"
            act.detail["returned"] = len(visible)
            return visible

        return ctx.runner.run(principal, "referral.search", body, channel=channel, resource_type="referral")


def unknown_referral() -> NotFound:
    """The one answer for a referral id the caller cannot use."""
    return NotFound("unknown-referral", "No referral with this id.", path="id")
