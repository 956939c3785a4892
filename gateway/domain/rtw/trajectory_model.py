"""The stored part of the return-to-work trajectory (RP-F3..RP-F9, RF-2):
requests with their trainings and status history, INAMI's decisions and
their publications, the hours the regional services report, and the
messages of the dossiers (the medical exchange among them).

Nothing here names the insured person: a request hangs from its dossier,
whose person is a pseudonym (IC-R10). Everything is deleted with the
dossier under RP-R1 (:mod:`gateway.domain.rtw.retention`). Statistics
(RP-R3) count these rows, never a person.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.domain.model import PSEUDONYM, Base


class RtwRequest(Base):
    """A training or coaching request (RP-F3): a referral to a regional
    service, validated by the insurer (RP-F4) and decided by INAMI (RP-F5)."""

    __tablename__ = "rtw_request"
    __table_args__ = (
        Index("ix_rtw_request_status", "status", "received_at"),
        Index("ix_rtw_request_created", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("rtw_dossier.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # training | coaching
    project: Mapped[str] = mapped_column(Text)
    counsellor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    filed_by_party: Mapped[str] = mapped_column(String(16))  # regional | insurer
    filed_by_cbe: Mapped[str] = mapped_column(String(10))
    filed_by_role: Mapped[str] = mapped_column(String(32))
    filed_by_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    insurer_cbe: Mapped[str] = mapped_column(String(10), index=True)
    insurer_code: Mapped[str] = mapped_column(String(3))
    regional_cbe: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    region: Mapped[str | None] = mapped_column(String(16), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # reached INAMI
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    trainings: Mapped[list["RtwTraining"]] = relationship(back_populates="request", cascade="all, delete-orphan",
                                                          order_by="RtwTraining.position")
    steps: Mapped[list["RtwRequestStep"]] = relationship(back_populates="request", cascade="all, delete-orphan",
                                                         order_by="RtwRequestStep.seq")

    __mapper_args__ = {"version_id_col": version}


class RtwTraining(Base):
    """One training of a request, with its cost (in cents) and planned hours."""

    __tablename__ = "rtw_training"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rtw_request.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(200), nullable=True)
    hours_planned: Mapped[int] = mapped_column(Integer)
    cost_cents: Mapped[int] = mapped_column(Integer)

    request: Mapped[RtwRequest] = relationship(back_populates="trainings")


class RtwRequestStep(Base):
    """The status history of a request: each step is one act (filed,
    validated, rejected, submitted, decided, published)."""

    __tablename__ = "rtw_request_step"
    __table_args__ = (UniqueConstraint("request_id", "seq", name="uq_rtw_request_step_seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rtw_request.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))  # the request's status after the step
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_cbe: Mapped[str | None] = mapped_column(String(10), nullable=True)
    rule: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    request: Mapped[RtwRequest] = relationship(back_populates="steps")


class RtwDecision(Base):
    """INAMI's decision on a request (RP-F5), published by the weekly run."""

    __tablename__ = "rtw_decision"
    __table_args__ = (Index("ix_rtw_decision_week", "week", "published_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rtw_request.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str] = mapped_column(String(16))  # approved | refused
    costs_granted_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by_role: Mapped[str] = mapped_column(String(32))
    decided_by_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    week: Mapped[str] = mapped_column(String(8))  # ISO week of the decision, 2026-W49
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RtwPublication(Base):
    """One decision in one recipient's list (RP-F5, RP-F7). Unique per
    decision and recipient: a run publishes each decision exactly once."""

    __tablename__ = "rtw_publication"
    __table_args__ = (
        UniqueConstraint("decision_id", "recipient", name="uq_rtw_publication"),
        Index("ix_rtw_publication_list", "recipient", "week"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("rtw_decision.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rtw_request.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(10))  # a party: a CBE
    week: Mapped[str] = mapped_column(String(8))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RtwHours(Base):
    """Hours performed in a training, as the regional service reports them (RP-F7)."""

    __tablename__ = "rtw_hours"
    __table_args__ = (Index("ix_rtw_hours_period", "regional_cbe", "performed_on"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    training_id: Mapped[str] = mapped_column(ForeignKey("rtw_training.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("rtw_request.id", ondelete="CASCADE"), index=True)
    regional_cbe: Mapped[str] = mapped_column(String(10))
    performed_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[int] = mapped_column(Integer)
    reported_by_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RtwMessage(Base):
    """A message between two parties of a dossier (RP-F6), or medical data
    from an insurer's advising physician to INAMI's medical inspector
    (``kind`` medical, RP-F8, RP-A6). A party is an organisation's CBE;
    INAMI is one party, ``inami``."""

    __tablename__ = "rtw_message"
    __table_args__ = (Index("ix_rtw_message_conversation", "dossier_id", "party_low", "party_high", "sent_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("rtw_dossier.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # message | medical
    sender: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(10))
    party_low: Mapped[str] = mapped_column(String(10))  # the conversation: its two parties, ordered
    party_high: Mapped[str] = mapped_column(String(10))
    sender_role: Mapped[str] = mapped_column(String(32))
    sender_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


TRAJECTORY_TABLES = (RtwHours, RtwPublication, RtwDecision, RtwRequestStep, RtwTraining, RtwMessage, RtwRequest)


def delete_trajectory(session, dossier_ids: list[str]) -> int:  # type: ignore[no-untyped-def]
    """RP-R1: delete the trajectory of these dossiers (children first, whatever
    the database does with foreign keys); returns the number of requests."""
    from sqlalchemy import delete, func, select

    if not dossier_ids:
        return 0
    requests = select(RtwRequest.id).where(RtwRequest.dossier_id.in_(dossier_ids)).scalar_subquery()
    count = session.execute(select(func.count()).select_from(RtwRequest).where(RtwRequest.dossier_id.in_(dossier_ids))).scalar_one()
    for table in (RtwHours, RtwPublication):
        session.execute(delete(table).where(table.request_id.in_(requests)))
    session.execute(delete(RtwDecision).where(RtwDecision.request_id.in_(requests)))
    session.execute(delete(RtwRequestStep).where(RtwRequestStep.request_id.in_(requests)))
    session.execute(delete(RtwTraining).where(RtwTraining.request_id.in_(requests)))
    session.execute(delete(RtwMessage).where(RtwMessage.dossier_id.in_(dossier_ids)))
    session.execute(delete(RtwRequest).where(RtwRequest.dossier_id.in_(dossier_ids)))
    return int(count)
