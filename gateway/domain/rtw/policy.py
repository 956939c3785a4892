"""The access policy of return to work (RP-S1, RP-A1..RP-A7, RP-F1, RP-F2),
as named decisions with rule ids, like the IC-A* decisions of
:mod:`gateway.domain.policy`.

Each decision compares the caller's organisation CBE with what the sources
say about the insured person (:class:`~gateway.domain.rtw.access_data.AccessData`,
kept at most 24 hours, RP-A7). The caller's role and CBE are confirmed by
user management at every call, never taken from the token alone. Whatever
no rule allows is denied.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.policy import Decision
from gateway.domain.ports import PersonRecord
from gateway.domain.principal import Principal, Role
from gateway.domain.rtw.access_data import AccessData, AccessDataCache
from gateway.domain.rtw.roles import DOSSIER_OPENERS, FORM_AUTHORS, PHYSICIANS, PartnerKind, partner_kind

STS_AUTHENTICATION = "sts-holder-of-key"


@dataclass(frozen=True)
class SignIn:
    """RP-S1: which identity providers (token issuers) sign in which partner
    kind. Regional users sign in through the crossroads bank's IdP; insurer,
    prevention and INAMI users through eHealth's (an STS token is eHealth's)."""

    regional_issuers: frozenset[str]
    ehealth_issuers: frozenset[str]

    def allows(self, principal: Principal, kind: PartnerKind) -> bool:
        issuer = principal.extra.get("iss")
        if kind is PartnerKind.REGIONAL:
            return issuer is not None and issuer in self.regional_issuers
        if issuer is None:
            return principal.authentication == STS_AUTHENTICATION
        return issuer in self.ehealth_issuers


class ReturnToWorkPolicy:
    """Decides who may see and change what in a return-to-work dossier."""

    def __init__(self, access: AccessDataCache, sign_in: SignIn) -> None:
        self.access = access
        self.sign_in = sign_in

    # ------------------------------------------------------------ standing

    def standing(self, principal: Principal) -> Decision:
        """RP-S1: a return-to-work role, signed in where that partner signs in,
        confirmed by user management for the CBE the caller acts for."""
        kind = partner_kind(principal)
        if kind is None:
            return Decision.deny("RP-S1", "role-not-allowed",
                                 f"The role '{principal.role}' has no access to return to work; sign in as a user of an "
                                 "insurer, a prevention service, a regional employment service or INAMI.")
        if not self.sign_in.allows(principal, kind):
            where = ("the social-security crossroads bank's identity provider" if kind is PartnerKind.REGIONAL
                     else "eHealth (its identity provider or STS)")
            return Decision.deny("RP-S1", "wrong-identity-provider",
                                 f"Users of a {kind.value} partner sign in through {where}; this token comes from elsewhere.")
        cbe = principal.organisation_cbe
        if not cbe:
            return Decision.deny("RP-S1", "no-organisation", "The token names no organisation (CBE) to act for.")
        held = {(r.organisation_cbe, r.role) for r in self.access.staff_roles(principal.niss)}
        if (cbe, principal.role.value) not in held:
            return Decision.deny("RP-S1", "role-not-confirmed",
                                 f"User management does not confirm the role '{principal.role}' in organisation {cbe}; "
                                 "ask its access manager.")
        return Decision.allow("RP-S1", f"{principal.role} of {cbe}", organisation=cbe)

    # ------------------------------------------------------------- access

    def access_dossier(self, principal: Principal, person: PersonRecord | None, data: AccessData | None) -> Decision:
        """RP-A1..RP-A5: may this caller see this person's dossier?"""
        standing = self.standing(principal)
        if not standing.allowed:
            return standing
        if person is not None and person.deceased:
            return Decision.deny("RP-A5", "deceased",
                                 "The national register records this person's death: the dossier is closed to everyone.")
        kind = partner_kind(principal)
        cbe = principal.organisation_cbe
        if kind is PartnerKind.INAMI:
            return Decision.allow("RP-A4", "INAMI sees every dossier", organisation=cbe)
        if data is None:
            return Decision.deny("RP-A1", "unknown-person", "No such insured person.")
        if kind is PartnerKind.INSURER:
            if data.insurer is not None and data.insurer.cbe == cbe:
                return Decision.allow("RP-A1", "the person is affiliated to the caller's insurer", organisation=cbe)
            return Decision.deny("RP-A1", "not-affiliated",
                                 "The person is not affiliated to your insurer (CIN membership data).")
        if kind is PartnerKind.REGIONAL:
            if cbe in data.regional_cbes():
                return Decision.allow("RP-A2", "the person is registered as job seeker with the caller's service",
                                      organisation=cbe)
            return Decision.deny("RP-A2", "not-registered",
                                 "The person is not registered as job seeker with your regional service (JobSeeker).")
        if cbe in data.prevention_cbes():
            return Decision.allow("RP-A3", "the caller's service is the prevention service of a current employer",
                                  organisation=cbe)
        return Decision.deny("RP-A3", "not-employer-service",
                             "Your prevention service serves none of the person's current employers (Dimona, SEED-Connect).")

    def open_dossier(self, principal: Principal, person: PersonRecord | None, data: AccessData | None) -> Decision:
        """A dossier is opened by an insurer or a prevention service with access to the person."""
        seen = self.access_dossier(principal, person, data)
        if not seen.allowed:
            return seen
        if principal.role not in DOSSIER_OPENERS:
            return Decision.deny(seen.rule, "open-not-allowed",
                                 "A dossier is opened by the person's insurer or a prevention service of their employer.")
        return seen

    def medical(self, principal: Principal) -> Decision:
        """RP-A6: medical data are for the three physician roles."""
        if principal.role in PHYSICIANS:
            return Decision.allow("RP-A6", "physician")
        return Decision.deny("RP-A6", "not-a-physician",
                             "Medical data are shown to the advising physician, the occupational physician and "
                             "INAMI's medical inspector only.")

    # --------------------------------------------------------------- forms

    def create_form(self, principal: Principal, person: PersonRecord | None, data: AccessData | None) -> Decision:
        """RP-F1: an insurer or an occupational physician with access fills the form."""
        seen = self.access_dossier(principal, person, data)
        if not seen.allowed:
            return seen
        if principal.role not in FORM_AUTHORS:
            return Decision.deny("RP-F1", "form-not-allowed",
                                 "A registration form is filled by the insurer or by an occupational physician.")
        return Decision.allow("RP-F1", "insurer or occupational physician with access", organisation=seen.organisation)

    def read_form(self, principal: Principal, person: PersonRecord | None, data: AccessData | None) -> Decision:
        """RP-F2: a regional service reads the form once the person is registered with it."""
        seen = self.access_dossier(principal, person, data)
        if partner_kind(principal) is PartnerKind.REGIONAL:
            if seen.allowed:
                return Decision.allow("RP-F2", "the person is registered with the caller's regional service",
                                      organisation=seen.organisation)
            if seen.rule == "RP-A2":
                return Decision.deny("RP-F2", "not-registered",
                                     "The regional service reads the form once the person has registered with it.")
        return seen

    def sees_incapacity_start(self, principal: Principal) -> bool:
        """RP-M1: the regional service sees whether the incapacity lasted a year, never its start date."""
        return partner_kind(principal) is not PartnerKind.REGIONAL

    @staticmethod
    def is_physician(role: Role) -> bool:
        return role in PHYSICIANS
