"""The hub-services v2 message parts that TherLink and Consent share:
reading a patient and a care party (KMEHR-style ``id``/``cd`` with ``S`` and
``SV``), checking them against the national register and CoBrHa, and writing
the ``response``/``acknowledge`` header of an answer.

Contracts: ``soap/ehealth/hubservices/hubservices-{core,protocol}-v2.xsd``.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from gateway.domain.clock import BRUSSELS
from gateway.domain.identifiers import InvalidIdentifier, check_niss, compact
from gateway.domain.ports import OrganisationKind, PersonRecord
from gateway.domain.professions import PROFESSIONS
from gateway.ehealth.sandbox.links import PHARMACY, PHARMACY_HCPARTY, PROFESSIONAL
from gateway.ehealth.soapkit import text
from gateway.domain.principal import Principal, Role
from gateway.soap11.envelope import STATUS_DATA_NOT_FOUND, STATUS_INVALID_INPUT, SoapFault

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

CORE_NS = "http://www.ehealth.fgov.be/hubservices/core/v2"
PROTOCOL_NS = "http://www.ehealth.fgov.be/hubservices/protocol/v2"
SV = "1.0"
HCPARTY_BY_QUALITY = {code: p.hcparty for code, p in PROFESSIONS.items()}
QUALITY_BY_HCPARTY = {p.hcparty: code for code, p in PROFESSIONS.items()}


def c(name: str) -> str:
    """A name in the core namespace (every element under a protocol element)."""
    return f"{{{CORE_NS}}}{name}"


def p(name: str) -> str:
    return f"{{{PROTOCOL_NS}}}{name}"


@dataclass(frozen=True)
class Party:
    """A care party of a link: a professional (NIHII and NISS) or a pharmacy (NIHII)."""

    kind: str  # professional | pharmacy
    nihii: str
    niss: str | None
    hcparty: str  # CD-HCPARTY
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None


# ------------------------------------------------------------------ reading


def read_patient(platform: "Platform", element: etree._Element | None, where: str) -> PersonRecord:
    """The patient named by a PatientIdType (``id S="INSS"`` or ``S="ID-PATIENT"``), from the register."""
    if element is None:
        raise SoapFault("missing-element", f"{where} is required.", path=where)
    value = text(element, c("id"), where=f"{where}/id")
    assert value is not None
    try:
        niss = check_niss(value).value
    except InvalidIdentifier as exc:
        raise SoapFault("invalid-niss", f"{where}/id is not a valid NISS: {exc.message}", path=f"{where}/id") from None
    person = platform.register.person(niss)
    if person is None:
        raise SoapFault("patient-unknown", f"No person with NISS {niss} in the national register.",
                        status=STATUS_DATA_NOT_FOUND, path=f"{where}/id")
    return person


def read_party(platform: "Platform", element: etree._Element | None, where: str) -> Party:
    """A care party (HCPartyIdType) checked against CoBrHa: the NIHII names a
    professional of that kind (and the NISS, if given, is theirs) or a public pharmacy."""
    if element is None:
        raise SoapFault("missing-element", f"{where} is required.", path=where)
    ids = {i.get("S"): compact(i.text or "") for i in element.findall(c("id"))}
    code = (element.findtext(c("cd")) or "").strip()
    nihii = ids.get("ID-HCPARTY")
    if not nihii:
        raise SoapFault("missing-element", f"{where}/id[@S='ID-HCPARTY'] (the NIHII) is required.",
                        path=f"{where}/id")
    if code == PHARMACY_HCPARTY:
        organisation = platform.registries.organisation(nihii)
        if organisation is None or organisation.kind is not OrganisationKind.PHARMACY:
            raise SoapFault("hcparty-unknown", f"NIHII {nihii} is not a public pharmacy known in CoBrHa.",
                            status=STATUS_DATA_NOT_FOUND, path=f"{where}/id")
        return Party(PHARMACY, organisation.nihii, None, code, name=organisation.name)
    if code not in QUALITY_BY_HCPARTY:
        raise SoapFault("hcparty-kind-unsupported",
                        f"{where}/cd: {code or 'nothing'} is not a care party this service links; use a professional "
                        f"(persphysician, persnurse, ...) or {PHARMACY_HCPARTY}.", path=f"{where}/cd")
    record = platform.registries.professional(nihii)
    if record is None:
        raise SoapFault("hcparty-unknown", f"NIHII {nihii} is not a care professional known in CoBrHa.",
                        status=STATUS_DATA_NOT_FOUND, path=f"{where}/id")
    if HCPARTY_BY_QUALITY.get(record.quality) != code:
        raise SoapFault("hcparty-mismatch", f"NIHII {nihii} belongs to a {PROFESSIONS[record.quality].label}, "
                        f"not a {code}.", path=f"{where}/cd")
    ssin = ids.get("INSS")
    if ssin and not same_person(platform, ssin, record.niss):
        raise SoapFault("hcparty-mismatch", f"NIHII {nihii} does not belong to the person with NISS {ssin}.",
                        path=f"{where}/id")
    return Party(PROFESSIONAL, record.nihii, record.niss, code, record.first_name, record.last_name)


def code_of(element: etree._Element | None, scheme: str, allowed: dict[str, str] | frozenset[str], where: str,
            *, required: bool = True) -> str | None:
    """A code of ``scheme`` (``cd S=…``), one of ``allowed``."""
    if element is None:
        if required:
            raise SoapFault("missing-element", f"{where} ({scheme}) is required.", path=where)
        return None
    if element.get("S") != scheme:
        raise SoapFault("wrong-code-scheme", f"{where} must be a {scheme} code (S=\"{scheme}\").", path=where)
    value = (element.text or "").strip()
    if value not in allowed:
        raise SoapFault("unknown-code", f"{where}: {value!r} is not a {scheme} code this service knows; "
                        f"use one of {', '.join(sorted(allowed))}.", status=STATUS_INVALID_INPUT, path=where)
    return value


def same_person(platform: "Platform", a: str, b: str) -> bool:
    """Do two numbers name the same person (current or former NISS)?"""
    if compact(a) == compact(b):
        return True
    pa, pb = platform.register.person(a), platform.register.person(b)
    return pa is not None and pb is not None and pa.niss == pb.niss


def acts_as_party(platform: "Platform", principal: Principal, party: Party) -> bool:
    """Is the caller this care party: the professional themselves, or a pharmacist of this pharmacy?"""
    if party.kind == PROFESSIONAL:
        return principal.role is Role.PROVIDER and party.niss is not None and same_person(platform, principal.niss, party.niss) \
            and (principal.nihii in (None, party.nihii))
    return (principal.role is Role.PHARMACIST and principal.organisation_nihii == party.nihii
            and any(m.organisation_nihii == party.nihii and m.role == "pharmacist"
                    for m in platform.registries.memberships_of(principal.niss)))


def party_of(platform: "Platform", principal: Principal) -> Party | None:
    """The care party the caller acts as, if any (their own record, or their pharmacy)."""
    if principal.role is Role.PHARMACIST and principal.organisation_nihii:
        organisation = platform.registries.organisation(principal.organisation_nihii)
        if organisation is not None and organisation.kind is OrganisationKind.PHARMACY:
            party = Party(PHARMACY, organisation.nihii, None, PHARMACY_HCPARTY, name=organisation.name)
            return party if acts_as_party(platform, principal, party) else None
    if principal.role is Role.PROVIDER and principal.nihii:
        record = platform.registries.professional(principal.nihii)
        if record is not None and same_person(platform, principal.niss, record.niss):
            return Party(PROFESSIONAL, record.nihii, record.niss, HCPARTY_BY_QUALITY.get(record.quality, "persphysician"),
                         record.first_name, record.last_name)
    return None


# ------------------------------------------------------------------ writing


def _code(parent: etree._Element, tag: str, scheme: str, value: str) -> etree._Element:
    element = etree.SubElement(parent, c(tag), S=scheme, SV=SV)
    element.text = value
    return element


def patient_element(parent: etree._Element, person: PersonRecord, tag: str = "patient") -> etree._Element:
    patient = etree.SubElement(parent, c(tag))
    etree.SubElement(patient, c("id"), S="INSS", SV=SV).text = person.niss
    etree.SubElement(patient, c("firstname")).text = person.first_name
    etree.SubElement(patient, c("familyname")).text = person.last_name
    return patient


def party_element(parent: etree._Element, party: Party, tag: str = "hcparty") -> etree._Element:
    element = etree.SubElement(parent, c(tag))
    etree.SubElement(element, c("id"), S="ID-HCPARTY", SV=SV).text = party.nihii
    if party.niss:
        etree.SubElement(element, c("id"), S="INSS", SV=SV).text = party.niss
    _code(element, "cd", "CD-HCPARTY", party.hcparty)
    if party.first_name:
        etree.SubElement(element, c("firstname")).text = party.first_name
    if party.last_name:
        etree.SubElement(element, c("familyname")).text = party.last_name
    if party.name:
        etree.SubElement(element, c("name")).text = party.name
    return element


def code_element(parent: etree._Element, tag: str, scheme: str, value: str) -> etree._Element:
    return _code(parent, tag, scheme, value)


def answer(platform: "Platform", name: str, payload: etree._Element, service: str) -> etree._Element:
    """``{name}`` (protocol namespace) with its ``response`` header and a complete ``acknowledge``."""
    root = etree.Element(p(name), nsmap={"protocol": PROTOCOL_NS, "core": CORE_NS})
    now = platform.clock.now().astimezone(BRUSSELS)
    response = etree.SubElement(root, c("response"))
    etree.SubElement(response, c("id"), S="ID-KMEHR", SV=SV).text = f"{service}.{uuid.uuid4().hex}"
    author = etree.SubElement(etree.SubElement(response, c("author")), c("hcparty"))
    _code(author, "cd", "CD-HCPARTY", "application")
    etree.SubElement(author, c("name")).text = f"care-gateway sandbox {service}"
    etree.SubElement(response, c("date")).text = now.date().isoformat()
    etree.SubElement(response, c("time")).text = now.strftime("%H:%M:%S")
    request = payload.find(c("request"))
    echo = etree.SubElement(response, c("request"))
    for child in (request if request is not None else []):
        if isinstance(child.tag, str):
            echo.append(copy.deepcopy(child))
    acknowledge = etree.SubElement(root, c("acknowledge"))
    etree.SubElement(acknowledge, c("iscomplete")).text = "true"
    return root
