"""A FHIR interaction over HTTP(S), JSON, as any FHIR client sends it."""

from __future__ import annotations

import json
from typing import Any

import httpx

from gateway.conformance.suites.actions import ActionError, Context
from gateway.conformance.suites.model import Exchange
from gateway.conformance.suites.tokens import mutate_jwt

FHIR_JSON = "application/fhir+json"


def bearer(spec: dict[str, Any], ctx: Context) -> str | None:
    """The Authorization value the step asks for: none, a literal, a named
    token, or the persona's own (possibly mutated)."""
    if "bearer" in spec:
        return f"Bearer {spec['bearer']}"
    if "token" in spec:
        token = ctx.tokens.token(spec["token"])
        if token.kind != "access":
            raise ActionError(f"token {spec['token']!r} is a {token.kind} token; a FHIR call needs an access token")
        value = str(token.value)
    elif "persona" in spec:
        value = ctx.tokens.access(spec["persona"])
    else:
        return None
    if "token-mutation" in spec:
        value = mutate_jwt(value, spec["token-mutation"])
    return f"Bearer {value}"


def run_fhir(spec: dict[str, Any], ctx: Context) -> Exchange:
    assert ctx.suite is not None
    path = str(spec["path"]).lstrip("/")
    url = ctx.url(ctx.suite.fhir_base) + (f"/{path}" if path else "")
    headers = {"Accept": FHIR_JSON}
    authorization = bearer(spec, ctx)
    if authorization:
        headers["Authorization"] = authorization
    body: Any = ctx.fixture(spec["fixture"]) if "fixture" in spec else spec.get("body")
    content = None
    if body is not None:
        content = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        headers["Content-Type"] = FHIR_JSON
    headers.update({k: str(v) for k, v in (spec.get("headers") or {}).items()})
    exchange = Exchange(spec["method"], url, headers, content or "")
    try:
        response = ctx.http.request(spec["method"], url, content=content.encode() if content else None, headers=headers)
    except httpx.HTTPError as error:
        raise ActionError(f"no answer from {url}: {error}") from None
    exchange.status = response.status_code
    exchange.response_headers = dict(response.headers)
    exchange.response_body = response.text
    return exchange
