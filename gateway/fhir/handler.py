"""What each resource type offers: a :class:`ResourceHandler` declares its
interactions and search parameters (the CapabilityStatement is generated
from these declarations) and turns them into domain use-case calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.fhir.outcome import FhirError
from gateway.domain.principal import Principal

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

CHANNEL = "fhir"


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # token | date | reference | string | number | uri
    documentation: str
    definition: str | None = None


@dataclass
class Call:
    """One FHIR interaction: who asks, through which server base, and the
    use cases that answer it."""

    cases: "UseCases"
    principal: Principal
    base: str


@dataclass
class SearchResult:
    matches: list[dict[str, Any]]
    next_cursor: str | None = None
    included: list[dict[str, Any]] = field(default_factory=list)
    total: int | None = None
    outcome: dict[str, Any] | None = None  # information for the caller, as a search.mode=outcome entry


@dataclass
class Written:
    """The outcome of a create or update: the resource and whether it is new."""

    resource: dict[str, Any]
    created: bool


class ResourceHandler:
    """Base: every interaction not overridden answers 405 with an OperationOutcome."""

    resource_type: str = ""
    profile: str | None = None
    interactions: tuple[str, ...] = ()
    search_params: tuple[SearchParam, ...] = ()
    includes: tuple[str, ...] = ()
    rev_includes: tuple[str, ...] = ()
    conditional_create: bool = False
    update_create: bool = False
    documentation: str = ""
    paths: dict[str, str] = {}  # domain error path -> FHIRPath expression

    def _unsupported(self, what: str) -> FhirError:
        return FhirError.simple(405, "not-supported", f"{self.resource_type} does not support {what}; see /fhir/metadata.")

    def read(self, call: Call, id: str) -> dict[str, Any]:
        raise self._unsupported("read")

    def vread(self, call: Call, id: str, vid: str) -> dict[str, Any]:
        raise self._unsupported("vread")

    def create(self, call: Call, resource: dict[str, Any]) -> Written:
        raise self._unsupported("create")

    def update(self, call: Call, id: str, resource: dict[str, Any], if_match: int | None) -> Written:
        raise self._unsupported("update")

    def search(self, call: Call, params: list[tuple[str, str]], count: int, cursor: str | None) -> SearchResult:
        raise self._unsupported("search")

    def history_instance(self, call: Call, id: str) -> list[tuple[dict[str, Any], str, str]]:
        raise self._unsupported("instance history")

    def history_type(self, call: Call, params: list[tuple[str, str]]) -> list[tuple[dict[str, Any], str, str]]:
        raise self._unsupported("type history")

    def find_existing(self, call: Call, criteria: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """For conditional create (If-None-Exist): the resources matching ``criteria``."""
        return self.search(call, criteria, 2, None).matches


def check_includes(handler: ResourceHandler, params: list[tuple[str, str]]) -> None:
    """``_include`` / ``_revinclude`` only as the handler declares them: never silently ignored."""
    for name, declared in (("_include", handler.includes), ("_revinclude", handler.rev_includes)):
        for _, value in (p for p in params if p[0] == name):
            if value not in declared:
                offered = ", ".join(declared) or "none"
                raise FhirError.simple(400, "not-supported", f"{name}={value} is not supported on {handler.resource_type}; offered: {offered}.",
                                       expression=name, error_code="unsupported-include")


def known_params(handler: ResourceHandler, params: list[tuple[str, str]]) -> None:
    """Refuse search parameters the handler does not declare (strict handling)."""
    allowed = {p.name for p in handler.search_params} | {"_count", "_cursor", "_format", "_pretty", "_include", "_revinclude", "_summary"}
    check_includes(handler, params)
    if any(name == "_summary" for name, _ in params):
        raise FhirError.simple(400, "not-supported", "_summary is not supported; ask for the full resources.", expression="_summary",
                               error_code="unsupported-summary")
    unknown = sorted({name.split(":")[0] for name, _ in params} - allowed)
    if unknown:
        names = ", ".join(p.name for p in handler.search_params) or "none"
        raise FhirError.simple(400, "not-supported", f"Unknown search parameter(s) {', '.join(unknown)} for {handler.resource_type}; "
                               f"supported: {names}.", error_code="unknown-search-parameter", expression=unknown[0])
