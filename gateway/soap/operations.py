"""What the CareTeam and Referral services share beyond their contracts:
running an operation under the domain's refusals (said as Faults), naming a
repeated request item in a fault (``Member[2]``), and assembling the service
the way IntegratedCare is assembled (self-contained ``?wsdl``, XSD
validation, WS-Security with an STS holder-of-key token).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Mapping

from lxml import etree

from gateway.domain.errors import DomainError
from gateway.mapping.mapping import MappingError
from gateway.soap.commons import gateway_contract
from gateway.soap11.contract import ContractService
from gateway.soap11.envelope import q
from gateway.soap.faults import RequestPaths, domain_fault, mapping_fault
from gateway.soap11.service import Handler, Security, SoapRequest

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

CHANNEL = "soap"
MAX_BYTES = 256 * 1024  # a request is a few kB (the STS token included): no reason to read more
_ITEM = re.compile(r"^(?P<list>[A-Za-z]+)\[(?P<index>\d+)\]")

Operation = tuple[Callable[[SoapRequest], etree._Element], RequestPaths]


@dataclass(frozen=True)
class ItemPaths(RequestPaths):
    """:class:`RequestPaths` that also names a repeated item: the domain says
    ``participant[1].member.identifier``, the caller sent the second
    ``Member`` (``items`` maps ``participant`` to ``Member``)."""

    items: dict[str, str] = field(default_factory=dict)

    def element(self, domain_path: str | None) -> str | None:
        found = _ITEM.match(domain_path or "")
        if found and found["list"] in self.items:
            return f"/Envelope/Body/{self.request}/{self.items[found['list']]}[{int(found['index']) + 1}]"
        return super().element(domain_path)


def guarded(handler: Callable[[SoapRequest], etree._Element], paths: RequestPaths) -> Handler:
    """Domain and mapping refusals as Faults naming the request element at fault."""

    def run(request: SoapRequest) -> etree._Element:
        try:
            return handler(request)
        except DomainError as error:
            raise domain_fault(error, paths) from None
        except MappingError as error:
            raise mapping_fault(error, paths) from None

    return run


def hosted(security: Security, name: str, folder: str, ns: str, operations: Mapping[str, Operation]) -> ContractService:
    """The service ``/{name}/v1`` of ``soap/{folder}/{name}-v1.wsdl``: operation
    ``X`` answers ``XRequest`` under SOAPAction ``{ns}:X``, behind ``security``
    (WS-Security with the STS's holder-of-key tokens, as the composition root
    configured it)."""
    return ContractService(
        name, f"/{name}/v1",
        gateway_contract(folder, f"{name}-v1.wsdl"),
        gateway_contract(folder, f"{name}-v1.xsd"),
        {q(ns, f"{op}Request"): (f"{ns}:{op}", guarded(handler, paths)) for op, (handler, paths) in operations.items()},
        security,
        max_bytes=MAX_BYTES,
        envelope_paths=True,
    )


def instant(value: datetime) -> datetime:
    """Stored instants are UTC (SQLite gives them back naive)."""
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


__all__ = ["CHANNEL", "MAX_BYTES", "ItemPaths", "Operation", "guarded", "hosted", "instant"]
