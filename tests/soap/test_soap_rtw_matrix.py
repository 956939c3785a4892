"""The persona matrix of return to work over SOAP (issue 11): each role of each
partner kind, with a real STS token, searches the dossiers of its own
person, another partner's person, the deceased person and a person not
registered with any regional service. Insurers, prevention services and
INAMI with a token of eHealth's STS, the regional services with one of the
social-security crossroads bank's STS (RP-S1), get exactly the permits and
refusals of the domain's and the FHIR face's matrix (RP-A1..RP-A5)."""

from __future__ import annotations

import pytest
import zeep.exceptions
from sqlalchemy import select

from gateway.domain.model import AuditRecord
from gateway.ehealth.rtw.state import rtw_state
from tests.domain.rtw.test_rtw_access_matrix import EXPECTED
from tests.soap.conftest import fault_detail
from tests.soap.test_soap_rtw import soap_clients

OVER_SOAP = EXPECTED  # the same table on both faces, regional roles included


@pytest.fixture(scope="module")
def service(live):  # type: ignore[no-untyped-def]
    return soap_clients(live)


@pytest.fixture(scope="module")
def people(live) -> dict[str, str]:  # type: ignore[no-untyped-def]
    cast = rtw_state(live.platform).sandbox.cast
    return {"insured": cast.insured, "other": cast.actiris, "deceased": cast.deceased, "unregistered": cast.unregistered}


def outcome(live, client, niss: str) -> str:  # type: ignore[no-untyped-def]
    try:
        client.SearchDossiers(InsuredSsin=niss)
    except zeep.exceptions.Fault as fault:
        return f"deny {fault_detail(fault)['Rule']}"
    with live.gw.ctx.db.transaction() as session:  # the rule the allowed search rests on, as audited
        rule = session.execute(select(AuditRecord.rule).where(AuditRecord.action == "rtw.dossier.search")
                               .order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
    return f"allow {rule}"


@pytest.mark.parametrize("key", sorted(OVER_SOAP))
def test_rp_s1_and_rp_a1_to_a5_persona_matrix_over_soap(live, service, people, key: str) -> None:  # type: ignore[no-untyped-def]
    client = service(key)
    assert {name: outcome(live, client, people[name]) for name in OVER_SOAP[key]} == OVER_SOAP[key]
