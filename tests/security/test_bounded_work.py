"""Bounded work per request and per client (docs/security.md).

The unauthenticated POST /conformance/validate refuses what costs more than
its limits (size, Bundle entries, values and nesting) with 413, answers a
caller at most after its time budget, and serves one validation per client
and a few at once (429); all with an OperationOutcome. The FHIR face stops
reading a body at its limit, as the SOAP face does, instead of holding a
50 MB chunked body in memory until the 413."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import Any, Iterator

import httpx
import pytest
from starlette.requests import Request

from gateway.conformance.budget import Limits, Slots
from gateway.fhir import formats
from gateway.fhir.outcome import FhirError

URL = "/conformance/validate"


def outcome_code(answer: httpx.Response) -> str:
    assert answer.headers["content-type"].startswith("application/fhir+json"), answer.text[:200]
    body = answer.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["details"]["coding"][0]["code"]


def patient(i: int) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
            "resource": {"resourceType": "Patient", "id": f"p{i}", "active": True}}


# ------------------------------------------------------------------ the validator


def test_validator_refuses_a_message_over_its_size_limit(live):
    limit = live.gw.settings.validate_max_bytes
    answer = httpx.post(live.url(URL), content=b"{" + b" " * limit + b"}", timeout=60)
    assert answer.status_code == 413 and outcome_code(answer) == "request-too-large"


def test_validator_refuses_a_bundle_with_too_many_entries(live):
    limit = live.gw.settings.validate_max_entries
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [patient(i) for i in range(limit + 1)]}
    answer = httpx.post(live.url(URL), content=json.dumps(bundle), timeout=60)
    assert answer.status_code == 413 and outcome_code(answer) == "too-many-entries"
    bundle["entry"] = bundle["entry"][:limit]
    assert httpx.post(live.url(URL), content=json.dumps(bundle), timeout=60).status_code == 200


@pytest.mark.parametrize("shape", ["deep-json", "wide-json", "deep-xml"])
def test_validator_refuses_nesting_and_element_counts_it_cannot_afford(live, shape):
    if shape == "deep-json":
        body = '{"resourceType":"Patient","extension":' + "[" * 5000 + "]" * 5000 + "}"
    elif shape == "wide-json":
        body = json.dumps({"resourceType": "Patient", "identifier": [{"value": str(i)} for i in range(30_000)]})
    else:
        body = '<Patient xmlns="http://hl7.org/fhir">' + "<extension>" * 200 + "</extension>" * 200 + "</Patient>"
    answer = httpx.post(live.url(URL), content=body, timeout=60)
    assert answer.status_code == 413 and outcome_code(answer) == "too-many-elements"


def test_slots_serve_one_validation_per_client_and_a_few_at_once():
    slots = Slots(Limits(max_bytes=1, max_entries=1, time_budget=1, concurrency=2))
    assert slots.take("a") and not slots.take("a")  # one at a time per client
    assert slots.take("b") and not slots.take("c")  # two at once in all
    slots.give("a")
    assert slots.take("c") and not slots.take("a")


@pytest.fixture
def blocking_app(gw, monkeypatch):
    """The gateway's app whose validator waits until released (a slow validation, without timing)."""
    from fastapi.testclient import TestClient

    from gateway.app import create_app
    from gateway.conformance.validate import MessageValidator

    release, started = threading.Event(), threading.Event()
    real = MessageValidator.validate

    def slow(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(30)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(MessageValidator, "validate", slow)
    gw.settings = replace(gw.settings, validate_time_budget=60.0)
    with TestClient(create_app(gw)) as client:
        yield client, started, release
    release.set()


def test_a_client_gets_429_while_its_validation_runs(blocking_app):
    client, started, release = blocking_app
    message = json.dumps({"resourceType": "Patient", "active": True})
    first: list[Any] = []
    worker = threading.Thread(target=lambda: first.append(client.post(URL, content=message)))
    worker.start()
    assert started.wait(30)
    second = client.post(URL, content=message)
    assert second.status_code == 429 and second.headers["retry-after"] == "1"
    assert outcome_code(second) == "validator-busy"
    release.set()
    worker.join(30)
    assert first[0].status_code == 200
    assert client.post(URL, content=message).status_code == 200  # the slot was given back


def test_the_time_budget_answers_the_caller_and_keeps_the_slot_until_the_work_ends(gw, monkeypatch):
    from fastapi.testclient import TestClient

    from gateway.app import create_app
    from gateway.conformance.validate import MessageValidator

    release = threading.Event()
    real = MessageValidator.validate

    def slow(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(30)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(MessageValidator, "validate", slow)
    gw.settings = replace(gw.settings, validate_time_budget=0.0)
    message = json.dumps({"resourceType": "Patient", "active": True})
    with TestClient(create_app(gw)) as client:
        late = client.post(URL, content=message)
        assert late.status_code == 413 and outcome_code(late) == "validation-too-long"
        assert client.post(URL, content=message).status_code == 429  # still validating: its slot is held
        release.set()


def test_a_form_without_a_boundary_is_a_400_not_a_500(live):
    answer = httpx.post(live.url(URL), content=b"--x\r\n\r\nhello", timeout=30,
                        headers={"Content-Type": "multipart/form-data"})
    assert answer.status_code == 400 and outcome_code(answer) == "form-unreadable"


# ------------------------------------------------------------------ the FHIR face


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class CountingBody:
    """An ASGI receive() that hands out a chunked body and counts what was taken."""

    def __init__(self, chunks: int, size: int) -> None:
        self.chunks, self.size, self.taken = chunks, size, 0

    async def __call__(self) -> dict[str, Any]:
        self.taken += 1
        more = self.taken < self.chunks
        return {"type": "http.request", "body": b"{" * self.size, "more_body": more}


def chunked_request(body: CountingBody) -> Request:
    scope = {"type": "http", "method": "POST", "path": "/fhir/Patient", "query_string": b"",
             "headers": [(b"content-type", b"application/fhir+json"), (b"transfer-encoding", b"chunked")]}
    return Request(scope, body)


@pytest.mark.anyio
async def test_fhir_stops_reading_a_chunked_body_at_the_limit():
    body = CountingBody(chunks=800, size=64 * 1024)  # 50 MB, announced by no Content-Length
    with pytest.raises(FhirError) as refused:
        await formats.read_resource(chunked_request(body), 4 * 1024 * 1024)
    assert refused.value.status == 413
    assert body.taken <= 4 * 1024 * 1024 // (64 * 1024) + 1  # stopped at the limit, not after 50 MB


def test_fhir_answers_an_oversized_chunked_body_413_with_an_operation_outcome(live, fhir_token):
    def chunks() -> Iterator[bytes]:
        for _ in range(200):
            yield b" " * (64 * 1024)

    try:
        answer = httpx.post(live.url("/fhir/EpisodeOfCare"), content=chunks(), timeout=60, headers={
            "Authorization": f"Bearer {fhir_token('gp')}", "Content-Type": "application/fhir+json"})
    except httpx.TransportError:  # the server may close the connection before the client has sent everything
        return
    assert answer.status_code == 413 and outcome_code(answer) == "request-too-large"


def test_fhir_refuses_a_declared_length_over_the_limit_before_reading(live, fhir_token):
    limit = live.gw.settings.fhir_max_body
    answer = httpx.post(live.url("/fhir/EpisodeOfCare"), content=b" " * (limit + 1), timeout=60, headers={
        "Authorization": f"Bearer {fhir_token('gp')}", "Content-Type": "application/fhir+json"})
    assert answer.status_code == 413 and outcome_code(answer) == "request-too-large"
