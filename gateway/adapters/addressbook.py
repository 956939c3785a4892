"""A client of the AddressBook (``AddressBook/v1``, the CoBrHa look-ups):
care professionals with their quality and visa, care organisations, and
the directory searches. It answers the CoBrHa half of
:class:`~gateway.domain.ports.CareFacts` (``professional``, ``organisation``)
and the whole :class:`~gateway.domain.ports.CareDirectory`.

Operations used (SOAP action ``urn:be:fgov:ehealth:addressbook:protocol:v1:{Operation}``):
``GetProfessionalContactInfo`` and ``GetOrganizationContactInfo`` by NIHII,
``SearchProfessionals`` and ``SearchOrganizations`` read page by page (100
a page, the service's maximum). Each request carries an ``Id``; an answer
must name it (``InResponseTo``). ``DataNotFound`` is "nothing", any other
status or a fault is an error (:mod:`gateway.adapters.errors`), never "nothing".

The AddressBook's answers are not signed: their integrity rests on the
transport (TLS to the configured platform, or the in-process app).

A professional's SSIN is shown to callers acting as an organisation: the
gateway is one, so records carry it; the domain decides what its own
callers may see (IC-A9). A search by ``name`` (family *or* given name) is
two AddressBook searches, one on each name. Organisations of a kind the
domain has no notion of (not a PSI, pharmacy, hospital, insurer or public
authority) are left out.

Answers are kept for ``Lifetimes.directory`` (1 hour by default); a record
found by a search is also kept for the reads by NIHII.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Sequence

from lxml import etree

from gateway.adapters import errors
from gateway.adapters.cache import TimedCache
from gateway.adapters.commons import child, found, request
from gateway.adapters.soap import SoapClient
from gateway.domain.clock import Clock
from gateway.domain.errors import InvalidInput
from gateway.domain.identifiers import compact
from gateway.domain.ports import OrganisationKind, OrganisationQuery, OrganisationRecord, ProfessionalQuery, ProfessionalRecord

PROTOCOL_NS = "urn:be:fgov:ehealth:addressbook:protocol:v1"
CORE_NS = "urn:be:fgov:ehealth:addressbook:core:v1"
ACTION = "urn:be:fgov:ehealth:addressbook:protocol:v1:"
PAGE = 100  # the service's largest page
MAX_MATCHES = 2000  # a search that matches more is refused: add criteria
TYPES: dict[OrganisationKind, str] = {
    OrganisationKind.PHARMACY: "orgpharmacy",
    OrganisationKind.HOSPITAL: "orghospital",
    OrganisationKind.INSURER: "orginsurance",
    OrganisationKind.PSI: "orgintegratedcareproject",
    OrganisationKind.AUTHORITY: "orgpublicauthority",
}
KINDS = {code: kind for kind, code in TYPES.items()}


def _p(name: str) -> str:
    return f"{{{PROTOCOL_NS}}}{name}"


def _c(name: str) -> str:
    return f"{{{CORE_NS}}}{name}"


def fold(name: str) -> str:
    """A name as the AddressBook compares them: no case, accents, spaces or punctuation."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    return "".join(ch for ch in bare.casefold() if ch.isalnum())


def _digits(value: str | None, length: int) -> str | None:
    value = compact(value or "")
    return value if len(value) == length and value.isdigit() else None


class AddressBookClient:
    """CoBrHa through the AddressBook."""

    def __init__(self, soap: SoapClient, *, clock: Clock, cache: TimedCache | None = None) -> None:
        self.soap = soap
        self.clock = clock
        self.cache = cache if cache is not None else TimedCache(clock)

    # ------------------------------------------------------------ reads by number

    def professional(self, nihii: str) -> ProfessionalRecord | None:
        number = _digits(nihii, 11)
        if number is None:
            return None
        return self.cache.get("directory", ("professional", number), lambda: self._professional(number))

    def organisation(self, nihii: str) -> OrganisationRecord | None:
        number = _digits(nihii, 11)
        if number is None:
            return None
        return self.cache.get("directory", ("organisation", number), lambda: self._organisation(number))

    def ehp_number(self, organisation: OrganisationRecord) -> str | None:
        number = organisation.nihii
        return self.cache.get("directory", ("ehp", number), lambda: self._ehp(number))

    def _professional(self, nihii: str) -> ProfessionalRecord | None:
        payload = request(_p("GetProfessionalContactInfoRequest"), self.clock.now())
        child(payload, _c("NIHII"), nihii)
        answer = self._call(payload, "GetProfessionalContactInfo")
        person = answer.find(_c("IndividualContactInformation"))
        if person is None:
            return None
        return next((r for r in self._records(person) if r.nihii == nihii), None)

    def _organisation(self, nihii: str) -> OrganisationRecord | None:
        element = self._organisation_element(nihii)
        return self._organisation_of(element) if element is not None else None

    def _ehp(self, nihii: str) -> str | None:
        element = self._organisation_element(nihii)
        return (element.findtext(_c("EHP")) or "").strip() or None if element is not None else None

    def _organisation_element(self, nihii: str) -> etree._Element | None:
        payload = request(_p("GetOrganizationContactInfoRequest"), self.clock.now())
        child(payload, _c("NIHII"), nihii)
        answer = self._call(payload, "GetOrganizationContactInfo")
        return answer.find(_c("OrganizationContactInformation"))

    # ------------------------------------------------------------ searches

    def find_professionals(self, query: ProfessionalQuery) -> Sequence[ProfessionalRecord]:
        base = {"SSIN": query.ssin, "NIHII": query.nihii, "LastName": query.family, "FirstName": query.given,
                "Quality": query.quality}
        searches: list[tuple[dict[str, str | None], bool]] = []  # (criteria, name still to be checked here)
        if query.name:
            if not query.family:
                searches.append(({**base, "LastName": query.name}, False))
            if not query.given:
                searches.append(({**base, "FirstName": query.name}, False))
            if query.family or query.given:
                searches.append((base, True))
        else:
            searches.append((base, False))
        wanted = fold(query.name or "")
        records: dict[str, ProfessionalRecord] = {}
        for criteria, check_name in searches:
            for record in self._search_professionals(criteria):
                if check_name and not (fold(record.last_name).startswith(wanted) or fold(record.first_name).startswith(wanted)):
                    continue
                if (query.nihii and record.nihii != query.nihii) or (query.quality and record.quality != query.quality):
                    continue  # the AddressBook finds people; the domain lists each profession
                records[record.nihii] = record
        return sorted(records.values(), key=lambda r: (fold(r.last_name), fold(r.first_name), r.nihii))

    def find_organisations(self, query: OrganisationQuery) -> Sequence[OrganisationRecord]:
        criteria = {"Name": query.name, "NIHII": query.nihii, "CBE": query.cbe, "EHP": query.ehp,
                    "Type": TYPES[query.kind] if query.kind else None}
        key = ("search-organisations", tuple(sorted((k, v) for k, v in criteria.items() if v)))
        return self.cache.get("directory", key, lambda: self._search_organisations(criteria))

    def _search_professionals(self, criteria: dict[str, str | None]) -> tuple[ProfessionalRecord, ...]:
        key = ("search-professionals", tuple(sorted((k, v) for k, v in criteria.items() if v)))

        def fetch() -> tuple[ProfessionalRecord, ...]:
            found_records: list[ProfessionalRecord] = []
            for element in self._pages("SearchProfessionals", ("SSIN", "NIHII", "LastName", "FirstName", "Quality"),
                                       criteria, "HealthCareProfessional"):
                for record in self._records(element):
                    found_records.append(record)
                    self.cache.put("directory", ("professional", record.nihii), record)
            return tuple(found_records)

        return self.cache.get("directory", key, fetch)

    def _search_organisations(self, criteria: dict[str, str | None]) -> tuple[OrganisationRecord, ...]:
        result: list[OrganisationRecord] = []
        for element in self._pages("SearchOrganizations", ("Name", "NIHII", "CBE", "EHP", "Type"), criteria,
                                   "HealthCareOrganization"):
            record = self._organisation_of(element)
            if record is None:
                continue
            result.append(record)
            self.cache.put("directory", ("organisation", record.nihii), record)
            ehp = (element.findtext(_c("EHP")) or "").strip()
            if ehp:
                self.cache.put("directory", ("ehp", record.nihii), ehp)
        result.sort(key=lambda o: (fold(o.name), o.nihii))
        return tuple(result)

    def _pages(self, operation: str, order: Sequence[str], criteria: dict[str, str | None],
               item: str) -> list[etree._Element]:
        """Every item of a search, page after page."""
        items: list[etree._Element] = []
        offset = 0
        while True:
            payload = request(_p(f"{operation}Request"), self.clock.now(), Offset=str(offset), MaxElements=str(PAGE))
            for name in order:  # the XSD's order
                if criteria.get(name):
                    child(payload, _c(name), str(criteria[name]))
            answer = self._call(payload, operation)
            page = answer.findall(_c(item))
            items.extend(page)
            try:
                total = int(answer.get("TotalElements") or 0)
            except ValueError:
                raise self.soap.error(errors.ANSWER_INVALID, f"{operation} answered an unreadable TotalElements.") from None
            if total > MAX_MATCHES:
                raise InvalidInput("search-too-broad", f"{total} entries of the provider directory match; add criteria "
                                   "(a name, a qualification, a type).", path="search")
            offset += len(page)
            if not page or offset >= total:
                return items

    # ------------------------------------------------------------ reading answers

    def _call(self, payload: etree._Element, operation: str) -> etree._Element:
        request_id = payload.get("Id", "")
        answer = self.soap.call(payload, ACTION + operation)
        found(self.soap, answer, _p(f"{operation}Response"), request_id, CORE_NS)
        return answer

    def _records(self, person: etree._Element) -> list[ProfessionalRecord]:
        ssin = (person.findtext(_c("SSIN")) or "").strip()
        if not ssin:
            raise self.soap.error(errors.ANSWER_INVALID, "answered without the professional's SSIN: the gateway's "
                                  "credential must act as an organisation.")
        last, first = (person.findtext(_c("LastName")) or "").strip(), (person.findtext(_c("FirstName")) or "").strip()
        records = []
        for profession in person.findall(_c("Profession")):
            visa = (profession.findtext(_c("VisaValidUntil")) or "").strip()
            try:
                until = date.fromisoformat(visa) if visa else None
            except ValueError:
                raise self.soap.error(errors.ANSWER_INVALID, f"answered an unreadable VisaValidUntil {visa!r}.") from None
            records.append(ProfessionalRecord(ssin, (profession.findtext(_c("NIHII")) or "").strip(),
                                              (profession.findtext(_c("Quality")) or "").strip(), last, first, until))
        return records

    def _organisation_of(self, element: etree._Element) -> OrganisationRecord | None:
        kind = KINDS.get((element.findtext(_c("Type")) or "").strip())
        if kind is None:
            return None
        return OrganisationRecord((element.findtext(_c("NIHII")) or "").strip(), (element.findtext(_c("CBE")) or "").strip(),
                                  kind, (element.findtext(_c("Name")) or "").strip(),
                                  (element.findtext(_c("InsurerCode")) or "").strip() or None)
