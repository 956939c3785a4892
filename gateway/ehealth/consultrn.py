"""The simulated national-register look-up (``consultRN/v1``) and its
mutation feed.

SOAP operations (action ``urn:be:fgov:ehealth:consultrn:protocol:v1:{Operation}``):
``SearchBySSIN`` (current or former number), ``SearchPhonetically`` (last
name, first name, birth year; the sandbox phonetic key of
:mod:`gateway.ehealth.sandbox.phonetic`), ``ConsultCurrentSSIN`` (the number a
person has now, and the ones they had), ``GetMutations`` (the feed of deaths
and NISS changes after a sequence number). People come from the sandbox
national register, with the feed's mutations applied.

Who may ask: callers acting as a professional or an organisation; a citizen
only about themselves (their own number), and never the phonetic search or
the feed.

Sandbox conveniences, not in the real platform: the feed's JSON form
``GET /ehealth/consultRN/v1/mutations?after=SEQ&limit=N`` (no token: sandbox
data only), and ``POST /sandbox/register/mutations`` to inject a death or a
NISS change (:mod:`gateway.ehealth.sandbox.actions`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from fastapi import APIRouter, Query
from lxml import etree

from gateway.domain.identifiers import InvalidIdentifier, check_niss
from gateway.domain.ports import PersonRecord, RegisterMutation
from gateway.ehealth.hubservices import same_person
from gateway.ehealth.sandbox.phonetic import fold, phonetic_key
from gateway.ehealth.soapkit import caller, hosted_service, new_id, refuse, soap_contract
from gateway.domain.principal import Principal, Role
from gateway.identity.xmldsig import xml_datetime
from gateway.soap11.envelope import STATUS_DATA_NOT_FOUND, STATUS_SUCCESS, SoapFault
from gateway.soap11.service import SoapRequest

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

PATH = "/consultRN/v1"
PROTOCOL_NS = "urn:be:fgov:ehealth:consultrn:protocol:v1"
CORE_NS = "urn:be:fgov:ehealth:consultrn:core:v1"
ACTION = "urn:be:fgov:ehealth:consultrn:protocol:v1:"
SERVICE = "consultRN"
MAX_PHONETIC_RESULTS = 20
FEED_PAGE = 500
CITIZEN_ROLES = frozenset({Role.PATIENT})


def _c(name: str) -> str:
    return f"{{{CORE_NS}}}{name}"


def _p(name: str) -> str:
    return f"{{{PROTOCOL_NS}}}{name}"


def mutation_json(mutation: RegisterMutation) -> dict[str, Any]:
    return {"seq": mutation.seq, "kind": mutation.kind.value, "niss": mutation.niss, "new_niss": mutation.new_niss,
            "effective": mutation.effective.isoformat()}


class ConsultRN:
    """The operations, over one gateway."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform

    def search_by_ssin(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        number = self._ssin(payload.findtext(_c("SSIN")), "/SearchBySSINRequest/SSIN")
        self._only_self(principal, number)
        person = self.platform.register.person(number)
        result = self._answer(payload, "SearchBySSINResponse", person is not None)
        if person is not None:
            self._person(result, person)
        return result

    def search_phonetically(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        if principal.role in CITIZEN_ROLES:
            raise refuse("phonetic-search-not-allowed", "The phonetic search is for care professionals and organisations.")
        last = (payload.findtext(_c("LastName")) or "").strip()
        if not fold(last):
            raise SoapFault("missing-element", "LastName is required.", path="/SearchPhoneticallyRequest/LastName")
        first = (payload.findtext(_c("FirstName")) or "").strip()
        year = payload.findtext(_c("BirthYear"))
        tolerance = int(payload.findtext(_c("BirthYearTolerance")) or 0)
        gender = payload.findtext(_c("Gender"))
        key, first_key = phonetic_key(last), phonetic_key(first) if first else None
        found: dict[str, PersonRecord] = {}
        for record in self.platform.registries.people:
            person = self.platform.register.person(record.niss) or record
            if phonetic_key(person.last_name) != key or (first_key and phonetic_key(person.first_name) != first_key):
                continue
            if year and (person.birth_date is None or abs(person.birth_date.year - int(year)) > tolerance):
                continue
            if gender and gender != "unknown" and person.sex != gender:
                continue
            found[person.niss] = person
        if len(found) > MAX_PHONETIC_RESULTS:
            raise SoapFault("too-many-results", f"{len(found)} people match; the register answers at most "
                            f"{MAX_PHONETIC_RESULTS}. Add a first name, a birth year or a gender.",
                            path="/SearchPhoneticallyRequest")
        result = self._answer(payload, "SearchPhoneticallyResponse", bool(found))
        etree.SubElement(result, _c("PhoneticKey")).text = key
        for person in sorted(found.values(), key=lambda p: (fold(p.last_name), fold(p.first_name), p.niss)):
            self._person(result, person)
        return result

    def current_ssin(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        number = self._ssin(payload.findtext(_c("SSIN")), "/ConsultCurrentSSINRequest/SSIN")
        self._only_self(principal, number)
        person = self.platform.register.person(number)
        result = self._answer(payload, "ConsultCurrentSSINResponse", person is not None)
        etree.SubElement(result, _c("SSIN")).text = number
        if person is not None:
            etree.SubElement(result, _c("CurrentSSIN")).text = person.niss
            for previous in person.previous_niss:
                etree.SubElement(result, _c("PreviousSSIN")).text = previous
        return result

    def mutations(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        if principal.role in CITIZEN_ROLES:
            raise refuse("feed-not-allowed", "The register's mutation feed is for care organisations and professionals.")
        after = int(payload.findtext(_c("After")) or 0)
        limit = int(payload.findtext(_c("MaxElements")) or FEED_PAGE)
        events = self.platform.register.mutations_after(after, limit)
        result = self._answer(payload, "GetMutationsResponse", True)
        for event in events:
            element = etree.SubElement(result, _c("Mutation"))
            etree.SubElement(element, _c("Seq")).text = str(event.seq)
            etree.SubElement(element, _c("Kind")).text = event.kind.value
            etree.SubElement(element, _c("SSIN")).text = event.niss
            if event.new_niss:
                etree.SubElement(element, _c("NewSSIN")).text = event.new_niss
            etree.SubElement(element, _c("Effective")).text = event.effective.isoformat()
        etree.SubElement(result, _c("LastSeq")).text = str(events[-1].seq if events else after)
        return result

    # ------------------------------------------------------------ helpers

    def _ssin(self, value: str | None, where: str) -> str:
        try:
            return check_niss(value or "").value
        except InvalidIdentifier as exc:
            raise SoapFault("invalid-niss", f"{where} is not a valid NISS: {exc.message}", path=where) from None

    def _only_self(self, principal: Principal, number: str) -> None:
        if principal.role in CITIZEN_ROLES and not same_person(self.platform, principal.niss, number):
            raise refuse("not-own-record", "A citizen may look up only their own record in the national register.")

    def _answer(self, payload: etree._Element, name: str, found: bool) -> etree._Element:
        root = etree.Element(_p(name), nsmap={"protocol": PROTOCOL_NS, "core": CORE_NS},
                             Id=new_id(), IssueInstant=xml_datetime(self.platform.clock.now()))
        if payload.get("Id"):
            root.set("InResponseTo", payload.get("Id", ""))
        status = etree.SubElement(root, _c("Status"))
        etree.SubElement(status, _c("StatusCode"), Value=STATUS_SUCCESS if found else STATUS_DATA_NOT_FOUND)
        if not found:
            etree.SubElement(status, _c("StatusMessage")).text = "No such person in the sandbox national register."
        return root

    def _person(self, parent: etree._Element, person: PersonRecord) -> None:
        element = etree.SubElement(parent, _c("Person"))
        etree.SubElement(element, _c("SSIN")).text = person.niss
        for previous in person.previous_niss:
            etree.SubElement(element, _c("PreviousSSIN")).text = previous
        etree.SubElement(element, _c("LastName")).text = person.last_name
        etree.SubElement(element, _c("FirstName")).text = person.first_name
        if person.birth_date is not None:
            etree.SubElement(element, _c("BirthDate")).text = person.birth_date.isoformat()
        etree.SubElement(element, _c("Gender")).text = person.sex or "unknown"
        if person.death_date is not None:
            etree.SubElement(element, _c("DeathDate")).text = person.death_date.isoformat()


def router(platform: "Platform") -> APIRouter:
    rn = ConsultRN(platform)
    operations: dict[str, Callable[[SoapRequest], etree._Element]] = {
        "SearchBySSIN": rn.search_by_ssin,
        "SearchPhonetically": rn.search_phonetically,
        "ConsultCurrentSSIN": rn.current_ssin,
        "GetMutations": rn.mutations,
    }
    service = hosted_service(platform, SERVICE, PATH, soap_contract("consultrn", "consultRN-v1.wsdl"), soap_contract("consultrn", "consultrn-protocol-v1.xsd"), _p, ACTION, operations)
    api = APIRouter()
    api.include_router(service.router())
    if not platform.settings.sandbox_actions:
        return api

    @api.get(PATH + "/mutations", tags=["sandbox"], summary="The register's mutation feed as JSON (sandbox only)")
    def feed(after: int = Query(0, ge=0), limit: int = Query(FEED_PAGE, ge=1, le=FEED_PAGE)) -> dict[str, Any]:
        """Deaths and NISS changes with a sequence number above ``after``, oldest
        first; read again from ``last_seq``. No token needed: sandbox data only."""
        events = platform.register.mutations_after(after, limit)
        return {"mutations": [mutation_json(e) for e in events], "last_seq": events[-1].seq if events else after}

    return api
