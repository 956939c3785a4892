"""Who may do what along the trajectory (RP-F3..RP-F9, RF-2), as named
decisions with rule ids, over the dossier rules of
:class:`~gateway.domain.rtw.policy.ReturnToWorkPolicy` (RP-A1..RP-A6).

A *party* is an organisation acting in the trajectory, named by its CBE;
INAMI is one party whatever the CBE its users act for.
"""

from __future__ import annotations

from gateway.domain.policy import Decision
from gateway.domain.principal import Principal, Role
from gateway.domain.rtw.roles import PartnerKind, partner_kind

INAMI_PARTY = "inami"
INSURER_FILERS = frozenset({Role.OA_RTW_COORDINATOR, Role.OA_PHYSICIAN, Role.OA_TEAM, Role.OA_ADMIN})
REGIONAL_FILERS = frozenset({Role.REG_COUNSELLOR})
VALIDATORS = frozenset({Role.OA_RTW_COORDINATOR, Role.OA_PHYSICIAN, Role.OA_TEAM})
DECIDERS = frozenset({Role.INAMI_EXPERT, Role.INAMI_INSPECTOR})
HOURS_REPORTERS = frozenset({Role.REG_COUNSELLOR, Role.REG_LIST_MANAGER})


def party_of(principal: Principal) -> str:
    """The party a caller acts for: its organisation's CBE, or INAMI."""
    if partner_kind(principal) is PartnerKind.INAMI:
        return INAMI_PARTY
    return principal.organisation_cbe or ""


def file_request(principal: Principal, dossier: Decision, has_form: bool) -> Decision:
    """RP-F3, RP-F4: a regional counsellor files on a valid form; an insurer with or without one."""
    if not dossier.allowed:
        return dossier
    kind = partner_kind(principal)
    if kind is PartnerKind.REGIONAL and principal.role in REGIONAL_FILERS:
        if not has_form:
            return Decision.deny("RP-F3", "valid-form-required",
                                 "A regional service files a request on a valid registration form of the dossier; "
                                 "ask the insurer to fill one first.")
        return Decision.allow("RP-F3", "the regional service of registration files on a valid form",
                              organisation=dossier.organisation)
    if kind is PartnerKind.INSURER and principal.role in INSURER_FILERS:
        return Decision.allow("RP-F4", "the insurer files, with or without a form: straight to INAMI",
                              organisation=dossier.organisation)
    return Decision.deny("RP-F3", "request-not-allowed",
                         "A training or coaching request is filed by the regional service's counsellor or by the insurer.")


def validate_request(principal: Principal, dossier: Decision, insurer_cbe: str) -> Decision:
    """RP-F4: the person's insurer validates a regional service's request before it goes to INAMI."""
    if not dossier.allowed:
        return dossier
    if partner_kind(principal) is not PartnerKind.INSURER or principal.role not in VALIDATORS:
        return Decision.deny("RP-F4", "validation-not-allowed",
                             "The insurer's return-to-work coordinator, advising physician or team member validates "
                             "a regional service's request.")
    if principal.organisation_cbe != insurer_cbe:
        return Decision.deny("RP-F4", "not-the-insurer", "Only the insurer named on the request validates it.")
    return Decision.allow("RP-F4", "the person's insurer validates", organisation=dossier.organisation)


def decide_request(principal: Principal, dossier: Decision) -> Decision:
    """RP-F5: INAMI's social expert or medical inspector decides."""
    if not dossier.allowed:
        return dossier
    if principal.role not in DECIDERS:
        return Decision.deny("RP-F5", "decision-not-allowed", "INAMI's social expert or medical inspector decides on a request.")
    return Decision.allow("RP-F5", "INAMI decides", organisation=dossier.organisation)


def see_request(principal: Principal, dossier: Decision, parties: frozenset[str]) -> Decision:
    """RF-2 (as RF-4): the requester, the regional service it is referred to, the insurer and INAMI see a request."""
    if not dossier.allowed:
        return dossier
    if partner_kind(principal) is PartnerKind.INAMI or party_of(principal) in parties:
        return Decision.allow("RF-2", "a party to the request", organisation=dossier.organisation)
    return Decision.deny("RF-2", "not-a-party",
                         "Only the party that filed the request, its regional service, the insurer and INAMI see it.")


def report_hours(principal: Principal, regional_cbe: str | None) -> Decision:
    """RP-F7: the regional service the request is referred to reports the hours performed."""
    if principal.role not in HOURS_REPORTERS or principal.organisation_cbe != regional_cbe:
        return Decision.deny("RP-F7", "hours-not-allowed",
                             "The hours performed are reported by the regional service the request is referred to.")
    return Decision.allow("RP-F7", "the regional service reports hours", organisation=regional_cbe)


def read_lists(principal: Principal) -> Decision:
    """RP-F7: the lists are for the parties of requests: insurers, regional services, INAMI."""
    kind = partner_kind(principal)
    if kind in (PartnerKind.INSURER, PartnerKind.REGIONAL, PartnerKind.INAMI):
        return Decision.allow("RP-F7", f"the list of party {party_of(principal)}", organisation=principal.organisation_cbe)
    return Decision.deny("RP-F7", "no-list", "Lists of decisions and hours are kept for insurers, regional services and INAMI.")


def send_medical(principal: Principal) -> Decision:
    """RP-F8: an insurer's advising physician sends medical data to INAMI's medical inspector."""
    if principal.role is not Role.OA_PHYSICIAN:
        return Decision.deny("RP-F8", "medical-sender",
                             "Medical data are sent to INAMI's medical inspector by the insurer's advising physician only.")
    return Decision.allow("RP-F8", "the advising physician sends medical data")


def read_medical(principal: Principal, sender: str) -> Decision:
    """RP-F8, RP-A6: the inspector and the sending insurer's advising physicians read it; nobody else."""
    if principal.role is Role.INAMI_INSPECTOR:
        return Decision.allow("RP-A6", "INAMI's medical inspector")
    if principal.role is Role.OA_PHYSICIAN and principal.organisation_cbe == sender:
        return Decision.allow("RP-A6", "the sending insurer's advising physician")
    return Decision.deny("RP-A6", "not-a-physician-of-the-exchange",
                         "Medical data sent to INAMI are read by its medical inspector and the sending advising physician only.")


def trio_link(principal: Principal, dossier: Decision) -> Decision:
    """RP-F9: users who may see both platforms (insurers and prevention services) are told whether TRIO holds a dossier."""
    if not dossier.allowed:
        return dossier
    if partner_kind(principal) in (PartnerKind.INSURER, PartnerKind.PREVENTION):
        return Decision.allow("RP-F9", "a user of both platforms", organisation=dossier.organisation)
    return Decision.deny("RP-F9", "not-a-trio-user",
                         "Only users of both platforms (insurers and prevention services) are told about a TRIO dossier.")


def statistics(principal: Principal) -> Decision:
    """RP-R3: anonymous statistics are released to INAMI."""
    if partner_kind(principal) is PartnerKind.INAMI:
        return Decision.allow("RP-R3", "INAMI")
    return Decision.deny("RP-R3", "statistics-for-inami", "The return-to-work statistics are released to INAMI.")
