"""RP-A7 over SOAP: the access data a GetDossier looked up are kept less than
24 hours, then asked of the sources again (a moved clock, the calls counted
at the simulated sources). A module of its own: it moves the live clock."""

from __future__ import annotations

from datetime import timedelta

from gateway.ehealth.rtw.state import rtw_state
from tests.soap.test_soap_rtw import soap_clients

SOURCES = ("cin-affiliation", "dimona", "seed-connect", "jobseeker")


def test_rp_a7_access_data_are_fetched_again_after_24_hours_over_soap(live) -> None:  # type: ignore[no-untyped-def]
    state = rtw_state(live.platform)

    def asked() -> dict[str, int]:
        return {s: state.calls[s] for s in SOURCES}

    opened = soap_clients(live)("oa-physician").OpenDossier(InsuredSsin=state.sandbox.cast.insured).Dossier[0]
    first = asked()
    assert all(first.values())
    live.clock.advance(timedelta(hours=23, minutes=59))
    soap_clients(live)("oa-physician").GetDossier(DossierId=opened.DossierId)  # a fresh STS token at the moved time
    assert asked() == first  # kept: less than 24 hours old
    live.clock.advance(timedelta(minutes=1))
    soap_clients(live)("oa-physician").GetDossier(DossierId=opened.DossierId)
    assert all(asked()[s] > first[s] for s in SOURCES)  # 24 hours old: asked again
