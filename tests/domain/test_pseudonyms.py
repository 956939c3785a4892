"""IC-R10: the database holds no plaintext NISS (patients and actors), only
pseudonyms that the pseudonymisation service alone can reverse; IC-R9: no
names or birth dates are stored."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain.model import Base
from gateway.domain.pseudonyms import PseudonymError, PseudonymService
from tests.conftest import declaration


def test_IC_R10_pseudonyms_are_deterministic_keyed_and_reversible():
    service = PseudonymService.from_secret("one key")
    p = service.pseudonymise("85073003328")
    assert p == service.pseudonymise("85.07.30-033.28") and p != "85073003328"
    assert service.reveal(p) == "85073003328"
    other = PseudonymService.from_secret("another key")
    assert other.pseudonymise("85073003328") != p
    with pytest.raises(PseudonymError):
        other.reveal(p)
    tampered = p[:-2] + ("A" if p[-2] != "A" else "B") + p[-1]
    with pytest.raises(PseudonymError):
        service.reveal(tampered)


def dump(gw) -> str:
    parts = []
    with gw.db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).all():
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def test_IC_R10_IC_R9_database_holds_no_plaintext_niss_nor_names(gw, personas):
    patient, gp, admin = personas["patient"], personas["gp"], personas["psi-admin"]
    inc = gw.inclusions.declare(gp.principal(), declaration(patient, admin.organisation_nihii))
    gw.inclusions.consult(admin.principal(), patient.niss)
    gw.consents.record(patient.principal(), patient.niss, "refuse", date(2026, 6, 1))
    gw.inclusions.close(gp.principal(), inc.id, date(2026, 6, 30))
    text = dump(gw)
    person = gw.platform.register.person(patient.niss)
    assert inc.id in text  # the dump did read the stored rows
    for secret in (patient.niss, gp.niss, admin.niss, person.last_name, person.first_name):
        assert secret not in text
    assert gw.ctx.pseudonyms.pseudonymise(patient.niss) in text
