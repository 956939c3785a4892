"""One worker serves SOAP calls side by side: verifying a call's signatures
and running its act (here the therapeutic-link question of IC-A1, asked at
each call) happen off the event loop, so a call waiting on the platform does
not hold up the next one. No timing: both calls must be inside the link
question at the same moment (a barrier)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from gateway.adapters.attribute_authority import AttributeAuthorityClient
from tests.soap.conftest import request



@pytest.fixture(scope="module")
def live(tmp_path_factory, _shared_database):  # type: ignore[no-untyped-def]
    """A gateway that runs two calls at once (``calls_at_once``, as against a remote platform)."""
    from tests.conftest import live_gateway

    yield from live_gateway(tmp_path_factory, _shared_database, calls_at_once=2)


def test_IC_A1_two_consults_ask_the_attribute_authority_at_once(soap, personas, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    both = threading.Barrier(2, timeout=30)
    asked = AttributeAuthorityClient.has_therapeutic_link

    def held(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        both.wait()  # each call waits here until the other one is asking too
        return asked(self, *args, **kwargs)

    messages = [soap.signed("gp", request("GetPatientInclusions", PatientSsin=personas["patient"].niss)) for _ in range(2)]
    monkeypatch.setattr(AttributeAuthorityClient, "has_therapeutic_link", held)

    def consult(message: bytes) -> httpx.Response:
        return soap.post(message, action="GetPatientInclusions")

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(consult, messages))
    assert [a.status_code for a in answers] == [200, 200], [a.text[:400] for a in answers]
    assert not both.broken
    assert all(b"GetPatientInclusionsResponse" in a.content for a in answers)
