"""Mounts the gateway's own SOAP services under ``/soap`` (the simulated
eHealth platform's are under ``/ehealth``): ``/soap/IntegratedCare/v1``, …,
each answering ``?wsdl``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from fastapi import APIRouter, FastAPI

from gateway.identity.wssecurity import MessageVerifier
from gateway.soap11.service import Security, ws_security

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

PREFIX = "/soap"


def _service_routers() -> list[Callable[["UseCases", Security], APIRouter]]:
    """Each service module exposes ``router(cases, security) -> APIRouter``; one line per service."""
    routers: list[Callable[["UseCases", Security], APIRouter]] = []
    from gateway.soap import integrated_care  # inclusions and research consent (IC-F1..IC-F4)
    routers.append(integrated_care.router)
    from gateway.soap import care_team  # care teams (CT-1..CT-5)
    routers.append(care_team.router)
    from gateway.soap import referral  # referrals (RF-1, RF-4)
    routers.append(referral.router)
    from gateway.soap import rights  # the people's rights requests (DS-2..DS-4)
    routers.append(rights.router)
    from gateway.soap import return_to_work  # the return-to-work dossier and its form (RP-A1..RP-A7, RP-F1, RP-F2)
    routers.append(return_to_work.router)
    from gateway.soap import perinatal  # the perinatal programme: follow-up, consent, screening, referral to support (PN-1, PN-2, RF-3)
    routers.append(perinatal.router)
    return routers


def mount_soap(app: FastAPI, cases: "UseCases", messages: MessageVerifier) -> None:
    """Mount every service on ``app``: each takes the use cases and the
    WS-Security check built on the configured trust (``messages``)."""
    security = ws_security(messages, "saml-hok")
    for make in _service_routers():
        app.include_router(make(cases, security), prefix=PREFIX)
