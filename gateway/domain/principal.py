"""The caller as the domain sees it, whatever the token it came with: the
domain's notion of who acts, which identity builds from verified tokens.

A face verifies a token (SAML 1.1 holder-of-key, JWT) and yields one
Principal. The Principal states claims; the access policy still checks the
facts that matter (visa, membership, therapeutic link) with the attribute
authority at each call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """The acting role of a caller (``integrated-care.md``, *Who uses it*)."""

    PATIENT = "patient"
    PROVIDER = "provider"
    PHARMACIST = "pharmacist"
    PSI_ADMINISTRATIVE = "psi-administrative"
    PSI_COORDINATOR = "psi-coordinator"
    INSURER = "insurer"
    AUDITOR = "auditor"  # reads the whole security log (IC-R8), nothing else
    DPO = "dpo"  # the data protection officer: handles the people's rights requests (DS-2..DS-4), nothing else
    ORGANISATION = "organisation"  # an organisation acting as itself (OAuth2 client_credentials): no IC function (IC-A9)
    SYSTEM = "system"
    # Return to work (return-to-work.md, "Users and roles"): each acts for an
    # organisation named by its CBE; Integrated Care denies them all (IC-A9).
    OA_PHYSICIAN = "oa-physician"
    OA_TEAM = "oa-team"
    OA_RTW_COORDINATOR = "oa-rtw-coordinator"
    OA_ADMIN = "oa-admin"
    PREV_PHYSICIAN = "prev-physician"
    PREV_NURSE = "prev-nurse"
    PREV_ADMIN = "prev-admin"
    REG_COUNSELLOR = "reg-counsellor"
    REG_LIST_MANAGER = "reg-list-manager"
    INAMI_EXPERT = "inami-expert"
    INAMI_INSPECTOR = "inami-inspector"


@dataclass(frozen=True)
class Principal:
    """One authenticated caller acting in one role.

    ``niss`` is plaintext here, in memory at the edge only; the domain stores
    it pseudonymised. ``organisation_nihii`` is the organisation the caller
    acts for (pharmacy, PSI, insurer) where the role has one.
    """

    niss: str
    role: Role
    quality: str | None = None
    nihii: str | None = None
    organisation_nihii: str | None = None
    organisation_cbe: str | None = None
    display_name: str | None = None
    authentication: str = "unknown"
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def organisation(self) -> str | None:
        return self.organisation_nihii or self.organisation_cbe


SYSTEM_NISS = "00000000000"


def system_principal(reason: str = "system") -> Principal:
    """The gateway itself, for acts no person did (a death from the register feed)."""
    return Principal(niss=SYSTEM_NISS, role=Role.SYSTEM, display_name=reason, authentication="internal")
