"""The return-to-work personas: one per role of the spec's table (and a few
for the access rules' edge cases), each a user of a partner organisation
named by its CBE, signing in where that partner signs in (RP-S1): eHealth
for insurers, prevention services and INAMI (INAMI's own sign-in is
internal; the sandbox lets its users sign in through eHealth's IdP), the
crossroads bank's IdP for the regional services.

The facts behind each persona are true in the sandbox sources (user
management confirms the role; the insured persons' affiliation, employers
and registrations are in CIN, Dimona, SEED-Connect and JobSeeker)."""

from __future__ import annotations

from gateway.ehealth.rtw.sandbox import RtwSandbox, StaffMember
from gateway.ehealth.sandbox.personas import Persona

_MAY = {
    "oa-physician": ("RP-A1 dossiers of the insurer's members", "RP-A6 medical data", "RP-F1 fill a registration form"),
    "oa-team": ("RP-A1 dossiers of the insurer's members", "RP-F1 fill a registration form"),
    "oa-rtw-coordinator": ("RP-A1 dossiers of the insurer's members", "RP-F1 fill a registration form"),
    "oa-admin": ("RP-A1 dossiers of the insurer's members (under the physician's delegation)", "RP-F1 fill a registration form"),
    "oa-physician-other": ("RP-A1 dossiers of another insurer's members only",),
    "prev-physician": ("RP-A3 dossiers of the employers' workers", "RP-A6 medical data",
                       "RP-F1 fill a registration form (routing occupational-physician)"),
    "prev-nurse": ("RP-A3 dossiers of the employers' workers",),
    "prev-admin": ("RP-A3 dossiers of the employers' workers",),
    "prev-physician-former": ("RP-A3: serves the former employer of the person who changed employer: denied",),
    "reg-counsellor": ("RP-A2 dossiers of people registered with VDAB", "RP-F2 read their forms", "RP-M1 without the start date"),
    "reg-list-manager": ("RP-A2 dossiers of people registered with VDAB", "RP-F2 read their forms"),
    "reg-counsellor-forem": ("RP-A2 dossiers of people registered with Forem",),
    "inami-expert": ("RP-A4 every dossier",),
    "inami-inspector": ("RP-A4 every dossier", "RP-A6 medical data"),
}


def _persona(member: StaffMember) -> Persona:
    person = member.person
    idp = "the crossroads bank's IdP" if member.identity_provider == "bcss" else "eHealth's IdP"
    return Persona(
        member.key, member.role, person.niss, f"{person.first_name} {person.last_name}", None, None, None,
        member.organisation.cbe, f"{member.role.value} of {member.organisation.name} (CBE {member.organisation.cbe}); "
        f"signs in through {idp}.", _MAY.get(member.key, ()),
    )


def rtw_personas(sandbox: RtwSandbox) -> dict[str, Persona]:
    """The return-to-work personas, by key."""
    return {key: _persona(member) for key, member in sandbox.staff.items()}


def identity_provider_of(sandbox: RtwSandbox, key: str) -> str:
    return sandbox.staff[key].identity_provider
