"""Bulk exports to the insurers (IC-R7), run as asynchronous jobs.

An insurer asks for an export of one cohort of its own members: ``billing``
(every inclusion of its members and their decision in force, a legal
obligation) or ``research`` (only members whose decision in force is
``agree``, their inclusions from the date they agreed, nothing under a
restriction or an objection, DS-3/DS-4). The job streams over the database
in keyset-ordered batches, asks each patient's insurer once per pass, and
writes the rendered lines into sealed chunks of its output files: memory
stays bounded whatever the number of inclusions.

The domain knows no wire format: the face gives :meth:`BulkExportService.run`
a renderer that turns each :class:`InclusionRecord` or
:class:`ConsentRecord` into one line (FHIR NDJSON for the FHIR face).

Every act is audited (IC-R8): the kick-off, each status read, the run's
completion with its counts, each file downloaded, the deletion.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.orm import Session

from gateway.domain.acts import Act, well_formed_id
from gateway.domain.bulk_model import ExportChunk, ExportFile, ExportJob
from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied, Concealed, Conflict, InvalidInput, NotFound
from gateway.domain.exports import INSURER_CODES
from gateway.domain.model import ConsentDecision, Inclusion, RightsRequest
from gateway.domain.rights import IN_FORCE

if TYPE_CHECKING:
    from gateway.domain.principal import Principal

log = logging.getLogger("gateway.exports")

COHORTS = ("billing", "research")
KINDS = ("inclusion", "consent")
BATCH = 1000  # inclusions read per query
CHUNK_BYTES = 1 << 20  # lines sealed together, about a megabyte
LINES_PER_FILE = 100_000  # resources per output file
STALE_AFTER = timedelta(minutes=10)  # a job with no heartbeat for this long was interrupted


@dataclass(frozen=True)
class InclusionRecord:
    """One inclusion as exported (research: from the date the patient agreed)."""

    id: str
    patient_niss: str
    psi_nihii: str
    status: str
    start_date: date
    end_date: date | None
    billing_start: date
    billing_end: date | None
    declared_by_nihii: str | None
    declared_by_role: str
    created_at: datetime
    updated_at: datetime
    version: int
    restricted: bool = False
    agreed_on: date | None = None  # research: the decision the data rest on


@dataclass(frozen=True)
class ConsentRecord:
    """The patient's decision in force, as exported."""

    id: str  # the Consent it is a version of
    patient_niss: str
    decision: str
    decision_date: date
    recorded_at: datetime
    recorded_by_role: str
    recorded_by_organisation: str | None
    withdrawn: bool


Renderer = Callable[[InclusionRecord | ConsentRecord], tuple[str, bytes]]  # (output type, one line without newline)


@dataclass(frozen=True)
class FileView:
    name: str
    output_type: str
    part: int
    count: int
    size: int


@dataclass(frozen=True)
class JobView:
    id: str
    insurer_code: str
    cohort: str
    kinds: tuple[str, ...]
    since: datetime | None
    request_url: str
    status: str
    processed: int
    total: int
    transaction_time: datetime
    completed_at: datetime | None
    error: str | None
    files: tuple[FileView, ...] = field(default_factory=tuple)

    @property
    def progress(self) -> str:
        if self.status == "accepted" or not self.total:
            return "queued"
        return f"{min(100, 100 * self.processed // self.total)}% ({self.processed} of {self.total} records read)"


def _utc(value: datetime) -> datetime:
    from datetime import timezone

    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


class Sealer:
    """AES-GCM under a key derived from the pseudonym secret for one job: a
    chunk is readable only with the gateway's secret, and only as the chunk
    of that file at that place (associated data)."""

    def __init__(self, secret: str, job_id: str) -> None:
        master = hashlib.sha512(secret.encode("utf-8")).digest()
        key = HKDF(hashes.SHA256(), 32, salt=b"care-gateway:bulk-export:v1", info=job_id.encode("ascii")).derive(master)
        self._aead = AESGCM(key)

    def seal(self, data: bytes, where: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, where.encode("ascii"))

    def open(self, sealed: bytes, where: str) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], where.encode("ascii"))


class _FileWriter:
    """The output files of one type: lines buffered, sealed by the chunk,
    a new file every LINES_PER_FILE lines."""

    def __init__(self, ctx: DomainContext, job_id: str, output_type: str, sealer: Sealer) -> None:
        self.ctx, self.job_id, self.output_type, self.sealer = ctx, job_id, output_type, sealer
        self.file_id: int | None = None
        self.part, self.count, self.size, self.seq = 0, 0, 0, 0
        self.buffer = bytearray()

    def add(self, line: bytes) -> None:
        if self.file_id is None or self.count >= LINES_PER_FILE:
            self.close()
            self._open()
        self.buffer += line
        self.buffer += b"\n"
        self.count += 1
        if len(self.buffer) >= CHUNK_BYTES:
            self._flush()

    def _open(self) -> None:
        self.part += 1
        with self.ctx.db.transaction() as session:
            row = ExportFile(job_id=self.job_id, resource_type=self.output_type, part=self.part, count=0, size=0)
            session.add(row)
            session.flush()
            self.file_id = row.id
        self.count, self.size, self.seq = 0, 0, 0

    def _flush(self) -> None:
        if not self.buffer or self.file_id is None:
            return
        self.seq += 1
        data = bytes(self.buffer)
        self.buffer.clear()
        sealed = self.sealer.seal(data, f"{self.file_id}:{self.seq}")
        self.size += len(data)
        with self.ctx.db.transaction() as session:
            session.add(ExportChunk(file_id=self.file_id, seq=self.seq, data=sealed))
            session.execute(update(ExportFile).where(ExportFile.id == self.file_id).values(count=self.count, size=self.size))

    def close(self) -> None:
        if self.file_id is not None:
            self._flush()
            with self.ctx.db.transaction() as session:
                session.execute(update(ExportFile).where(ExportFile.id == self.file_id).values(count=self.count, size=self.size))


class Interrupted(Exception):
    """The job was deleted while it ran."""


class BulkExportService:
    def __init__(self, ctx: DomainContext) -> None:
        self.ctx = ctx

    # ------------------------------------------------------------ kick-off

    def _own_insurer(self, act: Act) -> str:
        """The insurer code of the calling insurer's organisation."""
        if act.principal.role != "insurer":
            raise AccessDenied("export-not-allowed", "Bulk exports go to insurers only, each for its own members; there is no "
                               "mass export for anyone else (IC-A8).", rule="IC-R7")
        act.require(self.ctx.policy.standing(act.principal), names_rule=False)
        org = self.ctx.facts.organisation(act.principal.organisation_nihii or "")
        if org is None or not org.insurer_code:
            raise AccessDenied("unknown-insurer", "The calling organisation is not a known insurer.", rule="IC-R7")
        return org.insurer_code

    def kick_off(self, principal: Principal, *, insurer_code: str | None = None, cohort: str = "billing",
                 kinds: Sequence[str] = KINDS, since: datetime | None = None, request_url: str = "",
                 channel: str = "internal") -> JobView:
        """Accept an export job of the caller's own members (IC-R7); one job runs per insurer at a time."""
        ctx = self.ctx

        def body(act: Act) -> JobView:
            own = self._own_insurer(act)
            code = insurer_code or own
            if code not in INSURER_CODES:
                raise NotFound("unknown-group", f"No export group for insurer {code!r}.", rule="IC-R7", path="group")
            act.require(ctx.policy.export(principal, code))
            if cohort not in COHORTS:
                raise InvalidInput("unknown-cohort", f"An export is one of {', '.join(COHORTS)}, not {cohort!r}.", rule="IC-R7",
                                   path="group")
            unknown = sorted(set(kinds) - set(KINDS))
            if unknown or not kinds:
                raise InvalidInput("unknown-type", f"An export holds inclusions and consent decisions, not {', '.join(unknown)}.",
                                   rule="IC-R7", path="_type")
            if since is not None and _utc(since) > act.now:
                raise InvalidInput("since-in-future", "_since is in the future: nothing changed after it yet.", rule="IC-R7",
                                   path="_since")
            self._mark_stale(act.session, code, act.now)
            running = act.session.execute(select(ExportJob.id).where(
                ExportJob.insurer_code == code, ExportJob.status.in_(("accepted", "in-progress"))).limit(1)).first()
            if running is not None:
                raise Conflict("export-running", "An export of your members is already running; poll it, or delete it, "
                               "before asking for another.", rule="IC-R7")
            job = ExportJob(
                id=str(uuid.uuid4()), insurer_code=code, cohort=cohort, types=list(kinds), since=since, request_url=request_url,
                requester_pseudonym=act.actor_pseudonym, requester_role=principal.role.value,
                requester_organisation=principal.organisation, status="accepted", processed=0, total=0,
                transaction_time=act.now, created_at=act.now, heartbeat_at=act.now, detail={},
            )
            act.session.add(job)
            act.session.flush()
            act.resource_type, act.resource_id = "export", job.id
            act.detail.update(insurer=code, cohort=cohort, types=list(kinds), since=since.isoformat() if since else None)
            return self._view(act.session, job)

        return ctx.runner.run(principal, "export.kick-off", body, channel=channel, resource_type="export")

    @staticmethod
    def _mark_stale(session: Session, code: str, now: datetime) -> None:
        """A job whose heartbeat stopped (its instance went away) failed: say so, so that another may start."""
        session.execute(update(ExportJob).where(
            ExportJob.insurer_code == code, ExportJob.status.in_(("accepted", "in-progress")),
            ExportJob.heartbeat_at < now - STALE_AFTER,
        ).values(status="failed", error="The export was interrupted (its server stopped); delete it and ask again.")
            .execution_options(synchronize_session=False))

    # ------------------------------------------------------------ reading a job

    def _job(self, act: Act, job_id: str) -> ExportJob:
        """The caller's own job; for anyone else it does not exist."""
        unknown = NotFound("unknown-export", "No export job with this id.", rule="IC-R7", path="id")
        own = self._own_insurer(act)
        job = act.session.get(ExportJob, job_id) if well_formed_id(job_id) else None
        if job is None:
            raise unknown
        if job.insurer_code != own or job.requester_organisation != act.principal.organisation:
            act.rule = "IC-R7"
            raise Concealed(unknown, AccessDenied("not-own-export", "Another insurer's export.", rule="IC-R7"))
        act.require(self.ctx.policy.export(act.principal, job.insurer_code))
        return job

    def _view(self, session: Session, job: ExportJob) -> JobView:
        files = session.execute(select(ExportFile).where(ExportFile.job_id == job.id)
                                .order_by(ExportFile.resource_type, ExportFile.part)).scalars().all()
        return JobView(
            job.id, job.insurer_code, job.cohort, tuple(job.types), job.since, job.request_url, job.status, job.processed,
            job.total, _utc(job.transaction_time), job.completed_at, job.error,
            tuple(FileView(f"{f.resource_type}-{f.part}.ndjson", f.resource_type, f.part, f.count, f.size) for f in files),
        )

    def status(self, principal: Principal, job_id: str, *, channel: str = "internal") -> JobView:
        def body(act: Act) -> JobView:
            job = self._job(act, job_id)
            self._mark_stale(act.session, job.insurer_code, act.now)
            act.session.refresh(job)
            act.detail.update(status=job.status, processed=job.processed)
            return self._view(act.session, job)

        return self.ctx.runner.run(principal, "export.status", body, channel=channel, resource_type="export", resource_id=job_id)

    def open_file(self, principal: Principal, job_id: str, name: str, *, channel: str = "internal") -> tuple[int, FileView]:
        """Allow one download (audited) of a completed job's file: its id, for :meth:`chunks`."""
        def body(act: Act) -> tuple[int, FileView]:
            job = self._job(act, job_id)
            view = self._view(act.session, job)
            found = next((f for f in view.files if f.name == name), None)
            if job.status != "completed" or found is None:
                raise NotFound("unknown-export-file", f"No file {name} in this export (see its manifest).", rule="IC-R7", path="file")
            file_id = act.session.execute(select(ExportFile.id).where(
                ExportFile.job_id == job.id, ExportFile.resource_type == found.output_type, ExportFile.part == found.part)).scalar_one()
            act.detail.update(file=name, count=found.count)
            return file_id, found

        return self.ctx.runner.run(principal, "export.download", body, channel=channel, resource_type="export", resource_id=job_id)

    def chunks(self, job_id: str, file_id: int) -> Iterator[bytes]:
        """A file's contents, chunk by chunk, each read in a short transaction of its own."""
        sealer = Sealer(self.ctx.settings.pseudonym_secret, job_id)
        last = 0
        while True:
            with self.ctx.db.transaction() as session:
                row = session.execute(select(ExportChunk.seq, ExportChunk.data).where(
                    ExportChunk.file_id == file_id, ExportChunk.seq > last).order_by(ExportChunk.seq).limit(1)).first()
            if row is None:
                return
            last = row[0]
            yield sealer.open(row[1], f"{file_id}:{row[0]}")

    def delete(self, principal: Principal, job_id: str, *, channel: str = "internal") -> None:
        """Delete a job and its files, running or not (the Bulk Data DELETE)."""
        def body(act: Act) -> None:
            job = self._job(act, job_id)
            self._drop(act.session, job.id)
            act.detail["status"] = job.status

        self.ctx.runner.run(principal, "export.delete", body, channel=channel, resource_type="export", resource_id=job_id)

    @staticmethod
    def _drop(session: Session, job_id: str) -> None:
        files = select(ExportFile.id).where(ExportFile.job_id == job_id).scalar_subquery()
        session.execute(delete(ExportChunk).where(ExportChunk.file_id.in_(files)))
        session.execute(delete(ExportFile).where(ExportFile.job_id == job_id))
        session.execute(delete(ExportJob).where(ExportJob.id == job_id))

    # ------------------------------------------------------------ running a job

    def run(self, job_id: str, principal: Principal, render: Renderer, *, channel: str = "internal") -> None:
        """Produce the job's files (in the background of the kick-off); its
        completion, or its failure, is an act of the requester."""
        ctx = self.ctx
        try:
            with ctx.db.transaction() as session:
                job = session.get(ExportJob, job_id)
                if job is None or job.status != "accepted":
                    return
                job.status, job.heartbeat_at = "in-progress", ctx.clock.now()
                params = (job.insurer_code, job.cohort, tuple(job.types), job.since)
            code, cohort, kinds, since = params
            counts = self._produce(job_id, code, cohort, kinds, since, render)
        except Interrupted:
            log.info("export %s deleted while it ran", job_id)
            with ctx.db.transaction() as session:
                self._drop(session, job_id)
            return
        except Exception as exc:  # noqa: BLE001 - the job fails, the insurer reads why
            log.exception("export %s failed", job_id)
            failure = f"The export failed ({type(exc).__name__}); the error is logged. Delete it and ask again."
            with ctx.db.transaction() as session:
                session.execute(update(ExportJob).where(ExportJob.id == job_id).values(status="failed", error=failure))
            return

        def body(act: Act) -> None:
            job = act.session.get(ExportJob, job_id)
            if job is None:
                raise NotFound("unknown-export", "The export was deleted while it ran.", rule="IC-R7", path="id")
            job.status, job.completed_at, job.heartbeat_at = "completed", act.now, act.now
            job.detail = dict(counts)
            act.rule = "IC-R7"
            act.detail.update(insurer=code, cohort=cohort, **counts)

        try:
            ctx.runner.run(principal, "export.complete", body, channel=channel, resource_type="export", resource_id=job_id)
        except NotFound:
            with ctx.db.transaction() as session:
                self._drop(session, job_id)

    def _produce(self, job_id: str, code: str, cohort: str, kinds: tuple[str, ...], since: datetime | None,
                 render: Renderer) -> dict[str, int]:
        ctx = self.ctx
        today = ctx.clock.today()
        sealer = Sealer(ctx.settings.pseudonym_secret, job_id)
        writers: dict[str, _FileWriter] = {}
        counts = {"inclusion": 0, "consent": 0, "members": 0}

        def emit(record: InclusionRecord | ConsentRecord) -> None:
            output_type, line = render(record)
            if output_type not in writers:
                writers[output_type] = _FileWriter(ctx, job_id, output_type, sealer)
            writers[output_type].add(line)

        with ctx.db.transaction() as session:
            total = 0
            if "inclusion" in kinds:
                total += session.scalar(select(func.count()).select_from(Inclusion).where(*_changed_since(since))) or 0
            if "consent" in kinds:
                total += session.scalar(select(func.count(func.distinct(ConsentDecision.patient_pseudonym)))) or 0
            session.execute(update(ExportJob).where(ExportJob.id == job_id).values(total=total))
        processed = 0
        insurer = _InsurerCache(ctx, code, today)
        if "inclusion" in kinds:
            after: tuple[str, str] = ("", "")
            while True:
                with ctx.db.transaction() as session:
                    rows = session.execute(select(Inclusion).where(
                        tuple_(Inclusion.patient_pseudonym, Inclusion.id) > tuple_(*after), *_changed_since(since))
                        .order_by(Inclusion.patient_pseudonym, Inclusion.id).limit(BATCH)).scalars().all()
                    session.expunge_all()
                    gates = _Gates(session, {r.patient_pseudonym for r in rows}) if rows else None
                if not rows or gates is None:
                    break
                for inc in rows:
                    niss = insurer.member(inc.patient_pseudonym)
                    if niss is None:
                        continue
                    record = _inclusion_record(inc, niss, gates, cohort)
                    if record is not None:
                        emit(record)
                        counts["inclusion"] += 1
                after = (rows[-1].patient_pseudonym, rows[-1].id)
                processed += len(rows)
                self._heartbeat(job_id, processed)
        if "consent" in kinds:  # each patient's decision in force: the last of their rows, read in (patient, id) order
            after = ("", 0)  # type: ignore[assignment]
            pending: ConsentDecision | None = None

            def settle(decision: ConsentDecision, gates: _Gates) -> None:
                if since is not None and _utc(decision.recorded_at) < _utc(since):
                    return
                niss = insurer.member(decision.patient_pseudonym)
                if niss is None or (cohort == "research" and not gates.research_allowed(decision.patient_pseudonym)):
                    return
                emit(ConsentRecord(decision.thread_id or decision.public_id, niss, decision.decision, decision.decision_date,
                                   _utc(decision.recorded_at), decision.recorded_by_role, decision.recorded_by_organisation,
                                   bool(decision.withdrawn)))
                counts["consent"] += 1

            while True:
                with ctx.db.transaction() as session:
                    decisions = session.execute(select(ConsentDecision).where(
                        tuple_(ConsentDecision.patient_pseudonym, ConsentDecision.id) > tuple_(*after))
                        .order_by(ConsentDecision.patient_pseudonym, ConsentDecision.id).limit(BATCH)).scalars().all()
                    session.expunge_all()
                    patients = {d.patient_pseudonym for d in decisions} | ({pending.patient_pseudonym} if pending else set())
                    gates = _Gates(session, patients)
                for decision in decisions:
                    if pending is not None and pending.patient_pseudonym != decision.patient_pseudonym:
                        settle(pending, gates)
                        processed += 1
                    pending = decision
                if not decisions:
                    if pending is not None:
                        settle(pending, gates)
                        processed += 1
                    break
                after = (decisions[-1].patient_pseudonym, decisions[-1].id)
                self._heartbeat(job_id, processed)
        for writer in writers.values():
            writer.close()
        counts["members"] = insurer.members
        return counts

    def _heartbeat(self, job_id: str, processed: int) -> None:
        with self.ctx.db.transaction() as session:
            moved = session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
                processed=processed, heartbeat_at=self.ctx.clock.now()))
            if moved.rowcount == 0:  # type: ignore[attr-defined]
                raise Interrupted(job_id)


def _changed_since(since: datetime | None) -> tuple:  # type: ignore[type-arg]
    return () if since is None else (Inclusion.updated_at >= since,)


class _InsurerCache:
    """Is this patient a member of the insurer (asked of the insurer facts,
    once per patient in a row: the passes read patients in order)?"""

    def __init__(self, ctx: DomainContext, code: str, today: date) -> None:
        self.ctx, self.code, self.today = ctx, code, today
        self.last: tuple[str, str | None] = ("", None)
        self.members = 0

    def member(self, pseudonym: str) -> str | None:
        if self.last[0] != pseudonym:
            niss = self.ctx.pseudonyms.reveal(pseudonym)
            mine = self.ctx.facts.insurer_of(niss, self.today) == self.code
            self.members += int(mine)
            self.last = (pseudonym, niss if mine else None)
        return self.last[1]


class _Gates:
    """What decides, for one batch of patients, what the research cohort
    may carry: the decision in force, objections and restrictions (DS-3, DS-4)."""

    def __init__(self, session: Session, pseudonyms: set[str]) -> None:
        latest = select(func.max(ConsentDecision.id)).where(
            ConsentDecision.patient_pseudonym.in_(pseudonyms)).group_by(ConsentDecision.patient_pseudonym)
        self.consent = {c.patient_pseudonym: (c.decision, c.decision_date) for c in session.execute(
            select(ConsentDecision).where(ConsentDecision.id.in_(latest))).scalars()}
        self.blocked: set[str] = set()
        self.restricted_all: set[str] = set()
        self.restricted: set[str] = set()
        for patient, kind, processing, target_type, target_id in session.execute(select(
                RightsRequest.patient_pseudonym, RightsRequest.kind, RightsRequest.processing, RightsRequest.target_type,
                RightsRequest.target_id).where(RightsRequest.patient_pseudonym.in_(pseudonyms), RightsRequest.status.in_(IN_FORCE))):
            if kind == "objection" and processing in (None, "research"):
                self.blocked.add(patient)
            elif kind == "restriction" and target_type in (None, "consent"):
                self.blocked.add(patient)
                if target_type is None:
                    self.restricted_all.add(patient)
            elif kind == "restriction" and target_type == "inclusion" and target_id:
                self.restricted.add(target_id)

    def research_allowed(self, pseudonym: str) -> bool:
        decision = self.consent.get(pseudonym)
        return decision is not None and decision[0] == "agree" and pseudonym not in self.blocked

    def agreed_on(self, pseudonym: str) -> date | None:
        return self.consent[pseudonym][1] if self.research_allowed(pseudonym) else None

    def is_restricted(self, inc: Inclusion) -> bool:
        return inc.patient_pseudonym in self.restricted_all or inc.id in self.restricted


def _inclusion_record(inc: Inclusion, niss: str, gates: _Gates, cohort: str) -> InclusionRecord | None:
    restricted = gates.is_restricted(inc)
    start, agreed = inc.start_date, None
    if cohort == "research":
        agreed = gates.agreed_on(inc.patient_pseudonym)
        if agreed is None or restricted or (inc.end_date is not None and inc.end_date < agreed):
            return None  # IC-R7: only who agreed, from when they agreed; DS-3: nothing restricted
        start = max(inc.start_date, agreed)
    return InclusionRecord(
        inc.id, niss, inc.psi_nihii, inc.status, start, inc.end_date, inc.billing_start, inc.billing_end, inc.declared_by_nihii,
        inc.declared_by_role, _utc(inc.created_at), _utc(inc.updated_at), inc.version, restricted, agreed,
    )


__all__ = ["BulkExportService", "ConsentRecord", "FileView", "InclusionRecord", "JobView", "Renderer", "Sealer"]
