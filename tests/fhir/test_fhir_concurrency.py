"""One worker serves FHIR calls side by side: an act waiting on the platform
(the therapeutic-link question of IC-A1, asked at each call) does not hold
up the next call. Against the real platform that wait is the network's, so
a face that ran acts on its event loop would serve one call per round trip.

With the setting ``calls_at_once`` (1 by default, for the embedded platform
whose answers are CPU in this very process) above one, as a gateway talking
to a remote platform runs. The proof holds no timing: both calls must be inside the link question at
the same moment (a barrier), which only happens if neither blocks the other."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from gateway.adapters.attribute_authority import AttributeAuthorityClient
from gateway.domain.identifiers import SSIN_SYSTEM



@pytest.fixture(scope="module")
def live(tmp_path_factory, _shared_database):  # type: ignore[no-untyped-def]
    """A gateway that runs two calls at once (``calls_at_once``, as against a remote platform)."""
    from tests.conftest import live_gateway

    yield from live_gateway(tmp_path_factory, _shared_database, calls_at_once=2)


def test_IC_A1_two_searches_ask_the_attribute_authority_at_once(live, fhir_token, personas, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    both = threading.Barrier(2, timeout=30)
    asked = AttributeAuthorityClient.has_therapeutic_link

    def held(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        both.wait()  # each call waits here until the other one is asking too
        return asked(self, *args, **kwargs)

    monkeypatch.setattr(AttributeAuthorityClient, "has_therapeutic_link", held)
    token = fhir_token("gp")
    url = live.url(f"/fhir/EpisodeOfCare?patient-identifier={SSIN_SYSTEM}|{personas['patient'].niss}")

    def search(_: int) -> httpx.Response:
        return httpx.get(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}, timeout=60)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(search, range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
    assert not both.broken
    assert all(a.json()["resourceType"] == "Bundle" for a in answers)


def test_calls_at_once_is_a_setting_of_at_least_one() -> None:
    from gateway.config import Settings

    assert Settings.from_env({}).calls_at_once == 1
    assert Settings.from_env({"CARE_GATEWAY_CALLS_AT_ONCE": "12"}).calls_at_once == 12
    for wrong in ("0", "-1", "many"):
        with pytest.raises(ValueError, match="CARE_GATEWAY_CALLS_AT_ONCE"):
            Settings.from_env({"CARE_GATEWAY_CALLS_AT_ONCE": wrong})
