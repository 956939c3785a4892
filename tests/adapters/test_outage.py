"""A platform that fails (an HTTP 500, a timeout, nobody listening, a SOAP
Fault) gives the domain a SourceUnavailable with a stable code: the act is
refused and audited as such (IC-R8), never decided as "no link" (IC-A1)
and never a crash."""

from __future__ import annotations

import socket

import httpx
import pytest
from sqlalchemy import select

from gateway.adapters import errors
from gateway.domain.context import DomainContext
from gateway.domain.inclusions import InclusionService
from gateway.domain.model import AuditRecord
from gateway.domain.policy import AccessPolicy
from gateway.domain.ports import OrganisationQuery, SourceUnavailable

SOAP_FAULT = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault>'
              b'<faultcode>soapenv:Server</faultcode><faultstring>maintenance</faultstring></soapenv:Fault>'
              b'</soapenv:Body></soapenv:Envelope>')


def answering(status: int, content: bytes, content_type: str) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, content=content, headers={"content-type": content_type}))


def timing_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("transport, code", [
    (answering(500, b"<html>Internal Server Error</html>", "text/html"), errors.HTTP_ERROR),
    (answering(502, b"", "text/plain"), errors.HTTP_ERROR),
    (answering(500, SOAP_FAULT, "text/xml"), errors.FAULT),
    (answering(200, b"<not-soap/>", "text/xml"), errors.ANSWER_INVALID),
    (httpx.MockTransport(timing_out), errors.UNREACHABLE),
], ids=["500-html", "502-empty", "soap-fault", "not-soap", "timeout"])
def test_IC_A1_every_port_method_fails_closed_with_a_stable_code(in_process, make_side, personas, transport, code):
    down = make_side(in_process, transport=transport)
    facts, register, directory, today = down.adapters.facts, down.adapters.register, down.adapters.directory, down.clock.today()
    gp, patient = personas["gp"], personas["patient"]
    asks = [
        lambda: facts.has_therapeutic_link(gp.niss, patient.niss, today),
        lambda: facts.memberships(gp.niss),
        lambda: facts.insurer_of(patient.niss, today),
        lambda: facts.professional(gp.nihii),
        lambda: facts.organisation(personas["pharmacist"].organisation_nihii),
        lambda: facts.pharmacy_has_therapeutic_link(personas["pharmacist"].organisation_nihii, patient.niss, today),
        lambda: register.person(patient.niss),
        lambda: register.mutations_after(0),
        lambda: directory.find_organisations(OrganisationQuery(name="a")),
    ]
    for ask in asks:
        with pytest.raises(SourceUnavailable) as err:
            ask()
        assert err.value.code == code and err.value.category == "unavailable"
        assert err.value.details["service"] in ("AttributeAuthority", "AddressBook", "consultRN")


def test_nobody_listening_is_unreachable(in_process, make_side, personas):
    down = make_side(in_process, transport=httpx.HTTPTransport())
    down.adapters.facts.authority.soap.url = f"http://127.0.0.1:{closed_port()}/ehealth/IAM/AttributeAuthority/v1"
    with pytest.raises(SourceUnavailable) as err:
        down.adapters.facts.memberships(personas["gp"].niss)
    assert err.value.code == errors.UNREACHABLE and "127.0.0.1" in err.value.message


def test_IC_A1_an_outage_refuses_the_act_and_audits_it_never_a_no_link(gw, in_process, make_side, personas):
    down = make_side(in_process, transport=answering(500, b"<html>down</html>", "text/html"))
    policy = AccessPolicy(down.adapters.facts, gw.clock)
    with pytest.raises(SourceUnavailable):
        policy.consult(personas["gp"].principal(), personas["patient"].niss)
    ctx = DomainContext(db=gw.db, clock=gw.clock, pseudonyms=gw.ctx.pseudonyms, facts=down.adapters.facts,
                        register=in_process.adapters.register, settings=gw.settings)
    with pytest.raises(SourceUnavailable) as err:
        InclusionService(ctx).consult(personas["gp"].principal(), personas["patient"].niss)
    assert err.value.code == errors.HTTP_ERROR
    with gw.db.transaction() as session:
        record = session.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
        assert (record.action, record.outcome, record.code) == ("inclusion.consult", "refused", errors.HTTP_ERROR)


def test_the_faces_answer_an_outage_with_503_and_a_server_fault():
    """The stable code travels to the caller; the status says "retry later", not "you did something wrong"."""
    from gateway.fhir.outcome import ERROR_CODE_SYSTEM, from_domain, operation_outcome
    from gateway.soap.faults import RequestPaths, domain_fault

    error = SourceUnavailable(errors.UNREACHABLE, "AttributeAuthority: no answer in time.", details={"service": "AttributeAuthority"})
    fhir = from_domain(error)
    outcome = operation_outcome(fhir.issues)["issue"][0]
    assert fhir.status == 503 and outcome["code"] == "transient"
    assert {"system": ERROR_CODE_SYSTEM, "code": errors.UNREACHABLE} in outcome["details"]["coding"]
    fault = domain_fault(error, RequestPaths("ConsultInclusionsRequest"))
    assert fault.client is False and fault.code == errors.UNREACHABLE
