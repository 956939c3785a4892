"""Reaching the platform: endpoints as configuration, an httpx.Client over
the network with bounded waits and configured TLS, and the in-process
transport that hands requests to an ASGI app in this process (the embedded
default) while remaining an ordinary httpx.Client."""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest

from gateway.adapters import errors
from gateway.adapters.soap import SoapClient
from gateway.adapters.transport import ClientSettings, Endpoints, InProcessTransport, http_client, in_process_client
from gateway.adapters.wsse import CertificateSigner
from gateway.domain.ports import SourceUnavailable


def test_endpoints_are_a_base_url_and_paths():
    endpoints = Endpoints("https://services-acpt.ehealth.fgov.be/")
    assert endpoints.url("addressbook") == "https://services-acpt.ehealth.fgov.be/AddressBook/v1"
    assert endpoints.url("attribute-authority") == "https://services-acpt.ehealth.fgov.be/IAM/AttributeAuthority/v1"
    moved = Endpoints("http://127.0.0.1:8000/ehealth", {"consultrn": "/consultRN/identifyPerson/v1"})
    assert moved.url("consultrn") == "http://127.0.0.1:8000/ehealth/consultRN/identifyPerson/v1"
    assert moved.url("addressbook") == "http://127.0.0.1:8000/ehealth/AddressBook/v1"  # the others keep their paths
    with pytest.raises(KeyError, match="therlink"):
        moved.url("hub")


def test_the_network_client_verifies_tls_with_the_configured_ca_and_may_present_a_certificate(tmp_path, sandbox_pki, credential):
    (tmp_path / "ca.pem").write_bytes(sandbox_pki.ca.cert_pem)
    (tmp_path / "me.pem").write_bytes(credential.cert_pem)
    (tmp_path / "me.key").write_bytes(credential.key_pem)
    settings = ClientSettings(timeout=3, ca_file=tmp_path / "ca.pem", client_certificate=(tmp_path / "me.pem", tmp_path / "me.key"))
    with http_client(settings) as client:
        assert client.timeout.read == 3 and client.timeout.connect == 5 and not client.follow_redirects
    from gateway.adapters.transport import tls_context

    context = tls_context(settings)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] and "sandbox CA" in str(context.get_ca_certs()[0]["subject"])


def test_the_in_process_client_is_an_httpx_client_over_the_platforms_app(platform):
    from gateway.ehealth.platform import create_platform_app

    with in_process_client(create_platform_app(platform)) as client:
        assert isinstance(client, httpx.Client)
        wsdl = client.get("/ehealth/AddressBook/v1?wsdl")
        assert wsdl.status_code == 200 and b"AddressBook" in wsdl.content
        assert client.get("/ehealth/nothing-here").status_code == 404


async def never(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    await asyncio.Event().wait()


async def broken(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("the app failed")


def soap_over(transport: httpx.BaseTransport, credential, clock, timeout: float = 5) -> SoapClient:  # type: ignore[no-untyped-def]
    http = httpx.Client(transport=transport, timeout=timeout)
    signer = CertificateSigner(credential.private_key, credential.certificate, clock=clock)
    return SoapClient(http, "http://platform.in-process/ehealth/AddressBook/v1", service="AddressBook", signer=signer)


def test_an_in_process_platform_that_does_not_answer_in_time_is_unreachable(credential, clock):
    transport = InProcessTransport(never)
    try:
        with pytest.raises(SourceUnavailable) as err:
            soap_over(transport, credential, clock, timeout=0.05).call(httpx_payload(), "urn:x:Op")
        assert err.value.code == errors.UNREACHABLE
    finally:
        transport.close()


def test_an_in_process_platform_that_fails_is_an_http_error_never_a_crash(credential, clock):
    transport = InProcessTransport(broken)
    try:
        with pytest.raises(SourceUnavailable) as err:
            soap_over(transport, credential, clock).call(httpx_payload(), "urn:x:Op")
        assert err.value.code == errors.HTTP_ERROR and "500" in err.value.message
    finally:
        transport.close()
    with pytest.raises(httpx.ConnectError):
        transport.handle_request(httpx.Request("GET", "http://platform.in-process/"))


def httpx_payload():  # type: ignore[no-untyped-def]
    from lxml import etree

    return etree.Element("{urn:x}Request")
