"""Moved: the composition root is :mod:`gateway.wiring`."""

from gateway.wiring import Gateway, build_gateway

__all__ = ["Gateway", "build_gateway"]
