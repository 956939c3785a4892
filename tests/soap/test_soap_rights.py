"""Rights v1 over SOAP, with real STS tokens and zeep clients built from the
published ?wsdl, every answer checked against Rights-v1.xsd: the person
files and withdraws requests, the declarer and the project's staff list and
answer them (DS-2); a restriction is in force at once (DS-3); an objection
names the processing it stops, and billing, a legal obligation, cannot be
objected to (DS-4)."""

from __future__ import annotations

from typing import Any

import pytest
import zeep
from lxml import etree
from zeep.plugins import Plugin

from gateway.contracts import contract
from gateway.soap11.envelope import SOAP11_NS
from tests.conftest import declaration
from tests.soap.conftest import refused

XSD = ("soap", "rights", "Rights-v1.xsd")


class RightsSchema(Plugin):
    """Every answer's payload (faults aside) valid against Rights-v1.xsd."""

    def __init__(self) -> None:
        self.schema = etree.XMLSchema(etree.parse(str(contract(*XSD))))
        self.checked = 0

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        body = envelope.find(f"{{{SOAP11_NS}}}Body")
        payload = next(iter(body)) if body is not None and len(body) else None
        if payload is not None and payload.tag != f"{{{SOAP11_NS}}}Fault":
            assert self.schema.validate(payload), self.schema.error_log
            self.checked += 1
        return envelope, http_headers


@pytest.fixture(scope="module")
def rights(soap):  # type: ignore[no-untyped-def]
    """``rights(key)``: the Rights service as persona ``key`` (STS token, holder-of-key signature)."""
    from gateway.identity.zeep_wsse import SamlHolderOfKey

    schema, clients = RightsSchema(), {}

    def service(key: str) -> Any:
        if key not in clients:
            credential = soap.live.gw.platform.pki.persona(key)
            wsse = SamlHolderOfKey(soap.token(key), credential.private_key, credential.certificate, clock=soap.live.clock)
            clients[key] = zeep.Client(soap.live.base_url + "/soap/Rights/v1?wsdl", wsse=wsse, plugins=[schema])
        return clients[key].service

    service.schema = schema  # type: ignore[attr-defined]
    return service


@pytest.fixture(scope="module")
def included(soap, personas):  # type: ignore[no-untyped-def]
    live, patient = soap.live, personas["patient"]
    day = live.clock.today()
    return live.gw.inclusions.declare(personas["gp"].principal(), declaration(patient, personas["psi-admin"].organisation_nihii,
                                                                            start_date=day, consent_date=day))


def research(soap, personas) -> int:  # type: ignore[no-untyped-def]
    return len(soap.live.gw.exports.for_insurer(personas["insurer"].principal(), "100").research)


def test_DS_2_the_person_files_and_the_declarer_answers_over_soap(rights, personas, included):
    filed = rights("patient").FileRightsRequest(Kind="correction", Target={"Kind": "inclusion", "Id": included.id},
                                                Text="My inclusion started earlier.")
    request = filed.RightsRequest[0]
    assert (request.Kind, request.Rule, request.Status, request.Target.Id) == ("correction", "DS-2", "active", included.id)
    listed = rights("gp").ListRightsRequests(Status="active")
    assert [r.RequestId for r in listed.RightsRequest] == [request.RequestId]
    assert rights("psi-admin-other").ListRightsRequests().RightsRequest == []
    fault = refused(rights("patient").AnswerRightsRequest, RequestId=request.RequestId, Outcome="done")
    assert (fault["Code"], fault["Rule"]) == ("not-a-handler", "IC-A9")
    fault = refused(rights("psi-admin").AnswerRightsRequest, RequestId=request.RequestId, Outcome="refused")
    assert (fault["Code"], fault["Rule"]) == ("refusal-without-reason", "DS-2")
    answered = rights("gp").AnswerRightsRequest(RequestId=request.RequestId, Outcome="done", Reason="Corrected.", Version=1)
    assert answered.RightsRequest[0].Answer.ByRole == "provider"
    mine = rights("patient").GetMyRightsRequests().RightsRequest
    assert [(r.Status, r.Answer.Text) for r in mine if r.RequestId == request.RequestId] == [("done", "Corrected.")]
    assert rights.schema.checked >= 5


def test_DS_3_a_restriction_filed_over_soap_is_in_force_at_once(soap, rights, personas, included):
    assert research(soap, personas) == 1
    filed = rights("patient").FileRightsRequest(Kind="restriction", Target={"Kind": "inclusion", "Id": included.id}).RightsRequest[0]
    assert filed.InForce is True and research(soap, personas) == 0
    niss = personas["patient"].niss
    declarer = soap.service("gp").GetPatientInclusions(PatientSsin=niss)  # IntegratedCare, checked against its XSD
    assert [(i.InclusionId, i.Restricted) for i in declarer.Inclusion] == [(included.id, True)]  # shown, marked
    nurse = soap.service("nurse").GetPatientInclusions(PatientSsin=niss)  # a therapeutic link only: not shown
    assert included.id not in [i.InclusionId for i in (nurse.Inclusion or [])]
    withdrawn = rights("patient").WithdrawRightsRequest(RequestId=filed.RequestId, Version=1).RightsRequest[0]
    assert (withdrawn.Status, withdrawn.InForce) == ("closed", False) and research(soap, personas) == 1


def test_DS_4_an_objection_over_soap_names_its_processing(soap, rights, personas, included):
    fault = refused(rights("patient").FileRightsRequest, Kind="objection", Processing="billing")
    assert (fault["Code"], fault["Rule"]) == ("legal-obligation", "DS-4")
    filed = rights("patient").FileRightsRequest(Kind="objection", Processing="research").RightsRequest[0]
    assert (filed.Processing, filed.InForce) == ("research", True) and research(soap, personas) == 0
    listed = rights("psi-admin").ListRightsRequests(Kind="objection", PatientSsin=personas["patient"].niss).RightsRequest
    assert filed.RequestId in [r.RequestId for r in listed]
    refused_one = rights("psi-admin").AnswerRightsRequest(RequestId=filed.RequestId, Outcome="refused",
                                                          Reason="The evaluation of the projects is a legal mission.")
    assert (refused_one.RightsRequest[0].Status, refused_one.RightsRequest[0].InForce) == ("refused", False)
    assert research(soap, personas) == 1
