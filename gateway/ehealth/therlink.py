"""The simulated eHealth TherLink service (``TherLink/v1``): therapeutic
relationships between a care party (a professional, or a public pharmacy)
and a patient.

Operations (SOAP action ``urn:be:fgov:ehealth:therlink:protocol:v1:{Operation}``,
payload in the hub-services v2 namespaces): ``PutTherapeuticLink``,
``GetTherapeuticLink``, ``HasTherapeuticLink``, ``RevokeTherapeuticLink``.

Links are the sandbox registries' links with TherLink's additions and
revocations, stored in ``therlink_link`` (:mod:`gateway.ehealth.sandbox.links`);
the gateway's access policy reads the same store, so a link recorded or
revoked here decides the next IC-A1/IC-A2 question.

Who may act: the care party itself (the professional, or a pharmacist of the
pharmacy, as the verified token says) or the patient. Proof: a care party
declares with ``eidreading``, ``sisreading`` or ``isireading`` (the patient
was there); the patient with ``eidsigning``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Callable

from fastapi import APIRouter
from lxml import etree

from gateway.domain.ports import PersonRecord
from gateway.ehealth.hubservices import (
    Party,
    acts_as_party,
    answer,
    c,
    code_element,
    code_of,
    p,
    party_element,
    party_of,
    patient_element,
    read_party,
    read_patient,
    same_person,
)
from gateway.ehealth.sandbox.links import LINK_TYPES, PHARMACY, Link, StoredLinks
from gateway.ehealth.soapkit import caller, date_of, hosted_service, refuse, soap_contract
from gateway.domain.principal import Principal
from gateway.soap11.envelope import STATUS_CONFLICT, STATUS_DATA_NOT_FOUND, SoapFault
from gateway.soap11.service import SoapRequest

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

PATH = "/TherLink/v1"
ACTION = "urn:be:fgov:ehealth:therlink:protocol:v1:"
SERVICE = "TherLink"
LINK_SCHEME = "CD-THERAPEUTICLINKTYPE"
PROOF_SCHEME = "CD-PROOFTYPE"
PROOF_TYPES: dict[str, str] = {
    "eidreading": "the care party read the patient's eID card",
    "sisreading": "the care party read the patient's SIS card",
    "isireading": "the care party read the patient's ISI+ card",
    "eidsigning": "the patient signed with their eID",
}
PARTY_PROOFS = frozenset({"eidreading", "sisreading", "isireading"})
PATIENT_PROOFS = frozenset({"eidsigning"})


class TherLink:
    """The operations, over one gateway."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform
        self.links = StoredLinks(platform.registries, platform.db, platform.pseudonyms, platform.register)

    # ------------------------------------------------------------ operations

    def put(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        where = "/PutTherapeuticLinkRequest/therapeuticlink"
        element = payload.find(c("therapeuticlink"))
        patient = read_patient(self.platform, element.find(c("patient")), f"{where}/patient")
        party = read_party(self.platform, element.find(c("hcparty")), f"{where}/hcparty")
        as_patient = self._authorise(principal, patient, party, "declare")
        link_type = code_of(element.find(c("cd")), LINK_SCHEME, LINK_TYPES, f"{where}/cd")
        assert link_type is not None
        proof = code_of(payload.find(f"{c('proof')}/{c('cd')}"), PROOF_SCHEME, PROOF_TYPES,
                        "/PutTherapeuticLinkRequest/proof/cd")
        allowed = PATIENT_PROOFS if as_patient else PARTY_PROOFS
        if proof not in allowed:
            raise SoapFault("proof-not-accepted", f"A link declared by {'the patient' if as_patient else 'the care party'} "
                            f"needs a proof of type {' or '.join(sorted(allowed))}, not {proof}.",
                            path="/PutTherapeuticLinkRequest/proof/cd")
        today = self.platform.clock.today()
        start = date_of(element.findtext(c("startdate")), where=f"{where}/startdate") or today
        end = date_of(element.findtext(c("enddate")), where=f"{where}/enddate")
        if end is not None and end < start:
            raise SoapFault("invalid-period", "The end date is before the start date.", path=f"{where}/enddate")
        if patient.death_date is not None and start > patient.death_date:
            raise SoapFault("patient-deceased", f"The patient died on {patient.death_date.isoformat()}; "
                            "a link cannot start after that.", path=f"{where}/patient")
        new = Link("therlink", None, self.links.key(patient.niss), party.kind,
                   self.links.key(party.niss) if party.niss else None, party.nihii, party.hcparty, link_type, start, end,
                   proof_type=proof, comment=(element.findtext(c("comment")) or "").strip()[:255] or None)
        with self.platform.db.transaction() as session:
            for link in self.links.links_of(patient.niss, session):
                if self._same_party(link, party) and link.link_type == link_type and _overlap(link, new):
                    raise SoapFault("therlink-exists", f"A {link_type} link between this care party and the patient "
                                    f"already covers {link.start.isoformat()} .. "
                                    f"{(link.effective_end.isoformat() if link.effective_end else 'open')}; "
                                    "revoke it first or choose other dates.", status=STATUS_CONFLICT, path=where)
            stored = self.links.add(session, new, author_niss=principal.niss, author_role=principal.role.value,
                                    now=self.platform.clock.now())
        result = answer(self.platform, "PutTherapeuticLinkResponse", payload, SERVICE)
        self._link_element(result, stored, patient, party)
        return result

    def get(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        where = "/GetTherapeuticLinkRequest/select"
        select = payload.find(c("select"))
        patient = read_patient(self.platform, select.find(c("patient")), f"{where}/patient")
        wanted = select.find(c("hcparty"))
        party = read_party(self.platform, wanted, f"{where}/hcparty") if wanted is not None else None
        if not same_person(self.platform, principal.niss, patient.niss):
            own = party_of(self.platform, principal)
            if own is None or (party is not None and not acts_as_party(self.platform, principal, party)):
                raise refuse("therlink-not-party", "A care party sees only its own links with a patient; the patient sees all.",
                             path=f"{where}/hcparty")
            party = party or own
        link_type = code_of(select.find(c("cd")), LINK_SCHEME, LINK_TYPES, f"{where}/cd", required=False)
        today = self.platform.clock.today()
        begin = date_of(select.findtext(c("begindate")), where=f"{where}/begindate")
        end = date_of(select.findtext(c("enddate")), where=f"{where}/enddate")
        links = [link for link in self.links.links_of(patient.niss)
                 if (party is None or self._same_party(link, party)) and (link_type is None or link.link_type == link_type)
                 and (_overlaps_period(link, begin, end) if begin or end else link.active_on(today))]
        result = answer(self.platform, "GetTherapeuticLinkResponse", payload, SERVICE)
        listing = etree.SubElement(result, c("therapeuticlinklist"))
        for link in links:
            self._link_element(listing, link, patient, self._party(link))
        return result

    def has(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        where = "/HasTherapeuticLinkRequest/select"
        select = payload.find(c("select"))
        patient = read_patient(self.platform, select.find(c("patient")), f"{where}/patient")
        party = read_party(self.platform, select.find(c("hcparty")), f"{where}/hcparty")
        self._authorise(principal, patient, party, "ask about")
        link_type = code_of(select.find(c("cd")), LINK_SCHEME, LINK_TYPES, f"{where}/cd", required=False)
        day = date_of(select.findtext(c("date")), where=f"{where}/date") or self.platform.clock.today()
        found = any(self._same_party(link, party) and (link_type is None or link.link_type == link_type)
                    and link.active_on(day) for link in self.links.links_of(patient.niss))
        result = answer(self.platform, "HasTherapeuticLinkResponse", payload, SERVICE)
        etree.SubElement(result, c("hastherapeuticlink")).text = "true" if found else "false"
        return result

    def revoke(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        where = "/RevokeTherapeuticLinkRequest/therapeuticlink"
        element = payload.find(c("therapeuticlink"))
        patient = read_patient(self.platform, element.find(c("patient")), f"{where}/patient")
        party = read_party(self.platform, element.find(c("hcparty")), f"{where}/hcparty")
        self._authorise(principal, patient, party, "revoke")
        link_type = code_of(element.find(c("cd")), LINK_SCHEME, LINK_TYPES, f"{where}/cd")
        code_of(payload.find(f"{c('proof')}/{c('cd')}"), PROOF_SCHEME, PROOF_TYPES,
                "/RevokeTherapeuticLinkRequest/proof/cd", required=False)
        start = date_of(element.findtext(c("startdate")), where=f"{where}/startdate")
        today = self.platform.clock.today()
        with self.platform.db.transaction() as session:
            targets = [link for link in self.links.links_of(patient.niss, session)
                       if self._same_party(link, party) and link.link_type == link_type
                       and (start is None or link.start == start) and link.revoked_on is None
                       and (link.effective_end is None or link.effective_end >= today)]
            if not targets:
                raise SoapFault("therlink-not-found", f"No current {link_type} link between this care party and the "
                                "patient to revoke.", status=STATUS_DATA_NOT_FOUND, path=where)
            for link in targets:
                self.links.revoke(session, link, on=today, by_niss=principal.niss, by_role=principal.role.value,
                                  now=self.platform.clock.now())
        result = answer(self.platform, "RevokeTherapeuticLinkResponse", payload, SERVICE)
        etree.SubElement(result, c("revoked")).text = str(len(targets))
        return result

    # ------------------------------------------------------------ helpers

    def _authorise(self, principal: Principal, patient: PersonRecord, party: Party, verb: str) -> bool:
        """True when the caller acts as the patient, False as the care party; a fault otherwise."""
        if same_person(self.platform, principal.niss, patient.niss):
            return True
        if acts_as_party(self.platform, principal, party):
            return False
        raise refuse("therlink-not-party", f"Only the care party of the link or the patient may {verb} it; "
                     "your token names neither.", path="hcparty")

    def _same_party(self, link: Link, party: Party) -> bool:
        if party.kind == PHARMACY:
            return link.party_kind == PHARMACY and link.party_nihii == party.nihii
        return link.party_kind != PHARMACY and link.party_key == (self.links.key(party.niss) if party.niss else None)

    def _party(self, link: Link) -> Party:
        if link.party_kind == PHARMACY:
            organisation = self.platform.registries.organisation(link.party_nihii)
            return Party(PHARMACY, link.party_nihii, None, link.party_hcparty, name=organisation.name if organisation else None)
        record = self.platform.registries.professional(link.party_nihii)
        person = self.platform.register.person(link.party_key or "")
        return Party(link.party_kind, link.party_nihii, person.niss if person else link.party_key, link.party_hcparty,
                     record.first_name if record else None, record.last_name if record else None)

    def _link_element(self, parent: etree._Element, link: Link, patient: PersonRecord, party: Party) -> None:
        element = etree.SubElement(parent, c("therapeuticlink"))
        patient_element(element, patient)
        party_element(element, party)
        code_element(element, "cd", LINK_SCHEME, link.link_type)
        etree.SubElement(element, c("startdate")).text = link.start.isoformat()
        end = link.effective_end
        if end is not None:
            etree.SubElement(element, c("enddate")).text = max(end, link.start).isoformat()
        if link.comment:
            etree.SubElement(element, c("comment")).text = link.comment


def _overlap(a: Link, b: Link) -> bool:
    a_end, b_end = a.effective_end, b.effective_end
    if a_end is not None and a_end < a.start:  # revoked before it began: never active
        return False
    return (a_end is None or b.start <= a_end) and (b_end is None or a.start <= b_end)


def _overlaps_period(link: Link, begin: date | None, end: date | None) -> bool:
    last = link.effective_end
    if last is not None and last < link.start:
        return False
    return (begin is None or last is None or begin <= last) and (end is None or link.start <= end)


def router(platform: "Platform") -> APIRouter:
    therlink = TherLink(platform)
    operations: dict[str, Callable[[SoapRequest], etree._Element]] = {
        "PutTherapeuticLink": therlink.put,
        "GetTherapeuticLink": therlink.get,
        "HasTherapeuticLink": therlink.has,
        "RevokeTherapeuticLink": therlink.revoke,
    }
    service = hosted_service(platform, SERVICE, PATH, soap_contract("therlink", "TherLink-v1.wsdl"), soap_contract("hubservices", "hubservices-protocol-v2.xsd"), p, ACTION, operations)
    return service.router()


__all__ = ["TherLink", "router", "PROOF_TYPES", "LINK_TYPES"]
