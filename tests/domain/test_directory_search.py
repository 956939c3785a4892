"""Directory searches (CoBrHa) and the patient read by pseudonym: the
standing rule, who sees a professional's SSIN, bounded pages, and one audit
record per search, allowed or refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.domain.directory_search import DirectorySearch, OrganisationQuery, ProfessionalQuery
from gateway.domain.errors import AccessDenied, InvalidInput, NotFound
from gateway.domain.model import AuditRecord
from gateway.domain.ports import OrganisationKind
from gateway.ehealth.sandbox.directory import SandboxDirectory


@pytest.fixture
def search(gw) -> DirectorySearch:  # type: ignore[no-untyped-def]
    return DirectorySearch(gw.ctx, SandboxDirectory(gw.platform.registries))


def last_audit(gw) -> AuditRecord:  # type: ignore[no-untyped-def]
    with gw.db.transaction() as session:
        record = session.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
        session.expunge(record)
        return record


def test_professionals_by_name_prefix_without_case_or_accents(gw, search, personas):
    gp = gw.platform.registries.professional(personas["gp"].nihii)
    page = search.professionals(personas["nurse"].principal(), ProfessionalQuery(family=gp.last_name[:4].upper()), count=100)
    assert gp.nihii in {e.nihii for e in page.items} and page.total == len(page.items)
    assert next(e for e in page.items if e.nihii == gp.nihii).niss == gp.niss  # a professional sees the SSIN
    record = last_audit(gw)
    assert (record.action, record.outcome, record.detail) == ("practitioner.search", "allowed", {"criteria": ["family"], "found": page.total})


def test_IC_A9_a_citizen_sees_no_professional_ssin_and_may_not_search_by_it(gw, search, personas):
    patient = personas["patient"].principal()
    page = search.professionals(patient, ProfessionalQuery(nihii=personas["gp"].nihii), count=5)
    assert [e.niss for e in page.items] == [None]
    with pytest.raises(AccessDenied) as denied:
        search.professionals(patient, ProfessionalQuery(ssin=personas["gp"].niss), count=5)
    assert (denied.value.code, denied.value.rule) == ("ssin-search-not-allowed", "IC-A9")
    record = last_audit(gw)
    assert (record.outcome, record.code) == ("denied", "ssin-search-not-allowed")


def test_searches_need_standing_criteria_and_bounded_pages(gw, search, personas):
    with pytest.raises(AccessDenied):
        search.organisations(personas["excluded-profession"].principal(), OrganisationQuery(name="a"), count=5)
    with pytest.raises(InvalidInput) as empty:
        search.organisations(personas["gp"].principal(), OrganisationQuery(), count=5)
    assert empty.value.code == "search-criteria-missing"
    with pytest.raises(InvalidInput) as too_many:
        search.organisations(personas["gp"].principal(), OrganisationQuery(kind=OrganisationKind.PSI), count=10_000)
    assert too_many.value.rule == "IC-A8"
    with pytest.raises(InvalidInput) as malformed:
        search.organisations(personas["gp"].principal(), OrganisationQuery(cbe="0820563482"), count=5)
    assert malformed.value.code == "cbe-check-digits"


def test_organisation_pages_follow_each_other(gw, search, personas):
    gp = personas["gp"].principal()
    first = search.organisations(gp, OrganisationQuery(kind=OrganisationKind.PHARMACY), count=1)
    second = search.organisations(gp, OrganisationQuery(kind=OrganisationKind.PHARMACY), count=1, offset=first.next_offset or 0)
    assert first.next_offset == 1 and first.total == second.total == 2 and second.next_offset is None
    assert {e.nihii for e in first.items + second.items} == {o.nihii for o in gw.platform.registries.organisations_of(OrganisationKind.PHARMACY)}
    assert all(e.ehp and e.kind is OrganisationKind.PHARMACY for e in first.items + second.items)


def test_IC_R9_patient_by_pseudonym_follows_the_consult_rules(gw, search, personas):
    pseudonym = gw.ctx.pseudonyms.pseudonymise(personas["patient"].niss)
    assert search.patient_by_pseudonym(personas["gp"].principal(), pseudonym).niss == personas["patient"].niss
    with pytest.raises(AccessDenied):
        search.patient_by_pseudonym(personas["gp-no-link"].principal(), pseudonym)
    with pytest.raises(NotFound):
        search.patient_by_pseudonym(personas["gp"].principal(), personas["patient"].niss)  # a NISS is no id
    record = last_audit(gw)
    from gateway.domain.audit_subjects import pseudonyms_of

    with gw.db.transaction() as s:  # the record names the person by their audit token (IC-R8, IC-R6)
        named = pseudonyms_of(s, [record.patient_pseudonym]).get(record.patient_pseudonym)
    assert (record.action, record.outcome, record.code, record.resource_id, named) == (
        "patient.read", "refused", "unknown-patient", None, pseudonym)  # IC-R10: the NISS sent as an id is not kept
