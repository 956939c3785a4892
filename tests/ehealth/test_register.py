"""The sandbox national register and its stored mutation feed (IC-R4, IC-R5, IC-R9)."""

from __future__ import annotations

import os
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import text

import gateway.ehealth.model  # noqa: F401  (registers the register_mutation table)
from gateway.domain.clock import FixedClock
from gateway.domain.database import Database
from gateway.ehealth.store import create_platform_schema, drop_platform_schema
from gateway.domain.identifiers import InvalidIdentifier, NissKind, check_niss, make_niss
from gateway.domain.ports import MutationKind, PersonRecord
from gateway.ehealth.sandbox.facts import SandboxCareFacts
from gateway.ehealth.sandbox.register import SandboxNationalRegister
from gateway.ehealth.sandbox.registries import SandboxRegistries, generate_registries

TODAY = date(2026, 6, 15)


@pytest.fixture
def sandbox() -> SandboxRegistries:
    return generate_registries(2026)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """The simulated platform's database: a temporary SQLite file, or the
    PostgreSQL server named by CARE_GATEWAY_TEST_DATABASE_URL, where its
    tables are created for the test and dropped after it (that database is
    the gateway's in the other tests: the register's plaintext numbers must
    not stay there, IC-R10)."""
    database = Database(os.environ.get("CARE_GATEWAY_TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/t.sqlite3")
    drop_platform_schema(database)
    create_platform_schema(database)
    yield database
    drop_platform_schema(database)
    database.dispose()


@pytest.fixture
def fixed_clock() -> FixedClock:
    return FixedClock(datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc))


@pytest.fixture
def register(sandbox: SandboxRegistries, db: Database, fixed_clock: FixedClock) -> SandboxNationalRegister:
    return SandboxNationalRegister(sandbox, db, fixed_clock)


def unused_national_number(sandbox: SandboxRegistries, person: PersonRecord, besides: tuple[str, ...] = ()) -> str:
    assert person.birth_date and person.sex
    for counter in range(1 if person.sex == "male" else 2, 999, 2):
        number = make_niss(person.birth_date, counter)
        if sandbox.person(number) is None and number not in besides:
            return number
    raise AssertionError("no free number")


def test_person_reads_the_register(register: SandboxNationalRegister, sandbox: SandboxRegistries) -> None:
    patient = sandbox.cast.patient
    assert register.person(patient) == sandbox.person(patient)
    assert register.person(f"{patient[:6]}-{patient[6:9]}.{patient[9:]}") == sandbox.person(patient)
    assert register.person(make_niss(date(1901, 1, 1), 997)) is None
    assert register.person("not a number") is None
    assert register.mutations_after(0) == []
    changed = sandbox.person(sandbox.cast.niss_changed_patient)
    assert changed and register.person(changed.previous_niss[0]) == changed


def test_inject_death(register: SandboxNationalRegister, sandbox: SandboxRegistries, db: Database,
                      fixed_clock: FixedClock) -> None:
    patient = sandbox.cast.patient
    mutation = register.inject_death(patient, date(2026, 6, 1))
    assert mutation.seq == 1 and mutation.kind is MutationKind.DEATH
    assert mutation.niss == patient and mutation.effective == date(2026, 6, 1) and mutation.new_niss is None
    person = register.person(patient)
    assert person and person.death_date == date(2026, 6, 1) and person.deceased
    assert register.mutations_after(0) == [mutation]
    assert register.mutations_after(1) == []

    other_instance = SandboxNationalRegister(sandbox, db, fixed_clock)  # another platform instance on the same database
    seen = other_instance.person(patient)
    assert seen and seen.death_date == date(2026, 6, 1)
    with db.transaction() as session:
        stored = session.execute(text("SELECT kind, niss, effective, created_at FROM register_mutation")).one()
    assert stored[0] == "death" and stored[1] == patient and str(stored[2]) == "2026-06-01"


def test_inject_death_refusals(register: SandboxNationalRegister, sandbox: SandboxRegistries) -> None:
    patient = sandbox.cast.patient
    register.inject_death(patient, date(2026, 6, 1))
    with pytest.raises(ValueError, match="already deceased"):
        register.inject_death(patient, date(2026, 6, 2))
    with pytest.raises(ValueError, match="already deceased"):
        register.inject_death(sandbox.cast.deceased_patient, date(2026, 6, 2))  # died in 2025, from the start
    with pytest.raises(ValueError, match="No person with NISS"):
        register.inject_death(make_niss(date(1901, 1, 1), 997), date(2026, 6, 2))
    with pytest.raises(InvalidIdentifier):
        register.inject_death(patient[:9] + f"{(int(patient[9:]) + 1) % 100:02d}", date(2026, 6, 2))
    with pytest.raises(ValueError, match="in the future"):
        register.inject_death(sandbox.cast.patient_2, date(2026, 6, 16))
    with pytest.raises(ValueError, match="before the birth date"):
        register.inject_death(sandbox.cast.patient_2, date(2000, 1, 1))
    assert len(register.mutations_after(0)) == 1  # refusals wrote nothing


def test_inject_niss_change_bis_to_national(register: SandboxNationalRegister, sandbox: SandboxRegistries) -> None:
    bis = sandbox.cast.bis_patient
    before = register.person(bis)
    assert before and check_niss(bis).is_bis
    new = unused_national_number(sandbox, before)
    mutation = register.inject_niss_change(bis, new, date(2026, 6, 10))
    assert mutation.kind is MutationKind.NISS_CHANGE and mutation.niss == bis and mutation.new_niss == new
    by_new, by_old = register.person(new), register.person(bis)
    assert by_new == by_old
    assert by_new and by_new.niss == new and by_new.previous_niss == (bis,)
    assert (by_new.last_name, by_new.birth_date, by_new.death_date) == (before.last_name, before.birth_date, None)
    assert register.mutations_after(0) == [mutation]

    # A second change keeps the whole history; a death announced by an old number names the current one.
    newer = unused_national_number(sandbox, before, besides=(new,))
    register.inject_niss_change(new, newer, date(2026, 6, 11))
    person = register.person(bis)
    assert person and person.niss == newer and person.previous_niss == (bis, new)
    death = register.inject_death(bis, date(2026, 6, 12))
    assert death.niss == newer
    assert [m.seq for m in register.mutations_after(0)] == [1, 2, 3]
    assert [m.seq for m in register.mutations_after(1, limit=1)] == [2]


def test_inject_niss_change_refusals(register: SandboxNationalRegister, sandbox: SandboxRegistries) -> None:
    bis = sandbox.cast.bis_patient
    person = sandbox.person(bis)
    assert person
    with pytest.raises(ValueError, match="same as the old one"):
        register.inject_niss_change(bis, bis, TODAY)
    with pytest.raises(ValueError, match="already belongs"):
        register.inject_niss_change(bis, sandbox.cast.patient, TODAY)
    changed = sandbox.person(sandbox.cast.niss_changed_patient)
    assert changed
    with pytest.raises(ValueError, match="former number"):
        register.inject_niss_change(changed.previous_niss[0], unused_national_number(sandbox, changed), TODAY)
    with pytest.raises(ValueError, match="already belongs"):  # a former number is never handed out again
        register.inject_niss_change(bis, changed.previous_niss[0], TODAY)
    with pytest.raises(ValueError, match="No person with NISS"):
        register.inject_niss_change(make_niss(date(1901, 1, 1), 997), make_niss(date(1901, 1, 1), 995), TODAY)
    with pytest.raises(InvalidIdentifier):
        register.inject_niss_change(bis, "12345678901", TODAY)
    assert register.mutations_after(0) == []


def test_care_facts_follow_the_new_number(register: SandboxNationalRegister, sandbox: SandboxRegistries) -> None:
    bis = sandbox.cast.bis_patient
    person = sandbox.person(bis)
    assert person
    new = unused_national_number(sandbox, person)
    register.inject_niss_change(bis, new, TODAY)
    gp = sandbox.cast.gp
    assert SandboxCareFacts(sandbox, register=register).has_therapeutic_link(gp, new, TODAY)
    assert not SandboxCareFacts(sandbox).has_therapeutic_link(gp, new, TODAY)  # without the feed it cannot know
    assert check_niss(new).kind is NissKind.NATIONAL


def test_register_reads_do_not_wait_on_an_open_write_transaction(
    register: SandboxNationalRegister, sandbox: SandboxRegistries, db: Database
) -> None:
    register.inject_death(sandbox.cast.patient, date(2026, 6, 1))
    with db.transaction() as session:  # a use case holding SQLite's write lock
        session.execute(text("UPDATE register_mutation SET kind = kind"))
        started = time.monotonic()
        person = register.person(sandbox.cast.patient)
        assert register.mutations_after(0)[0].seq == 1
        assert time.monotonic() - started < 5
    assert person and person.death_date == date(2026, 6, 1)


def test_a_fresh_database_resets_the_register(register: SandboxNationalRegister, sandbox: SandboxRegistries,
                                              db: Database) -> None:
    register.inject_death(sandbox.cast.patient, date(2026, 6, 1))
    register.inject_death(sandbox.cast.patient_2, date(2026, 6, 2))
    assert register.person(sandbox.cast.patient).deceased  # type: ignore[union-attr]
    drop_platform_schema(db)
    create_platform_schema(db)
    assert register.person(sandbox.cast.patient) == sandbox.person(sandbox.cast.patient)
    assert register.mutations_after(0) == []
    assert register.inject_death(sandbox.cast.patient_2, date(2026, 6, 3)).seq == 1
