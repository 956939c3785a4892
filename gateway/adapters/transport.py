"""Reaching the platform: where its services are, and an ``httpx.Client``
to reach them with.

- :class:`Endpoints`: the platform's base URL and each service's path under
  it (``ehealth.md``); switching from the simulated platform to eHealth's
  acceptance environment changes the base URL, and a path only where the
  real service differs.
- :func:`http_client`: over the network, with timeouts, the CA that signs
  the platform's TLS server certificate, and an optional TLS client
  certificate.
- :func:`in_process_client`: the embedded default, where this process hosts
  the simulated platform's ASGI app; still an ``httpx.Client``, so that the
  adapters cannot tell the difference: every request is serialised, signed,
  sent through the app's HTTP routes and verified, as over the network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import httpx

# Service paths under the platform's base URL (ehealth.md; the simulation mounts the same).
SERVICE_PATHS: Mapping[str, str] = {
    "sts": "IAM/SecurityTokenService/v1",
    "attribute-authority": "IAM/AttributeAuthority/v1",
    "therlink": "TherLink/v1",
    "addressbook": "AddressBook/v1",
    "consultrn": "consultRN/v1",
}


@dataclass(frozen=True)
class Endpoints:
    """The platform's base URL (``https://services-acpt.ehealth.fgov.be``,
    ``http://127.0.0.1:8000/ehealth``) and, in ``paths``, the services whose
    path differs from :data:`SERVICE_PATHS`."""

    base_url: str
    paths: Mapping[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str:
        paths = {**SERVICE_PATHS, **self.paths}
        if service not in paths:
            raise KeyError(f"no path configured for the platform service {service!r}; known: {', '.join(sorted(paths))}")
        return self.base_url.rstrip("/") + "/" + paths[service].lstrip("/")


@dataclass(frozen=True)
class ClientSettings:
    """How to reach the platform over the network."""

    timeout: float = 10.0  # seconds to wait for an answer (read, write, pool)
    connect_timeout: float = 5.0
    ca_file: Path | None = None  # PEM CA(s) of the platform's TLS server certificate; None: the system's
    client_certificate: tuple[Path, Path] | None = None  # (certificate PEM, key PEM) for mutual TLS


def tls_context(settings: ClientSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    if settings.client_certificate is not None:
        certificate, key = settings.client_certificate
        context.load_cert_chain(str(certificate), str(key))
    return context


def http_client(settings: ClientSettings = ClientSettings()) -> httpx.Client:
    """An ``httpx.Client`` for the platform: bounded waits, verified TLS, no redirects."""
    return httpx.Client(
        timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
        verify=tls_context(settings),
        follow_redirects=False,
    )


class InProcessTransport(httpx.BaseTransport):
    """Hands each request to an ASGI app of this process, through httpx's
    own ``ASGITransport``, on an event loop the transport runs in a thread
    of its own (so a synchronous caller, itself inside another app's request,
    never blocks that app's loop). The request's read timeout applies."""

    def __init__(self, app: Any, *, name: str = "in-process-platform") -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._loop.is_closed():
            raise httpx.ConnectError("the in-process platform transport is closed", request=request)
        inner = httpx.Request(request.method, request.url, headers=request.headers, content=request.read(),
                              extensions=request.extensions)
        future = asyncio.run_coroutine_threadsafe(self._send(inner), self._loop)
        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            status, headers, content = future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise httpx.ReadTimeout(f"the in-process platform did not answer within {timeout} s", request=request) from None
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content), request=request)

    async def _send(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        return response.status_code, response.headers.raw, content

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


def in_process_client(app: Any, *, base_url: str = "http://platform.in-process", timeout: float = 10.0,
                      **options: Any) -> httpx.Client:
    """An ``httpx.Client`` whose requests the ASGI ``app`` answers in this
    process; give the adapters ``Endpoints(base_url + "/ehealth")`` (or
    wherever the app serves the services). ``options`` go to ``httpx.Client``
    (``event_hooks``, ``headers``...)."""
    return httpx.Client(transport=InProcessTransport(app), base_url=base_url, timeout=timeout, follow_redirects=False,
                        **options)
