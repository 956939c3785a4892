"""Searches answered from a list the domain returns (a patient's care teams
or referrals, already filtered by the access policy): the patient parameter,
token filters, and offset paging."""

from __future__ import annotations

from typing import Any

from gateway.fhir.handler import Call, SearchResult
from gateway.fhir.outcome import FhirError
from gateway.fhir.resources.common import ssin, values_of
from gateway.fhir.search import parse_token, whole_number
from gateway.domain.principal import Role

PATIENT_IDENTIFIER = "https://care-gateway.be/fhir/SearchParameter/patient-identifier"


def patient_niss(call: Call, params: list[tuple[str, str]], what: str) -> str:
    """The NISS of ``patient-identifier``; a patient who gives none searches their own."""
    given = values_of(params, "patient-identifier")
    if len(given) > 1:
        raise FhirError.simple(400, "invalid", "Give one patient-identifier.", expression="patient-identifier",
                               error_code="one-patient-only")
    if given:
        return ssin("patient-identifier", given[0])
    if call.principal.role is Role.PATIENT:
        return call.principal.niss
    raise FhirError.simple(400, "required", f"Search {what} by patient: patient-identifier=system|NISS.",
                           expression="patient-identifier", error_code="patient-required")


def token_codes(params: list[tuple[str, str]], name: str, system: str | None = None) -> set[str] | None:
    """The codes a token parameter allows, ``None`` when it is absent. Commas
    mean OR; a repeated parameter means AND, so for one coded value (a
    status) only the codes every repeat names remain."""
    wanted: set[str] | None = None
    for raw in values_of(params, name):
        codes: set[str] = set()
        for part in raw.split(","):
            token = parse_token(part)
            if token.system is not None and system is not None and token.system != system:
                raise FhirError.simple(400, "invalid", f"{name}: the system must be {system}, not {token.system!r}.",
                                       expression=name, error_code="unsupported-code-system")
            codes.add(token.code)
        wanted = codes if wanted is None else wanted & codes
    return wanted


def page(resources: list[dict[str, Any]], count: int, cursor: str | None) -> SearchResult:
    """One page of ``resources``; the cursor is the offset of the next page."""
    start = whole_number(cursor) or 0
    end = start + count
    return SearchResult(resources[start:end], str(end) if end < len(resources) else None, total=len(resources))
