"""Assertions the care-team and referral FHIR tests share: what the server
returns validates against its profile, and a refusal is an OperationOutcome
naming the element and the rule."""

from __future__ import annotations

import json
from typing import Any, Callable

import httpx
import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import (AuthorizationError, BaseFHIRError, ForbiddenError, MultipleResourcesFound, OperationOutcome,
                                    ResourceNotFound)

from gateway.conformance.fhir.validator import FhirValidator

RULE_SYSTEM = "https://care-gateway.be/fhir/CodeSystem/rule"
ERROR_CODE_SYSTEM = "https://care-gateway.be/fhir/CodeSystem/error-code"


def valid(resource: Any) -> dict[str, Any]:
    """The resource as JSON, after checking it against its meta.profile."""
    data = resource.serialize() if hasattr(resource, "serialize") else dict(resource)
    result = FhirValidator.default().validate(data)
    assert result.valid, result.findings()
    assert data["meta"]["profile"], data
    return data


# how fhirpy reports each HTTP status (412 comes out as MultipleResourcesFound)
RAISED: dict[int, type[BaseFHIRError]] = {401: AuthorizationError, 403: ForbiddenError, 404: ResourceNotFound,
                                          412: MultipleResourcesFound, 400: OperationOutcome, 422: OperationOutcome}


def refused(action: Callable[[], Any], status: int) -> dict[str, Any]:
    """Run a fhirpy call that the server must refuse with ``status``; its OperationOutcome."""
    with pytest.raises(RAISED[status]) as err:
        action()
    resource = getattr(err.value, "resource", None)
    outcome = resource if isinstance(resource, dict) else json.loads(err.value.args[0])
    assert outcome["resourceType"] == "OperationOutcome", outcome
    return outcome


def issue(outcome: dict[str, Any]) -> dict[str, Any]:
    """The first error issue, flattened: severity, code, rule, error code, expression, text."""
    first = next(i for i in outcome["issue"] if i["severity"] in ("error", "fatal"))
    coding = first.get("details", {}).get("coding", [])
    return {
        "code": first["code"],
        "rule": next((c["code"] for c in coding if c["system"] == RULE_SYSTEM), None),
        "error": next((c["code"] for c in coding if c["system"] == ERROR_CODE_SYSTEM), None),
        "expression": (first.get("expression") or [None])[0],
        "text": first["details"]["text"],
    }


def client_with(base_url: str, token: str, **headers: str) -> SyncFHIRClient:
    """A fhirpy client sending extra headers (If-Match) on every request."""
    return SyncFHIRClient(f"{base_url}/fhir", authorization=f"Bearer {token}",
                          extra_headers={k.replace("_", "-"): v for k, v in headers.items()})


def send(base_url: str, token: str, method: str, path: str, body: dict[str, Any] | None = None,
         **headers: str) -> httpx.Response:
    """A raw FHIR request, for what fhirpy hides (status codes, ETag, Location)."""
    return httpx.request(method, f"{base_url}/fhir" + (f"/{path}" if path else ""), json=body, timeout=30, headers={
        "Authorization": f"Bearer {token}", "Accept": "application/fhir+json", "Content-Type": "application/fhir+json",
        **{k.replace("_", "-"): v for k, v in headers.items()}})
