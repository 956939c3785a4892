"""Fixtures of the adapter tests, in one place: the simulated platform
reached as the gateway reaches it, over real HTTP (the ``live`` server,
platform under ``/ehealth``) and through the in-process transport (the
platform's own ASGI app), with the gateway's organisation credential.

The credential is the sandbox hospital's (``load_pki().organisation(nihii)``):
what a hospital's integration engine holds. The attribute authority's
certificate is the platform's public material a vendor configures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import httpx
import pytest
from cryptography import x509

from gateway.adapters.cache import Lifetimes
from gateway.adapters.connection import PlatformAdapters, connect
from gateway.adapters.transport import Endpoints
from gateway.adapters.wsse import CertificateSigner
from gateway.domain.clock import Clock
from gateway.ehealth.pki import Credential, SandboxPki, load_pki

IN_PROCESS = "http://platform.in-process"


@dataclass
class Calls:
    """The platform requests a client made (an event hook): (path, SOAP action)."""

    requests: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> None:
        self.requests.append((request.url.path, request.headers.get("soapaction", "").strip('"')))

    def count(self, service: str = "", operation: str = "") -> int:
        """Requests to a service whose path ends so (``AttributeAuthority/v1``), of an operation whose action ends so."""
        return sum(1 for path, action in self.requests if service in path and action.endswith(operation))


@dataclass
class Side:
    """One way to the platform: the adapters, the requests they made, the
    sandbox answers to compare with (``truth``: the platform's own facts),
    and the clock both sides read."""

    adapters: PlatformAdapters
    calls: Calls
    truth: Any  # the simulated Platform
    clock: Clock
    base_url: str
    transport: httpx.BaseTransport  # the way in, for a test to wrap


@pytest.fixture(scope="session")
def sandbox_pki() -> SandboxPki:
    return load_pki()


@pytest.fixture(scope="session")
def credential(sandbox_pki: SandboxPki, registries) -> Credential:  # type: ignore[no-untyped-def]
    """The gateway's own credential: an organisation's (the sandbox hospital)."""
    return sandbox_pki.organisation(registries.cast.hospital)


@pytest.fixture(scope="session")
def aa_certificate(sandbox_pki: SandboxPki) -> x509.Certificate:
    return sandbox_pki.platform("attribute-authority").certificate


def adapters_for(http: httpx.Client, base_url: str, clock: Clock, credential: Credential, trust: Any,
                 lifetimes: Lifetimes | None = None) -> PlatformAdapters:
    return connect(http, Endpoints(base_url), signer=CertificateSigner(credential.private_key, credential.certificate,
                                                                       clock=clock),
                   authority_trust=trust, clock=clock, lifetimes=lifetimes)


class Borrowed(httpx.BaseTransport):
    """Another client's way in, used without owning it (closing does not close it)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)


def side_over(transport: httpx.BaseTransport, base_url: str, truth: Any, clock: Clock, credential: Credential,
              trust: Any, lifetimes: Lifetimes | None = None) -> Side:
    calls = Calls()
    http = httpx.Client(transport=transport, timeout=10, event_hooks={"request": [calls]})
    return Side(adapters_for(http, base_url, clock, credential, trust, lifetimes), calls, truth, clock, base_url, transport)


@pytest.fixture
def make_side(credential, aa_certificate) -> Callable[..., Side]:  # type: ignore[no-untyped-def]
    """Another Side on the same platform, for tests that tamper with or
    break the wire, or change the lifetimes or the trust:
    ``make_side(side, wrap=..., transport=..., lifetimes=..., trust=..., signed_by=...)``."""

    def make(base: Side, *, wrap: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None = None,
             transport: httpx.BaseTransport | None = None, lifetimes: Lifetimes | None = None, trust: Any = None,
             signed_by: Credential | None = None) -> Side:
        inner = transport or Borrowed(base.transport)
        return side_over(wrap(inner) if wrap else inner, base.base_url, base.truth, base.clock, signed_by or credential,
                         aa_certificate if trust is None else trust, lifetimes)

    return make


@pytest.fixture
def in_process(platform, clock, credential, aa_certificate) -> Iterator[Side]:  # type: ignore[no-untyped-def]
    """The platform's own ASGI app in this process, reached through an httpx.Client."""
    from gateway.adapters.transport import InProcessTransport
    from gateway.ehealth.platform import create_platform_app

    transport = InProcessTransport(create_platform_app(platform))
    yield side_over(transport, IN_PROCESS + "/ehealth", platform, clock, credential, aa_certificate)
    transport.close()


@pytest.fixture
def over_http(live, credential, aa_certificate) -> Iterator[Side]:  # type: ignore[no-untyped-def]
    """The live server's platform over real HTTP (``live.base_url + "/ehealth"``)."""
    transport = httpx.HTTPTransport()
    yield side_over(transport, live.base_url + "/ehealth", live.gw.platform, live.clock, credential, aa_certificate)
    transport.close()


@pytest.fixture(params=["over-http", "in-process"])
def side(request) -> Side:  # type: ignore[no-untyped-def]
    """Each test run both ways: the adapters cannot tell them apart."""
    return request.getfixturevalue("over_http" if request.param == "over-http" else "in_process")
