"""PN-3: the privacy statement and the terms of use say every element PN-3
names, and they are generated from one source of truth that cannot drift
from the code: every column the programme stores and every role the access
policy knows is in it; docs/perinatal-privacy.md is what the gateway serves.
DS-8: the retention it states is what the purge does."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gateway.domain.model import Base
from gateway.domain.perinatal import privacy
from gateway.domain.perinatal.model import PerinatalEpisode
from gateway.domain.principal import Role
from tests.domain.perinatal.conftest import ALL_CLEAR

STATEMENT_SECTIONS = (  # PN-3, in the order it names them
    "## Which data we collect, and why", "## Who is responsible", "Controller:", "Processor:", "## Who has access to your data",
    "## Legal basis", "## Withdrawing your consent, at any time", "## Your rights, and how to exercise them",
    "## How long we keep your data", "## Means of appeal",
)
TERMS_SECTIONS = ("## Users", "## Conditions of access", "## What users may do", "## Users' responsibilities")


def test_PN_3_the_statement_and_the_terms_say_every_element_pn_3_names():
    statement, terms = privacy.privacy_statement(), privacy.terms_of_use()
    for section in STATEMENT_SECTIONS:
        assert section in statement, section
    for section in TERMS_SECTIONS:
        assert section in terms, section
    for right in ("DS-1", "DS-2", "DS-3", "DS-4", "DS-5"):
        assert f"({right})" in statement
    assert "Data Protection Authority" in statement


def test_PN_3_every_column_the_programme_stores_is_listed():
    stored = {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables if t.name.startswith("perinatal_") for c in t.columns}
    assert stored, "the perinatal tables are registered"
    assert stored - privacy.stored_columns() == set()
    assert privacy.stored_columns() - stored == set()  # and nothing listed that the code does not store


def test_PN_3_every_role_the_policy_knows_is_listed():
    assert set(privacy.source()["roles"]) == {role.value for role in Role}
    statement = privacy.privacy_statement()
    assert all(f"`{role.value}`" in statement for role in Role)


def test_PN_3_the_docs_are_what_the_gateway_serves():
    docs = Path(__file__).resolve().parents[3] / "docs" / "perinatal-privacy.md"
    assert docs.read_text(encoding="utf-8") == privacy.documents_markdown(), \
        "regenerate docs/perinatal-privacy.md from gateway.domain.perinatal.privacy.documents_markdown()"


def test_DS_8_retention_is_what_the_statement_says(gw, personas, episode, database):
    assert "ten years after the follow-up ended" in privacy.source()["retention"]
    gw.perinatal.screen(personas["nurse"].principal(), episode.id, ALL_CLEAR)
    gw.perinatal.withdraw_consent(personas["patient-2"].principal(), episode.id)
    assert gw.perinatal.purge(dry_run=True, today=date(2036, 6, 14)).episodes == []
    report = gw.perinatal.purge(today=date(2036, 6, 15))
    assert report.episodes == [episode.id] and "deleted 1 follow-up" in report.describe()
    with database.transaction() as session:
        assert session.get(PerinatalEpisode, episode.id) is None


def test_IC_R5_the_follow_up_follows_the_woman_to_a_new_number(gw, episode, database):
    from gateway.domain.perinatal.retention import renumber

    with database.transaction() as session:
        old = session.get(PerinatalEpisode, episode.id).woman_pseudonym
        assert renumber(session, old, "x" * 64) == 1
        assert session.get(PerinatalEpisode, episode.id).woman_pseudonym == "x" * 64
