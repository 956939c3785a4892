"""The return-to-work dossier follows the person's NISS change through FHIR
(like an inclusion, IC-R5): the national register gives the person a new
number; the dossier opened under the former one is found by a search under
the new one and read showing the new one, before the gateway applies the
register's change and after (when the dossier moves to the new number), and
the partners' access still rests on the sources (RP-A2, RP-A3, RP-A4),
which follow the change too."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from gateway.domain.identifiers import SSIN_SYSTEM, NissKind, make_niss
from gateway.domain.rtw.model import RtwDossier
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_access_token
from tests.fhir.test_fhir_rtw import Fhir, dossier


def new_number(live, old: str) -> str:  # type: ignore[no-untyped-def]
    """A national number no one has, for the person of ``old``, given to them by the register."""
    person = live.platform.register.person(old)
    born = person.birth_date or date(1980, 1, 1)
    start = 1 if (person.sex or "male") == "male" else 2
    new = next(n for n in (make_niss(born, c, bis=NissKind.NATIONAL) for c in range(start + 600, 998, 2))
               if live.platform.register.person(n) is None)
    live.platform.register.inject_niss_change(old, new, live.clock.today())
    return new


def identifier(resource: dict[str, Any]) -> str:
    return resource["patient"]["identifier"]["value"]


def test_ic_r5_the_rtw_dossier_opened_under_the_former_number_is_found_and_read_under_the_new_one(live) -> None:  # type: ignore[no-untyped-def]
    old = rtw_state(live.platform).sandbox.cast.niss_changed  # employer served by prev-*, registered with VDAB
    physician = Fhir(live.base_url, rtw_access_token(live.base_url, "prev-physician"))
    made = physician.post("EpisodeOfCare", dossier(old))
    assert made.status_code == 201, made.text
    dossier_id = made.json()["id"]
    new = new_number(live, old)

    def seen_as(key: str) -> list[tuple[str, str]]:
        caller = Fhir(live.base_url, rtw_access_token(live.base_url, key))
        read = caller.get(f"EpisodeOfCare/{dossier_id}")
        assert read.status_code == 200, (key, read.text)
        found = caller.dossiers(**{"patient-identifier": f"{SSIN_SYSTEM}|{new}"})
        assert found.status_code == 200, (key, found.text)
        return [(identifier(read.json()), "read")] + [(identifier(e["resource"]), e["resource"]["id"])
                                                       for e in found.json().get("entry", [])]

    expected = [(new, "read"), (new, dossier_id)]
    for key in ("prev-physician", "reg-counsellor", "inami-expert"):  # before the gateway applies the change
        assert seen_as(key) == expected, key
    report = live.gw.lifecycle.sync_register()
    assert report.applied >= 1
    with live.gw.ctx.db.transaction() as session:  # moved to the new number's pseudonym
        assert session.execute(select(RtwDossier.insured_pseudonym)).scalar_one() == live.gw.ctx.pseudonyms.pseudonymise(new)
    for key in ("prev-physician", "reg-counsellor", "inami-expert"):  # after: the dossier is under the new number
        assert seen_as(key) == expected, key
    by_former = physician.dossiers(**{"patient-identifier": f"{SSIN_SYSTEM}|{old}"})
    assert [e["resource"]["id"] for e in by_former.json().get("entry", [])] == [dossier_id]
    again = physician.post("EpisodeOfCare", dossier(new))  # the open dossier is the person's, under either number
    assert again.status_code in (200, 201) and again.json()["id"] == dossier_id, again.text
