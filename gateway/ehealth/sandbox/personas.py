"""Ready-made sandbox personas: one per situation the access rules tell
apart, with stable keys that tests, docs and vendors use (``gp``,
``gp-no-link``, ``psi-admin-other``, ...).

The facts behind each persona (visa, membership, therapeutic link) are true
in the registries, so a test that acts as a persona proves a rule rather
than a fixture.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

from gateway.config import DEFAULT_SANDBOX_SEED
from gateway.ehealth.sandbox.registries import EXPIRED_VISA_UNTIL, VISA_VALID_UNTIL, SandboxRegistries, generate_registries
from gateway.domain.principal import Principal, Role

_PATIENT_MAY = ("IC-A4 consult all their own inclusions", "IC-A7 change their own consent decision only")
_PROVIDER_MAY = (
    "IC-F1 declare",
    "IC-A1 consult with therapeutic link",
    "IC-A5 modify status, dates and consent with therapeutic link",
)


@dataclass(frozen=True)
class Persona:
    """Someone to act as in the sandbox."""

    key: str
    role: Role
    niss: str
    display_name: str
    quality: str | None
    nihii: str | None
    organisation_nihii: str | None
    organisation_cbe: str | None
    description: str
    may: tuple[str, ...]

    def principal(self, authentication: str = "sandbox") -> Principal:
        return Principal(
            niss=self.niss,
            role=self.role,
            quality=self.quality,
            nihii=self.nihii,
            organisation_nihii=self.organisation_nihii,
            organisation_cbe=self.organisation_cbe,
            display_name=self.display_name,
            authentication=authentication,
        )


def personas(registries: SandboxRegistries) -> dict[str, Persona]:
    """The personas of these registries, by key."""
    r, c = registries, registries.cast

    def make(key: str, role: Role, niss: str, description: str, may: tuple[str, ...],
             organisation_nihii: str | None = None) -> Persona:
        person = r.person(niss)
        assert person is not None, key
        professional = next(iter(r.professionals_of(niss)), None)
        organisation = r.organisation(organisation_nihii) if organisation_nihii else None
        return Persona(
            key, role, person.niss, f"{person.first_name} {person.last_name}",
            professional.quality if professional else None, professional.nihii if professional else None,
            organisation.nihii if organisation else None, organisation.cbe if organisation else None,
            description, may,
        )

    def psi_name(nihii: str) -> str:
        organisation = r.organisation(nihii)
        return organisation.name if organisation else nihii

    deceased = r.person(c.deceased_patient)
    changed = r.person(c.niss_changed_patient)
    insurer_100 = r.insurer("100")
    assert deceased and deceased.death_date and changed and insurer_100
    psi_a, psi_b = psi_name(c.psi_a), psi_name(c.psi_b)
    items = (
        make("patient", Role.PATIENT, c.patient,
             "Alive, national number, insurer 100. Links with gp (since 2019-03-01), nurse and pharmacy A; "
             "also with expired-visa and excluded-profession.", _PATIENT_MAY),
        make("patient-2", Role.PATIENT, c.patient_2,
             f"Alive, born in 2000 or later (NISS 2000 rule), insurer {r.insurer_code_of(c.patient_2)}. Link with gp; "
             "nurse's link starts 2026-09-01 (not active yet); pharmacy B's link ended 2025-12-31.", _PATIENT_MAY),
        make("gp", Role.PROVIDER, c.gp,
             f"Physician, visa valid until {VISA_VALID_UNTIL.isoformat()}. Links with patient and patient-2.", _PROVIDER_MAY),
        make("nurse", Role.PROVIDER, c.nurse,
             "Nurse, valid visa, NIHII with the mod-89 check variant. Link with patient "
             "(with patient-2 only from 2026-09-01).", _PROVIDER_MAY),
        make("gp-no-link", Role.PROVIDER, c.gp_no_link,
             "Physician, valid visa, no link with patient nor patient-2 (links with other patients).",
             ("IC-F1 declare (no link needed)", "IC-A1 consult: denied without therapeutic link")),
        make("expired-visa", Role.PROVIDER, c.expired_visa,
             f"Physician whose visa expired {EXPIRED_VISA_UNTIL.isoformat()}. Has an active link with patient, "
             "so a denial can only come from the visa.",
             ("nothing: every act is denied, the visa expired (IC-A9)",)),
        make("excluded-profession", Role.PROVIDER, c.excluded_profession,
             "Laboratory technologist with a NIHII and a valid visa: not a profession of the Integrated Care "
             "authorisation. Has an active link with patient, so a denial can only come from the profession.",
             ("nothing: the profession may not use Integrated Care (IC-A9)",)),
        make("pharmacist", Role.PHARMACIST, c.pharmacist,
             "Pharmacist of pharmacy A (role pharmacist); pharmacy A has a link with patient since 2020-05-04.",
             ("IC-F1 declare", "IC-A2 consult with the pharmacy's therapeutic link",
              "IC-A5 modify with the pharmacy's therapeutic link"), c.pharmacy_a),
        make("pharmacist-no-link", Role.PHARMACIST, c.pharmacist_no_link,
             "Pharmacist of pharmacy B, which has no link with patient (its link with patient-2 ended 2025-12-31).",
             ("IC-F1 declare", "IC-A2 consult: denied without the pharmacy's link"), c.pharmacy_b),
        make("psi-admin", Role.PSI_ADMINISTRATIVE, c.psi_admin, f"Administrative staff of PSI A ({psi_a}).",
             ("IC-F1 declare into PSI A only", "IC-A3 consult inclusions in PSI A; of other PSIs only that a "
              "principal inclusion exists", "IC-A6 modify start date and consent, PSI A only"), c.psi_a),
        make("psi-coordinator", Role.PSI_COORDINATOR, c.psi_coordinator, f"Coordinator of PSI A ({psi_a}).",
             ("IC-A3 consult inclusions in PSI A", "IC-F4 list the patients of PSI A, paged (IC-A8)"), c.psi_a),
        make("psi-admin-other", Role.PSI_ADMINISTRATIVE, c.psi_admin_other, f"Administrative staff of PSI B ({psi_b}).",
             ("IC-F1 declare into PSI B only", "IC-A3 consult inclusions in PSI B only",
              "IC-A6 modify start date and consent, PSI B only"), c.psi_b),
        make("psi-coordinator-other", Role.PSI_COORDINATOR, c.psi_coordinator_other, f"Coordinator of PSI B ({psi_b}).",
             ("IC-A3 consult inclusions in PSI B", "IC-F4 list the patients of PSI B, paged (IC-A8)"), c.psi_b),
        make("deceased-patient", Role.PATIENT, c.deceased_patient,
             f"Died {deceased.death_date.isoformat()} (in the register from the start). Had a link with gp, "
             "ended at death.",
             ("subject only: declaring an inclusion is refused, the patient is deceased (IC-F1)",)),
        make("bis-patient", Role.PATIENT, c.bis_patient,
             "Current number is a BIS number (month + 40: sex known). Link with gp.", _PATIENT_MAY),
        make("niss-changed-patient", Role.PATIENT, c.niss_changed_patient,
             f"Current national number; former BIS number {', '.join(changed.previous_niss)} (IC-R5).", _PATIENT_MAY),
        make("insurer", Role.INSURER, c.insurer_staff,
             "Staff of insurer 100 (Christian mutualities); receives exports of its own members only.",
             ("IC-R7 receive exports of insurer 100's members only",), insurer_100.nihii),
    )
    items += (make("auditor", Role.AUDITOR, c.auditor,
                   "Information-security auditor at INAMI: signs in through the IdP, reads the whole audit trail.",
                   ("IC-R8 read every audit record (AuditEvent)",), c.authority),)
    items += (make("dpo", Role.DPO, c.dpo,
                   "Data protection officer at INAMI: signs in through the IdP, sees and answers the people's requests "
                   "to correct, restrict and object (done, or refused with a reason).",
                   ("DS-2 DS-3 DS-4 see and answer every rights request (FHIR Task)",), c.authority),)
    return {p.key: p for p in items}


def render_personas(registries: SandboxRegistries, as_json: bool) -> str:
    """The personas as a readable table, or as JSON for scripts."""
    from gateway.ehealth.rtw.personas import rtw_personas
    from gateway.ehealth.rtw.sandbox import rtw_sandbox

    rtw = rtw_sandbox(registries.seed)  # return to work: one persona per role of its table, by CBE
    listing = list(personas(registries).values()) + list(rtw_personas(rtw).values())

    def organisation_name(p: Persona) -> str | None:
        if p.key in rtw.staff:
            return rtw.staff[p.key].organisation.name
        organisation = registries.organisation(p.organisation_nihii) if p.organisation_nihii else None
        return organisation.name if organisation else None

    if as_json:
        return json.dumps(
            [{**asdict(p), "role": p.role.value, "may": list(p.may), "organisation_name": organisation_name(p)}
             for p in listing],
            ensure_ascii=False, indent=2,
        )
    header = ("key", "role", "NISS", "NIHII", "organisation", "may")
    rows = [
        (p.key, p.role.value, p.niss, p.nihii or "-",
         f"{organisation_name(p)} ({p.organisation_nihii})" if p.organisation_nihii else
         f"{organisation_name(p)} (CBE {p.organisation_cbe})" if p.organisation_cbe else "-", "; ".join(p.may))
        for p in listing
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1] for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 3)
    return "\n".join(lines)


def personas_main(argv: list[str] | None = None) -> int:
    """``care-gateway sandbox personas``: list the personas."""
    parser = argparse.ArgumentParser(
        prog="care-gateway sandbox personas",
        description="List the ready-made personas of the sandbox: who they are, their NISS and NIHII, "
        "the organisation they act for, and what each may do (with rule ids).",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (a list of objects) instead of a table")
    parser.add_argument("--seed", type=int, default=DEFAULT_SANDBOX_SEED,
                        help=f"seed of the sandbox registries (default: {DEFAULT_SANDBOX_SEED})")
    args = parser.parse_args(argv)
    print(render_personas(generate_registries(args.seed), args.json))
    return 0
