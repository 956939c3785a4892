"""FHIR Bulk Data Access (v2) for the insurers' exports (IC-R7).

- kick-off: ``GET [base]/Group/{group}/$export`` or ``GET [base]/$export``
  (the caller's own insurer, billing), with ``Prefer: respond-async``,
  ``_type`` (EpisodeOfCare, Consent), ``_since`` and ``_outputFormat``
  (NDJSON). Groups: ``insurer-{code}`` (billing: every inclusion of the
  insurer's members, their decision in force) and
  ``insurer-{code}-research`` (IC-R7's research export: members who agreed,
  from the date they agreed, nothing restricted or objected to, DS-3/DS-4).
  202 with ``Content-Location``, the status URL.
- status: ``GET [base]/$export-status/{job}``: 202 with ``X-Progress`` and
  ``Retry-After`` while it runs, then 200 with the manifest; a failure is a
  500 OperationOutcome. ``DELETE`` deletes the job and its files (202).
- files: ``GET [base]/$export-file/{job}/{Type}-{n}.ndjson``, streamed,
  with the same bearer token (``requiresAccessToken``).

Only the insurer that asked reads its job and files; anyone else gets the
answer of an unknown job. The routes are mounted before the generic FHIR
routes (``/{type}/{id}`` would otherwise take them).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from gateway.domain.bulk_export import ConsentRecord, InclusionRecord, JobView
from gateway.domain.errors import DomainError
from gateway.fhir.api import PREFIX, base_url, error_response
from gateway.fhir.auth import bearer_principal
from gateway.fhir.outcome import FhirError, from_domain
from gateway.fhir.resources.common import complete_recorded_by, instant
from gateway.fhir.resources.inclusion import _tidy, fhir_status
from gateway.fhir.resources.rights import RESTRICTED_LABEL
from gateway.fhir.search import parse_date
from gateway.mapping.mapping import mapping

if TYPE_CHECKING:
    from gateway.domain.bulk_export import BulkExportService
    from gateway.domain.clock import Clock

log = logging.getLogger("gateway.fhir.bulk")
NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = (NDJSON, "application/ndjson", "ndjson")
TYPES = {"EpisodeOfCare": "inclusion", "Consent": "consent"}
CHANNEL = "fhir"
RESEARCH_TAG = {"system": "https://care-gateway.be/fhir/CodeSystem/processing", "code": "research", "display": "Statistics and research"}


def group_of(group: str) -> tuple[str, str]:
    """``insurer-100`` -> ("100", "billing"); ``insurer-100-research`` -> ("100", "research")."""
    name = group.removeprefix("insurer-")
    code, _, cohort = name.partition("-")
    if not group.startswith("insurer-") or not code.isdigit() or cohort not in ("", "research"):
        raise FhirError.simple(404, "not-found", f"No Group {group}: export groups are insurer-<code> (billing) and "
                               "insurer-<code>-research.", error_code="unknown-group", expression="Group.id", rule="IC-R7")
    return code, cohort or "billing"


class Renderer:
    """Records as FHIR R4 resources, one JSON line each, through the same
    mappings as the EpisodeOfCare and Consent handlers."""

    def __init__(self, clock: "Clock", cohort: str) -> None:
        self.today = clock.today()
        self.cohort = cohort

    def __call__(self, record: InclusionRecord | ConsentRecord) -> tuple[str, bytes]:
        resource = self.inclusion(record) if isinstance(record, InclusionRecord) else self.consent(record)
        if self.cohort == "research":  # research data: what they may be used for
            resource.setdefault("meta", {})["tag"] = [dict(RESEARCH_TAG)]
        return resource["resourceType"], json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def inclusion(self, r: InclusionRecord) -> dict[str, Any]:
        resource = mapping("inclusion").to_fhir({
            "id": r.id, "gateway_id": r.id, "patient_niss": r.patient_niss, "psi_nihii": r.psi_nihii, "status": r.status,
            "start_date": r.start_date, "end_date": r.end_date, "billing_start": r.billing_start, "billing_end": r.billing_end,
            "declared_by_nihii": r.declared_by_nihii, "declared_by_role": r.declared_by_role, "declared_by_niss": None,
            "created_at": instant(r.created_at), "version": str(r.version), "updated_at": instant(r.updated_at),
        })
        resource["status"] = fhir_status(r.start_date, r.end_date, self.today)
        complete_recorded_by(resource)
        if r.restricted:  # DS-3: the billing export, a legal obligation, carries it, marked
            resource.setdefault("meta", {})["security"] = [dict(RESTRICTED_LABEL)]
        return _tidy(resource)

    def consent(self, r: ConsentRecord) -> dict[str, Any]:
        resource = mapping("consent").to_fhir({
            "id": r.id, "patient_niss": r.patient_niss, "decision": r.decision, "decision_date": r.decision_date,
            "recorded_by_niss": None, "recorded_by_role": r.recorded_by_role, "recorded_by_organisation": r.recorded_by_organisation,
            "recorded_at": instant(r.recorded_at), "state": "inactive" if r.withdrawn else "active",
            "updated_at": instant(r.recorded_at),
        })
        complete_recorded_by(resource)
        return _tidy(resource)


def manifest(base: str, view: JobView) -> dict[str, Any]:
    return {
        "transactionTime": instant(view.transaction_time),
        "request": view.request_url,
        "requiresAccessToken": True,
        "output": [{"type": f.output_type, "url": f"{base}/$export-file/{view.id}/{f.name}", "count": f.count} for f in view.files],
        "error": [],
        "extension": {"https://care-gateway.be/fhir/bulk/cohort": view.cohort},
    }


def router(service: "BulkExportService", tokens: Any, clock: "Clock") -> APIRouter:
    routes = APIRouter(prefix=PREFIX, tags=["FHIR Bulk Data"])
    authenticate = bearer_principal(tokens)

    def guarded(fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        async def run(request: Request, **kwargs: Any) -> Response:
            try:
                return await fn(request, **kwargs)
            except FhirError as error:
                return error_response(request, error)
            except DomainError as error:
                if error.code == "export-running":  # one export per insurer at a time: come back later
                    fhir = from_domain(error)
                    return error_response(request, FhirError(429, fhir.issues, {"Retry-After": "30"}))
                return error_response(request, from_domain(error))
            except HTTPException as exc:
                from gateway.fhir.api import as_fhir_error

                return error_response(request, as_fhir_error(exc))
            except Exception:  # noqa: BLE001 - never a stack trace on the wire
                log.exception("bulk export interaction failed")
                return error_response(request, FhirError.simple(500, "exception", "The server failed; the error is logged."))
        return run

    async def kick_off(request: Request, group: str | None) -> Response:
        principal = authenticate(request)
        if "respond-async" not in request.headers.get("prefer", ""):
            raise FhirError.simple(400, "invalid", "A bulk export is asynchronous: send Prefer: respond-async.",
                                   error_code="prefer-respond-async-required", expression="Prefer")
        accept = request.headers.get("accept", "application/fhir+json")
        if not any(a in accept for a in ("application/fhir+json", "application/json", "*/*")):
            raise FhirError.simple(406, "not-supported", "The kick-off answers application/fhir+json (send that Accept).",
                                   error_code="unsupported-accept")
        params = request.query_params
        unknown = sorted(set(params) - {"_type", "_since", "_outputFormat"})
        if unknown:
            raise FhirError.simple(400, "not-supported", f"Unsupported $export parameter(s): {', '.join(unknown)}; supported: _type, "
                                   "_since, _outputFormat.", error_code="unsupported-parameter", expression=unknown[0])
        output_format = params.get("_outputFormat", NDJSON)
        if output_format not in OUTPUT_FORMATS:
            raise FhirError.simple(400, "not-supported", f"_outputFormat {output_format!r}: this server writes {NDJSON}.",
                                   error_code="unsupported-output-format", expression="_outputFormat")
        wanted = [t.strip() for raw in params.getlist("_type") for t in raw.split(",") if t.strip()] or list(TYPES)
        unknown_types = [t for t in wanted if t not in TYPES]
        if unknown_types:
            raise FhirError.simple(400, "not-supported", f"_type {', '.join(unknown_types)}: an insurer export holds "
                                   f"{', '.join(TYPES)}.", error_code="unsupported-type", expression="_type", rule="IC-R7")
        since: datetime | None = None
        if params.get("_since"):
            since = parse_date("_since", params["_since"]).low
        code, cohort = group_of(group) if group is not None else (None, "billing")
        view = await run_in_threadpool(service.kick_off, principal, insurer_code=code, cohort=cohort,
                                       kinds=[TYPES[t] for t in dict.fromkeys(wanted)], since=since, request_url=str(request.url),
                                       channel=CHANNEL)
        render = Renderer(clock, cohort)
        threading.Thread(target=service.run, args=(view.id, principal, render), kwargs={"channel": CHANNEL},
                         name=f"export-{view.id}", daemon=True).start()
        status_url = f"{base_url(request)}/$export-status/{view.id}"
        return Response(status_code=202, headers={"Content-Location": status_url})

    @routes.get("/$export", summary="Bulk export of the caller's own members (billing), asynchronous")
    async def system_export(request: Request) -> Response:
        return await guarded(kick_off)(request, group=None)

    @routes.get("/Group/{group}/$export", summary="Bulk export of an insurer group (insurer-<code>, insurer-<code>-research)")
    async def group_export(request: Request, group: str) -> Response:
        return await guarded(kick_off)(request, group=group)

    async def status(request: Request, job: str) -> Response:
        principal = authenticate(request)
        view = await run_in_threadpool(service.status, principal, job, channel=CHANNEL)
        if view.status == "failed":
            raise FhirError.simple(500, "exception", view.error or "The export failed.", error_code="export-failed", rule="IC-R7")
        if view.status != "completed":
            return Response(status_code=202, headers={"X-Progress": f"{view.status}: {view.progress}", "Retry-After": "2"})
        return Response(json.dumps(manifest(base_url(request), view)), status_code=200, media_type="application/json",
                        headers={"Expires": "0", "Cache-Control": "no-store"})

    @routes.get("/$export-status/{job}", summary="Bulk export status: progress, then the manifest")
    async def get_status(request: Request, job: str) -> Response:
        return await guarded(status)(request, job=job)

    async def remove(request: Request, job: str) -> Response:
        principal = authenticate(request)
        await run_in_threadpool(service.delete, principal, job, channel=CHANNEL)
        return Response(status_code=202)

    @routes.delete("/$export-status/{job}", summary="Delete a bulk export and its files")
    async def delete_job(request: Request, job: str) -> Response:
        return await guarded(remove)(request, job=job)

    async def download(request: Request, job: str, name: str) -> Response:
        principal = authenticate(request)
        file_id, found = await run_in_threadpool(service.open_file, principal, job, name, channel=CHANNEL)
        return StreamingResponse(iterate_in_threadpool(service.chunks(job, file_id)), media_type=NDJSON,
                                 headers={"Content-Length": str(found.size), "Cache-Control": "no-store"})

    @routes.get("/$export-file/{job}/{name}", summary="A bulk export's NDJSON file (the requesting insurer only)")
    async def get_file(request: Request, job: str, name: str) -> Response:
        return await guarded(download)(request, job=job, name=name)

    return routes


__all__ = ["NDJSON", "Renderer", "group_of", "manifest", "router"]
