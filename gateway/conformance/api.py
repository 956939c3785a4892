"""The validator over HTTP, and its web page.

- ``POST /conformance/validate``: the message as the request body (any
  content type: it is recognised by its content), or a form
  (``multipart/form-data``) with ``message`` or an uploaded ``file``.
  Options as query parameters or form fields: ``report`` (``json``: an
  OperationOutcome, the default; ``html``; ``junit``; ``text``), ``profile``,
  ``at`` (the instant SOAP security is judged at; default the gateway's
  clock), ``name`` (what the report calls the message). The answer is 200
  whatever the verdict, with ``X-Validation-Verdict: valid|invalid``; 400 or
  413 (an OperationOutcome) when the request itself is unusable or larger
  than the validator takes, 429 when the caller already has a validation
  running or all slots are taken (:mod:`gateway.conformance.budget`: no
  token is needed, so the work is bounded per request and per client).
- ``GET /conformance/validator``: the page where a person pastes or uploads
  a message and reads the report (plain HTML, one small script, no CDN).

Trust is the gateway's own: its sandbox STS and CA. Nothing is stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from gateway.config import Settings
from gateway.conformance.budget import Limits, Slots, TooCostly, check_shape

from gateway.conformance.reports import MEDIA_TYPES, RENDERERS, render
from gateway.conformance.reports.page import WEB
from gateway.conformance.soap import Trust
from gateway.conformance.validate import MessageValidator
from gateway.fhir.outcome import Issue, operation_outcome

if TYPE_CHECKING:
    from gateway.config import Settings
    from gateway.domain.clock import Clock
    from gateway.trust import TrustSettings

log = logging.getLogger("gateway.conformance")
PREFIX = "/conformance"
MAX_BYTES = Settings().validate_max_bytes  # the default limit (CARE_GATEWAY_VALIDATE_MAX_BYTES)
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
STATIC = {"validator.js": "text/javascript; charset=utf-8", "validator.css": "text/css; charset=utf-8",
          "report.css": "text/css; charset=utf-8"}


class BadRequest(Exception):
    def __init__(self, status: int, code: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.path = status, code, message, path

    def response(self) -> Response:
        code = {413: "too-long", 429: "throttled"}.get(self.status, "invalid")
        issue = Issue("error", code, self.message, self.code, None, self.path)
        headers = {"Retry-After": "1"} if self.status == 429 else None
        return Response(json.dumps(operation_outcome([issue])), status_code=self.status,
                        media_type="application/fhir+json", headers=headers)


def _too_large(limit: int) -> BadRequest:
    return BadRequest(413, "request-too-large", f"The message is larger than {limit} bytes; validate a smaller one.")


async def _body(request: Request, limit: int) -> bytes:
    """The body, read no further than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _message(request: Request, limit: int) -> tuple[bytes, dict[str, str], str | None]:
    """The message, the options given in the request, and an uploaded file's name."""
    options = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        declared = request.headers.get("content-length", "")
        if not declared.isdigit():
            raise BadRequest(411, "length-required", "A form upload must declare its Content-Length.")
        if int(declared) > limit + 64 * 1024:
            raise _too_large(limit)
        try:
            form = await request.form(max_files=1, max_fields=10, max_part_size=limit)
        except Exception as exc:  # noqa: BLE001 - a form that cannot be read (no boundary, a part too large...)
            raise BadRequest(400, "form-unreadable", f"The form cannot be read: {str(exc)[:200]}. Send multipart/form-data "
                             "with a boundary, or the message as the request body.") from None
        upload = form.get("file")
        for key, value in form.items():
            if isinstance(value, str) and key != "message" and value.strip():
                options.setdefault(key, value.strip())
        if isinstance(upload, UploadFile) and upload.filename:
            return await upload.read(), options, upload.filename
        text = form.get("message")
        return (text.encode("utf-8", "replace") if isinstance(text, str) else b""), options, None
    return await _body(request, limit), options, None


def _instant(text: str | None, default: Callable[[], datetime]) -> datetime:
    if not text:
        return default()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(400, "at-invalid", f"at={text!r} is not an ISO 8601 instant (e.g. 2026-06-15T12:00:00Z).",
                         "at") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def router(settings: "Settings", trust: "TrustSettings", clock: "Clock") -> APIRouter:
    """The validation endpoint and page: SOAP messages are checked against the
    gateway's own configured ``trust`` at the ``clock``'s time (or the
    instant asked); ``settings`` bound the work."""
    routes = APIRouter(prefix=PREFIX, tags=["conformance"])

    @lru_cache(maxsize=1)
    def validator() -> MessageValidator:
        return MessageValidator.with_trust(Trust.from_settings(trust))

    limits = Limits.from_settings(settings)
    slots = Slots(limits)

    @routes.post("/validate", summary="Validate a FHIR resource or Bundle (JSON, XML) or a SOAP envelope")
    async def validate(request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        if not slots.take(client):
            return BadRequest(429, "validator-busy", "A validation of yours is still running, or the validator is busy: "
                              "send one message at a time and retry in a moment.").response()
        held = True
        try:
            try:
                data, options, filename = await _message(request, limits.max_bytes)
                report = options.get("report", "json")
                if report not in RENDERERS:
                    raise BadRequest(400, "report-unknown", f"report={report!r}: use one of {', '.join(RENDERERS)}.", "report")
                at = _instant(options.get("at"), clock.now)
                if not data.strip():
                    raise BadRequest(400, "message-empty", "The request carries no message: paste one, upload a file, "
                                     "or send it as the request body.")
                try:
                    check_shape(data, limits)
                except TooCostly as costly:
                    raise BadRequest(413, costly.code, costly.message) from None
            except BadRequest as refused:
                return refused.response()
            source = options.get("name") or filename or "message"
            work = asyncio.get_running_loop().run_in_executor(None, lambda: validator().validate(
                data, source=source, at=at, profile=options.get("profile") or None))
            work.add_done_callback(lambda _: slots.give(client))  # the slot is the work's until it ends
            held = False
            try:
                verdict = await asyncio.wait_for(asyncio.shield(work), limits.time_budget)
            except asyncio.TimeoutError:
                return BadRequest(413, "validation-too-long", f"The message took longer than {limits.time_budget:g} s to "
                                  "validate; validate a smaller part of it.").response()
            except Exception:  # noqa: BLE001 - the validator failed on this input: logged, said, never a 500
                log.exception("the validator failed on %s", source)
                return BadRequest(422, "validator-failed", "The validator could not process this message; the failure is "
                                  "logged. Check that it is a FHIR resource or Bundle (JSON, XML) or a SOAP envelope.").response()
        finally:
            if held:
                slots.give(client)
        headers = {"X-Validation-Verdict": "valid" if verdict.valid else "invalid"}
        if report == "html":
            headers["Content-Security-Policy"] = REPORT_POLICY
        body = render(report, [verdict])
        if isinstance(body, str):  # a report quotes the message: a lone surrogate in it is written escaped, never a 500
            body = body.encode("utf-8", "backslashreplace")
        return Response(body, media_type=MEDIA_TYPES[report], headers=headers)

    @routes.get("/validator", include_in_schema=False)
    def page() -> Response:
        return Response((WEB / "validator.html").read_bytes(), media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": PAGE_POLICY})

    @routes.get("/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC:
            return Response("not found\n", status_code=404, media_type="text/plain")
        return Response((WEB / name).read_bytes(), media_type=STATIC[name])

    return routes
