"""The FHIR face in the OpenAPI description, one path per resource type.

FastAPI only knows the face's generic routes (``/fhir/{resource_type}``),
which tell a client, a code generator or an API fuzzer nothing about what a
resource looks like or how it is searched. This module replaces them, in the
description only, by the concrete interactions each handler declares (the
same source as the CapabilityStatement): its search parameters as query
parameters, and a JSON schema of its body built from the top level of its
profile's snapshot (cardinality, primitive types, fixed values, required
elements; nested structure is left to the validator, which answers every
write with an OperationOutcome).
"""

from __future__ import annotations

from typing import Any, Iterable

from gateway.conformance.fhir.structure import ElementNode, Structures
from gateway.fhir.handler import ResourceHandler

FHIR_JSON = "application/fhir+json"
ID_PATTERN = r"^[A-Za-z0-9\-\.]{1,64}$"
_NUMBERS = {"integer": "integer", "positiveInt": "integer", "unsignedInt": "integer", "integer64": "integer", "decimal": "number"}
_GENERIC = ("/fhir/{resource_type}",)
_COMMON_SEARCH = (
    ("_count", "integer", "Page size (bounded by the server's maximum)."),
    ("_cursor", "string", "Opaque cursor of a later page, taken from a Bundle's next link."),
    ("_include", "string", "A declared include (see searchInclude in /fhir/metadata); others are refused."),
    ("_revinclude", "string", "A declared reverse include, e.g. Provenance:target."),
)
_OUTCOME = {"description": "OperationOutcome saying what was wrong and what to do",
            "content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}}}


def _primitive(code: str) -> dict[str, Any]:
    if code == "boolean":
        return {"type": "boolean"}
    if code in _NUMBERS:
        return {"type": _NUMBERS[code]}
    return {"type": "string"}


def _element_schema(node: ElementNode, type_code: str) -> dict[str, Any]:
    schema = _primitive(type_code) if type_code[:1].islower() else {"type": "object"}
    if node.fixed is not None and type_code[:1].islower():
        schema = {**schema, "enum": [node.fixed[1]]}
    return {"type": "array", "items": schema, "minItems": max(node.min, 1)} if node.many else schema


def resource_schema(structures: Structures, handler: ResourceHandler) -> dict[str, Any]:
    """The body of a create or update of ``handler``'s type: its profile's top-level elements."""
    schema: dict[str, Any] = {"type": "object", "required": ["resourceType"],
                              "properties": {"resourceType": {"type": "string", "enum": [handler.resource_type]}}}
    several = len(getattr(handler, "supported_profiles", ())) > 1  # a type shared by programmes: the core's shape
    structure = (structures.get(handler.profile) if handler.profile and not several else None) or \
        structures.get(f"http://hl7.org/fhir/StructureDefinition/{handler.resource_type}")
    if structure is None:
        return schema
    for name, node in structure.root.children.items():
        if node.max == 0 or name in ("resourceType",):
            continue
        if node.is_choice:
            for type_ref in node.types:
                suffix = type_ref.code[:1].upper() + type_ref.code[1:]
                schema["properties"][node.choice_prefix + suffix] = _element_schema(node, type_ref.code)
            continue
        if not node.types:
            schema["properties"][name] = {"type": "object"}
            continue
        schema["properties"][name] = _element_schema(node, node.types[0].code)
        if node.min >= 1:
            schema["required"].append(name)
    profiles = getattr(handler, "supported_profiles", ()) or ((handler.profile,) if handler.profile else ())
    if profiles:
        schema["description"] = f"A {handler.resource_type} following {' or '.join(profiles)}."
    return schema


def _search_parameters(handler: ResourceHandler) -> list[dict[str, Any]]:
    params = [{"name": p.name, "in": "query", "required": False, "description": f"{p.type}: {p.documentation}",
               "schema": {"type": "string"}} for p in handler.search_params]
    params += [{"name": name, "in": "query", "required": False, "description": text,
                "schema": {"type": kind, **({"minimum": 1} if kind == "integer" else {})}}
               for name, kind, text in _COMMON_SEARCH if name != "_include" or handler.includes
               if name != "_revinclude" or handler.rev_includes]
    return params


def _bundle(description: str) -> dict[str, Any]:
    return {"description": description, "content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/Bundle"}}}}


def _answers(ok: dict[str, Any], *codes: str) -> dict[str, Any]:
    answers = {"401": {"description": "no valid bearer token"}, "403": _OUTCOME, **{code: _OUTCOME for code in codes}}
    return {**ok, **answers}


def _paths_of(handler: ResourceHandler, structures: Structures) -> dict[str, dict[str, Any]]:
    kind = handler.resource_type
    tag = [f"FHIR {kind}"]
    body = {"required": True, "content": {FHIR_JSON: {"schema": {"$ref": f"#/components/schemas/{kind}"}}}}
    one = {"200": {"description": f"the {kind}", "content": {FHIR_JSON: {"schema": {"$ref": f"#/components/schemas/{kind}"}}}}}
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": ID_PATTERN}}
    doc = handler.documentation or f"{kind} resources."
    paths: dict[str, dict[str, Any]] = {}
    interactions = set(handler.interactions)
    type_path: dict[str, Any] = {}
    if "search-type" in interactions:
        type_path["get"] = {"tags": tag, "summary": f"search {kind}", "description": doc, "operationId": f"search{kind}",
                            "parameters": _search_parameters(handler), "responses": _answers(_bundle("a searchset Bundle"), "400")}
    if "create" in interactions:
        type_path["post"] = {"tags": tag, "summary": f"create a {kind}", "description": doc, "operationId": f"create{kind}",
                             "parameters": [{"name": "If-None-Exist", "in": "header", "required": False, "schema": {"type": "string"},
                                             "description": "conditional create: search parameters of an existing match"}]
                             if handler.conditional_create else [],
                             "requestBody": body, "responses": _answers({"201": one["200"] | {"description": "created"}}, "400", "409", "412", "422")}
    if type_path:
        paths[f"/fhir/{kind}"] = type_path
    if "search-type" in interactions:
        paths[f"/fhir/{kind}/_search"] = {"post": {
            "tags": tag, "summary": f"search {kind} (form body)", "operationId": f"searchPost{kind}",
            "requestBody": {"required": False, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "properties": {p["name"]: p["schema"] for p in _search_parameters(handler)}}}}},
            "responses": _answers(_bundle("a searchset Bundle"), "400")}}
    if "history-type" in interactions:
        paths[f"/fhir/{kind}/_history"] = {"get": {"tags": tag, "summary": f"history of every {kind} the caller may see",
                                                    "operationId": f"historyType{kind}", "responses": _answers(_bundle("a history Bundle"), "400")}}
    instance: dict[str, Any] = {}
    if "read" in interactions:
        instance["get"] = {"tags": tag, "summary": f"read a {kind}", "operationId": f"read{kind}", "parameters": [id_param],
                           "responses": _answers(one, "404")}
    if "update" in interactions:
        instance["put"] = {"tags": tag, "summary": f"update a {kind} (If-Match for optimistic locking)", "operationId": f"update{kind}",
                           "parameters": [id_param, {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                                                     "description": 'the version read, as W/"n"'}],
                           "requestBody": body, "responses": _answers(one, "400", "404", "409", "412", "422")}
    if instance:
        paths[f"/fhir/{kind}/{{id}}"] = instance
    if "history-instance" in interactions:
        paths[f"/fhir/{kind}/{{id}}/_history"] = {"get": {
            "tags": tag, "summary": f"versions of a {kind}", "operationId": f"history{kind}", "parameters": [id_param],
            "responses": _answers(_bundle("a history Bundle"), "404")}}
    if "vread" in interactions:
        paths[f"/fhir/{kind}/{{id}}/_history/{{vid}}"] = {"get": {
            "tags": tag, "summary": f"one version of a {kind}", "operationId": f"vread{kind}",
            "parameters": [id_param, {"name": "vid", "in": "path", "required": True, "schema": {"type": "string", "pattern": r"^[0-9]{1,9}$"}}],
            "responses": _answers(one, "404")}}
    paths[f"/fhir/{kind}/$validate"] = {"post": {
        "tags": tag, "summary": f"validate a {kind} against its profile", "operationId": f"validate{kind}",
        "requestBody": body, "responses": {"200": _OUTCOME | {"description": "an OperationOutcome listing every issue found"},
                                           "401": {"description": "no valid bearer token"}, "400": _OUTCOME}}}
    return paths


def describe_fhir(spec: dict[str, Any], handlers: Iterable[ResourceHandler], structures: Structures) -> dict[str, Any]:
    """``spec`` (FastAPI's description) with the generic FHIR routes replaced by one path per type."""
    handlers = sorted(handlers, key=lambda h: h.resource_type)
    paths = {path: item for path, item in spec.get("paths", {}).items() if not path.startswith(_GENERIC)}
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["OperationOutcome"] = {"type": "object", "required": ["resourceType", "issue"],
                                   "properties": {"resourceType": {"type": "string", "enum": ["OperationOutcome"]},
                                                  "issue": {"type": "array", "items": {"type": "object"}}}}
    schemas["Bundle"] = {"type": "object", "required": ["resourceType", "type"],
                         "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]}, "type": {"type": "string"},
                                        "entry": {"type": "array", "items": {"type": "object"}}}}
    for handler in handlers:
        schemas[handler.resource_type] = resource_schema(structures, handler)
        paths.update(_paths_of(handler, structures))
    spec["paths"] = paths
    security = spec.setdefault("components", {}).setdefault("securitySchemes", {})
    security["bearer"] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                          "description": "An access token of a trusted OpenID Connect issuer (the sandbox: /ehealth/auth/realms/M2M)."}
    for path, item in paths.items():
        if path.startswith("/fhir/") and path != "/fhir/metadata":
            for operation in item.values():
                operation.setdefault("security", [{"bearer": []}])
    return spec
