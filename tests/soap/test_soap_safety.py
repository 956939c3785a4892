"""Hostile or broken requests to IntegratedCare get a SOAP Fault quickly,
with bounded memory, and change nothing: external entities, entity
expansion, oversized and too-deep documents, wrong content types, bodies
that are not SOAP 1.1 envelopes."""

from __future__ import annotations

import time
import tracemalloc
from typing import Iterator

import httpx
import pytest

from gateway.soap11.envelope import SOAP11_NS
from gateway.soap.integrated_care import MAX_BYTES, NS
from tests.soap.conftest import response_fault, stored_state

ENVELOPE = f'<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body>{{}}</s:Body></s:Envelope>'
PAYLOAD = f'<ic:GetPatientInclusionsRequest xmlns:ic="{NS}"><ic:PatientSsin>{{}}</ic:PatientSsin></ic:GetPatientInclusionsRequest>'
FAST = 2.0  # seconds: each refusal is answered before any real work


def envelope(text: str = "61033029906") -> str:
    return ENVELOPE.format(PAYLOAD.format(text))


XXE = ('<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       + envelope("&xxe;")).encode()
PARAMETER_ENTITY = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>'
                    + envelope()).encode()
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + "]>" + envelope("&lol9;")).encode()
DEEP = envelope("x").replace("<ic:PatientSsin>x</ic:PatientSsin>", "<a>" * 100 + "x" + "</a>" * 100).encode()
NOT_AN_ENVELOPE = f'<ic:GetPatientInclusionsRequest xmlns:ic="{NS}"/>'.encode()
SOAP12 = envelope().replace(SOAP11_NS, "http://www.w3.org/2003/05/soap-envelope").encode()
TWO_BODIES = ENVELOPE.format("").replace("</s:Envelope>", "<s:Body/></s:Envelope>").encode()
BODY_FIRST = ENVELOPE.format("").replace("</s:Envelope>", "<s:Header/></s:Envelope>").encode()

CASES = {
    "external-entity": (XXE, "text/xml", "xml-doctype-forbidden", 500),
    "parameter-entity": (PARAMETER_ENTITY, "text/xml", "xml-doctype-forbidden", 500),
    "billion-laughs": (LAUGHS, "text/xml", "xml-doctype-forbidden", 500),
    "100-deep": (DEEP, "text/xml", "xml-too-deep", 500),
    "3-MB": (b"<a>" + b"x" * (3 * 1024 * 1024) + b"</a>", "text/xml", "request-too-large", 413),
    "text-plain": (envelope().encode(), "text/plain", "wrong-content-type", 415),
    "soap-1.2-content-type": (envelope().encode(), "application/soap+xml", "wrong-content-type", 415),
    "no-content-type": (envelope().encode(), "", "wrong-content-type", 415),
    "not-xml": (b"this is not XML", "text/xml", "xml-malformed", 500),
    "empty": (b"", "text/xml", "xml-malformed", 500),
    "truncated": (envelope().encode()[:-20], "text/xml", "xml-malformed", 500),
    "not-an-envelope": (NOT_AN_ENVELOPE, "text/xml", "malformed-envelope", 500),
    "soap-1.2-envelope": (SOAP12, "text/xml", "malformed-envelope", 500),
    "two-bodies": (TWO_BODIES, "text/xml", "malformed-envelope", 500),
    "body-before-header": (BODY_FIRST, "text/xml", "malformed-envelope", 500),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_or_broken_requests_get_a_fault_fast_and_change_nothing(soap, live, name):
    data, content_type, code, http_status = CASES[name]
    before = stored_state(live.gw)
    started = time.monotonic()
    response = httpx.post(soap.url, content=data, headers={"Content-Type": content_type} if content_type else {}, timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == http_status and response.headers["content-type"].startswith("text/xml")
    fault = response_fault(response)
    assert fault["Code"] == code and fault["faultcode"] == "soapenv:Client"
    assert elapsed < FAST, f"{name} took {elapsed:.2f} s"
    assert b"root:" not in response.content  # nothing of /etc/passwd
    assert stored_state(live.gw) == before


def test_an_oversized_body_without_content_length_is_cut_off_with_bounded_memory(soap, live):
    """Streamed (chunked, no Content-Length): the server stops reading past its
    limit instead of buffering the whole 3 MB. Python allocations of the whole
    process are traced: buffering the body would show 3 MB more."""
    chunk = b"<x>" + b"y" * (64 * 1024 - 7) + b"</x>"
    sent = 0

    def body(chunks: int) -> Iterator[bytes]:
        nonlocal sent
        yield b'<s:Envelope xmlns:s="' + SOAP11_NS.encode() + b'"><s:Body>'
        for _ in range(chunks):
            sent += len(chunk)
            yield chunk

    def post(chunks: int) -> httpx.Response | None:
        try:
            return httpx.post(soap.url, content=body(chunks), headers={"Content-Type": "text/xml"}, timeout=30)
        except httpx.TransportError:  # the server may close the connection before the client has sent everything
            return None

    post(8)  # warm up: first calls import lazily, which would count as allocations
    before = stored_state(live.gw)
    sent = 0
    tracemalloc.start()
    try:
        started = time.monotonic()
        response = post(48)  # 3 MB
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if response is not None:
        assert response.status_code == 413 and response_fault(response)["Code"] == "request-too-large"
    assert sent >= 3 * 1024 * 1024 or response is None
    # the whole process is traced (client, server, the hosted platform's threads): about 1.2 MB besides
    # the body; a buffered 3 MB body would add at least its own 3 MB
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes while refusing a 3 MB body"
    assert elapsed < FAST
    assert stored_state(live.gw) == before


def test_the_service_reads_at_most_its_own_limit(soap):
    """A request is a few kB; the limit is far below the platform's default."""
    assert MAX_BYTES <= 256 * 1024
    data = ENVELOPE.format(PAYLOAD.format("6" * (MAX_BYTES + 10))).encode()
    response = httpx.post(soap.url, content=data, headers={"Content-Type": "text/xml"}, timeout=30)
    assert response.status_code == 413 and response_fault(response)["Code"] == "request-too-large"
