"""What a step does to the target, one module per kind of action: ``fhir``
(httpx), ``soap`` (zeep from the target's WSDL), ``soap_raw`` (hand-made
signed envelopes and their mutations, for what no honest client sends),
``wait``. Each takes the step's mapping with its templates already filled in
and answers the :class:`~gateway.conformance.suites.model.Exchange`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.conformance.suites.model import Suite
from gateway.conformance.suites.tokens import TokenBroker
from gateway.conformance.suites.variables import Scope
from gateway.domain.clock import Clock


class ActionError(Exception):
    """The step could not be carried out as written (a suite problem, or the
    target not answering at all); the message says which."""


@dataclass
class Context:
    """What actions share within a run."""

    target: str
    tokens: TokenBroker
    http: httpx.Client
    clock: Clock
    suite: Suite | None = None
    scope: Scope | None = None
    cache: dict[Any, Any] = field(default_factory=dict)  # zeep clients and WSDLs, per run

    def url(self, path: str) -> str:
        """A path on the target (or an absolute URL, as is)."""
        return path if path.startswith(("http://", "https://")) else self.target.rstrip("/") + "/" + path.lstrip("/")

    def fixture(self, name: str) -> Any:
        assert self.suite is not None and self.scope is not None
        if name not in self.suite.fixtures:
            raise ActionError(f"no fixture named {name!r} in the suite")
        return self.scope.substitute(self.suite.fixtures[name])


def dispatch(action: str, spec: dict[str, Any], ctx: Context) -> Any:
    """Run one action; the Exchange (``wait`` answers none)."""
    if action == "fhir":
        from gateway.conformance.suites.actions.fhir import run_fhir

        return run_fhir(spec, ctx)
    if action == "soap":
        from gateway.conformance.suites.actions.soap import run_soap

        return run_soap(spec, ctx)
    if action == "soap-raw":
        from gateway.conformance.suites.actions.soap_raw import run_soap_raw

        return run_soap_raw(spec, ctx)
    if action == "wait":
        from gateway.conformance.suites.actions.wait import run_wait

        return run_wait(spec, ctx)
    raise ActionError(f"unknown action {action!r}")
