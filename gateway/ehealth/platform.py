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
    return routers


def mount_platform(app: FastAPI, gw: "Gateway") -> None:
    for make in _service_routers():
        app.include_router(make(gw), prefix=PREFIX)
