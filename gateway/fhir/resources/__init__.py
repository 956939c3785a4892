"""The resource handlers of the FHIR face, one module per resource family."""

from __future__ import annotations

from gateway.fhir.handler import ResourceHandler


def all_handlers() -> list[ResourceHandler]:
    """Every handler the server mounts (the CapabilityStatement lists exactly these)."""
    handlers: list[ResourceHandler] = []
    from gateway.fhir.resources.inclusion import EpisodeOfCareHandler

    handlers.append(EpisodeOfCareHandler())
    from gateway.fhir.resources.consent import ConsentHandler

    handlers.append(ConsentHandler())
    # care teams and referrals
    # directory and audit
    return handlers
