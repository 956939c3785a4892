"""Tables of the identity layer, on the gateway's own Base, so that several
gateway instances behind a load balancer share one replay cache."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.domain.model import Base


class SeenMessage(Base):
    """A signed message already accepted, by the SHA-256 of its signature
    value, kept until its Timestamp expires (after that the timestamp check
    refuses it anyway)."""

    __tablename__ = "seen_message"
    __table_args__ = (Index("ix_seen_message_expires", "expires"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires: Mapped[datetime] = mapped_column(DateTime(timezone=True))
