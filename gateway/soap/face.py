"""Mounts the gateway's own SOAP services under ``/soap`` (the simulated
eHealth platform's are under ``/ehealth``): ``/soap/IntegratedCare/v1``, …,
each answering ``?wsdl``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from fastapi import APIRouter, FastAPI

if TYPE_CHECKING:
    from gateway.services import Gateway

PREFIX = "/soap"


def _service_routers() -> list[Callable[["Gateway"], APIRouter]]:
    """Each service module exposes ``router(gw) -> APIRouter``; one line per service."""
    routers: list[Callable[["Gateway"], APIRouter]] = []
    from gateway.soap import integrated_care  # inclusions and research consent (IC-F1..IC-F4)
    routers.append(integrated_care.router)
    from gateway.soap import care_team  # care teams (CT-1..CT-5)
    routers.append(care_team.router)
    from gateway.soap import referral  # referrals (RF-1, RF-4)
    routers.append(referral.router)
    return routers


def mount_soap(app: FastAPI, gw: "Gateway") -> None:
    for make in _service_routers():
        app.include_router(make(gw), prefix=PREFIX)
