"""The sandbox registries as a searchable provider directory
(:class:`gateway.domain.directory_search.CareDirectory`), matching names the
way the simulated AddressBook does, so that FHIR and SOAP searches find the
same people: without case, accents or spaces; a professional's names as
prefixes, an organisation's name anywhere."""

from __future__ import annotations

from typing import Sequence

from gateway.domain.directory_search import OrganisationQuery, ProfessionalQuery
from gateway.domain.ports import OrganisationRecord, ProfessionalRecord
from gateway.ehealth.addressbook import ehp_number
from gateway.ehealth.sandbox.phonetic import fold
from gateway.ehealth.sandbox.registries import SandboxRegistries


class SandboxDirectory:
    def __init__(self, registries: SandboxRegistries) -> None:
        self.registries = registries

    def find_professionals(self, query: ProfessionalQuery) -> Sequence[ProfessionalRecord]:
        family, given, name = (fold(v) if v else None for v in (query.family, query.given, query.name))

        def keep(r: ProfessionalRecord) -> bool:
            last, first = fold(r.last_name), fold(r.first_name)
            return ((not query.nihii or r.nihii == query.nihii) and (not query.ssin or r.niss == query.ssin)
                    and (not family or last.startswith(family)) and (not given or first.startswith(given))
                    and (not name or last.startswith(name) or first.startswith(name))
                    and (not query.quality or r.quality == query.quality))

        found = [r for r in self.registries.professionals if keep(r)]
        return sorted(found, key=lambda r: (fold(r.last_name), fold(r.first_name), r.nihii))

    def find_organisations(self, query: OrganisationQuery) -> Sequence[OrganisationRecord]:
        words = fold(query.name) if query.name else None

        def keep(o: OrganisationRecord) -> bool:
            return ((not query.nihii or o.nihii == query.nihii) and (not query.cbe or o.cbe == query.cbe)
                    and (not query.ehp or ehp_number(o) == query.ehp) and (not query.kind or o.kind is query.kind)
                    and (not words or words in fold(o.name)))

        return sorted((o for o in self.registries.organisations if keep(o)), key=lambda o: (fold(o.name), o.nihii))

    def ehp_number(self, organisation: OrganisationRecord) -> str | None:
        return ehp_number(organisation)
