"""The simulated eHealth AddressBook (``AddressBook/v1``): CoBrHa look-ups
of care professionals and care organisations, from the sandbox registries.

Operations (SOAP action ``urn:be:fgov:ehealth:addressbook:protocol:v1:{Operation}``):
``SearchProfessionals`` (by name, NIHII, SSIN, quality), ``GetProfessionalContactInfo``
(by NIHII or SSIN), ``SearchOrganizations`` (by name, NIHII, CBE, EHP, type),
``GetOrganizationContactInfo`` (by NIHII, CBE or EHP). Nothing found is a
``DataNotFound`` status, not a fault.

Names match without case, accents or spaces: a professional's as a prefix
("van den" finds "Van den Bossche"), an organisation's anywhere in the name. A professional's SSIN is shown, and may be searched on,
only by callers acting as a professional or an organisation; a citizen sees
names and NIHII numbers. The sandbox has no postal or electronic addresses,
and gives each organisation a synthetic EHP number (:func:`ehp_number`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from fastapi import APIRouter
from lxml import etree

from gateway.domain.identifiers import compact
from gateway.domain.ports import OrganisationKind, OrganisationRecord, ProfessionalRecord
from gateway.domain.professions import PROFESSIONS
from gateway.ehealth.sandbox.phonetic import fold
from gateway.ehealth.soapkit import caller, hosted_service, new_id, refuse, soap_contract
from gateway.domain.principal import Role
from gateway.identity.xmldsig import xml_datetime
from gateway.soap11.envelope import STATUS_DATA_NOT_FOUND, STATUS_SUCCESS, SoapFault
from gateway.soap11.service import SoapRequest

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

PATH = "/AddressBook/v1"
PROTOCOL_NS = "urn:be:fgov:ehealth:addressbook:protocol:v1"
CORE_NS = "urn:be:fgov:ehealth:addressbook:core:v1"
ACTION = "urn:be:fgov:ehealth:addressbook:protocol:v1:"
SERVICE = "AddressBook"
MAX_ELEMENTS = 100
ORGANISATION_TYPES = {
    OrganisationKind.PHARMACY: "orgpharmacy",
    OrganisationKind.HOSPITAL: "orghospital",
    OrganisationKind.INSURER: "orginsurance",
    OrganisationKind.PSI: "orgintegratedcareproject",  # no CD-HCPARTY code for a PSI: the sandbox's own
    OrganisationKind.AUTHORITY: "orgpublicauthority",  # the sandbox's own, like the PSI one
}
SEES_SSIN = frozenset({Role.PROVIDER, Role.PHARMACIST, Role.ORGANISATION, Role.SYSTEM, Role.INSURER})


def _c(name: str) -> str:
    return f"{{{CORE_NS}}}{name}"


def _p(name: str) -> str:
    return f"{{{PROTOCOL_NS}}}{name}"


def ehp_number(organisation: OrganisationRecord) -> str:
    """The sandbox's synthetic eHealth-partner number of an organisation:
    ``8`` followed by the last nine digits of its CBE number."""
    return "8" + organisation.cbe[1:]


def quality_of(value: str) -> str | None:
    """An STS quality (``doctor``) or a CD-HCPARTY code (``persphysician``) as the STS quality."""
    value = value.strip().lower()
    if value in PROFESSIONS:
        return value
    return next((code for code, p in PROFESSIONS.items() if p.hcparty == value), None)


class AddressBook:
    """The operations, over one gateway."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform

    def search_professionals(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        sees_ssin = principal.role in SEES_SSIN
        ssin, nihii = payload.findtext(_c("SSIN")), payload.findtext(_c("NIHII"))
        last, first, quality = (payload.findtext(_c(n)) for n in ("LastName", "FirstName", "Quality"))
        if not any((ssin, nihii, last, first, quality)):
            raise SoapFault("search-criteria-missing", "Give at least one of SSIN, NIHII, LastName, FirstName, Quality.",
                            path="/SearchProfessionalsRequest")
        if ssin and not sees_ssin:
            raise refuse("ssin-search-not-allowed", "Searching professionals by SSIN is for callers acting as a "
                         "professional or an organisation.", path="/SearchProfessionalsRequest/SSIN")
        wanted_quality = quality_of(quality) if quality else None
        if quality and wanted_quality is None:
            raise SoapFault("unknown-quality", f"Unknown quality {quality!r}: use an STS quality (doctor, nurse, ...) "
                            "or a CD-HCPARTY code (persphysician, persnurse, ...).", path="/SearchProfessionalsRequest/Quality")
        found = [r for r in self.platform.registries.professionals
                 if (not ssin or r.niss == compact(ssin)) and (not nihii or r.nihii == compact(nihii))
                 and (not last or fold(r.last_name).startswith(fold(last)))
                 and (not first or fold(r.first_name).startswith(fold(first)))
                 and (not wanted_quality or r.quality == wanted_quality)]
        people: dict[str, list[ProfessionalRecord]] = {}
        for record in sorted(found, key=lambda r: (fold(r.last_name), fold(r.first_name), r.nihii)):
            people.setdefault(record.niss, []).append(record)
        result, page = self._page(payload, "SearchProfessionalsResponse", list(people.values()))
        for records in page:
            self._professional(result, "HealthCareProfessional", records, sees_ssin)
        return result

    def professional_contact(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        sees_ssin = principal.role in SEES_SSIN
        nihii, ssin = payload.findtext(_c("NIHII")), payload.findtext(_c("SSIN"))
        if ssin and not sees_ssin:
            raise refuse("ssin-search-not-allowed", "Looking professionals up by SSIN is for callers acting as a "
                         "professional or an organisation.", path="/GetProfessionalContactInfoRequest/SSIN")
        if nihii:
            record = self.platform.registries.professional(nihii)
            records = list(self.platform.registries.professionals_of(record.niss)) if record else []
        else:
            records = list(self.platform.registries.professionals_of(ssin or ""))
        result = self._answer(payload, "GetProfessionalContactInfoResponse", bool(records))
        if records:
            self._professional(result, "IndividualContactInformation", records, sees_ssin)
        return result

    def search_organisations(self, request: SoapRequest) -> etree._Element:
        caller(request)
        payload = request.payload
        name, nihii, cbe, ehp, kind = (payload.findtext(_c(n)) for n in ("Name", "NIHII", "CBE", "EHP", "Type"))
        if not any((name, nihii, cbe, ehp, kind)):
            raise SoapFault("search-criteria-missing", "Give at least one of Name, NIHII, CBE, EHP, Type.",
                            path="/SearchOrganizationsRequest")
        if kind and kind not in ORGANISATION_TYPES.values():
            raise SoapFault("unknown-type", f"Unknown organisation type {kind!r}: use one of "
                            f"{', '.join(sorted(ORGANISATION_TYPES.values()))}.", path="/SearchOrganizationsRequest/Type")
        words = fold(name or "")
        found = [o for o in self.platform.registries.organisations
                 if (not name or words in fold(o.name)) and (not nihii or o.nihii == compact(nihii))
                 and (not cbe or o.cbe == compact(cbe)) and (not ehp or ehp_number(o) == compact(ehp))
                 and (not kind or ORGANISATION_TYPES[o.kind] == kind)]
        found.sort(key=lambda o: (fold(o.name), o.nihii))
        result, page = self._page(payload, "SearchOrganizationsResponse", found)
        for organisation in page:
            self._organisation(result, "HealthCareOrganization", organisation)
        return result

    def organisation_contact(self, request: SoapRequest) -> etree._Element:
        caller(request)
        payload = request.payload
        nihii, cbe, ehp = (payload.findtext(_c(n)) for n in ("NIHII", "CBE", "EHP"))
        registries = self.platform.registries
        if nihii:
            organisation = registries.organisation(nihii)
        elif cbe:
            organisation = registries.organisation_by_cbe(cbe)
        else:
            organisation = next((o for o in registries.organisations if ehp_number(o) == compact(ehp or "")), None)
        result = self._answer(payload, "GetOrganizationContactInfoResponse", organisation is not None)
        if organisation is not None:
            self._organisation(result, "OrganizationContactInformation", organisation)
        return result

    # ------------------------------------------------------------ writing

    def _answer(self, payload: etree._Element, name: str, found: bool) -> etree._Element:
        root = etree.Element(_p(name), nsmap={"protocol": PROTOCOL_NS, "core": CORE_NS},
                             Id=new_id(), IssueInstant=xml_datetime(self.platform.clock.now()))
        if payload.get("Id"):
            root.set("InResponseTo", payload.get("Id", ""))
        status = etree.SubElement(root, _c("Status"))
        etree.SubElement(status, _c("StatusCode"), Value=STATUS_SUCCESS if found else STATUS_DATA_NOT_FOUND)
        if not found:
            etree.SubElement(status, _c("StatusMessage")).text = "Nothing in the sandbox CoBrHa matches the request."
        return root

    def _page(self, payload: etree._Element, name: str, items: list) -> tuple[etree._Element, list]:  # type: ignore[type-arg]
        offset = int(payload.get("Offset") or 0)
        size = min(int(payload.get("MaxElements") or MAX_ELEMENTS), MAX_ELEMENTS)
        result = self._answer(payload, name, bool(items))
        result.set("Offset", str(offset))
        result.set("MaxElements", str(size))
        result.set("TotalElements", str(len(items)))
        return result, items[offset:offset + size]

    def _professional(self, parent: etree._Element, tag: str, records: Iterable[ProfessionalRecord], sees_ssin: bool) -> None:
        records = list(records)
        element = etree.SubElement(parent, _c(tag))
        if sees_ssin:
            etree.SubElement(element, _c("SSIN")).text = records[0].niss
        etree.SubElement(element, _c("LastName")).text = records[0].last_name
        etree.SubElement(element, _c("FirstName")).text = records[0].first_name
        for record in records:
            profession = etree.SubElement(element, _c("Profession"))
            etree.SubElement(profession, _c("NIHII")).text = record.nihii
            known = PROFESSIONS.get(record.quality)
            etree.SubElement(profession, _c("ProfessionCode")).text = known.hcparty if known else record.quality
            etree.SubElement(profession, _c("Quality")).text = record.quality
            etree.SubElement(profession, _c("FriendlyName")).text = known.label if known else record.quality
            if record.visa_valid_until is not None:
                etree.SubElement(profession, _c("VisaValidUntil")).text = record.visa_valid_until.isoformat()
        for membership in self.platform.registries.memberships_of(records[0].niss):
            organisation = self.platform.registries.organisation(membership.organisation_nihii)
            if organisation is None:
                continue
            reference = etree.SubElement(element, _c("Organization"))
            etree.SubElement(reference, _c("NIHII")).text = organisation.nihii
            etree.SubElement(reference, _c("Name")).text = organisation.name
            etree.SubElement(reference, _c("Role")).text = membership.role

    def _organisation(self, parent: etree._Element, tag: str, organisation: OrganisationRecord) -> None:
        element = etree.SubElement(parent, _c(tag))
        etree.SubElement(element, _c("NIHII")).text = organisation.nihii
        etree.SubElement(element, _c("CBE")).text = organisation.cbe
        etree.SubElement(element, _c("EHP")).text = ehp_number(organisation)
        etree.SubElement(element, _c("Name")).text = organisation.name
        etree.SubElement(element, _c("Type")).text = ORGANISATION_TYPES[organisation.kind]
        if organisation.insurer_code:
            etree.SubElement(element, _c("InsurerCode")).text = organisation.insurer_code


def router(platform: "Platform") -> APIRouter:
    book = AddressBook(platform)
    operations: dict[str, Callable[[SoapRequest], etree._Element]] = {
        "SearchProfessionals": book.search_professionals,
        "GetProfessionalContactInfo": book.professional_contact,
        "SearchOrganizations": book.search_organisations,
        "GetOrganizationContactInfo": book.organisation_contact,
    }
    service = hosted_service(platform, SERVICE, PATH, soap_contract("addressbook", "AddressBook-v1.wsdl"), soap_contract("addressbook", "addressbook-protocol-v1.xsd"), _p, ACTION, operations)
    return service.router()


__all__ = ["AddressBook", "router", "ehp_number", "quality_of"]
