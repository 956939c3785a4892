"""What the simulated eHealth SOAP services share.

- :class:`HostedService`: :class:`gateway.soap11.contract.ContractService` (a
  self-contained ``?wsdl``, the SOAPAction check, XSD validation of the
  verified payload before any handler reads it) under the name the simulated
  services use; it moved to ``gateway/soap`` because the gateway's own SOAP
  services are held to their contracts the same way.
- :func:`caller`: the principal the security layer proved, or a fault (also
  from :mod:`gateway.soap11.contract`).
- small readers (:func:`text`, :func:`date_of`) that turn a missing or
  malformed value into a :class:`SoapFault` that names the element.

The WSDL and XSD files are hand-written, under ``soap/ehealth/``.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from lxml import etree

from gateway.contracts import contract
from gateway.soap11.contract import XS_NS, ContractService, caller, inline_schemas
from gateway.soap11.envelope import STATUS_INVALID_INPUT, STATUS_NOT_AUTHORIZED, SoapFault
from gateway.soap11.service import Security, SoapRequest

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

HostedService = ContractService


def soap_contract(*parts: str) -> Path:
    """A file under ``soap/ehealth/``."""
    return contract("soap", "ehealth", *parts)


def hok_security(platform: "Platform") -> Security:
    """WS-Security with a SAML 1.1 holder-of-key token, as every eHealth
    service requires: the simulated platform trusts its own STS and CA
    (imported late: the security layer is its own module)."""
    from gateway.identity.certstore import CertificateStore
    from gateway.identity.replay import ReplayGuard
    from gateway.identity.saml import STS_ISSUER
    from gateway.identity.wssecurity import MessageTrust, MessageVerifier
    from gateway.soap11.service import ws_security

    from gateway.ehealth.certificate_callers import token_or_certificate

    trust = MessageTrust(CertificateStore.of(platform.pki.ca.certificate), (platform.pki.platform("sts").certificate,),
                         (STS_ISSUER,))
    verifier = MessageVerifier(trust, platform.clock, ReplayGuard(platform.db))
    # an organisation may call as itself with its certificate alone (the gateway's adapters do)
    return token_or_certificate(platform, ws_security(verifier, "saml-hok"), ws_security(verifier, "x509"))


def hosted_service(
    platform: "Platform",
    name: str,
    path: str,
    wsdl: Path,
    xsd: Path,
    payload_qname: Callable[[str], str],
    action_prefix: str,
    operations: dict[str, Callable[[SoapRequest], etree._Element]],
) -> HostedService:
    """A simulated eHealth service: each operation ``Op`` answers the payload
    ``{Op}Request`` under SOAP action ``{action_prefix}{Op}``, behind a SAML
    holder-of-key token."""
    return HostedService(
        name, path, wsdl, xsd,
        {payload_qname(f"{op}Request"): (action_prefix + op, handler) for op, handler in operations.items()},
        hok_security(platform),
    )


# ------------------------------------------------------------------ refusals


def refuse(code: str, message: str, *, rule: str | None = None, path: str | None = None) -> SoapFault:
    """A refusal because of who is asking."""
    return SoapFault(code, message, status=STATUS_NOT_AUTHORIZED, rule=rule, path=path)


# ------------------------------------------------------------------ readers


def text(element: etree._Element | None, path: str, *, where: str, required: bool = True) -> str | None:
    """The stripped text at ``path`` under ``element`` (ElementPath with
    ``{ns}`` names); a fault that names ``where`` when required and absent."""
    found = element.find(path) if element is not None else None
    value = (found.text or "").strip() if found is not None else ""
    if value:
        return value
    if required:
        raise SoapFault("missing-element", f"{where} is required.", status=STATUS_INVALID_INPUT, path=where)
    return None


def date_of(value: str | None, *, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise SoapFault("invalid-date", f"{where} must be a date (YYYY-MM-DD), not {value!r}.", path=where) from None


def new_id(prefix: str = "_") -> str:
    """An XML ID (NCName: never starts with a digit)."""
    return f"{prefix}{uuid.uuid4().hex}"


__all__ = ["HostedService", "XS_NS", "caller", "date_of", "hok_security", "inline_schemas", "new_id", "refuse",
           "soap_contract", "text"]
