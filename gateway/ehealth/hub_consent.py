"""The simulated eHealth hub Consent service (``Consent/v1``): the
patient's consent to the exchange of their health data between care
providers (CD-CONSENT ``retrospective``). Not the research consent of
Integrated Care (items 1-2 of an inclusion), which the domain keeps.

Operations (SOAP action ``urn:be:fgov:ehealth:consent:protocol:v1:{Operation}``,
payload in the hub-services v2 namespaces): ``PutPatientConsent``,
``GetPatientConsent``, ``RevokePatientConsent``. Consents are stored in
``hub_patient_consent``, the patient as a pseudonym.

Who may act: the patient, or a care party (a professional, or a pharmacist
for their pharmacy) as the verified token says; the author recorded is the
caller, whatever the request's ``author`` claims.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from fastapi import APIRouter
from lxml import etree
from sqlalchemy import select

from gateway.domain.ports import PersonRecord
from gateway.ehealth.hub_model import PatientConsentRow
from gateway.ehealth.hubservices import (
    Party,
    answer,
    c,
    code_element,
    code_of,
    p,
    party_element,
    party_of,
    patient_element,
    read_patient,
    same_person,
)
from gateway.ehealth.sandbox.links import registry_key
from gateway.ehealth.soapkit import caller, date_of, hosted_service, refuse, soap_contract
from gateway.domain.principal import Principal
from gateway.soap11.envelope import STATUS_CONFLICT, STATUS_DATA_NOT_FOUND, SoapFault
from gateway.soap11.service import SoapRequest

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

PATH = "/Consent/v1"
ACTION = "urn:be:fgov:ehealth:consent:protocol:v1:"
SERVICE = "Consent"
CONSENT_SCHEME = "CD-CONSENT"
CONSENT_TYPES: dict[str, str] = {
    "retrospective": "the patient consents to the exchange of the health data care providers hold about them",
}


class Consent:
    """The operations, over one gateway."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform

    def put(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        where = "/PutPatientConsentRequest/consent"
        consent = payload.find(c("consent"))
        patient = read_patient(self.platform, consent.find(c("patient")), f"{where}/patient")
        author = self._authorise(principal, patient, "record")
        types = self._types(consent, where)
        signed = date_of(consent.findtext(c("signdate")), where=f"{where}/signdate")
        assert signed is not None
        if signed > self.platform.clock.today():
            raise SoapFault("invalid-date", "The sign date is in the future.", path=f"{where}/signdate")
        if patient.death_date is not None:
            raise SoapFault("patient-deceased", f"The patient died on {patient.death_date.isoformat()}.", path=f"{where}/patient")
        pseudonym = self._pseudonym(patient)
        with self.platform.db.transaction() as session:
            active = session.execute(select(PatientConsentRow.consent_type).where(
                PatientConsentRow.patient_pseudonym == pseudonym, PatientConsentRow.revoke_date.is_(None))).scalars().all()
            for kind in types:
                if kind in active:
                    raise SoapFault("consent-exists", f"The patient already has a {kind} consent in force; revoke it first.",
                                    status=STATUS_CONFLICT, path=f"{where}/cdconsent")
                session.add(PatientConsentRow(
                    patient_pseudonym=pseudonym, consent_type=kind, sign_date=signed,
                    author_pseudonym=self.platform.pseudonyms.pseudonymise(principal.niss), author_role=principal.role.value,
                    author_nihii=author.nihii if author else None, author_hcparty=author.hcparty if author else None,
                    recorded_at=self.platform.clock.now(),
                ))
        return answer(self.platform, "PutPatientConsentResponse", payload, SERVICE)

    def get(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        where = "/GetPatientConsentRequest/select"
        select_element = payload.find(c("select"))
        patient = read_patient(self.platform, select_element.find(c("patient")), f"{where}/patient")
        self._authorise(principal, patient, "read")
        wanted = set(self._types(select_element, where, required=False))
        statement = (select(PatientConsentRow).where(PatientConsentRow.patient_pseudonym == self._pseudonym(patient))
                     .order_by(PatientConsentRow.id.desc()))
        with self.platform.db.transaction() as session:
            rows = [row for row in session.execute(statement).scalars() if not wanted or row.consent_type in wanted]
        result = answer(self.platform, "GetPatientConsentResponse", payload, SERVICE)
        for row in rows:
            self._consent_element(result, row, patient)
        return result

    def revoke(self, request: SoapRequest) -> etree._Element:
        principal, payload = caller(request), request.payload
        where = "/RevokePatientConsentRequest/consent"
        consent = payload.find(c("consent"))
        patient = read_patient(self.platform, consent.find(c("patient")), f"{where}/patient")
        self._authorise(principal, patient, "revoke")
        types = self._types(consent, where)
        today = self.platform.clock.today()
        with self.platform.db.transaction() as session:
            rows = session.execute(select(PatientConsentRow).where(
                PatientConsentRow.patient_pseudonym == self._pseudonym(patient),
                PatientConsentRow.revoke_date.is_(None), PatientConsentRow.consent_type.in_(types))).scalars().all()
            if not rows:
                raise SoapFault("consent-not-found", f"The patient has no {' or '.join(types)} consent in force to revoke.",
                                status=STATUS_DATA_NOT_FOUND, path=f"{where}/cdconsent")
            for row in rows:
                row.revoke_date = today
                row.revoked_by_pseudonym = self.platform.pseudonyms.pseudonymise(principal.niss)
                row.revoked_at = self.platform.clock.now()
        return answer(self.platform, "RevokePatientConsentResponse", payload, SERVICE)

    # ------------------------------------------------------------ helpers

    def _authorise(self, principal: Principal, patient: PersonRecord, verb: str) -> Party | None:
        """None when the patient acts; their care party when a professional or pharmacist does; a fault otherwise."""
        if same_person(self.platform, principal.niss, patient.niss):
            return None
        party = party_of(self.platform, principal)
        if party is None:
            raise refuse("consent-not-allowed", f"Only the patient or a care provider (with their NIHII) may {verb} "
                         "a patient's consent.")
        return party

    def _types(self, element: etree._Element, where: str, *, required: bool = True) -> list[str]:
        codes = element.findall(c("cdconsent"))
        if required and not codes:
            raise SoapFault("missing-element", f"{where}/cdconsent is required.", path=f"{where}/cdconsent")
        return [code_of(code, CONSENT_SCHEME, CONSENT_TYPES, f"{where}/cdconsent") or "" for code in codes]

    def _pseudonym(self, patient: PersonRecord) -> str:
        return self.platform.pseudonyms.pseudonymise(registry_key(self.platform.registries, self.platform.register, patient.niss))

    def _consent_element(self, parent: etree._Element, row: PatientConsentRow, patient: PersonRecord) -> None:
        element = etree.SubElement(parent, c("consent"))
        patient_element(element, patient)
        code_element(element, "cdconsent", CONSENT_SCHEME, row.consent_type)
        etree.SubElement(element, c("signdate")).text = row.sign_date.isoformat()
        if row.revoke_date is not None:
            etree.SubElement(element, c("revokedate")).text = row.revoke_date.isoformat()
        if row.author_nihii and row.author_hcparty:
            author = etree.SubElement(element, c("author"))
            party_element(author, _recorded_party(self.platform, row))


def _recorded_party(platform: "Platform", row: PatientConsentRow) -> Party:
    record = platform.registries.professional(row.author_nihii or "")
    organisation = platform.registries.organisation(row.author_nihii or "")
    return Party("recorded", row.author_nihii or "", None, row.author_hcparty or "",
                 record.first_name if record else None, record.last_name if record else None,
                 organisation.name if organisation else None)


def router(platform: "Platform") -> APIRouter:
    consent = Consent(platform)
    operations: dict[str, Callable[[SoapRequest], etree._Element]] = {
        "PutPatientConsent": consent.put,
        "GetPatientConsent": consent.get,
        "RevokePatientConsent": consent.revoke,
    }
    service = hosted_service(platform, SERVICE, PATH, soap_contract("consent", "Consent-v1.wsdl"), soap_contract("hubservices", "hubservices-protocol-v2.xsd"), p, ACTION, operations)
    return service.router()
