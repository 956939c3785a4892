"""The return-to-work sources answered over the wire: the gateway's client
of CIN, Dimona, SEED-Connect, JobSeeker and user management, with its own
machine-to-machine token, against the simulated platform's app; and TRIO
asked with a blinded pseudonym only (RP-F9)."""

from __future__ import annotations

from datetime import date
from typing import Iterator

import httpx
import pytest

from gateway import blinded_pseudonyms as blinding
from gateway.adapters.rtw_http import MachineToken
from gateway.adapters.rtw_sources import PlatformPartnerSources
from gateway.adapters.rtw_trio import TRIO_DOMAIN, PlatformTrio
from gateway.adapters.transport import in_process_client
from gateway.domain.ports import SourceUnavailable
from gateway.ehealth.platform import create_platform_app
from gateway.ehealth.rtw.state import rtw_state

TODAY = date(2026, 6, 15)
BASE = "http://platform.in-process/ehealth"


@pytest.fixture
def http(platform) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    client = in_process_client(create_platform_app(platform))
    yield client
    client.close()


@pytest.fixture
def token(http: httpx.Client, credential, clock) -> MachineToken:  # type: ignore[no-untyped-def]
    return MachineToken(http, BASE, credential.private_key, credential.certificate, clock)


def test_sources_answer_what_the_sandbox_holds(http: httpx.Client, token: MachineToken, platform) -> None:  # type: ignore[no-untyped-def]
    truth = rtw_state(platform).sandbox
    sources = PlatformPartnerSources(http, BASE, token)
    cast = truth.cast
    assert sources.insurer_of(cast.insured, TODAY) == truth.insurer_of(cast.insured)
    assert list(sources.employments_of(cast.insured, TODAY)) == truth.employments_of(cast.insured, TODAY)
    employer = truth.employments_of(cast.insured, TODAY)[0].employer_cbe
    assert list(sources.prevention_services_of(employer, TODAY)) == truth.prevention_services_of(employer)
    assert list(sources.registrations_of(cast.insured, TODAY)) == truth.registrations_of(cast.insured, TODAY)
    assert list(sources.registrations_of(cast.unregistered, TODAY)) == []
    staff = truth.staff["prev-nurse"]
    assert [(r.organisation_cbe, r.role) for r in sources.staff_roles(staff.person.niss)] == [(staff.organisation.cbe, "prev-nurse")]


def test_a_changed_niss_is_followed(http: httpx.Client, token: MachineToken, platform) -> None:  # type: ignore[no-untyped-def]
    truth = rtw_state(platform).sandbox
    person = truth.registries.person(truth.cast.niss_changed)
    assert person and person.previous_niss
    sources = PlatformPartnerSources(http, BASE, token)
    assert sources.registrations_of(person.previous_niss[0], TODAY) == sources.registrations_of(person.niss, TODAY) != []


def test_the_machine_token_is_fetched_once_and_reused(http: httpx.Client, token: MachineToken, platform) -> None:  # type: ignore[no-untyped-def]
    sources = PlatformPartnerSources(http, BASE, token)
    first = token.value()
    sources.insurer_of(rtw_state(platform).sandbox.cast.insured, TODAY)
    assert token.value() == first and token.client_id.startswith("cbe-")


def test_an_unreachable_source_fails_closed(token: MachineToken) -> None:
    broken = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(503, text="down")))
    token.http = broken
    with pytest.raises(SourceUnavailable) as refused:
        PlatformPartnerSources(broken, BASE, token).insurer_of("85073003328", TODAY)
    assert refused.value.code in ("platform-fault", "platform-http-error")


def test_rp_f9_trio_is_asked_with_a_blinded_pseudonym_only(http: httpx.Client, token: MachineToken, platform) -> None:  # type: ignore[no-untyped-def]
    state = rtw_state(platform)
    cast = state.sandbox.cast
    trio = PlatformTrio(http, BASE, token)
    assert trio.has_dossier(cast.insured) is True
    assert trio.has_dossier(cast.unregistered) is False
    person = state.sandbox.registries.person(cast.insured)
    assert person is not None
    numbers = {person.niss, person.niss[:6] + "-" + person.niss[6:9] + "." + person.niss[9:]}
    for received in state.trio_received + state.pseudo_received:
        assert not any(n in value for value in received.values() for n in numbers)
    # what TRIO received is the person's pseudonym in TRIO's domain, nothing else
    expected = blinding.encode(blinding.pseudonym(cast.insured, TRIO_DOMAIN, state.sandbox.trio_key))
    assert state.trio_received[0] == {"pseudonym": expected}
    # what the pseudonymisation service received is blinded: not the person's group element
    assert state.pseudo_received[0]["blinded"] != blinding.encode(blinding.to_group(cast.insured, TRIO_DOMAIN))
    # blinded afresh at every call: two asks of the same person look unrelated
    trio.has_dossier(cast.insured)
    assert state.pseudo_received[0] != state.pseudo_received[2]
