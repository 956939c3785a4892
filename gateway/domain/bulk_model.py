"""The stored part of bulk exports to insurers (IC-R7): the job, its output
files, and their contents in encrypted chunks.

The gateway keeps no state outside its database (several instances serve
behind one load balancer), so an export's NDJSON files live here too: cut
into chunks of about a megabyte, each sealed with AES-GCM under a key
derived for its job (:mod:`gateway.domain.bulk_export`). The files name
members by NISS, as the insurers need them; sealed, the database still
holds no plaintext NISS (IC-R10). Deleting the job deletes its files.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.domain.model import PSEUDONYM, Base


class ExportJob(Base):
    """One bulk export asked by an insurer: what, for whom, how far it got."""

    __tablename__ = "export_job"
    __table_args__ = (Index("ix_export_job_insurer", "insurer_code", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # random: the status URL's id
    insurer_code: Mapped[str] = mapped_column(String(3))
    cohort: Mapped[str] = mapped_column(String(16))  # billing | research
    types: Mapped[list[str]] = mapped_column(JSON)
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    request_url: Mapped[str] = mapped_column(Text)
    requester_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    requester_role: Mapped[str] = mapped_column(String(32))
    requester_organisation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # accepted | in-progress | completed | failed
    processed: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    transaction_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ExportFile(Base):
    """One NDJSON output file of a job: resources of one type, at most a set number."""

    __tablename__ = "export_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("export_job.id", ondelete="CASCADE"), index=True)
    resource_type: Mapped[str] = mapped_column(String(32))
    part: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(Integer, default=0)


class ExportChunk(Base):
    """A run of whole NDJSON lines of one file, sealed (nonce + AES-GCM ciphertext)."""

    __tablename__ = "export_chunk"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("export_file.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
