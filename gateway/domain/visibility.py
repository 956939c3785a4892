"""What PSI staff may know (IC-A3): their own project's data, and of the
other projects only that a principal inclusion exists, for a patient of
their own project, and nothing more (seed 001: "ils n'ont en aucun cas accès
aux données d'un patient qui ne fait pas partie de leur PSI").

A research-consent decision belongs to the project it was recorded with
(the inclusion it names); a decision recorded outside any project (by the
patient, or by a care provider outside a declaration) belongs to none and
is seen by every project the patient is included in. A decision recorded
with another project's inclusion, its date and who recorded it are that
project's data.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.domain.model import ConsentDecision, Inclusion

PRINCIPAL = "principal"


def in_project(session: Session, pseudonym: str, psi: str) -> bool:
    """Is the person a patient of project ``psi`` (an inclusion there, ended or not)?"""
    return session.execute(
        select(Inclusion.id).where(Inclusion.patient_pseudonym == pseudonym, Inclusion.psi_nihii == psi).limit(1)
    ).first() is not None


def principal_elsewhere(session: Session, pseudonym: str, psi: str, today: object) -> bool:
    """IC-A3's one bit: a current principal inclusion in another project. Only
    ever asked for a patient of ``psi``: for anyone else it would tell a
    project about a person outside it."""
    if not in_project(session, pseudonym, psi):
        return False
    return session.execute(
        select(Inclusion.id).where(
            Inclusion.patient_pseudonym == pseudonym, Inclusion.psi_nihii != psi, Inclusion.status == PRINCIPAL,
            or_(Inclusion.end_date.is_(None), Inclusion.end_date >= today),
        ).limit(1)
    ).first() is not None


def consent_projects(session: Session, rows: list[ConsentDecision]) -> dict[str, str]:
    """The project (PSI NIHII) of each inclusion the decisions were recorded with."""
    ids = {r.inclusion_id for r in rows if r.inclusion_id}
    if not ids:
        return {}
    found = session.execute(select(Inclusion.id, Inclusion.psi_nihii).where(Inclusion.id.in_(ids))).all()
    return {inclusion: psi for inclusion, psi in found}


def consent_visible(row: ConsentDecision, projects: dict[str, str], psi: str | None) -> bool:
    """May the staff of ``psi`` see this decision? Everyone else (``psi`` None)
    who may consult the patient sees every decision. A decision whose
    inclusion is gone (purged) is nobody's project any more to show."""
    if psi is None or row.inclusion_id is None:
        return True
    return projects.get(row.inclusion_id) == psi


def visible_consents(session: Session, pseudonym: str, psi: str | None) -> list[ConsentDecision]:
    """The patient's decisions the caller may see, oldest first."""
    rows = list(session.execute(
        select(ConsentDecision).where(ConsentDecision.patient_pseudonym == pseudonym).order_by(ConsentDecision.id)
    ).scalars())
    if psi is None:
        return rows
    projects = consent_projects(session, rows)
    return [r for r in rows if consent_visible(r, projects, psi)]
