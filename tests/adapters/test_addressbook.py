"""The AddressBook's client: CoBrHa records by NIHII (a professional with
quality and visa, an organisation) and the directory searches give what
the sandbox directory gives, through the domain's directory port."""

from __future__ import annotations

import pytest

from gateway.domain.directory_search import DirectorySearch
from gateway.domain.ports import OrganisationKind, OrganisationQuery, ProfessionalQuery
from gateway.ehealth.addressbook import ehp_number
from gateway.ehealth.sandbox.directory import SandboxDirectory


def test_professionals_with_quality_and_visa_are_cobrhas(side, registries):
    for record in registries.professionals:
        assert side.adapters.facts.professional(record.nihii) == side.truth.facts.professional(record.nihii), record.nihii
    assert side.adapters.facts.professional("19234011004") is None  # a valid number nobody has
    assert side.adapters.facts.professional("123") is None


def test_organisations_are_cobrhas(side, registries):
    for organisation in registries.organisations:
        assert side.adapters.facts.organisation(organisation.nihii) == organisation, organisation.nihii
        assert side.adapters.directory.ehp_number(organisation) == ehp_number(organisation)
    assert side.adapters.facts.organisation("19234011004") is None


QUERIES = [
    ProfessionalQuery(family="ver"),
    ProfessionalQuery(name="ma"),
    ProfessionalQuery(name="l", family="v"),
    ProfessionalQuery(given="l", quality="doctor"),
    ProfessionalQuery(quality="nurse"),
    ProfessionalQuery(quality="pharmacist"),
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: ",".join(f"{k}={getattr(q, k)}" for k in q.criteria()))
def test_professional_searches_find_what_the_sandbox_directory_finds(in_process, registries, query):
    assert list(in_process.adapters.directory.find_professionals(query)) == list(
        SandboxDirectory(registries).find_professionals(query))


def test_professional_search_by_number_lists_that_profession_only(in_process, registries, personas):
    gp = registries.professional(personas["gp"].nihii)
    for query in (ProfessionalQuery(nihii=gp.nihii), ProfessionalQuery(ssin=gp.niss)):
        assert list(in_process.adapters.directory.find_professionals(query)) == list(
            SandboxDirectory(registries).find_professionals(query))


@pytest.mark.parametrize("query", [
    OrganisationQuery(kind=OrganisationKind.PHARMACY), OrganisationQuery(kind=OrganisationKind.PSI),
    OrganisationQuery(name="apotheek"), OrganisationQuery(name="zzz-nothing"),
], ids=lambda q: ",".join(f"{k}={getattr(q, k)}" for k in q.criteria()))
def test_organisation_searches_find_what_the_sandbox_directory_finds(side, registries, query):
    assert list(side.adapters.directory.find_organisations(query)) == list(
        SandboxDirectory(registries).find_organisations(query))


def test_organisation_search_by_cbe_and_ehp(in_process, registries):
    psi = registries.organisation(registries.cast.psi_a)
    for query in (OrganisationQuery(cbe=psi.cbe), OrganisationQuery(ehp=ehp_number(psi)), OrganisationQuery(nihii=psi.nihii)):
        assert list(in_process.adapters.directory.find_organisations(query)) == [psi]


def test_the_domains_searches_run_on_the_addressbook(gw, in_process, personas, registries):
    """The directory port: the same pages, totals and visible SSINs (IC-A9) through the AddressBook."""
    through = DirectorySearch(gw.ctx, in_process.adapters.directory)
    sandbox = DirectorySearch(gw.ctx, SandboxDirectory(registries))
    for who in ("nurse", "patient"):
        principal = personas[who].principal()
        a = through.professionals(principal, ProfessionalQuery(family="v"), count=2)
        b = sandbox.professionals(principal, ProfessionalQuery(family="v"), count=2)
        assert a == b and (a.items[0].niss is None) == (who == "patient")
    page = through.organisations(personas["gp"].principal(), OrganisationQuery(kind=OrganisationKind.PHARMACY), count=10)
    assert page == sandbox.organisations(personas["gp"].principal(), OrganisationQuery(kind=OrganisationKind.PHARMACY), count=10)
    assert all(entry.ehp for entry in page.items)
