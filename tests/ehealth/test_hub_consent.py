"""The simulated hub Consent service over real HTTP, driven by zeep from its
own WSDL with real STS tokens: put, get and revoke a patient's consent, by
the patient or a care provider, and the refusals."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree
from sqlalchemy import select

from gateway.ehealth.hub_consent import ACTION
from gateway.ehealth.hub_model import PatientConsentRow
from gateway.ehealth.hubservices import PROTOCOL_NS
from gateway.ehealth.soapkit import soap_contract
from tests.ehealth.conftest import fault_code, response_fault_code, wsdl_address
from tests.ehealth.hub import ident, patient, request

PATH = "/Consent/v1"
XSD = soap_contract("hubservices", "hubservices-protocol-v2.xsd")
OPERATIONS = ("PutPatientConsent", "GetPatientConsent", "RevokePatientConsent")


@pytest.fixture(scope="module")
def consent(callers):
    clients: dict[str, zeep.Client] = {}

    def client(key: str) -> zeep.Client:
        if key not in clients:
            clients[key] = callers.client(PATH, key, XSD)
        return clients[key]

    return client


def value(niss: str, signed, kind: str = "retrospective") -> dict:
    return {"patient": patient(niss), "cdconsent": [ident(kind, "CD-CONSENT")], "signdate": signed}


def consents(consent, live, caller: str, niss: str):
    answer = consent(caller).service.GetPatientConsent(request=request(live.clock), select={"patient": patient(niss)})
    assert answer.acknowledge.iscomplete is True
    return answer.consent


def fault_of(call, **kwargs) -> str | None:
    with pytest.raises(zeep.exceptions.Fault) as err:
        call(**kwargs)
    return fault_code(err.value)


def test_wsdl_points_at_this_server(live, callers):
    url = callers.wsdl(PATH)
    assert wsdl_address(url) == f"{live.base_url}/ehealth{PATH}"
    document = etree.fromstring(httpx.get(url).content)
    actions = {op.get("soapAction") for op in document.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")}
    assert actions == {ACTION + name for name in OPERATIONS}
    assert set(zeep.Client(url).service._binding._operations) == set(OPERATIONS)


def test_the_patient_puts_reads_revokes_and_renews_their_consent(live, personas, consent):
    niss, today = personas["patient"].niss, live.clock.today()
    signed = today - timedelta(days=3)
    answer = consent("patient").service.PutPatientConsent(request=request(live.clock), consent=value(niss, signed))
    assert answer.acknowledge.iscomplete is True

    (current,) = consents(consent, live, "patient", niss)
    assert (current.cdconsent[0]._value_1, current.signdate, current.revokedate) == ("retrospective", signed, None)
    assert current.patient.id[0]._value_1 == niss and current.author is None  # recorded by the patient
    assert len(consents(consent, live, "gp", niss)) == 1  # a care provider reads it too

    assert fault_of(consent("patient").service.PutPatientConsent, request=request(live.clock),
                    consent=value(niss, today)) == "consent-exists"
    consent("patient").service.RevokePatientConsent(request=request(live.clock), consent=value(niss, signed))
    (revoked,) = consents(consent, live, "patient", niss)
    assert revoked.revokedate == today
    assert fault_of(consent("patient").service.RevokePatientConsent, request=request(live.clock),
                    consent=value(niss, signed)) == "consent-not-found"

    consent("patient").service.PutPatientConsent(request=request(live.clock), consent=value(niss, today))
    newest, oldest = consents(consent, live, "patient", niss)
    assert (newest.signdate, newest.revokedate, oldest.revokedate) == (today, None, today)
    with live.platform.db.transaction() as session:
        rows = session.execute(select(PatientConsentRow)).scalars().all()
    assert len(rows) == 2 and all(niss not in (r.patient_pseudonym, r.author_pseudonym) for r in rows)


def test_a_provider_records_a_consent_as_its_author(live, personas, consent):
    niss, nurse = personas["patient-2"].niss, personas["nurse"]
    consent("nurse").service.PutPatientConsent(request=request(live.clock), consent=value(niss, live.clock.today()))
    (recorded,) = consents(consent, live, "patient-2", niss)
    author = recorded.author.hcparty[0]
    assert [i._value_1 for i in author.id] == [nurse.nihii] and author.cd._value_1 == "persnurse"
    consent("pharmacist").service.RevokePatientConsent(request=request(live.clock),
                                                        consent=value(niss, live.clock.today()))
    assert consents(consent, live, "nurse", niss)[0].revokedate == live.clock.today()


# ------------------------------------------------------------------ refusals


def test_a_call_without_security_header_is_refused(live, personas, callers):
    with pytest.raises(zeep.exceptions.Fault) as err:
        callers.anonymous(PATH).service.GetPatientConsent(request=request(live.clock),
                                                          select={"patient": patient(personas["patient"].niss)})
    assert fault_code(err.value) == "security-header-missing"


def test_only_the_patient_or_a_care_provider(live, personas, consent):
    niss = personas["bis-patient"].niss
    assert fault_of(consent("patient-2").service.GetPatientConsent, request=request(live.clock),
                    select={"patient": patient(niss)}) == "consent-not-allowed"
    assert fault_of(consent("patient-2").service.PutPatientConsent, request=request(live.clock),
                    consent=value(niss, live.clock.today())) == "consent-not-allowed"
    assert fault_of(consent("psi-admin").service.RevokePatientConsent, request=request(live.clock),
                    consent=value(niss, live.clock.today())) == "consent-not-allowed"


def test_bad_values_are_refused(live, personas, consent):
    service, niss = consent("bis-patient").service, personas["bis-patient"].niss
    assert fault_of(service.PutPatientConsent, request=request(live.clock),
                    consent=value(niss, live.clock.today(), "prospective-forever")) == "unknown-code"
    assert fault_of(service.PutPatientConsent, request=request(live.clock),
                    consent=value(niss, live.clock.today() + timedelta(days=1))) == "invalid-date"
    assert fault_of(consent("gp").service.PutPatientConsent, request=request(live.clock),
                    consent=value(personas["deceased-patient"].niss, live.clock.today())) == "patient-deceased"
    assert fault_of(service.GetPatientConsent, request=request(live.clock),
                    select={"patient": patient("12345678901")}) == "invalid-niss"


def test_unknown_operation_is_refused(callers):
    response = callers.post_signed(PATH, "patient", etree.Element(f"{{{PROTOCOL_NS}}}DeletePatientConsentRequest"))
    assert response.status_code == 500 and response_fault_code(response) == "unknown-operation"
