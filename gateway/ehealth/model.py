"""Tables of the simulated eHealth platform, in its own database
(:mod:`gateway.ehealth.store`), never in the gateway's. The national
register is the one place where a plaintext NISS may be stored
(``DESIGN.md``): this *is* the register.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.ehealth.store import PlatformBase as Base


class RegisterMutationRow(Base):
    """One event of the national register's mutation feed (deaths, NISS
    changes), read by the gateway to apply IC-R4 and IC-R5.

    ``seq`` only grows (SQLite AUTOINCREMENT never reuses a number), so a
    reader's cursor never misses or repeats an event.
    """

    __tablename__ = "register_mutation"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # MutationKind: death | niss-change
    niss: Mapped[str] = mapped_column(String(11))  # the person's current number when the event happened
    new_niss: Mapped[str | None] = mapped_column(String(11), nullable=True)
    effective: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
