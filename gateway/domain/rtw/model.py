"""The stored part of return to work, on the gateway's own tables.

Only what the partners write is stored: the dossier (who opened it, when,
how) and its registration forms. Names, employers, prevention services,
insurer, regional registration and TRIO existence are looked up at read
time and never stored (RP-A7); the insured person is a pseudonym (IC-R10).
Rows are deleted 3 years after 1 January of the year after their last
change (RP-R1, :mod:`gateway.domain.rtw.retention`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.domain.model import PSEUDONYM, Base


class RtwDossier(Base):
    """One insured person's return-to-work dossier."""

    __tablename__ = "rtw_dossier"
    __table_args__ = (
        Index("ix_rtw_dossier_person", "insured_pseudonym"),
        Index("ix_rtw_dossier_updated", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    insured_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    status: Mapped[str] = mapped_column(String(16))  # open | closed
    opened_via: Mapped[str] = mapped_column(String(16))  # insurer | prevention | trio
    opened_by_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    opened_by_role: Mapped[str] = mapped_column(String(32))
    opened_by_cbe: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the last change (RP-R1)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    forms: Mapped[list["RtwForm"]] = relationship(back_populates="dossier", cascade="all, delete-orphan",
                                                  order_by="RtwForm.created_at")

    __mapper_args__ = {"version_id_col": version}


class RtwForm(Base):
    """A registration form (AMF, RP-F1): its items as the spec lists them."""

    __tablename__ = "rtw_form"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("rtw_dossier.id", ondelete="CASCADE"), index=True)
    routing: Mapped[str] = mapped_column(String(32))  # insurer | occupational-physician | regional-request
    status: Mapped[str] = mapped_column(String(16))  # active | withdrawn
    expectations: Mapped[str | None] = mapped_column(Text, nullable=True)
    work_problems: Mapped[str | None] = mapped_column(Text, nullable=True)
    incapacity_start: Mapped[date] = mapped_column(Date)
    coordinator_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    advising_physician_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    team_member_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    target_group: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # routing C only
    occupational_physician_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    physician_expectations: Mapped[str | None] = mapped_column(Text, nullable=True)  # medical (RP-A6)
    functional_capacities: Mapped[str | None] = mapped_column(Text, nullable=True)  # medical (RP-A6)
    created_by_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    created_by_role: Mapped[str] = mapped_column(String(32))
    created_by_cbe: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    dossier: Mapped[RtwDossier] = relationship(back_populates="forms")

    __mapper_args__ = {"version_id_col": version}


# The trajectory's tables (requests, decisions, lists, messages) hang from the
# dossier: whoever loads the dossier's tables loads them too.
import gateway.domain.rtw.trajectory_model  # noqa: E402,F401
