"""The people's requests and who handles them: a correction (DS-2) reaches
the provider who declared the data, its project and the data protection
officer, who answer it; a restriction (DS-3) takes effect when filed (out
of research, shown only to whom the law requires, marked); an objection
(DS-4) stops the processing it names."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from gateway.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound
from gateway.domain.inclusions import InclusionChanges
from gateway.domain.model import AuditRecord
from tests.conftest import declaration


@pytest.fixture
def included(gw, personas):
    """The patient in PSI A (declared by the gp, research agreed) and, for information, in PSI B."""
    patient = personas["patient"]
    a = gw.inclusions.declare(personas["gp"].principal(), declaration(patient, personas["psi-admin"].organisation_nihii))
    b = gw.inclusions.declare(personas["pharmacist"].principal(),
                              declaration(patient, personas["psi-admin-other"].organisation_nihii, status="information"))
    return a, b


def research_ids(gw, personas) -> list[str]:
    return [line.psi_nihii for line in gw.exports.for_insurer(personas["insurer"].principal(), "100").research]


def ids(views) -> list[str]:  # type: ignore[no-untyped-def]
    return [v.id for v in views]


def test_DS_2_a_correction_reaches_those_who_can_act_and_they_answer(gw, personas, included):
    a, _ = included
    patient = personas["patient"].principal()
    req = gw.rights.file(patient, "correction", "I was included on 1 April.", target_type="inclusion", target_id=a.id)
    assert (req.status, req.target_type, req.target_id, req.rule) == ("active", "inclusion", a.id, "DS-2")
    for key in ("gp", "psi-admin", "psi-coordinator", "dpo"):
        assert ids(gw.rights.concerning(personas[key].principal())) == [req.id], key
    for key in ("nurse", "psi-admin-other", "pharmacist"):  # a link, another project, the other inclusion's declarer
        assert gw.rights.concerning(personas[key].principal()) == [], key
        with pytest.raises(NotFound):
            gw.rights.get(personas[key].principal(), req.id)
    for key in ("insurer", "auditor", "patient-2"):
        with pytest.raises(AccessDenied):
            gw.rights.concerning(personas[key].principal())
    with pytest.raises(AccessDenied):
        gw.rights.answer(patient, req.id, "done")
    done = gw.rights.answer(personas["gp"].principal(), req.id, "done", "Start date corrected to 1 April.")
    assert (done.status, done.answer, done.answered_by_role) == ("done", "Start date corrected to 1 April.", "provider")
    mine = gw.rights.mine(patient)
    assert [(r.status, r.answer) for r in mine] == [("done", "Start date corrected to 1 April.")]
    with pytest.raises(Conflict):
        gw.rights.answer(personas["dpo"].principal(), req.id, "refused", "too late")
    with pytest.raises(NotFound):
        gw.rights.get(personas["patient-2"].principal(), req.id)


def test_DS_2_a_request_about_all_data_concerns_every_project_and_declarer_of_the_person(gw, personas, included):
    req = gw.rights.file(personas["patient"].principal(), "correction", "My first name is spelled wrong.")
    for key in ("gp", "pharmacist", "psi-admin", "psi-admin-other", "dpo"):
        assert ids(gw.rights.concerning(personas[key].principal())) == [req.id], key
    assert gw.rights.concerning(personas["psi-admin"].principal(), patient_niss=personas["patient-2"].niss) == []
    with pytest.raises(NotFound):
        gw.rights.file(personas["patient-2"].principal(), "correction", "not mine", target_type="inclusion", target_id=included[0].id)


def test_DS_2_a_refusal_gives_its_reason(gw, personas, included):
    req = gw.rights.file(personas["patient"].principal(), "correction", "Wrong project.", target_type="inclusion",
                         target_id=included[0].id)
    with pytest.raises(InvalidInput) as err:
        gw.rights.answer(personas["dpo"].principal(), req.id, "refused", " ")
    assert (err.value.code, err.value.rule) == ("refusal-without-reason", "DS-2")
    refused = gw.rights.answer(personas["dpo"].principal(), req.id, "refused", "The project is the one the gp declared.")
    assert (refused.status, refused.answered_by_role) == ("refused", "dpo")


def test_DS_3_a_restriction_takes_effect_at_once_and_shows_the_data_only_to_whom_the_law_requires(gw, personas, included):
    a, b = included
    patient, gp, nurse = personas["patient"], personas["gp"].principal(), personas["nurse"].principal()
    assert sorted(research_ids(gw, personas)) == sorted([a.psi_nihii, b.psi_nihii])
    req = gw.rights.file(patient.principal(), "restriction", "Do not use my inclusion in PSI A.", target_type="inclusion",
                         target_id=a.id)
    assert research_ids(gw, personas) == [b.psi_nihii]  # out of the very next research export
    assert len(gw.exports.for_insurer(personas["insurer"].principal(), "100").billing) == 2  # billing is a legal obligation

    assert [(i.id, i.restricted) for i in gw.inclusions.consult(nurse, patient.niss).inclusions] == [(b.id, False)]
    with pytest.raises(NotFound) as err:
        gw.inclusions.get(nurse, a.id)
    assert err.value.code == "unknown-inclusion"  # as an unknown inclusion
    with gw.db.transaction() as s:
        last = s.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
    assert (last.outcome, last.code, last.rule) == ("denied", "restricted", "DS-3")  # the trail keeps the real refusal
    for who in (patient.principal(), gp, personas["psi-admin"].principal()):
        shown = {i.id: i.restricted for i in gw.inclusions.consult(who, patient.niss).inclusions}
        assert shown[a.id] is True  # shown, marked restricted
    assert gw.inclusions.get(gp, a.id).restricted
    assert [i.inclusion.restricted for i in gw.inclusions.list_patients(personas["psi-coordinator"].principal()).items] == [True]

    gw.rights.answer(personas["dpo"].principal(), req.id, "refused", "The inclusion is needed to bill your care (art. 18(2) GDPR).")
    assert sorted(research_ids(gw, personas)) == sorted([a.psi_nihii, b.psi_nihii])
    assert not gw.inclusions.get(nurse, a.id).restricted


def test_DS_3_a_restriction_of_all_data_stays_in_force_when_done_until_the_person_withdraws_it(gw, personas, included):
    patient = personas["patient"].principal()
    req = gw.rights.file(patient, "restriction")
    assert research_ids(gw, personas) == []
    assert gw.inclusions.consult(personas["nurse"].principal(), personas["patient"].niss).inclusions == ()
    gw.rights.answer(personas["psi-admin"].principal(), req.id, "done", "Restricted.")
    assert research_ids(gw, personas) == []
    with pytest.raises(NotFound):
        gw.inclusions.modify(personas["nurse"].principal(), included[0].id, InclusionChanges(end_date=date(2026, 12, 31)))
    assert gw.rights.lift(patient, req.id).status == "closed"
    assert len(research_ids(gw, personas)) == 2
    with pytest.raises(Conflict):
        gw.rights.lift(patient, req.id)


def test_DS_4_an_objection_stops_the_processing_it_names(gw, personas, included):
    patient = personas["patient"]
    req = gw.rights.file(patient.principal(), "objection", "No research with my data.", processing="research")
    assert (req.processing, req.rule) == ("research", "DS-4")
    assert research_ids(gw, personas) == []
    gw.consents.record(personas["gp"].principal(), patient.niss, "agree", date(2026, 6, 15))
    assert research_ids(gw, personas) == []  # a decision recorded by someone else does not override the objection
    assert len(gw.inclusions.consult(personas["nurse"].principal(), patient.niss).inclusions) == 2  # care goes on
    with pytest.raises(InvalidInput) as err:
        gw.rights.file(patient.principal(), "objection", processing="billing")
    assert (err.value.code, err.value.rule) == ("legal-obligation", "DS-4")
    with pytest.raises(InvalidInput):
        gw.rights.file(patient.principal(), "objection", processing="marketing")
    gw.rights.answer(personas["dpo"].principal(), req.id, "done", "Your data leave the research exports.")
    assert research_ids(gw, personas) == []
    gw.rights.lift(patient.principal(), req.id)
    assert len(research_ids(gw, personas)) == 2


def test_DS_4_an_objection_refused_with_a_reason_lets_the_processing_resume(gw, personas, included):
    req = gw.rights.file(personas["patient"].principal(), "objection")
    assert research_ids(gw, personas) == []
    gw.rights.answer(personas["dpo"].principal(), req.id, "refused", "Compelling legitimate grounds: the statutory evaluation.")
    assert len(research_ids(gw, personas)) == 2
