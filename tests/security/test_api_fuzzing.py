"""Schemathesis over the OpenAPI description: every operation the
description declares (one path per FHIR type, gateway/fhir/openapi.py, the
conformance validator, the home page) is called with generated requests,
valid and invalid, each under the real bearer token of one of several personas from
the sandbox IdP in turn, or without a token. No answer may be a 5xx: bad input gets an
OperationOutcome (hardening: "no input a client can send may produce a 5xx").

The run is bounded: ``CARE_GATEWAY_FUZZ_EXAMPLES`` generated requests per
operation (default 8) in the fuzzing phase, besides schemathesis's
examples and coverage phases, with a fixed seed, so a failure is reproducible; CI
runs it on SQLite and on PostgreSQL as part of the suite."""

from __future__ import annotations

import itertools
import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.fhir.conftest import fhir_token  # noqa: F401  (fixture)

EXAMPLES = int(os.environ.get("CARE_GATEWAY_FUZZ_EXAMPLES", "8"))
# The callers, in turn, of the generated requests: a care provider, PSI staff, a patient, an insurer, the auditor, nobody.
PERSONAS = itertools.cycle(("gp", "psi-admin", "patient", "insurer", "auditor", None))
# The simulated platform's own endpoints are a test double of eHealth's, fuzzed through the gateway's use of them.
SKIPPED_PREFIXES = ("/ehealth/", "/sandbox/")


@pytest.fixture(scope="module")
def api_schema(live):  # type: ignore[no-untyped-def]
    description = httpx.get(live.url("/openapi.json"), timeout=60).json()
    description["paths"] = {p: item for p, item in description["paths"].items() if not p.startswith(SKIPPED_PREFIXES)}
    loaded = schemathesis.openapi.from_dict(description)
    loaded.config.update(base_url=live.base_url)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


def test_the_description_names_each_fhir_type_with_its_search_parameters_and_body(live):  # type: ignore[no-untyped-def]
    description = httpx.get(live.url("/openapi.json"), timeout=60).json()
    metadata = httpx.get(live.url("/fhir/metadata"), timeout=60).json()
    for resource in metadata["rest"][0]["resource"]:
        kind = resource["type"]
        interactions = {i["code"] for i in resource["interaction"]}
        if "search-type" in interactions:
            named = {p["name"] for p in description["paths"][f"/fhir/{kind}"]["get"]["parameters"]}
            assert {p["name"] for p in resource.get("searchParam", [])} <= named, kind
        if "read" in interactions:
            assert "get" in description["paths"][f"/fhir/{kind}/{{id}}"], kind
        assert description["components"]["schemas"][kind]["properties"]["resourceType"]["enum"] == [kind]
    assert not any("{resource_type}" in path for path in description["paths"])


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_5xx(case, fhir_token):  # type: ignore[no-untyped-def]  # noqa: F811
    persona = next(PERSONAS)
    headers = {"Authorization": f"Bearer {fhir_token(persona)}"} if persona else {}
    response = case.call(headers=headers, timeout=60)
    case.validate_response(response, checks=[not_a_server_error])
