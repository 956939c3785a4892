"""Content negotiation and (de)serialisation: FHIR JSON and XML, chosen by
``_format``, ``Accept`` and ``Content-Type`` (FHIR R4 http.html#mime-type).

XML goes through the ``fhir.resources`` R4B models, whose XML support is
faithful for the R4 elements our profiles use.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response

from gateway.fhir.outcome import FhirError
from gateway.identity.xml import UnsafeXml, parse_untrusted

JSON = "application/fhir+json"
XML = "application/fhir+xml"
_FORMAT_ALIASES = {
    "json": JSON, "application/json": JSON, "application/fhir+json": JSON, "application/json+fhir": JSON,
    "xml": XML, "text/xml": XML, "application/xml": XML, "application/fhir+xml": XML, "application/xml+fhir": XML,
}
MAX_BODY = 4 * 1024 * 1024  # the default of Settings.fhir_max_body


def response_format(request: Request) -> str:
    fmt = request.query_params.get("_format")
    if fmt:
        chosen = _FORMAT_ALIASES.get(fmt.split(";")[0].strip().lower())
        if chosen is None:
            raise FhirError.simple(406, "not-supported", f"_format {fmt!r} is not supported: use json or xml.")
        return chosen
    for part in request.headers.get("accept", "").split(","):
        chosen = _FORMAT_ALIASES.get(part.split(";")[0].strip().lower())
        if chosen:
            return chosen
    return JSON


def _model_class(resource_type: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError):
        raise FhirError.simple(400, "not-supported", f"Unknown resource type {resource_type!r}.") from None


def to_xml(resource: dict[str, Any]) -> bytes:
    model = _model_class(resource["resourceType"]).model_validate(resource)
    return model.model_dump_xml()


def render(request: Request, resource: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    fmt = response_format(request)
    if fmt == XML:
        body = to_xml(resource)
    else:
        pretty = request.query_params.get("_pretty") == "true"
        body = json.dumps(resource, indent=2 if pretty else None, ensure_ascii=False, separators=None if pretty else (",", ":")).encode("utf-8")
    return Response(body, status_code=status, media_type=f"{fmt}; charset=utf-8", headers=headers)


def _too_large(limit: int) -> FhirError:
    return FhirError.simple(413, "too-costly", f"The body is larger than {limit} bytes; send a smaller one.",
                            error_code="request-too-large")


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, read no further than ``limit`` bytes: a declared
    length over it is refused before reading, a chunked body as soon as it
    passes it (never held whole in memory first)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request, limit: int = MAX_BODY) -> list[tuple[str, str]]:
    """The parameters of a ``POST _search`` (application/x-www-form-urlencoded,
    as FHIR R4 http.html#search defines it), read within ``limit``."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise FhirError.simple(415, "not-supported", f"POST _search takes application/x-www-form-urlencoded, not {ctype or 'nothing'!r}.",
                               error_code="unsupported-media-type")
    raw = await read_body(request, limit)
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except UnicodeDecodeError:
        raise FhirError.simple(400, "structure", "The form is not UTF-8.", error_code="invalid-encoding") from None
    except ValueError:
        raise FhirError.simple(400, "too-costly", "The form holds more than 200 parameters.", error_code="too-many-parameters") from None


async def read_resource(request: Request, limit: int = MAX_BODY) -> dict[str, Any]:
    """The request body as a FHIR JSON object, whatever format it came in."""
    raw = await read_body(request, limit)
    ctype = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
    fmt = _FORMAT_ALIASES.get(ctype)
    if fmt is None:
        raise FhirError.simple(415, "not-supported", f"Content-Type {ctype!r} is not supported: send application/fhir+json or application/fhir+xml.")
    if fmt == JSON:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FhirError.simple(400, "structure", f"The body is not valid JSON: {exc}.") from None
        if not isinstance(data, dict) or "resourceType" not in data:
            raise FhirError.simple(400, "structure", "The body must be a FHIR resource with a resourceType.")
        return data
    try:
        parse_untrusted(raw, max_bytes=limit)  # size, depth, no DTD, before anything else reads it
    except UnsafeXml as exc:
        raise FhirError.simple(400, "structure", exc.message, error_code=exc.code) from None
    from gateway.conformance.fhir.validator import FhirValidator
    from gateway.conformance.fhir.xml import XmlConversionError, xml_to_json

    validator = FhirValidator.default()
    try:
        resource, problems = xml_to_json(raw, validator.definitions, validator.structures)
    except XmlConversionError as exc:
        raise FhirError.simple(400, "structure", f"The XML is not a FHIR R4 resource: {exc}", expression=exc.path,
                               error_code="xml-not-fhir") from None
    errors = [p for p in problems if p.severity in ("error", "fatal")]
    if errors:
        from gateway.fhir.outcome import Issue

        raise FhirError(400, [Issue("error", "structure", p.message, "xml-structure", p.rule, p.expression) for p in errors])
    return resource
