"""Where a person's pseudonym lives, in one place: what follows the person to
a new number (IC-R5) and what goes when their data are purged (IC-R6, DS-8).

- As the subject: inclusions and consent decisions (gateway/domain/lifecycle.py
  moves and purges those with their own rules), care teams, care-team
  memberships as the patient or a relative, referrals, rights requests,
  return-to-work dossiers (their own retention, RP-R1, purges them), the
  per-patient lock row, and the audit trail's subject tokens.
- As an actor (declared by, recorded by, last changed by, requester,
  answered by, the audit record's actor): those are care staff acting, whose
  identity the security log and item 10 keep (IC-R8); the history of a record
  keeps the number that was written at the time.

A new table that names a person must be added here, or the retention and
renumbering test (tests/security/test_person_follows.py) finds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gateway.domain import audit_subjects
from gateway.domain.model import CareTeam, CareTeamMember, Inclusion, Patient, Referral, ReferralParty, RightsRequest
from gateway.domain.perinatal.model import PerinatalEpisode
from gateway.domain.rtw.model import RtwDossier

PERSON_MEMBER_KINDS = ("patient", "related-person")  # a membership that is the person's data, not a professional's
CLOSED_TEAM = ("inactive", "entered-in-error")
FINAL_REFERRAL = ("completed", "revoked")


@dataclass
class Moved:
    care_teams: int = 0
    memberships: int = 0
    referrals: int = 0
    rights_requests: int = 0
    rtw_dossiers: int = 0


def renumber(session: Session, old: str, new: str) -> Moved:
    """IC-R5: everything about the person under ``old`` is theirs under ``new``."""
    moved = Moved()
    moved.care_teams = session.execute(update(CareTeam).where(CareTeam.patient_pseudonym == old)
                                       .values(patient_pseudonym=new)).rowcount or 0
    moved.memberships = session.execute(update(CareTeamMember).where(CareTeamMember.member_pseudonym == old)
                                        .values(member_pseudonym=new)).rowcount or 0
    moved.referrals = session.execute(update(Referral).where(Referral.patient_pseudonym == old)
                                      .values(patient_pseudonym=new)).rowcount or 0
    session.execute(update(ReferralParty).where(ReferralParty.party_pseudonym == old).values(party_pseudonym=new))
    moved.rights_requests = session.execute(update(RightsRequest).where(RightsRequest.patient_pseudonym == old)
                                            .values(patient_pseudonym=new)).rowcount or 0
    moved.rtw_dossiers = session.execute(update(RtwDossier).where(RtwDossier.insured_pseudonym == old)
                                         .values(insured_pseudonym=new)).rowcount or 0
    from gateway.domain.perinatal.retention import renumber as renumber_perinatal

    renumber_perinatal(session, old, new)  # the woman's and the child's follow-ups
    audit_subjects.renumber(session, old, new)
    return moved


@dataclass
class Expired:
    """What is past its retention, and whose."""

    care_teams: list[str] = field(default_factory=list)
    referrals: list[str] = field(default_factory=list)
    rights_requests: list[str] = field(default_factory=list)
    people: set[str] = field(default_factory=set)  # pseudonyms the expired rows were about


def _day(value: datetime | date | None) -> date | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).date()
    return value


def expired(session: Session, cutoff: date) -> Expired:
    """Care teams, referrals and rights requests that ended before ``cutoff``
    (IC-R6 applied to each: kept while running, then ten years from their end).
    A team ends with its period or when closed; a referral when completed,
    revoked or past its validity; a request when answered or withdrawn."""
    found = Expired()
    for team in session.execute(select(CareTeam)).scalars():
        end = team.period_end or (_day(team.updated_at) if team.status in CLOSED_TEAM else None)
        if end is not None and end < cutoff:
            found.care_teams.append(team.id)
            if team.patient_pseudonym:
                found.people.add(team.patient_pseudonym)
    for referral in session.execute(select(Referral)).scalars():
        end = _day(referral.updated_at) if referral.status in FINAL_REFERRAL else referral.valid_until
        if end is not None and end < cutoff:
            found.referrals.append(referral.id)
            found.people.add(referral.patient_pseudonym)
    for request in session.execute(select(RightsRequest).where(RightsRequest.status != "active")).scalars():
        end = _day(request.answered_at or request.closed_at or request.created_at)
        if end is not None and end < cutoff:
            found.rights_requests.append(request.id)
            found.people.add(request.patient_pseudonym)
    return found


def delete_expired(session: Session, found: Expired) -> None:
    if found.care_teams:
        session.execute(delete(CareTeamMember).where(CareTeamMember.care_team_id.in_(found.care_teams)))
        session.execute(delete(CareTeam).where(CareTeam.id.in_(found.care_teams)))
    if found.referrals:
        session.execute(delete(ReferralParty).where(ReferralParty.referral_id.in_(found.referrals)))
        session.execute(delete(Referral).where(Referral.id.in_(found.referrals)))
    if found.rights_requests:
        session.execute(delete(RightsRequest).where(RightsRequest.id.in_(found.rights_requests)))


def still_kept(session: Session, pseudonyms: set[str], ignoring: Expired | None = None,
               inclusions: list[str] | None = None) -> set[str]:
    """The people among ``pseudonyms`` the gateway keeps something for (an
    inclusion, a care team, a referral, a rights request, a dossier), the rows
    being purged (``ignoring``, ``inclusions``) left out."""
    if not pseudonyms:
        return set()
    wanted, ignoring = list(pseudonyms), ignoring or Expired()
    queries = (
        select(Inclusion.patient_pseudonym).where(Inclusion.patient_pseudonym.in_(wanted), Inclusion.id.not_in(inclusions or [])),
        select(CareTeam.patient_pseudonym).where(CareTeam.patient_pseudonym.in_(wanted), CareTeam.id.not_in(ignoring.care_teams)),
        select(Referral.patient_pseudonym).where(Referral.patient_pseudonym.in_(wanted), Referral.id.not_in(ignoring.referrals)),
        select(RightsRequest.patient_pseudonym).where(RightsRequest.patient_pseudonym.in_(wanted),
                                                      RightsRequest.id.not_in(ignoring.rights_requests)),
        select(RtwDossier.insured_pseudonym).where(RtwDossier.insured_pseudonym.in_(wanted)),
        select(PerinatalEpisode.woman_pseudonym).where(PerinatalEpisode.woman_pseudonym.in_(wanted)),  # DS-8: its own purge
    )
    kept: set[str] = set()
    for query in queries:
        kept |= set(session.execute(query.distinct()).scalars())
    return kept


def erase(session: Session, people: set[str], former: dict[str, list[str]]) -> int:
    """DS-8: nothing identifies these people any more. Their memberships of
    other care teams go, their lock rows go, and the audit trail's tokens of
    their numbers (``former`` adds the former numbers' pseudonyms) are cut:
    the security log keeps what was done, when and by whom (IC-R8), about a
    person no one can name. Returns how many audit tokens were cut."""
    if not people:
        return 0
    wanted = list(people)
    session.execute(delete(CareTeamMember).where(CareTeamMember.member_pseudonym.in_(wanted),
                                                 CareTeamMember.kind.in_(PERSON_MEMBER_KINDS)))
    session.execute(delete(Patient).where(Patient.pseudonym.in_(wanted)))
    numbers = set(wanted) | {p for person in wanted for p in former.get(person, [])}
    return audit_subjects.forget(session, numbers)


__all__ = ["Expired", "Moved", "delete_expired", "erase", "expired", "renumber", "still_kept"]
