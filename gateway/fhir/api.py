"""The FHIR REST API under ``/fhir``: generic interactions dispatched to the
resource handlers, validation of every write against our profiles,
``$validate``, batch and atomic transaction Bundles, history, and the
CapabilityStatement generated from what the handlers declare.

Every route of the face runs inside one error boundary (:class:`FhirRoute`):
whatever an interaction raises, FastAPI's own request checks included, the
answer is an OperationOutcome; a path no route serves under ``/fhir`` gets
one too."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from gateway.blocking import blocking  # acts wait on the database and the platform: off the loop

from gateway.domain.errors import DomainError
from gateway.fhir import formats
from gateway.fhir.auth import PrincipalVerifier, bearer_principal
from gateway.fhir.capability import capability_statement
from gateway.fhir.handler import Call, ResourceHandler, known_params
from gateway.fhir.outcome import FhirError, Issue, from_domain, operation_outcome
from gateway.fhir.search import parse_count
from gateway.fhir.transaction import process_bundle
from gateway.mapping.mapping import MappingError

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

log = logging.getLogger("gateway.fhir")
PREFIX = "/fhir"
# Profile invariants that are business rules of the domain (per-1 on these
# periods is IC-R3, RF-1): a write breaking only these goes on to the domain,
# which refuses it, audited and naming its rule, exactly as the SOAP face's
# call does (a face never decides a rule alone).
DOMAIN_CHECKED = {("per-1", "EpisodeOfCare.period"), ("per-1", "CareTeam.period"), ("per-1", "ServiceRequest.occurrencePeriod")}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ETAG = re.compile(r'(?:W/)?"?([0-9]+)"?', re.ASCII)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def error_response(request: Request, error: FhirError) -> Response:
    try:
        return formats.render(request, operation_outcome(error.issues), error.status, error.headers)
    except Exception:  # noqa: BLE001 - an unusable _format, a text XML cannot carry: the outcome in plain JSON
        import json

        return Response(json.dumps(operation_outcome(error.issues)), status_code=error.status,
                        media_type=formats.JSON, headers=error.headers)


def as_fhir_error(exc: Exception, handler: ResourceHandler | None = None) -> FhirError:
    if isinstance(exc, FhirError):
        return exc
    if isinstance(exc, DomainError):
        return from_domain(exc, handler.paths if handler else None)
    if isinstance(exc, MappingError):
        status = 422 if exc.code in ("required", "unknown-code") else 400
        return FhirError(status, [Issue("error", "invalid" if status == 400 else "required", exc.message, exc.code, None, exc.path)])
    if isinstance(exc, HTTPException):
        code = "login" if exc.status_code == 401 else "forbidden" if exc.status_code == 403 else "processing"
        return FhirError(exc.status_code, [Issue("error", code, str(exc.detail))], dict(exc.headers or {}))
    if isinstance(exc, RequestValidationError):
        first = next(iter(exc.errors()), {})
        where = ".".join(str(p) for p in first.get("loc", ()))
        return FhirError.simple(400, "invalid", f"The request is not usable: {first.get('msg', 'invalid')} ({where}).",
                                error_code="invalid-request")
    log.exception("FHIR interaction failed")
    return FhirError(500, [Issue("fatal", "exception", "The server failed to process the request; the error is logged.")])


def parse_if_match(value: str | None) -> int | None:
    if not value:
        return None
    m = _ETAG.fullmatch(value.strip())
    if not m or len(m.group(1)) > 9:
        raise FhirError.simple(400, "invalid", f"If-Match must be an ETag like W/\"3\", not {value[:40]!r}.", error_code="invalid-if-match")
    return int(m.group(1))


def resource_headers(base: str, resource: dict[str, Any]) -> dict[str, str]:
    meta = resource.get("meta", {})
    vid = meta.get("versionId", "1")
    headers = {"ETag": f'W/"{vid}"', "Location": f"{base}/{resource['resourceType']}/{resource['id']}/_history/{vid}"}
    if meta.get("lastUpdated"):
        from email.utils import format_datetime
        from datetime import datetime

        headers["Last-Modified"] = format_datetime(datetime.fromisoformat(meta["lastUpdated"]), usegmt=True)
    return headers


class FhirApi:
    """The handlers and the rules every interaction shares."""

    def __init__(self, cases: "UseCases", handlers: list[ResourceHandler]) -> None:
        self.cases = cases
        self.handlers = {h.resource_type: h for h in handlers}

    def handler(self, resource_type: str) -> ResourceHandler:
        handler = self.handlers.get(resource_type)
        if handler is None:
            raise FhirError.simple(404, "not-supported", f"This server does not serve {resource_type!r}; see /fhir/metadata.",
                                   error_code="unknown-resource-type")
        return handler

    def validate(self, resource: dict[str, Any], handler: ResourceHandler) -> None:
        """Every write is checked against our profile first: nothing that breaks it is stored."""
        from gateway.conformance.fhir.validator import FhirValidator

        if resource.get("resourceType") != handler.resource_type:
            raise FhirError.simple(400, "invalid", f"The body is a {resource.get('resourceType')}, not a {handler.resource_type}.",
                                   expression="resourceType", error_code="wrong-resource-type")
        try:  # a type with several profiles tells which one from the resource
            profile = handler.profile_for(resource) if hasattr(handler, "profile_for") else handler.profile
        except (AttributeError, TypeError, KeyError, ValueError):  # too malformed to tell: the validator says why
            profile = handler.profile
        try:
            result = FhirValidator.default().validate(resource, profile=profile)
        except Exception:  # noqa: BLE001 - the validator failed on this input: logged, said, never a 500
            log.exception("validating a %s failed", handler.resource_type)
            raise FhirError.simple(422, "processing", f"The {handler.resource_type} could not be checked against its profile; "
                                   "the failure is logged. Check its structure with $validate.", error_code="validator-failed") from None
        if not result.valid:
            errors = [i for i in result.operation_outcome()["issue"] if i.get("severity") in ("error", "fatal")]
            if all((_rule_of(i), (i.get("expression") or [None])[0]) in DOMAIN_CHECKED for i in errors):
                return  # only what the domain decides, audited and under its own rule, as on SOAP
            raise FhirError(422, [Issue(i.get("severity", "error"), i.get("code", "invalid"),
                                        i.get("details", {}).get("text") or i.get("diagnostics", ""),
                                        "profile-violation", _rule_of(i), (i.get("expression") or [None])[0])
                                  for i in errors])


def _rule_of(issue: dict[str, Any]) -> str | None:
    for ext in issue.get("extension", []):
        if ext.get("url", "").endswith("/rule"):
            return ext.get("valueString")
    for coding in issue.get("details", {}).get("coding", []):
        return coding.get("code")
    return None


def _validate_parameters(parameters: dict[str, Any], profile: str | None) -> tuple[dict[str, Any], str | None]:
    """The resource and profile a ``$validate`` Parameters names (FHIR R4 resource-operation-validate)."""
    given = parameters.get("parameter")
    if not isinstance(given, list) or not all(isinstance(p, dict) for p in given):
        raise FhirError.simple(400, "structure", "Parameters.parameter must be a list of parameters.", expression="Parameters.parameter",
                               error_code="invalid-parameters")
    named = {p.get("name"): p for p in given}
    chosen = (named.get("profile") or {}).get("valueUri") or (named.get("profile") or {}).get("valueCanonical") or profile
    resource = (named.get("resource") or {}).get("resource") or {}
    if not isinstance(chosen, str) or not isinstance(resource, dict):
        raise FhirError.simple(400, "structure", "Give the resource to validate in parameter 'resource' and a profile URL in "
                               "parameter 'profile'.", expression="Parameters.parameter", error_code="invalid-parameters")
    return resource, chosen


def router(cases: "UseCases", handlers: list[ResourceHandler], tokens: PrincipalVerifier) -> APIRouter:
    """The FHIR face: ``handlers`` over the use cases, every interaction but
    ``metadata`` behind a bearer token checked by ``tokens`` (the verifier
    the composition root built from the trust settings)."""
    api = FhirApi(cases, handlers)

    class FhirRoute(APIRoute):
        """The face's one error boundary: the response format is checked
        first, and whatever the interaction raises becomes an
        OperationOutcome naming, where it can, the element at fault."""

        def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
            inner = super().get_route_handler()

            async def run(request: Request) -> Response:
                try:
                    formats.response_format(request)
                    return await inner(request)
                except Exception as exc:  # noqa: BLE001 - every refusal becomes an OperationOutcome
                    handler = api.handlers.get(str(request.path_params.get("resource_type", "")))
                    return error_response(request, as_fhir_error(exc, handler))

            return run

    routes = APIRouter(prefix=PREFIX, tags=["FHIR R4"], route_class=FhirRoute)
    authenticate = bearer_principal(tokens)

    def call_for(request: Request) -> Call:
        try:
            principal = authenticate(request)
        except HTTPException as exc:
            raise as_fhir_error(exc) from None
        return Call(cases, principal, base_url(request))

    @routes.get("/metadata", summary="CapabilityStatement (no token needed)")
    async def metadata(request: Request) -> Response:
        return formats.render(request, capability_statement(base_url(request), list(api.handlers.values())))

    @routes.post("", summary="batch or transaction Bundle")
    async def bundle(request: Request) -> Response:
        call = await blocking(call_for, request)
        body = await formats.read_resource(request, cases.settings.fhir_max_body)

        def work() -> Response:
            result, status = process_bundle(api, call, body)
            return formats.render(request, result, status)

        return await blocking(work)

    @routes.post("/{resource_type}/$validate", summary="validate a resource against its profile")
    async def validate_type(request: Request, resource_type: str) -> Response:
        await blocking(call_for, request)
        handler = api.handler(resource_type)
        from gateway.conformance.fhir.validator import FhirValidator

        body = await formats.read_resource(request, cases.settings.fhir_max_body)

        def work() -> Response:
            resource, profile = body, handler.profile
            if resource.get("resourceType") == "Parameters":
                resource, profile = _validate_parameters(resource, profile)
            result = FhirValidator.default().validate(resource, profile=profile)
            return formats.render(request, result.operation_outcome(), 200)

        return await blocking(work)

    @routes.post("/{resource_type}/{id}/$validate", summary="validate a resource for an update of this instance")
    async def validate_instance(request: Request, resource_type: str, id: str) -> Response:
        return await validate_type(request, resource_type)

    @routes.get("/{resource_type}", summary="search")
    async def search(request: Request, resource_type: str) -> Response:
        call = await blocking(call_for, request)
        handler = api.handler(resource_type)
        params = [(k, v) for k, v in request.query_params.multi_items()]
        return await _search(request, call, handler, params)

    @routes.post("/{resource_type}/_search", summary="search (form body)")
    async def search_post(request: Request, resource_type: str) -> Response:
        call = await blocking(call_for, request)
        handler = api.handler(resource_type)
        params = await formats.read_form(request, cases.settings.fhir_max_body) + list(request.query_params.multi_items())
        return await _search(request, call, handler, params)

    async def _search(request: Request, call: Call, handler: ResourceHandler, params: list[tuple[str, str]]) -> Response:
        from gateway.fhir.bundle import searchset

        params = [(k, v) for k, v in params if k not in ("_format", "_pretty")]
        for name, value in params:
            if _CONTROL.search(name) or _CONTROL.search(value):
                raise FhirError.simple(400, "invalid", f"The search parameter {name[:40]!r} holds a control character; "
                                       "send text only.", expression=name[:40], error_code="invalid-search-value")
        known_params(handler, params)
        count = parse_count(dict(params).get("_count"), cases.settings.default_page_size, cases.settings.max_page_size)
        cursor = dict(params).get("_cursor")
        criteria = [(k, v) for k, v in params if k not in ("_count", "_cursor")]

        def work() -> Response:
            result = handler.search(call, criteria, count, cursor)
            bundle = searchset(call.base, handler.resource_type, [(k, v) for k, v in params if k != "_cursor"],
                               result.matches, included=result.included, total=result.total, next_cursor=result.next_cursor,
                               outcome=result.outcome)
            return formats.render(request, bundle)

        return await blocking(work)

    @routes.post("/{resource_type}", summary="create (conditional with If-None-Exist)")
    async def create(request: Request, resource_type: str) -> Response:
        call = await blocking(call_for, request)
        handler = api.handler(resource_type)
        if "create" not in handler.interactions:
            raise handler._unsupported("create")
        resource = await formats.read_resource(request, cases.settings.fhir_max_body)

        def work() -> Response:
            api.validate(resource, handler)
            condition = request.headers.get("if-none-exist")
            if condition:
                from urllib.parse import parse_qsl

                existing = handler.find_existing(call, parse_qsl(condition.lstrip("?")))
                if len(existing) > 1:
                    raise FhirError.simple(412, "duplicate", "If-None-Exist matches several resources; make the criteria "
                                           "selective.", error_code="conditional-create-ambiguous")
                if existing:
                    return formats.render(request, existing[0], 200, resource_headers(call.base, existing[0]))
            return _written(request, call, handler.create(call, resource))

        return await blocking(work)

    def _written(request: Request, call: Call, written: Any) -> Response:
        headers = resource_headers(call.base, written.resource)
        prefer = request.headers.get("prefer", "")
        status = 201 if written.created else 200
        if "return=minimal" in prefer:
            return Response(status_code=status, headers=headers)
        if "return=OperationOutcome" in prefer:
            outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational",
                                                                       "details": {"text": "stored"}}]}
            return formats.render(request, outcome, status, headers)
        return formats.render(request, written.resource, status, headers)

    @routes.get("/{resource_type}/_history", summary="type history")
    async def history_type(request: Request, resource_type: str) -> Response:
        from gateway.fhir.bundle import history

        def work() -> Response:
            call = call_for(request)
            versions = api.handler(resource_type).history_type(call, list(request.query_params.multi_items()))
            return formats.render(request, history(call.base, f"{resource_type}/_history", versions))

        return await blocking(work)

    @routes.get("/{resource_type}/{id}", summary="read")
    async def read(request: Request, resource_type: str, id: str) -> Response:
        def work() -> Response:
            call = call_for(request)
            resource = api.handler(resource_type).read(call, id)
            return formats.render(request, resource, 200, resource_headers(call.base, resource))

        return await blocking(work)

    @routes.put("/{resource_type}/{id}", summary="update (If-Match for optimistic locking)")
    async def update(request: Request, resource_type: str, id: str) -> Response:
        call = await blocking(call_for, request)
        handler = api.handler(resource_type)
        if "update" not in handler.interactions:
            raise handler._unsupported("update")
        resource = await formats.read_resource(request, cases.settings.fhir_max_body)
        if resource.get("id") != id:
            raise FhirError.simple(400, "invalid", f"The body's id {resource.get('id')!r} must be the id in the URL ({id}).",
                                   expression=f"{resource_type}.id", error_code="id-mismatch")
        def work() -> Response:
            api.validate(resource, handler)
            return _written(request, call, handler.update(call, id, resource, parse_if_match(request.headers.get("if-match"))))

        return await blocking(work)

    @routes.get("/{resource_type}/{id}/_history", summary="instance history")
    async def history_instance(request: Request, resource_type: str, id: str) -> Response:
        from gateway.fhir.bundle import history

        def work() -> Response:
            call = call_for(request)
            versions = api.handler(resource_type).history_instance(call, id)
            return formats.render(request, history(call.base, f"{resource_type}/{id}/_history", versions))

        return await blocking(work)

    @routes.get("/{resource_type}/{id}/_history/{vid}", summary="vread")
    async def vread(request: Request, resource_type: str, id: str, vid: str) -> Response:
        def work() -> Response:
            call = call_for(request)
            resource = api.handler(resource_type).vread(call, id, vid)
            return formats.render(request, resource, 200, resource_headers(call.base, resource))

        return await blocking(work)

    for method in ("DELETE", "PATCH"):
        async def refuse(request: Request, resource_type: str, id: str, _m: str = method) -> Response:
            return error_response(request, FhirError.simple(405, "not-supported", f"{_m} is not supported: records are kept (IC-R6); "
                                                            "close an inclusion by giving its end date.", error_code="method-not-allowed"))
        routes.add_api_route("/{resource_type}/{id}", refuse, methods=[method], include_in_schema=False)

    async def nowhere(request: Request, path: str) -> Response:
        """Under /fhir, a path or method no interaction serves: an OperationOutcome too."""
        return error_response(request, FhirError.simple(404, "not-supported", f"No FHIR interaction answers {request.method} "
                                                        f"/fhir/{path[:100]}; see /fhir/metadata.", error_code="unknown-interaction"))

    routes.add_api_route("/{path:path}", nowhere, include_in_schema=False,
                         methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
    async def nowhere_at_the_base(request: Request) -> Response:
        return await nowhere(request, "")

    routes.add_api_route("", nowhere_at_the_base, include_in_schema=False, methods=["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"])
    return routes
