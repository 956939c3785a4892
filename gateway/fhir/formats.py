"""Content negotiation and (de)serialisation: FHIR JSON and XML, chosen by
``_format``, ``Accept`` and ``Content-Type`` (FHIR R4 http.html#mime-type).

XML goes through the ``fhir.resources`` R4B models, whose XML support is
faithful for the R4 elements our profiles use.
"""

from __future__ import annotations

import json
import math
import re
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
MAX_DEPTH = 64  # FHIR resources nest a few dozen levels at most; deeper is an attack on recursion
MAX_JSON_VALUES = 100_000
MAX_XML_ELEMENTS = 5_000  # reading FHIR XML costs more per element than JSON
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _invalid_json(message: str, code: str = "invalid-json") -> FhirError:
    return FhirError.simple(400, "structure", f"The body is not valid FHIR JSON: {message}", error_code=code)


def parse_json(raw: bytes) -> dict[str, Any]:
    """A FHIR JSON resource from bytes, or a 4xx: UTF-8 only (RFC 8259), no
    NaN or Infinity, no number beyond a double, no lone surrogate (FHIR
    strings are Unicode text), no nesting deeper than :data:`MAX_DEPTH`, at
    most :data:`MAX_JSON_VALUES` values. What passes can be stored and
    rendered again; what does not never reaches a recursion or the database."""
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise _invalid_json("it is not UTF-8 (send UTF-8, RFC 8259).", "invalid-encoding") from None
    except RecursionError:
        raise _invalid_json(f"it nests deeper than {MAX_DEPTH} levels.", "too-deep") from None
    except json.JSONDecodeError as exc:
        raise _invalid_json(f"{exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    except ValueError as exc:  # NaN, Infinity, an integer of thousands of digits
        raise _invalid_json(f"{str(exc)[:120]}.", "invalid-number") from None
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise FhirError.simple(400, "structure", "The body must be a FHIR resource: a JSON object with a resourceType string.",
                               error_code="not-a-resource")
    _check_values(data)
    return data


def _check_values(document: Any) -> None:
    stack: list[tuple[Any, int]] = [(document, 1)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if depth > MAX_DEPTH:
            raise _invalid_json(f"it nests deeper than {MAX_DEPTH} levels.", "too-deep")
        if seen > MAX_JSON_VALUES:
            raise FhirError.simple(413, "too-costly", f"The body holds more than {MAX_JSON_VALUES} JSON values; send less at once.",
                                   error_code="too-many-values")
        if isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    raise _invalid_json("a property name holds a lone surrogate (\\uD800-\\uDFFF), which is no Unicode text.",
                                        "invalid-string")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            if _SURROGATE.search(value):
                raise _invalid_json("a string holds a lone surrogate (\\uD800-\\uDFFF), which is no Unicode text.",
                                    "invalid-string")
        elif isinstance(value, float) and not math.isfinite(value):
            raise _invalid_json("a number is beyond what a decimal can hold.", "invalid-number")


async def read_resource(request: Request, limit: int = MAX_BODY) -> dict[str, Any]:
    """The request body as a FHIR JSON object, whatever format it came in."""
    raw = await read_body(request, limit)
    ctype = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
    fmt = _FORMAT_ALIASES.get(ctype)
    if fmt is None:
        raise FhirError.simple(415, "not-supported", f"Content-Type {ctype!r} is not supported: send application/fhir+json or application/fhir+xml.")
    if fmt == JSON:
        return parse_json(raw)
    try:
        parse_untrusted(raw, max_bytes=limit, max_depth=MAX_DEPTH, max_elements=MAX_XML_ELEMENTS)  # before anything else reads it
    except UnsafeXml as exc:
        status = 413 if exc.code in ("xml-too-large", "xml-too-many-elements") else 400
        raise FhirError.simple(status, "too-costly" if status == 413 else "structure", exc.message, error_code=exc.code) from None
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
