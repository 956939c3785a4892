"""RP-A7 through FHIR: the access data a dossier read looked up are kept
less than 24 hours, then asked of the sources again (a moved clock, the
calls counted at the simulated sources). A module of its own: it moves the
live gateway's clock."""

from __future__ import annotations

from datetime import timedelta

import httpx

from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_access_token
from gateway.fhir.resources.rtw_dossier import PROFILE, TYPE_CODE, TYPE_SYSTEM

SOURCES = ("cin-affiliation", "dimona", "seed-connect", "jobseeker")
FHIR = "application/fhir+json"


def test_rp_a7_access_data_are_fetched_again_after_24_hours(live) -> None:  # type: ignore[no-untyped-def]
    state = rtw_state(live.platform)

    def asked() -> dict[str, int]:
        return {s: state.calls[s] for s in SOURCES}

    def read(dossier_id: str) -> None:  # a fresh token: the old one expired with the moved clock
        token = rtw_access_token(live.base_url, "oa-physician")
        answer = httpx.get(f"{live.base_url}/fhir/EpisodeOfCare/{dossier_id}", headers={"Authorization": f"Bearer {token}"},
                           timeout=30)
        assert answer.status_code == 200, answer.text

    token = rtw_access_token(live.base_url, "oa-physician")
    body = {"resourceType": "EpisodeOfCare", "meta": {"profile": [PROFILE]}, "status": "active",
            "type": [{"coding": [{"system": TYPE_SYSTEM, "code": TYPE_CODE}]}],
            "patient": {"identifier": {"system": SSIN_SYSTEM, "value": state.sandbox.cast.insured}}}
    opened = httpx.post(f"{live.base_url}/fhir/EpisodeOfCare", json=body, timeout=30,
                        headers={"Authorization": f"Bearer {token}", "Content-Type": FHIR})
    assert opened.status_code == 201, opened.text
    first = asked()
    assert all(first.values())
    live.clock.advance(timedelta(hours=23, minutes=59))
    read(opened.json()["id"])
    assert asked() == first  # kept: less than 24 hours old
    live.clock.advance(timedelta(minutes=1))
    read(opened.json()["id"])
    assert all(asked()[s] > first[s] for s in SOURCES)  # 24 hours old: asked again
