"""The CapabilityStatement at ``/fhir/metadata``, generated from what the
handlers declare, so that it can never claim more than the server does."""

from __future__ import annotations

from typing import Any

import gateway
from gateway.fhir.handler import ResourceHandler

OPERATIONS = [{"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}]


def capability_statement(base: str, handlers: list[ResourceHandler]) -> dict[str, Any]:
    resources = []
    for h in sorted(handlers, key=lambda h: h.resource_type):
        entry: dict[str, Any] = {
            "type": h.resource_type,
            "interaction": [{"code": code} for code in h.interactions],
            "versioning": "versioned",
            "readHistory": "vread" in h.interactions,
            "updateCreate": h.update_create,
            "conditionalCreate": h.conditional_create,
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchParam": [
                {"name": p.name, "type": p.type, "documentation": p.documentation, **({"definition": p.definition} if p.definition else {})}
                for p in h.search_params
            ],
            "operation": OPERATIONS,
        }
        if not entry["searchParam"]:  # a type served without search (R4: an array is never empty)
            del entry["searchParam"]
        if h.profile:
            entry["profile"] = h.profile
        if getattr(h, "supported_profiles", ()):  # a type whose resources follow several profiles (Task)
            entry["supportedProfile"] = list(h.supported_profiles)
        if h.documentation:
            entry["documentation"] = h.documentation
        if h.includes:
            entry["searchInclude"] = list(h.includes)
        if h.rev_includes:
            entry["searchRevInclude"] = list(h.rev_includes)
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "id": "care-gateway",
        "url": f"{base}/metadata",
        "name": "CareGateway",
        "title": "care-gateway FHIR API",
        "status": "active",
        "date": "2026-11-22",
        "publisher": "care-gateway",
        "kind": "instance",
        "software": {"name": "care-gateway", "version": gateway.__version__},
        "implementation": {"description": "care-gateway FHIR face", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/fhir+xml"],
        "rest": [{
            "mode": "server",
            "documentation": "Bearer tokens (RS256 JWT) from the eHealth IAM (simulated: /ehealth/auth/realms/M2M). "
                             "Every act is decided by the same access policy as the SOAP face and audited.",
            "security": {
                "cors": False,
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}]}],
                "description": "OAuth2 bearer tokens; 401 without a valid token, 403 with an OperationOutcome naming the rule when the policy refuses.",
            },
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
        }],
    }
