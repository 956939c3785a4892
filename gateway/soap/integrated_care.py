"""IntegratedCare v1, the SOAP face of inclusions and research consent
(``soap/integrated-care/``), for practice software that calls eHealth-secured
SOAP services with an STS token.

Each operation reads its request through the mappings of ``mappings/``,
calls the same use case as the FHIR face for the same act
(``channel="soap"``), and writes the result through the same mappings.
Nothing here decides who may do what: a refusal is the domain's, said as a
Fault with the same code and rule id a FHIR client reads, and the act
leaves the same audit record but for its channel.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from fastapi import APIRouter
from lxml import etree

from gateway.domain.inclusions import UNSET, DeclareInclusion
from gateway.domain.views import ConsentView, InclusionView, PersonView
from gateway.mapping.mapping import mapping
from gateway.soap.commons import response
from gateway.soap11.contract import ContractService, caller
from gateway.soap11.envelope import q
from gateway.soap.faults import RequestPaths
from gateway.soap11.service import Security
from gateway.soap.operations import MAX_BYTES, hosted
from gateway.soap11.service import SoapRequest

if TYPE_CHECKING:
    from gateway.domain.usecases import UseCases

NS = "urn:be:care-gateway:integratedcare:v1"
ACTION = "urn:be:care-gateway:integratedcare:v1:"
PATH = "/IntegratedCare/v1"
CHANNEL = "soap"


def ic(name: str) -> str:
    return q(NS, name)


# ------------------------------------------------------------------ views -> mapping values


def _instant(value: datetime) -> datetime:
    """Stored instants are UTC (SQLite gives them back naive)."""
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def inclusion_values(view: InclusionView) -> dict[str, Any]:
    return {
        "id": view.id, "patient_niss": view.patient_niss, "psi_nihii": view.psi_nihii, "status": view.status,
        "start_date": view.start_date, "end_date": view.end_date,
        "billing_start": view.billing_start, "billing_end": view.billing_end,
        "declared_by_nihii": view.declared_by_nihii,
        "declared_by_niss": view.declared_by_niss if view.declared_by_role != "system" else None,
        "declared_by_role": view.declared_by_role, "created_at": _instant(view.created_at),
        "version": str(view.version), "updated_at": _instant(view.updated_at),
        "restricted": True if view.restricted else None,  # DS-3: marked for whom the law still shows it
    }


def consent_values(view: ConsentView) -> dict[str, Any]:
    return {
        "id": str(view.id), "patient_niss": view.patient_niss, "decision": view.decision,
        "decision_date": view.decision_date,
        "recorded_by_niss": view.recorded_by_niss if view.recorded_by_role != "system" else None,
        "recorded_by_role": view.recorded_by_role, "recorded_by_organisation": view.recorded_by_organisation,
        "recorded_at": _instant(view.recorded_at), "state": "active" if view.in_force else "inactive",
    }


def person_values(view: PersonView) -> dict[str, Any]:
    return {"niss": view.niss, "last_name": view.last_name, "first_name": view.first_name,
            "birth_date": view.birth_date, "death_date": view.death_date}


# ------------------------------------------------------------------ operations


class IntegratedCare:
    """The seven operations; each takes a verified, XSD-valid request."""

    def __init__(self, cases: "UseCases") -> None:
        self.cases = cases

    def _answer(self, name: str) -> etree._Element:
        return response(NS, name, self.cases.clock, prefix="ic")

    def _inclusion_answer(self, name: str, view: InclusionView) -> etree._Element:
        answer = self._answer(name)
        mapping("inclusion").xml_element(inclusion_values(view), answer)
        return answer

    @staticmethod
    def _version(payload: etree._Element) -> int | None:
        value = mapping("inclusion").from_xml(payload, only={"version"})["version"]
        return int(value) if value is not None else None

    def declare(self, request: SoapRequest) -> etree._Element:
        """IC-F1."""
        m = mapping("inclusion")
        given = m.from_xml(request.payload, only={"patient_niss", "psi_nihii", "status", "start_date", "end_date",
                                                   "consent_decision", "consent_date"})
        view = self.cases.inclusions.declare(caller(request), DeclareInclusion(**given), channel=CHANNEL)
        return self._inclusion_answer("DeclareInclusionResponse", view)

    def get_patient_inclusions(self, request: SoapRequest) -> etree._Element:
        """IC-F2, with the IC-A3 view of PSI staff as the domain gives it."""
        niss = mapping("inclusion").from_xml(request.payload, only={"patient_niss"})["patient_niss"]
        seen = self.cases.inclusions.consult(caller(request), niss, channel=CHANNEL)
        answer = self._answer("GetPatientInclusionsResponse")
        if seen.patient is not None:
            mapping("patient").xml_element(person_values(seen.patient), answer)
        for view in seen.inclusions:
            mapping("inclusion").xml_element(inclusion_values(view), answer)
        mapping("patient_inclusions").to_xml({"principal_elsewhere": seen.principal_elsewhere}, answer)
        if seen.consent is not None:
            mapping("consent").xml_element(consent_values(seen.consent), answer)
        return answer

    def update(self, request: SoapRequest) -> etree._Element:
        """IC-F3 from the inclusion as it should be (the act of a FHIR update):
        the domain decides on the items that differ (IC-A5..IC-A7)."""
        m = mapping("inclusion")
        given = m.from_xml(request.payload, only={"id", "status", "start_date", "end_date", "consent_decision", "consent_date"})
        identity = m.from_xml(request.payload, only={"patient_niss", "psi_nihii"} & m.present_in_xml(request.payload))
        view = self.cases.inclusions.replace(
            caller(request), given["id"], status=given["status"], start_date=given["start_date"], end_date=given["end_date"],
            patient_niss=identity.get("patient_niss"), psi_nihii=identity.get("psi_nihii"),
            consent_decision=given["consent_decision"] if given["consent_decision"] is not None else UNSET,
            consent_date=given["consent_date"] if given["consent_date"] is not None else UNSET,
            expected_version=self._version(request.payload), channel=CHANNEL,
        )
        return self._inclusion_answer("UpdateInclusionResponse", view)

    def close(self, request: SoapRequest) -> etree._Element:
        """IC-F3, the exclusion (item 8): the domain's own act for it."""
        given = mapping("inclusion").from_xml(request.payload, only={"id", "end_date"})
        view = self.cases.inclusions.close(caller(request), given["id"], given["end_date"],
                                        expected_version=self._version(request.payload), channel=CHANNEL)
        return self._inclusion_answer("CloseInclusionResponse", view)

    def list_psi_patients(self, request: SoapRequest) -> etree._Element:
        """IC-F4: a page of the coordinator's patients (IC-A8 bounds the page)."""
        m, payload = mapping("inclusion"), request.payload
        psi = m.from_xml(payload, only={"psi_nihii"})["psi_nihii"] if "psi_nihii" in m.present_in_xml(payload) else None
        size = payload.findtext(ic("PageSize"))
        page = self.cases.inclusions.list_patients(caller(request), psi_nihii=psi, page_size=int(size) if size else None,
                                                cursor=payload.findtext(ic("Cursor")), channel=CHANNEL)
        answer = self._answer("ListPsiPatientsResponse")
        for item in page.items:
            entry = etree.SubElement(answer, ic("Item"))
            mapping("patient").xml_element(person_values(item.patient), entry)
            m.xml_element(inclusion_values(item.inclusion), entry)
        etree.SubElement(answer, ic("PageSize")).text = str(page.page_size)
        if page.next_cursor:
            etree.SubElement(answer, ic("NextCursor")).text = page.next_cursor
        return answer

    def record_consent(self, request: SoapRequest) -> etree._Element:
        """Items 1 and 2: a new decision supersedes the one in force (IC-A5..IC-A7, IC-R11)."""
        given = mapping("consent").from_xml(request.payload, only={"patient_niss", "decision", "decision_date"})
        view = self.cases.consents.record(caller(request), given["patient_niss"], given["decision"], given["decision_date"],
                                       channel=CHANNEL)
        answer = self._answer("RecordResearchConsentResponse")
        mapping("consent").xml_element(consent_values(view), answer)
        return answer

    def get_consent(self, request: SoapRequest) -> etree._Element:
        """Every decision of the patient, the one in force first."""
        niss = mapping("consent").from_xml(request.payload, only={"patient_niss"})["patient_niss"]
        views = self.cases.consents.history(caller(request), niss, channel=CHANNEL)
        answer = self._answer("GetResearchConsentResponse")
        for view in reversed(views):
            mapping("consent").xml_element(consent_values(view), answer)
        return answer


# ------------------------------------------------------------------ the service


def operations(service: IntegratedCare) -> dict[str, tuple[Callable[[SoapRequest], etree._Element], RequestPaths]]:
    """Operation name -> (handler, where its request's items are)."""
    inclusion, consent = mapping("inclusion"), mapping("consent")
    consent_aliases = {"consent.decision": "decision", "consent.date": "decision_date"}
    return {
        "DeclareInclusion": (service.declare, RequestPaths("DeclareInclusionRequest", inclusion)),
        "GetPatientInclusions": (service.get_patient_inclusions, RequestPaths("GetPatientInclusionsRequest", inclusion)),
        "UpdateInclusion": (service.update, RequestPaths("UpdateInclusionRequest", inclusion)),
        "CloseInclusion": (service.close, RequestPaths("CloseInclusionRequest", inclusion)),
        "ListPsiPatients": (service.list_psi_patients, RequestPaths("ListPsiPatientsRequest", inclusion, {"_count": "PageSize"})),
        "RecordResearchConsent": (service.record_consent, RequestPaths("RecordResearchConsentRequest", consent, consent_aliases)),
        "GetResearchConsent": (service.get_consent, RequestPaths("GetResearchConsentRequest", consent)),
    }


def soap_service(cases: "UseCases", security: Security) -> ContractService:
    return hosted(security, "IntegratedCare", "integrated-care", NS, operations(IntegratedCare(cases)))


def router(cases: "UseCases", security: Security) -> APIRouter:
    return soap_service(cases, security).router()


__all__ = ["ACTION", "MAX_BYTES", "NS", "PATH", "IntegratedCare", "router", "soap_service"]
