"""Mounts the simulated eHealth platform under ``/ehealth``, at the same
relative paths as the real platform (``IAM/SecurityTokenService/v1``, …), so
a vendor switches between them by changing only a base URL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from fastapi import APIRouter, FastAPI

if TYPE_CHECKING:
    from gateway.services import Gateway

PREFIX = "/ehealth"


def _service_routers() -> list[Callable[["Gateway"], APIRouter]]:
    """Each simulated service module exposes ``router(gw) -> APIRouter``."""
    routers: list[Callable[["Gateway"], APIRouter]] = []
    # one line per service, in the order of ehealth.md
    from gateway.ehealth import sts  # STS: SAML 1.1 holder-of-key tokens (WS-Trust and legacy)
    routers.append(sts.router)
    from gateway.ehealth import oauth  # OAuth2 / OpenID Connect (sandbox IdP)
    routers.append(oauth.router)
    from gateway.ehealth import attribute_authority  # attribute authority: SAML 2.0 AttributeQuery
    routers.append(attribute_authority.router)
    from gateway.ehealth import therlink  # TherLink: therapeutic relationships
    routers.append(therlink.router)
    from gateway.ehealth import hub_consent  # Consent: the patient's hub consent
    routers.append(hub_consent.router)
    from gateway.ehealth import addressbook  # AddressBook / CoBrHa look-ups
    routers.append(addressbook.router)
    from gateway.ehealth import consultrn  # consultRN: national register and its mutation feed
    routers.append(consultrn.router)
    return routers


def mount_platform(app: FastAPI, gw: "Gateway") -> None:
    for make in _service_routers():
        app.include_router(make(gw), prefix=PREFIX)
