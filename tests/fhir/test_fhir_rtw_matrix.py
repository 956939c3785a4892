"""The persona matrix of return to work through FHIR (issue 11): each role of
each partner kind, with a real token of its own identity provider (RP-S1),
searches the dossiers of its own person, another partner's person, the
deceased person and a person not registered with any regional service;
the answer is a permit or a refusal naming the rule (RP-A1..RP-A5), the
same table the domain's matrix proves (tests/domain/rtw/test_rtw_access_matrix.py),
and the trail keeps the rule of each (RP-R2)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from gateway.domain.identifiers import SSIN_SYSTEM
from gateway.domain.model import AuditRecord
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.rtw.tokens import rtw_access_token
from gateway.fhir.resources.rtw_dossier import TYPE_CODE, TYPE_SYSTEM
from tests.domain.rtw.test_rtw_access_matrix import EXPECTED
from tests.fhir.fhir_asserts import issue


@pytest.fixture(scope="module")
def people(live) -> dict[str, str]:  # type: ignore[no-untyped-def]
    cast = rtw_state(live.platform).sandbox.cast
    return {"insured": cast.insured, "other": cast.actiris, "deceased": cast.deceased, "unregistered": cast.unregistered}


def outcome(live, token: str, niss: str) -> str:  # type: ignore[no-untyped-def]
    answer = httpx.get(f"{live.base_url}/fhir/EpisodeOfCare", timeout=30, headers={"Authorization": f"Bearer {token}"},
                       params={"type": f"{TYPE_SYSTEM}|{TYPE_CODE}", "patient-identifier": f"{SSIN_SYSTEM}|{niss}"})
    if answer.status_code != 200:
        assert answer.status_code == 403, answer.text
        return f"deny {issue(answer.json())['rule']}"
    with live.gw.ctx.db.transaction() as session:  # the rule the allowed search rests on, as audited
        rule = session.execute(select(AuditRecord.rule).where(AuditRecord.action == "rtw.dossier.search")
                               .order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
    return f"allow {rule}"


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_rp_a1_to_a5_persona_matrix_through_fhir(live, people, key: str) -> None:  # type: ignore[no-untyped-def]
    token = rtw_access_token(live.base_url, key)
    assert {name: outcome(live, token, people[name]) for name in EXPECTED[key]} == EXPECTED[key]
