"""Domain refusals as SOAP Faults: the face decides nothing, it only says
in SOAP what the domain said, as the FHIR face says it in an
OperationOutcome (the same code, the same rule id).

The element path of a fault is the request element at fault, found from the
domain's path (``patient.niss``) through the operation's mapping, so that it
names what the caller sent (``/Envelope/Body/DeclareInclusionRequest/PatientSsin``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.domain.errors import DomainError
from gateway.mapping.mapping import Mapping, MappingError
from gateway.soap11.envelope import (
    STATUS_CONFLICT,
    STATUS_DATA_NOT_FOUND,
    STATUS_ERROR,
    STATUS_INVALID_INPUT,
    STATUS_NOT_AUTHORIZED,
    SoapFault,
)

# domain category -> eHealth commons status (the FHIR face maps the same categories to HTTP codes)
STATUS = {
    "invalid": STATUS_INVALID_INPUT,
    "not-found": STATUS_DATA_NOT_FOUND,
    "forbidden": STATUS_NOT_AUTHORIZED,
    "conflict": STATUS_CONFLICT,
    "version-conflict": STATUS_CONFLICT,
    "unavailable": STATUS_ERROR,  # a fact source (the eHealth platform) could not answer: a Server fault
}


def _local(path: str) -> str:
    """``ic:BillingPeriod/ic:Start`` -> ``BillingPeriod/Start``."""
    return "/".join(step.rpartition(":")[2] for step in path.split("/"))


@dataclass(frozen=True)
class RequestPaths:
    """Where the items of one operation's request are, to name them in faults.

    ``mapping`` reads the request (its fields' ``soap`` paths are relative to
    the request element); ``aliases`` maps domain paths whose field has
    another name in that mapping (``consent.date`` -> ``decision_date``) or
    that are no mapped field (``_count`` -> ``PageSize``)."""

    request: str
    mapping: Mapping | None = None
    aliases: dict[str, str] = field(default_factory=dict)

    def element(self, domain_path: str | None) -> str | None:
        if not domain_path:
            return None
        base = f"/Envelope/Body/{self.request}"
        name = self.aliases.get(domain_path, domain_path.replace(".", "_"))
        if self.mapping is not None:
            found = next((f for f in self.mapping.fields if f.name == name and f.soap), None)
            if found is not None:
                return f"{base}/{_local(found.soap or '')}"
        return f"{base}/{name}" if name[:1].isupper() else f"{base} ({domain_path})"

    def wire(self, soap_path: str) -> str:
        """A mapping path (``ic:StartDate``) as a fault path."""
        return f"/Envelope/Body/{self.request}/{_local(soap_path)}"


def domain_fault(error: DomainError, paths: RequestPaths) -> SoapFault:
    """The SOAP Fault of a domain refusal: its category's status, its code,
    its rule id, the request element at fault, its sentence."""
    return SoapFault(error.code, error.message, status=STATUS.get(error.category, STATUS_ERROR),
                     rule=error.rule, path=paths.element(error.path), client=error.category != "unavailable")


def mapping_fault(error: MappingError, paths: RequestPaths) -> SoapFault:
    """A value the XSD let through but the domain cannot read (rare: the XSD checks types)."""
    return SoapFault(error.code, error.message, status=STATUS_INVALID_INPUT, path=paths.wire(error.path))
