"""The return-to-work dossier follows the person's NISS change over SOAP
(like an inclusion, IC-R5): opened under the former number, found by
SearchDossiers under the new one and shown with the new one by GetDossier,
before the gateway applies the register's change and after it (the dossier
then moved to the new number), to the prevention service, the regional
service and INAMI alike (RP-A2, RP-A3, RP-A4)."""

from __future__ import annotations

from sqlalchemy import select

from gateway.domain.rtw.model import RtwDossier
from gateway.ehealth.rtw.state import rtw_state
from tests.fhir.test_fhir_rtw_niss_change import new_number
from tests.soap.test_soap_rtw import soap_clients


def test_ic_r5_the_rtw_dossier_opened_under_the_former_number_is_found_and_read_under_the_new_one_over_soap(live) -> None:  # type: ignore[no-untyped-def]
    old = rtw_state(live.platform).sandbox.cast.niss_changed  # employer served by prev-*, registered with VDAB
    rtw = soap_clients(live)
    opened = rtw("prev-physician").OpenDossier(InsuredSsin=old)
    assert opened.Created is True and opened.Dossier[0].InsuredSsin == old
    dossier_id = opened.Dossier[0].DossierId
    new = new_number(live, old)

    def seen_as(key: str) -> list[tuple[str, str]]:
        read = rtw(key).GetDossier(DossierId=dossier_id).Dossier[0]
        found = rtw(key).SearchDossiers(InsuredSsin=new).Dossier
        return [(read.InsuredSsin, "read")] + [(d.InsuredSsin, d.DossierId) for d in found]

    expected = [(new, "read"), (new, dossier_id)]
    for key in ("prev-physician", "reg-counsellor", "inami-expert"):  # before the gateway applies the change
        assert seen_as(key) == expected, key
    assert live.gw.lifecycle.sync_register().applied >= 1
    with live.gw.ctx.db.transaction() as session:
        assert session.execute(select(RtwDossier.insured_pseudonym)).scalar_one() == live.gw.ctx.pseudonyms.pseudonymise(new)
    for key in ("prev-physician", "reg-counsellor", "inami-expert"):  # after: the dossier is under the new number
        assert seen_as(key) == expected, key
    assert [d.DossierId for d in rtw("prev-physician").SearchDossiers(InsuredSsin=old).Dossier] == [dossier_id]
    again = rtw("prev-physician").OpenDossier(InsuredSsin=new)  # the open dossier is the person's under either number
    assert again.Created is False and again.Dossier[0].DossierId == dossier_id
