"""Small pieces the resource handlers share: identifier tokens, date
predicates from search prefixes, and the meta of a returned resource."""

from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from gateway.domain.identifiers import CBE_SYSTEM, NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.fhir.outcome import FhirError
from gateway.fhir.search import as_datetime, parse_date, parse_token

NIHDI_SYSTEMS = (NIHDI_SYSTEM, NIHDI_SYSTEM + "-professional", NIHDI_SYSTEM + "-organization")


def identifier_value(name: str, raw: str, systems: tuple[str, ...]) -> str:
    """The value of a ``system|value`` token whose system (if given) is one of ``systems``."""
    token = parse_token(raw)
    if token.system is not None and token.system not in systems:
        raise FhirError.simple(400, "invalid", f"{name}: the identifier system must be {systems[0]}, not {token.system!r}.",
                               expression=name, error_code="unsupported-identifier-system")
    if not token.code:
        raise FhirError.simple(400, "invalid", f"{name}: give an identifier value.", expression=name, error_code="empty-search-value")
    return token.code


def ssin(name: str, raw: str) -> str:
    return identifier_value(name, raw, (SSIN_SYSTEM,))


def nihii(name: str, raw: str) -> str:
    return identifier_value(name, raw, NIHDI_SYSTEMS)


def cbe(name: str, raw: str) -> str:
    return identifier_value(name, raw, (CBE_SYSTEM,))


def period_predicate(name: str, values: list[str]) -> Callable[[date, date | None], bool] | None:
    """All ``date`` parameters together, as one predicate on [start, end]."""
    if not values:
        return None
    params = [parse_date(name, v) for v in values]

    def matches(start: date, end: date | None) -> bool:
        lo, hi = as_datetime(start), as_datetime(end, end=True)
        return all(p.matches_range(lo, hi) for p in params)

    return matches


def instant_predicate(name: str, values: list[str]) -> Callable[[datetime], bool] | None:
    if not values:
        return None
    params = [parse_date(name, v) for v in values]

    def matches(at: datetime) -> bool:
        moment = as_datetime(at)
        return all(p.matches_range(moment, moment) for p in params)

    return matches


def instant(value: datetime) -> str:
    return as_datetime(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")  # type: ignore[union-attr]


def values_of(params: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in params if k == name]


RECORDED_BY = "https://care-gateway.be/fhir/StructureDefinition/recorded-by"


def complete_recorded_by(resource: dict) -> None:
    """Give the recorded-by actor and organisation references their identifier systems."""
    for ext in resource.get("extension", []):
        if ext.get("url") != RECORDED_BY:
            continue
        for sub in ext.get("extension", []):
            ident = sub.get("valueReference", {}).get("identifier")
            if ident is not None:
                sub["valueReference"]["identifier"] = {"system": SSIN_SYSTEM if sub["url"] == "actor" else NIHDI_SYSTEM,
                                                       "value": ident["value"]}
