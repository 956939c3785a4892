"""IC-R4 (death closes inclusions), IC-R5 (NISS change moves them), IC-R6
(retention purge)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from gateway.cli import main
from gateway.domain.identifiers import NissKind, check_niss, make_niss
from gateway.domain.model import ConsentDecision, Inclusion, InclusionChange
from tests.conftest import declaration


def test_IC_R4_death_closes_every_open_inclusion(gw, personas):
    gp = personas["gp"].principal()
    psi_a, psi_b = personas["psi-admin"].organisation_nihii, personas["psi-admin-other"].organisation_nihii
    open_one = gw.inclusions.declare(gp, declaration(personas["patient"], psi_a))
    info = gw.inclusions.declare(gp, declaration(personas["patient"], psi_b, status="information", end_date=date(2026, 12, 31)))
    ended = gw.inclusions.declare(gp, declaration(personas["patient"], psi_b, status="information", start_date=date(2025, 1, 1), end_date=date(2025, 6, 30), consent_date=date(2025, 1, 1)))

    gw.platform.register.inject_death(personas["patient"].niss, date(2026, 6, 1))
    report = gw.lifecycle.sync_register()
    assert (report.applied, report.inclusions_closed) == (1, 2)

    for inc_id in (open_one.id, info.id):
        view = gw.inclusions.get(gp, inc_id)
        assert (view.end_date, view.closed_reason, view.last_actor_role) == (date(2026, 6, 1), "death", "system")
        assert view.billing_end == date(2026, 7, 31)
    assert gw.inclusions.get(gp, ended.id).end_date == date(2025, 6, 30)
    assert gw.lifecycle.sync_register().applied == 0  # the cursor moved: applied once only


def test_IC_R5_niss_change_moves_inclusions_and_keeps_history(gw, personas):
    bis = personas["bis-patient"]
    assert check_niss(bis.niss).is_bis
    gp = personas["gp"].principal()
    inc = gw.inclusions.declare(gp, declaration(bis.niss, personas["psi-admin"].organisation_nihii))
    person = gw.platform.register.person(bis.niss)
    new = make_niss(person.birth_date or date(1980, 1, 1), 611 if (person.sex or "male") == "male" else 612, bis=NissKind.NATIONAL)
    gw.platform.register.inject_niss_change(bis.niss, new, date(2026, 6, 10))
    report = gw.lifecycle.sync_register()
    assert report.inclusions_moved == 1

    admin = personas["psi-admin"].principal()
    by_new = gw.inclusions.consult(admin, new)
    assert [i.id for i in by_new.inclusions] == [inc.id]
    assert by_new.inclusions[0].patient_niss == new
    assert by_new.consent is not None  # the consent followed the person
    by_old = gw.inclusions.consult(admin, bis.niss)  # the register maps the old number to the person
    assert [i.id for i in by_old.inclusions] == [inc.id]
    versions = gw.inclusions.history(admin, inc.id)
    assert [v.action for v in versions] == ["declare", "niss-change"]
    assert versions[0].items["patient"] == gw.ctx.pseudonyms.pseudonymise(bis.niss)
    assert versions[1].items["patient"] == gw.ctx.pseudonyms.pseudonymise(new)


def test_IC_R6_purge_deletes_only_past_retention(gw, personas, capsys):
    gp = personas["gp"].principal()
    psi = personas["psi-admin"].organisation_nihii
    old = gw.inclusions.declare(gp, declaration(personas["patient"], psi, start_date=date(2012, 1, 1), end_date=date(2016, 6, 14), consent_date=date(2012, 1, 1)))
    kept = gw.inclusions.declare(gp, declaration(personas["patient-2"], psi, start_date=date(2012, 1, 1), end_date=date(2016, 6, 15), consent_date=date(2012, 1, 1)))
    active = gw.inclusions.declare(gp, declaration(personas["patient"], psi, start_date=date(2017, 1, 1), consent_date=date(2017, 1, 1)))

    dry = gw.lifecycle.purge(dry_run=True)
    assert [i[0] for i in dry.inclusions] == [old.id]
    assert dry.patients == 0  # the patient still has an active inclusion: consent kept

    def ids():
        with gw.db.transaction() as s:
            return set(s.execute(select(Inclusion.id)).scalars())

    assert ids() == {old.id, kept.id, active.id}
    done = gw.lifecycle.purge()
    assert ids() == {kept.id, active.id}
    with gw.db.transaction() as s:
        assert s.execute(select(func.count()).select_from(InclusionChange).where(InclusionChange.inclusion_id == old.id)).scalar_one() == 0
    assert "deleted 1 inclusion" in done.describe()

    later = gw.lifecycle.purge(today=date(2026, 6, 16))  # now the second one is past retention too
    assert [i[0] for i in later.inclusions] == [kept.id] and later.patients == 1
    with gw.db.transaction() as s:
        left = s.execute(select(ConsentDecision.patient_pseudonym)).scalars().all()
    assert gw.ctx.pseudonyms.pseudonymise(personas["patient-2"].niss) not in left


def test_IC_R6_purge_command_dry_run(gw, personas, capsys, monkeypatch):
    gp = personas["gp"].principal()
    gw.inclusions.declare(gp, declaration(personas["patient"], personas["psi-admin"].organisation_nihii, start_date=date(2010, 1, 1), end_date=date(2011, 1, 1), consent_date=date(2010, 1, 1)))
    monkeypatch.setenv("CARE_GATEWAY_DATABASE_URL", gw.db.url)
    assert main(["purge", "--dry-run", "--today", "2026-06-15"]) == 0
    out = capsys.readouterr().out
    assert "would delete 1 inclusion" in out and "ended 2011-01-01" in out
    with gw.db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Inclusion)).scalar_one() == 1
