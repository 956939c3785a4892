"""Batch and transaction Bundles (FHIR R4 http.html#transaction).

A transaction is atomic: its entries run as one group of acts
(:meth:`ActRunner.atomic`); the first refusal rolls everything back and is
answered with the OperationOutcome of that entry. A batch runs each entry on
its own and answers each."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from gateway.fhir.handler import Call, ResourceHandler
from gateway.fhir.outcome import FhirError, Issue, operation_outcome

if TYPE_CHECKING:
    from gateway.fhir.api import FhirApi

MAX_ENTRIES = 100


def _invalid_entry(index: int, message: str, where: str = "") -> FhirError:
    return FhirError.simple(400, "invalid", f"Entry {index}: {message}", expression=f"Bundle.entry[{index}]{where}",
                            error_code="invalid-bundle-entry")


def _entry_request(entry: Any, index: int) -> tuple[str, str]:
    """The method and url of an entry, whose shape is checked here (an entry
    that is no object, a url that is no string) before anything reads it."""
    if not isinstance(entry, dict):
        raise _invalid_entry(index, "an entry is an object with request (and resource).")
    request = entry.get("request") or {}
    method, url = (request.get("method"), request.get("url")) if isinstance(request, dict) else (None, None)
    if method not in ("GET", "POST", "PUT") or not isinstance(url, str) or not url:
        raise _invalid_entry(index, "request.method must be GET, POST or PUT with a url.", ".request")
    for name in ("ifMatch", "ifNoneExist"):
        if request.get(name) is not None and not isinstance(request[name], str):
            raise _invalid_entry(index, f"request.{name} is a string.", f".request.{name}")
    if entry.get("fullUrl") is not None and not isinstance(entry["fullUrl"], str):
        raise _invalid_entry(index, "fullUrl is a string.", ".fullUrl")
    if method != "GET" and not isinstance(entry.get("resource"), dict):
        raise _invalid_entry(index, f"a {method} entry carries its resource as an object.", ".resource")
    return method, url


def _replace_refs(resource: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """Resolve ``urn:uuid:`` references to resources created earlier in the Bundle."""
    if not ids:
        return resource
    text = json.dumps(resource)
    for full, real in ids.items():
        text = text.replace(f'"{full}"', json.dumps(real))
    return json.loads(text)


def _run_entry(api: "FhirApi", call: Call, entry: dict[str, Any], index: int, ids: dict[str, str]) -> dict[str, Any]:
    from gateway.fhir.api import parse_if_match, resource_headers

    method, url = _entry_request(entry, index)
    parts = urlsplit(url)
    segments = [s for s in parts.path.strip("/").split("/") if s]
    if not segments:
        raise FhirError.simple(400, "invalid", f"Entry {index}: request.url names no resource type.", expression=f"Bundle.entry[{index}].request.url")
    handler = api.handler(segments[0])
    if method == "GET":
        if len(segments) == 2:
            resource = handler.read(call, segments[1])
            return {"resource": resource, "response": {"status": "200 OK", "etag": resource_headers(call.base, resource)["ETag"]}}
        from gateway.fhir.bundle import searchset

        params = parse_qsl(parts.query)
        result = handler.search(call, params, call.cases.settings.default_page_size, None)
        return {"resource": searchset(call.base, segments[0], params, result.matches, next_cursor=result.next_cursor),
                "response": {"status": "200 OK"}}
    resource = _replace_refs(entry.get("resource") or {}, ids)
    api.validate(resource, handler)
    if method == "POST":
        condition = (entry.get("request") or {}).get("ifNoneExist")
        if condition:
            existing = handler.find_existing(call, parse_qsl(condition.lstrip("?")))
            if existing:
                return {"resource": existing[0], "response": {"status": "200 OK"}}
        written = handler.create(call, resource)
    else:
        if len(segments) != 2:
            raise FhirError.simple(400, "invalid", f"Entry {index}: PUT needs Type/id.", expression=f"Bundle.entry[{index}].request.url")
        written = handler.update(call, segments[1], resource, parse_if_match((entry.get("request") or {}).get("ifMatch")))
    if entry.get("fullUrl", "").startswith("urn:uuid:"):
        ids[entry["fullUrl"]] = f"{written.resource['resourceType']}/{written.resource['id']}"
    headers = resource_headers(call.base, written.resource)
    return {"resource": written.resource, "response": {
        "status": "201 Created" if written.created else "200 OK", "location": headers["Location"], "etag": headers["ETag"]}}


def _handler_of(api: "FhirApi", entry: Any) -> ResourceHandler | None:
    """The handler an entry goes to, so that its refusal names FHIR elements (the handler's ``paths``)."""
    request = entry.get("request") if isinstance(entry, dict) else None
    url = request.get("url") if isinstance(request, dict) else None
    segments = [s for s in urlsplit(url).path.strip("/").split("/") if s] if isinstance(url, str) else []
    return api.handlers.get(segments[0]) if segments else None


def process_bundle(api: "FhirApi", call: Call, bundle: dict[str, Any]) -> tuple[dict[str, Any], int]:
    from gateway.fhir.api import as_fhir_error

    if bundle.get("resourceType") != "Bundle" or bundle.get("type") not in ("batch", "transaction"):
        raise FhirError.simple(400, "invalid", "POST /fhir takes a Bundle of type batch or transaction.", error_code="not-a-batch")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise FhirError.simple(400, "invalid", "Bundle.entry is a list of entries.", expression="Bundle.entry", error_code="not-a-batch")
    if len(entries) > MAX_ENTRIES:
        raise FhirError.simple(413, "too-costly", f"A Bundle holds at most {MAX_ENTRIES} entries.", error_code="bundle-too-large")
    kind = bundle["type"]
    out: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    if kind == "transaction":
        index = 0
        try:
            with call.cases.ctx.runner.atomic():
                for index, entry in enumerate(entries):
                    out.append(_run_entry(api, call, entry, index, ids))
        except Exception as exc:  # noqa: BLE001 - the whole transaction fails with the entry's outcome
            error = as_fhir_error(exc, _handler_of(api, entries[index]) if index < len(entries) else None)
            issues = [Issue(i.severity, i.code, f"Entry {index} failed, nothing was stored: {i.message}", i.error_code, i.rule,
                            i.expression or f"Bundle.entry[{index}]") for i in error.issues]
            raise FhirError(error.status, issues, error.headers) from exc
        return {"resourceType": "Bundle", "type": "transaction-response", "entry": out}, 200
    for index, entry in enumerate(entries):
        try:
            out.append(_run_entry(api, call, entry, index, ids))
        except Exception as exc:  # noqa: BLE001 - each batch entry answers on its own
            error = as_fhir_error(exc, _handler_of(api, entry))
            out.append({"response": {"status": str(error.status), "outcome": operation_outcome(error.issues)}})
    return {"resourceType": "Bundle", "type": "batch-response", "entry": out}, 200
