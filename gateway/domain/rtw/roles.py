"""Who takes part in return to work: the four partner kinds and their roles
(``return-to-work.md``, *Users and roles*), and the sign-in each must use (RP-S1)."""

from __future__ import annotations

from enum import StrEnum

from gateway.domain.principal import Principal, Role


class PartnerKind(StrEnum):
    INSURER = "insurer"
    PREVENTION = "prevention"
    REGIONAL = "regional"
    INAMI = "inami"


ROLES: dict[Role, PartnerKind] = {
    Role.OA_PHYSICIAN: PartnerKind.INSURER,
    Role.OA_TEAM: PartnerKind.INSURER,
    Role.OA_RTW_COORDINATOR: PartnerKind.INSURER,
    Role.OA_ADMIN: PartnerKind.INSURER,
    Role.PREV_PHYSICIAN: PartnerKind.PREVENTION,
    Role.PREV_NURSE: PartnerKind.PREVENTION,
    Role.PREV_ADMIN: PartnerKind.PREVENTION,
    Role.REG_COUNSELLOR: PartnerKind.REGIONAL,
    Role.REG_LIST_MANAGER: PartnerKind.REGIONAL,
    Role.INAMI_EXPERT: PartnerKind.INAMI,
    Role.INAMI_INSPECTOR: PartnerKind.INAMI,
}

# RP-A6: the three physician roles see medical data.
PHYSICIANS = frozenset({Role.OA_PHYSICIAN, Role.PREV_PHYSICIAN, Role.INAMI_INSPECTOR})

# RP-F1: who fills a registration form (an insurer, or an occupational physician).
FORM_AUTHORS = frozenset({Role.OA_PHYSICIAN, Role.OA_TEAM, Role.OA_RTW_COORDINATOR, Role.OA_ADMIN, Role.PREV_PHYSICIAN})

# Who opens a dossier for an insured person (an insurer or a prevention service).
DOSSIER_OPENERS = frozenset(r for r, kind in ROLES.items() if kind in (PartnerKind.INSURER, PartnerKind.PREVENTION))


def partner_kind(principal: Principal) -> PartnerKind | None:
    """The partner kind of a return-to-work role, None for every other role."""
    return ROLES.get(principal.role)


def is_rtw_role(role: Role) -> bool:
    return role in ROLES
