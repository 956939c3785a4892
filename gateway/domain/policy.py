"""The access policy of Integrated Care (IC-A1 .. IC-A9), as named decisions.

Each use case asks one question here and gets a :class:`Decision` that names
the rule it rests on. The caller's standing (known provider with a valid
visa, pharmacist of that pharmacy, member of that PSI with that role) and
the therapeutic relationships are checked with :class:`CareFacts` at every
call, never taken from the token alone. Whatever no rule allows is denied
(IC-A9).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Iterable

from gateway.domain.clock import Clock
from gateway.domain.ports import CareFacts, OrganisationKind
from gateway.domain.professions import PROFESSIONS, may_act_as_provider
from gateway.domain.principal import Principal, Role


class Field(StrEnum):
    """The items of an inclusion a caller may ask to change (IC-F3)."""

    STATUS = "status"
    START_DATE = "start_date"
    END_DATE = "end_date"
    CONSENT = "consent"


PSI_ROLES = (Role.PSI_ADMINISTRATIVE, Role.PSI_COORDINATOR)
PSI_ADMIN_FIELDS = frozenset({Field.START_DATE, Field.CONSENT})  # IC-A6
PATIENT_FIELDS = frozenset({Field.CONSENT})  # IC-A7


@dataclass(frozen=True)
class Decision:
    """The answer to one access question.

    ``own_psi`` restricts what a PSI member sees to their project (IC-A3).
    """

    allowed: bool
    rule: str
    code: str
    reason: str
    own_psi: str | None = None
    organisation: str | None = None

    @classmethod
    def allow(
        cls, rule: str, reason: str, own_psi: str | None = None, organisation: str | None = None
    ) -> "Decision":
        return cls(True, rule, "allowed", reason, own_psi, organisation or own_psi)

    @classmethod
    def deny(cls, rule: str, code: str, reason: str) -> "Decision":
        return cls(False, rule, code, reason)


class AccessPolicy:
    """Decides who may do what with inclusions and research consent."""

    def __init__(self, facts: CareFacts, clock: Clock) -> None:
        self.facts = facts
        self.clock = clock

    # ------------------------------------------------------------ standing

    def standing(self, principal: Principal) -> Decision:
        """Is the caller what they claim to be, today? (CoBrHa, user management)."""
        today = self.clock.today()
        match principal.role:
            case Role.PROVIDER:
                return self._provider_standing(principal, today)
            case Role.PHARMACIST:
                return self._member_standing(principal, "pharmacist", OrganisationKind.PHARMACY)
            case Role.PSI_ADMINISTRATIVE | Role.PSI_COORDINATOR:
                return self._member_standing(principal, principal.role.value, OrganisationKind.PSI)
            case Role.PATIENT:
                return Decision.allow("IC-A4", "a patient acts about themselves")
            case Role.INSURER:
                org = self.facts.organisation(principal.organisation_nihii or "")
                if org is None or org.kind is not OrganisationKind.INSURER:
                    return Decision.deny("IC-A9", "unknown-insurer", "The calling organisation is not a known insurer.")
                return Decision.allow("IC-R7", "insurer")
            case Role.AUDITOR:
                return self._member_standing(principal, "auditor", OrganisationKind.AUTHORITY)
            case Role.DPO:
                return self._member_standing(principal, "dpo", OrganisationKind.AUTHORITY)
            case Role.SYSTEM:
                return Decision.allow("IC-R4", "the gateway itself")
        return Decision.deny("IC-A9", "role-not-allowed", f"The role {principal.role} has no access to Integrated Care.")

    def _provider_standing(self, principal: Principal, today: date) -> Decision:
        if not principal.nihii:
            return Decision.deny("IC-A9", "provider-without-nihii", "A provider must act with their NIHII number.")
        record = self.facts.professional(principal.nihii)
        if record is None or record.niss != principal.niss:
            return Decision.deny(
                "IC-A9", "unknown-provider",
                f"NIHII {principal.nihii} is not known in CoBrHa for this person; check the number or your registration.",
            )
        if not may_act_as_provider(record.quality):
            label = PROFESSIONS[record.quality].label if record.quality in PROFESSIONS else record.quality
            return Decision.deny(
                "IC-A9", "profession-not-allowed",
                f"The profession '{label}' has no access to Integrated Care.",
            )
        if not record.visa_valid_on(today):
            return Decision.deny(
                "IC-A9", "visa-not-valid",
                "Your visa to practise is not valid today; renew it with the federal health service before using Integrated Care.",
            )
        return Decision.allow("IC-F1", "known provider with a valid visa")

    def _member_standing(self, principal: Principal, role: str, kind: OrganisationKind) -> Decision:
        org_nihii = self.organisation_of(principal, role)
        if org_nihii is None:
            return Decision.deny(
                "IC-A9", "no-membership",
                f"You are not registered with the role '{role}' in any {kind.value}; ask its access manager.",
            )
        org = self.facts.organisation(org_nihii)
        if org is None or org.kind is not kind:
            return Decision.deny("IC-A9", "unknown-organisation", f"Organisation {org_nihii} is not a known {kind.value}.")
        own_psi = org_nihii if kind is OrganisationKind.PSI else None
        return Decision.allow("IC-F1", f"{role} of {org_nihii}", own_psi=own_psi, organisation=org_nihii)

    def organisation_of(self, principal: Principal, role: str) -> str | None:
        """The organisation the caller acts for in ``role``, as user management confirms it."""
        held = [m.organisation_nihii for m in self.facts.memberships(principal.niss) if m.role == role]
        if principal.organisation_nihii:
            return principal.organisation_nihii if principal.organisation_nihii in held else None
        return held[0] if len(held) == 1 else None

    # ---------------------------------------------------------- decisions

    def declare(self, principal: Principal, psi_nihii: str) -> Decision:
        """IC-F1: providers, pharmacists, and PSI administrative staff into their own PSI."""
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        if principal.role in (Role.PROVIDER, Role.PHARMACIST):
            return Decision.allow("IC-F1", "providers and pharmacists may declare without a therapeutic link")
        if principal.role is Role.PSI_ADMINISTRATIVE:
            if standing.own_psi == psi_nihii:
                return Decision.allow("IC-F1", "declaration into the caller's own PSI", own_psi=standing.own_psi)
            return Decision.deny(
                "IC-F1", "not-own-psi",
                "PSI staff may declare inclusions only into their own integrated-care project.",
            )
        return Decision.deny("IC-A9", "declare-not-allowed", f"The role '{principal.role}' may not declare inclusions.")

    def consult(self, principal: Principal, patient_niss: str, same_person: bool = False) -> Decision:
        """IC-F2: who may see a patient's inclusions, and how much of them.

        ``same_person`` is true when the register says the caller is this
        patient (under a former or current number).
        """
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        today = self.clock.today()
        match principal.role:
            case Role.PROVIDER:
                if self.facts.has_therapeutic_link(principal.niss, patient_niss, today):
                    return Decision.allow("IC-A1", "active therapeutic relationship")
                return Decision.deny(
                    "IC-A1", "no-therapeutic-link",
                    "You have no active therapeutic relationship with this patient; register one (TherLink) before consulting.",
                )
            case Role.PHARMACIST:
                if self.facts.pharmacy_has_therapeutic_link(standing.organisation or "", patient_niss, today):
                    return Decision.allow("IC-A2", "therapeutic relationship between the pharmacy and the patient")
                return Decision.deny(
                    "IC-A2", "no-therapeutic-link",
                    "Your pharmacy has no active therapeutic relationship with this patient; register one before consulting.",
                )
            case Role.PSI_ADMINISTRATIVE | Role.PSI_COORDINATOR:
                return Decision.allow("IC-A3", "own PSI only", own_psi=standing.own_psi)
            case Role.PATIENT:
                if same_person or principal.niss == patient_niss:
                    return Decision.allow("IC-A4", "a patient sees all their own data")
                return Decision.deny("IC-A9", "not-own-data", "A patient may consult only their own data.")
            case Role.SYSTEM:
                return Decision.allow("IC-R4", "the gateway itself")
        return Decision.deny("IC-A9", "consult-not-allowed", f"The role '{principal.role}' may not consult inclusions.")

    def modify(
        self,
        principal: Principal,
        patient_niss: str,
        inclusion_psi: str | None,
        fields: Iterable[Field],
        same_person: bool = False,
    ) -> Decision:
        """IC-F3: who may change which items. ``inclusion_psi`` is the PSI of the
        inclusion changed (for consent alone: a PSI the patient is included in,
        as seen from the caller's own PSI, or ``None``)."""
        wanted = frozenset(fields)
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        match principal.role:
            case Role.PROVIDER | Role.PHARMACIST:
                seen = self.consult(principal, patient_niss)
                if not seen.allowed:
                    return Decision.deny("IC-A5", seen.code, seen.reason)
                return Decision.allow("IC-A5", "provider or pharmacist with a therapeutic relationship")
            case Role.PSI_ADMINISTRATIVE:
                if inclusion_psi is None or inclusion_psi != standing.own_psi:
                    return Decision.deny(
                        "IC-A6", "not-own-psi",
                        "PSI staff may change only inclusions of their own integrated-care project.",
                    )
                refused = sorted(f.value for f in wanted - PSI_ADMIN_FIELDS)
                if refused:
                    return Decision.deny(
                        "IC-A6", "field-not-modifiable",
                        f"PSI administrative staff may change the start date and the consent only, not: {', '.join(refused)}. "
                        "Ask a provider with a therapeutic relationship.",
                    )
                return Decision.allow("IC-A6", "start date and consent in the caller's own PSI", own_psi=standing.own_psi)
            case Role.PATIENT:
                if not (same_person or principal.niss == patient_niss):
                    return Decision.deny("IC-A9", "not-own-data", "A patient may change only their own data.")
                refused = sorted(f.value for f in wanted - PATIENT_FIELDS)
                if refused:
                    return Decision.deny(
                        "IC-A7", "field-not-modifiable",
                        f"You can change your consent decision only ({', '.join(refused)} drive billing): "
                        "contact a care provider or the integrated-care project to change them.",
                    )
                return Decision.allow("IC-A7", "a patient changes their own consent decision")
            case Role.SYSTEM:
                return Decision.allow("IC-R4", "the gateway itself")
        return Decision.deny("IC-A9", "modify-not-allowed", f"The role '{principal.role}' may not change inclusions.")

    def list_patients(self, principal: Principal, psi_nihii: str | None) -> Decision:
        """IC-F4: a PSI coordinator lists the patients of their own PSI."""
        if principal.role is not Role.PSI_COORDINATOR:
            return Decision.deny(
                "IC-A9", "list-not-allowed",
                "Only the coordinator of an integrated-care project may list its patients.",
            )
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        if psi_nihii is not None and psi_nihii != standing.own_psi:
            return Decision.deny("IC-A3", "not-own-psi", "A coordinator may list the patients of their own project only.")
        return Decision.allow("IC-F4", "coordinator of the PSI", own_psi=standing.own_psi)

    def export(self, principal: Principal, insurer_code: str) -> Decision:
        """IC-R7: an insurer receives the data of its own members only."""
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        if principal.role is Role.SYSTEM:
            return Decision.allow("IC-R7", "periodic export run by the gateway")
        if principal.role is Role.INSURER:
            org = self.facts.organisation(principal.organisation_nihii or "")
            if org is not None and org.insurer_code == insurer_code:
                return Decision.allow("IC-R7", "the insurer's own members")
            return Decision.deny("IC-R7", "not-own-members", "An insurer may receive the export of its own members only.")
        return Decision.deny("IC-A9", "export-not-allowed", "Exports go to insurers only; there is no mass export (IC-A8).")


    # ------------------------------------------------------ care teams (CT)

    def care_team_read(self, principal: Principal, patient_niss: str | None, is_member: bool, same_person: bool = False,
                       managing_organisation: str | None = None) -> Decision:
        """CT-5: a member sees the team; a non-member needs the relationship
        with the patient that consulting their inclusions needs (IC-F2). For
        PSI staff that relationship is their own project (IC-A3): they see
        the teams their project manages, never another project's nor the
        teams of a person outside their project."""
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        if is_member:
            return Decision.allow("CT-5", "member of the care team")
        if principal.role in PSI_ROLES:
            if managing_organisation is not None and managing_organisation == standing.own_psi:
                return Decision.allow("CT-5", "a team the caller's own project manages (IC-A3)", own_psi=standing.own_psi)
            return Decision.deny("IC-A3", "not-own-psi", "PSI staff see the care teams their own project manages only.")
        if patient_niss is None:
            return Decision.deny("CT-5", "not-a-member", "Only the members of a group care team may see it.")
        seen = self.consult(principal, patient_niss, same_person=same_person)
        if seen.allowed:
            return Decision.allow("CT-5", f"relationship with the patient ({seen.rule})", own_psi=seen.own_psi)
        return Decision.deny("CT-5", seen.code, "You are not a member of this care team and have no care relationship with its patient. " + seen.reason)

    def care_team_write(self, principal: Principal, patient_niss: str | None, managing_organisation: str | None, is_member: bool) -> Decision:
        """Who may create or change a care team: a provider or pharmacist with a
        relationship with the patient (or already a member), or the staff of
        the managing PSI. Anything else is denied (IC-A9)."""
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        if principal.role in (Role.PROVIDER, Role.PHARMACIST):
            if is_member:
                return Decision.allow("CT-5", "member of the care team")
            if patient_niss is not None and self.consult(principal, patient_niss).allowed:
                return Decision.allow("CT-5", "provider with a relationship with the patient")
            return Decision.deny("CT-5", "no-therapeutic-link",
                                 "A provider manages a patient's care team only with a therapeutic relationship with that patient.")
        if principal.role in PSI_ROLES:
            if managing_organisation is not None and managing_organisation == standing.own_psi:
                return Decision.allow("CT-5", "staff of the managing PSI", own_psi=standing.own_psi)
            return Decision.deny("CT-5", "not-own-psi", "PSI staff manage only the care teams their own project manages.")
        return Decision.deny("IC-A9", "care-team-write-not-allowed", f"The role '{principal.role}' may not manage care teams.")

    # -------------------------------------------------------- referrals (RF)

    def referral_create(self, principal: Principal) -> Decision:
        """RF-1: a referral is made by a care provider (its requester)."""
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        if principal.role is Role.PROVIDER:
            return Decision.allow("RF-1", "a provider refers")
        return Decision.deny("RF-1", "referral-not-allowed", "Only a care provider may make a referral (the requester).")

    def referral_read(self, principal: Principal, patient_niss: str, party_role: str | None, same_person: bool = False) -> Decision:
        """RF-4: the requester, the named performers, and those with a care
        relationship with the patient (the patient included) see a referral."""
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        if party_role in ("requester", "performer"):
            return Decision.allow("RF-4", f"named {party_role}")
        today = self.clock.today()
        if principal.role is Role.PATIENT and (same_person or principal.niss == patient_niss):
            return Decision.allow("RF-4", "the patient")
        if principal.role is Role.PROVIDER and self.facts.has_therapeutic_link(principal.niss, patient_niss, today):
            return Decision.allow("RF-4", "care relationship with the patient")
        if principal.role is Role.PHARMACIST and self.facts.pharmacy_has_therapeutic_link(standing.organisation or "", patient_niss, today):
            return Decision.allow("RF-4", "care relationship of the pharmacy with the patient")
        return Decision.deny("RF-4", "not-a-party",
                             "Only the requester, the performers named on the referral and those with a care relationship with the patient see it.")

    # ------------------------------------------------------ the audit trail

    def audit_search(self, principal: Principal) -> Decision:
        """IC-R8: the security log is read by auditors of a public authority
        (each patient reads their own part of it, DS-1)."""
        if principal.role is not Role.AUDITOR:
            return Decision.deny("IC-R8", "not-an-auditor", "Only auditors read the whole security log; a patient reads their own (DS-1).")
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        return Decision.allow("IC-R8", "auditor of a public authority", organisation=standing.organisation)
