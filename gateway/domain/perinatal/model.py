"""The stored part of the perinatal programme, on the gateway's own tables.

The woman and the child are pseudonyms (IC-R10); names, birth dates and
addresses are read from the national register at read time and never
stored. A screening keeps the coded answers only (no free text: what is
not needed is not collected) and the vulnerability profile derived from
them, each with the version of the questionnaire and of the derivation
rules it was made with. Nothing is deleted when the consent is withdrawn
(PN-2): what was done stays, as the law keeps it; the episode says from
when nothing more may be processed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.domain.model import NIHII, PSEUDONYM, Base


class PerinatalEpisode(Base):
    """One woman's follow-up in the programme (an EpisodeOfCare)."""

    __tablename__ = "perinatal_episode"
    __table_args__ = (
        Index("ix_perinatal_episode_woman", "woman_pseudonym"),
        Index("ix_perinatal_episode_child", "child_pseudonym"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    woman_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    care_team_id: Mapped[str] = mapped_column(String(36))  # the CareTeam (CT-1..CT-5) that follows her
    status: Mapped[str] = mapped_column(String(16))  # active | finished
    pregnancy_declared_on: Mapped[date] = mapped_column(Date)
    expected_delivery: Mapped[date | None] = mapped_column(Date, nullable=True)
    child_pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, nullable=True)
    child_born_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the child's third birthday
    consent_status: Mapped[str] = mapped_column(String(16))  # given | withdrawn (PN-2)
    consent_given_on: Mapped[date] = mapped_column(Date)
    consent_recorded_by_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    consent_recorded_by_role: Mapped[str] = mapped_column(String(32))
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    consent_withdrawn_by_role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    opened_by_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    opened_by_nihii: Mapped[str | None] = mapped_column(NIHII, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    screenings: Mapped[list["PerinatalScreening"]] = relationship(back_populates="episode", cascade="all, delete-orphan",
                                                                  order_by="PerinatalScreening.created_at")

    __mapper_args__ = {"version_id_col": version}


class PerinatalScreening(Base):
    """One filled screening (a QuestionnaireResponse) and its derived profile."""

    __tablename__ = "perinatal_screening"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    episode_id: Mapped[str] = mapped_column(ForeignKey("perinatal_episode.id", ondelete="CASCADE"), index=True)
    questionnaire_version: Mapped[str] = mapped_column(String(16))
    profile_version: Mapped[str] = mapped_column(String(16))  # the derivation rules' version
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)  # domain -> concern | no-concern | declined
    needs: Mapped[dict[str, Any]] = mapped_column(JSON)  # domain -> action | none | ask-again
    screened_by_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    screened_by_nihii: Mapped[str | None] = mapped_column(NIHII, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    episode: Mapped[PerinatalEpisode] = relationship(back_populates="screenings")


class PerinatalReferral(Base):
    """Which vulnerability of which screening a perinatal referral answers (RF-3)."""

    __tablename__ = "perinatal_referral"

    referral_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    episode_id: Mapped[str] = mapped_column(ForeignKey("perinatal_episode.id", ondelete="CASCADE"), index=True)
    screening_id: Mapped[str] = mapped_column(String(36))
    domain: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
