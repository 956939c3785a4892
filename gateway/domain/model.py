"""The stored model, as typed SQLAlchemy 2 mappings.

No plaintext NISS and no names are stored (IC-R9, IC-R10): people appear as
pseudonyms made by :mod:`gateway.domain.pseudonyms`. Every changeable row
carries a ``version`` for optimistic concurrency.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

PSEUDONYM = String(64)
NIHII = String(11)


class Base(DeclarativeBase):
    """Declarative base of every table the gateway owns."""


class Patient(Base):
    """One row per pseudonymised patient: the lock that serialises the
    changes to one patient's inclusions (IC-R1 under concurrency)."""

    __tablename__ = "patient"

    pseudonym: Mapped[str] = mapped_column(PSEUDONYM, primary_key=True)
    lock_counter: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Inclusion(Base):
    """A patient's inclusion in an integrated-care project (the twelve items
    of ``integrated-care.md``, less what is never stored)."""

    __tablename__ = "inclusion"
    __table_args__ = (
        Index("ix_inclusion_patient", "patient_pseudonym"),
        Index("ix_inclusion_psi_patient", "psi_nihii", "patient_pseudonym"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)  # item 3
    psi_nihii: Mapped[str] = mapped_column(NIHII)  # item 11
    status: Mapped[str] = mapped_column(String(16))  # item 9: principal | information
    start_date: Mapped[date] = mapped_column(Date)  # item 7
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # item 8
    billing_start: Mapped[date] = mapped_column(Date)  # IC-R2
    billing_end: Mapped[date | None] = mapped_column(Date, nullable=True)  # IC-R2
    declared_by_nihii: Mapped[str | None] = mapped_column(NIHII, nullable=True)  # item 12
    declared_by_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)  # item 10 (declaration)
    declared_by_role: Mapped[str] = mapped_column(String(32))
    last_actor_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)  # item 10 (last change)
    last_actor_role: Mapped[str] = mapped_column(String(32))
    closed_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    changes: Mapped[list["InclusionChange"]] = relationship(
        back_populates="inclusion", cascade="all, delete-orphan", order_by="InclusionChange.version"
    )

    __mapper_args__ = {"version_id_col": version}


class InclusionChange(Base):
    """One version of an inclusion: who did what, when, and the items after it."""

    __tablename__ = "inclusion_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inclusion_id: Mapped[str] = mapped_column(ForeignKey("inclusion.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_organisation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    inclusion: Mapped[Inclusion] = relationship(back_populates="changes")


class ConsentDecision(Base):
    """A patient's decision on the use of their data for research (items 1
    and 2), with who recorded it and when (IC-R11). The latest row is the
    decision in force; earlier rows are its history."""

    __tablename__ = "consent_decision"
    __table_args__ = (
        Index("ix_consent_patient", "patient_pseudonym", "id"),
        Index("ux_consent_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # internal: order of recording
    public_id: Mapped[str] = mapped_column(String(36))  # the id callers see: random, never the sequence
    patient_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    decision: Mapped[str] = mapped_column(String(8))  # agree | refuse
    decision_date: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    recorded_by_role: Mapped[str] = mapped_column(String(32))
    recorded_by_organisation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    inclusion_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # DS-5: a FHIR update records a new decision as the next version of the same
    # Consent: ``thread_id`` is that Consent's id (NULL: its own public_id);
    # ``withdrawn`` marks a decision recorded by withdrawing the consent (stored as refuse).
    thread_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)


class CareTeam(Base):
    """A care team around a patient (CT-1..CT-3); completed by the care-team work."""

    __tablename__ = "care_team"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # individual | clinical-group | administrative-group
    patient_pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, nullable=True, index=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    managing_organisation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # proposed | active | suspended | inactive
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    members: Mapped[list["CareTeamMember"]] = relationship(
        back_populates="care_team", cascade="all, delete-orphan", order_by="CareTeamMember.id"
    )

    __mapper_args__ = {"version_id_col": version}


class CareTeamMember(Base):
    __tablename__ = "care_team_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    care_team_id: Mapped[str] = mapped_column(ForeignKey("care_team.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # patient | practitioner | organisation | related-person
    member_pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, nullable=True, index=True)
    member_nihii: Mapped[str | None] = mapped_column(NIHII, nullable=True)
    role: Mapped[str | None] = mapped_column(String(64), nullable=True)
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)

    care_team: Mapped[CareTeam] = relationship(back_populates="members")


class CareTeamVersion(Base):
    """One version of a care team as it was after a create or an update, for
    vread and history. Members are kept by pseudonym (never a plaintext NISS)."""

    __tablename__ = "care_team_version"
    __table_args__ = (Index("ux_care_team_version", "care_team_id", "version", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    care_team_id: Mapped[str] = mapped_column(ForeignKey("care_team.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))  # create | update
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_role: Mapped[str] = mapped_column(String(32))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)


class Referral(Base):
    """A referral (RF-1..RF-3): requester, what is asked, validity, status over time."""

    __tablename__ = "referral"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_pseudonym: Mapped[str] = mapped_column(PSEUDONYM, index=True)
    programme: Mapped[str] = mapped_column(String(32))  # general | return-to-work | perinatal
    category: Mapped[str] = mapped_column(String(64))
    service_requested: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # draft | active | on-hold | revoked | completed (request-status)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why it was revoked or completed by the requester
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    parties: Mapped[list["ReferralParty"]] = relationship(
        back_populates="referral", cascade="all, delete-orphan", order_by="ReferralParty.id"
    )

    __mapper_args__ = {"version_id_col": version}


class ReferralParty(Base):
    __tablename__ = "referral_party"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # requester | performer | validator
    party_pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, nullable=True)
    party_nihii: Mapped[str | None] = mapped_column(NIHII, nullable=True)
    party_cbe: Mapped[str | None] = mapped_column(String(10), nullable=True)
    party_role: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # a performer's Task (task-status: requested, received, accepted, ...) and why it was rejected, failed or cancelled
    task_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    task_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    referral: Mapped[Referral] = relationship(back_populates="parties")


class ReferralVersion(Base):
    """One version of a referral, for vread and history of its ServiceRequest
    and Tasks. Its parties never change, so a version holds only what moves:
    the referral's status and reason and each performer's Task (by party id);
    no person appears in it."""

    __tablename__ = "referral_version"
    __table_args__ = (Index("ux_referral_version", "referral_id", "version", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(48))  # create | the step taken (e.g. task:accepted)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_role: Mapped[str] = mapped_column(String(32))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)


class AuditRecord(Base):
    """One act, allowed or denied (IC-R8). Appended in the act's transaction
    with the next ``seq`` (no lock taken); sealed later, in order, into the
    SHA-256 hash chain: ``position`` in the chain, ``prev_hash`` and ``hash``
    stay NULL until then (gateway/domain/audit.py)."""

    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ix_audit_patient", "patient_pseudonym", "seq"),
        Index("ux_audit_position", "position", unique=True),
        Index("ix_audit_unsealed", "seq", sqlite_where=text("position IS NULL"), postgresql_where=text("position IS NULL")),
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_organisation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    action: Mapped[str] = mapped_column(String(48))
    outcome: Mapped[str] = mapped_column(String(16))  # allowed | denied | refused | failed
    code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rule: Mapped[str | None] = mapped_column(String(16), nullable=True)
    patient_pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, nullable=True)
    resource_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    resource_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    position: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditSubject(Base):
    """Whom audit records are about, kept apart from the records (IC-R8, DS-8).

    A record names the patient (and a patient acting about themselves) by a
    random token, never by the pseudonym: this row is the only link from the
    token to the person. It follows the person to a new number (IC-R5) and is
    deleted when the person's data are purged (IC-R6): the records keep what
    happened, when, by whom and with which outcome, and become about an
    unknown person, without a sealed record being changed."""

    __tablename__ = "audit_subject"

    token: Mapped[str] = mapped_column(String(36), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(PSEUDONYM, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditHead(Base):
    """The sealed chain's head (one row): its last position (``seq``) and hash.
    Only the sealer locks it, never an act."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


class FeedCursor(Base):
    """How far the gateway has read an external feed (the register's mutations)."""

    __tablename__ = "feed_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RightsRequest(Base):
    """A request of a person about their data (DS-2 correction, DS-3
    restriction, DS-4 objection), kept with its outcome."""

    __tablename__ = "rights_request"
    __table_args__ = (Index("ix_rights_patient", "patient_pseudonym", "kind"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    kind: Mapped[str] = mapped_column(String(16))  # correction | restriction | objection
    status: Mapped[str] = mapped_column(String(16))  # active | done | refused | closed (gateway.domain.rights)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # What the request names (NULL: all of the person's data), the processing an
    # objection names, and the answer of whoever handled it (DS-2..DS-4).
    target_type: Mapped[str | None] = mapped_column(String(16), nullable=True)  # inclusion | consent
    target_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    processing: Mapped[str | None] = mapped_column(String(32), nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answered_by_pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, nullable=True)
    answered_by_role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    answered_by_organisation: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __mapper_args__ = {"version_id_col": version}
