"""SandboxCareFacts over TherLink's store: the registries' links with the
links declared and revoked through TherLink, day by day (IC-A1, IC-A2), and
the constructor without a store still answering from the registries alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.ehealth.sandbox.facts import SandboxCareFacts
from gateway.ehealth.sandbox.links import PHARMACY, PROFESSIONAL, Link, StoredLinks
from gateway.ehealth.sandbox.phonetic import fold, phonetic_key


@pytest.fixture
def links(gw) -> StoredLinks:
    return StoredLinks(gw.platform.registries, gw.platform.db, gw.platform.pseudonyms, gw.platform.register)


def declare(gw, links: StoredLinks, patient: str, party_niss: str | None, nihii: str, *, start, end=None,
            kind: str = PROFESSIONAL) -> Link:
    link = Link("therlink", None, links.key(patient), kind, links.key(party_niss) if party_niss else None, nihii,
                "orgpharmacy" if kind == PHARMACY else "persphysician",
                "pharmaceuticalcare" if kind == PHARMACY else "gpconsultation", start, end, proof_type="eidreading")
    with gw.platform.db.transaction() as session:
        return links.add(session, link, author_niss=party_niss or patient, author_role="provider", now=gw.clock.now())


def revoke(gw, links: StoredLinks, patient: str, match, on) -> None:
    with gw.platform.db.transaction() as session:
        for link in [l for l in links.links_of(patient, session) if match(l)]:
            links.revoke(session, link, on=on, by_niss=patient, by_role="patient", now=gw.clock.now())


def test_without_a_store_the_registries_links_answer(gw, personas):
    facts = SandboxCareFacts(gw.platform.registries, register=gw.platform.register)
    today = gw.clock.today()
    assert facts.has_therapeutic_link(personas["gp"].niss, personas["patient"].niss, today)
    assert not facts.has_therapeutic_link(personas["gp-no-link"].niss, personas["patient"].niss, today)


def test_IC_A1_a_declared_link_counts_from_its_start_to_its_end(gw, personas, links):
    today, facts = gw.clock.today(), gw.ctx.facts
    gp, patient = personas["gp-no-link"], personas["patient"].niss
    declare(gw, links, patient, gp.niss, gp.nihii, start=today, end=today + timedelta(days=30))
    assert facts.has_therapeutic_link(gp.niss, patient, today)
    assert facts.has_therapeutic_link(gp.niss, patient, today + timedelta(days=30))
    assert not facts.has_therapeutic_link(gp.niss, patient, today - timedelta(days=1))
    assert not facts.has_therapeutic_link(gp.niss, patient, today + timedelta(days=31))
    assert not facts.has_therapeutic_link(gp.niss, personas["patient-2"].niss, today)


def test_IC_A1_a_revoked_registry_link_ends_the_day_before(gw, personas, links):
    today, facts = gw.clock.today(), gw.ctx.facts
    gp, patient = personas["gp"].niss, personas["patient"].niss
    revoke(gw, links, patient, lambda l: l.party_key == gp, today)
    assert not facts.has_therapeutic_link(gp, patient, today)
    assert facts.has_therapeutic_link(gp, patient, today - timedelta(days=1))
    (revoked,) = [l for l in links.links_of(patient) if l.party_key == gp]
    assert (revoked.source, revoked.revoked_on, revoked.effective_end) == ("registry", today, today - timedelta(days=1))
    assert facts.has_therapeutic_link(personas["nurse"].niss, patient, today)  # the other links stay


def test_a_link_revoked_the_day_it_starts_is_never_active(gw, personas, links):
    today, facts = gw.clock.today(), gw.ctx.facts
    gp, patient = personas["gp-no-link"], personas["patient-2"].niss
    declare(gw, links, patient, gp.niss, gp.nihii, start=today)
    revoke(gw, links, patient, lambda l: l.source == "therlink", today)
    assert not any(facts.has_therapeutic_link(gp.niss, patient, today + timedelta(days=d)) for d in (-1, 0, 1, 400))


def test_IC_A2_pharmacy_links_declared_and_revoked(gw, personas, links):
    today, facts = gw.clock.today(), gw.ctx.facts
    pharmacy_b, pharmacy_a, patient = (personas["pharmacist-no-link"].organisation_nihii,
                                       personas["pharmacist"].organisation_nihii, personas["patient"].niss)
    assert not facts.pharmacy_has_therapeutic_link(pharmacy_b, patient, today)
    declare(gw, links, patient, None, pharmacy_b, start=today, kind=PHARMACY)
    assert facts.pharmacy_has_therapeutic_link(pharmacy_b, patient, today)
    revoke(gw, links, patient, lambda l: l.party_kind == PHARMACY and l.party_nihii == pharmacy_a, today)
    assert not facts.pharmacy_has_therapeutic_link(pharmacy_a, patient, today)
    assert facts.pharmacy_has_therapeutic_link(pharmacy_b, patient, today)


def test_links_are_stored_under_pseudonyms_and_follow_a_niss_change(gw, personas, links):
    """IC-R5 and IC-R10: declared under a later number, found under any."""
    from sqlalchemy import text

    from tests.ehealth.test_register import unused_national_number

    person = gw.platform.registries.person(personas["patient-2"].niss)
    new = unused_national_number(gw.platform.registries, person)
    gw.platform.register.inject_niss_change(person.niss, new, gw.clock.today())
    gp = personas["gp-no-link"]
    declare(gw, links, new, gp.niss, gp.nihii, start=gw.clock.today())
    for number in (person.niss, new):
        assert gw.ctx.facts.has_therapeutic_link(gp.niss, number, gw.clock.today())
    with gw.platform.db.engine.connect() as connection:
        stored = " ".join(str(v) for row in connection.execute(text("SELECT * FROM therlink_link")) for v in row)
    assert person.niss not in stored and new not in stored and gp.niss not in stored


def test_phonetic_key_and_fold():
    assert fold("Van den Bossche-D'Hondt") == "vandenbosschedhondt"
    assert {phonetic_key(n) for n in ("Peeters", "Pieters", "Peters")} == {"1362"}
    assert {phonetic_key(n) for n in ("Declercq", "De Clercq", "Declerck")} == {"3246"}
    assert phonetic_key("Claes") == phonetic_key("Klaas") and phonetic_key("Cornelis") == phonetic_key("Kornelis")
    assert phonetic_key("Müller") == phonetic_key("Muller") == phonetic_key("Miller") == "5460"
    assert phonetic_key("Dubois") != phonetic_key("Peeters")
    assert phonetic_key("A") == "0000"
