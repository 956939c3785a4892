"""Declare, consult, change and close an inclusion through the IntegratedCare
SOAP service, as practice software does with the eHealth connector: an STS
token first, then zeep from the service's own ``?wsdl`` with a SAML
holder-of-key WS-Security plugin.

Before running it:

    care-gateway sandbox credentials gp --out creds/
    care-gateway serve                      # http://127.0.0.1:8000

Then:

    python docs/examples/soap_example.py http://127.0.0.1:8000 creds/

The persona numbers below are those of the default sandbox (seed 2026), as
``care-gateway sandbox personas`` lists them. The example declares an
*information* inclusion and closes it again, so it can run any number of
times. This file is executed by the test suite
(tests/soap/test_soap_docs_example.py).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import zeep
import zeep.exceptions
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gateway.domain.clock import Clock, SystemClock
from gateway.ehealth.sts_client import request_token
from gateway.identity.claims import ATTR_CERT_HOLDER_SSIN, ATTR_DOCTOR_BOOLEAN, ATTR_DOCTOR_NIHII
from gateway.identity.zeep_wsse import SamlHolderOfKey

GP_NISS, GP_NIHII = "75123152609", "15461602004"  # persona "gp"
PATIENT = "05112471240"  # persona "patient-2": the gp has a therapeutic link with them
PSI = "98132227000"  # PSI A (persona "psi-admin" works there)
FAULT_NS = "{urn:be:care-gateway:fault:v1}"


def error_of(fault: zeep.exceptions.Fault) -> dict[str, str | None]:
    """What a refusal says: eHealth status, our code, the rule, the element, what to do."""
    return {name: fault.detail.findtext(f".//{FAULT_NS}{name}") for name in ("Status", "Code", "Rule", "Path", "Message")}


def main(base_url: str, creds: str | Path = "creds", *, clock: Clock | None = None) -> dict[str, Any]:
    clock = clock or SystemClock()
    creds = Path(creds)

    # 1. The gp's credentials, as written by `care-gateway sandbox credentials gp`.
    key = serialization.load_pem_private_key((creds / "gp.key.pem").read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate((creds / "gp.cert.pem").read_bytes())

    # 2. A SAML 1.1 holder-of-key token from the STS: "I am this physician, with this NIHII".
    token = request_token(base_url, key, cert, clock=clock, claims=[
        (ATTR_CERT_HOLDER_SSIN, GP_NISS), (ATTR_DOCTOR_BOOLEAN, ""), (ATTR_DOCTOR_NIHII, GP_NIHII),
    ])

    # 3. IntegratedCare from its WSDL; every call is signed with the token's key.
    ic = zeep.Client(f"{base_url}/soap/IntegratedCare/v1?wsdl", wsse=SamlHolderOfKey(token, key, cert, clock=clock)).service
    today = clock.today()
    start = today - timedelta(days=10)
    result: dict[str, Any] = {}

    # 4. Declare (IC-F1): the research consent goes with it if none is in force.
    declared = ic.DeclareInclusion(PatientSsin=PATIENT, PsiNihii=PSI, Status="information", StartDate=start,
                                   ResearchConsent={"Decision": "agree", "Date": start})
    inclusion = declared.Inclusion
    result["status"] = declared.Status.StatusCode.Value
    result["billing_start"] = inclusion.BillingPeriod.Start
    print(f"declared {inclusion.InclusionId}, billable from {inclusion.BillingPeriod.Start} (IC-R2)")

    # 5. The patient's inclusions as the gp may see them (IC-A1: the gp has a link).
    seen = ic.GetPatientInclusions(PatientSsin=PATIENT)
    result["seen"] = inclusion.InclusionId in {i.InclusionId for i in seen.Inclusion}
    print(f"{seen.Patient.FirstName} {seen.Patient.LastName}: {len(seen.Inclusion)} inclusion(s), "
          f"research consent {seen.ResearchConsent.Decision if seen.ResearchConsent else 'none'}")

    # 6. A change is the inclusion as it should be (here: one day earlier), with the version it
    #    was read at. Sent with a wrong version, it is refused: the Fault says why and what to do.
    wanted = {"InclusionId": inclusion.InclusionId, "Status": inclusion.Status, "StartDate": start - timedelta(days=1),
              "EndDate": inclusion.EndDate}
    try:
        ic.UpdateInclusion(**wanted, Version=inclusion.Version + 1)
    except zeep.exceptions.Fault as fault:
        result["stale"] = error_of(fault)["Code"]
        print(f"refused: {error_of(fault)}")

    # 7. The same change with the current version.
    changed = ic.UpdateInclusion(**wanted, Version=inclusion.Version).Inclusion
    result["version"] = changed.Version

    # 8. Close it (the exclusion, item 8): billable until the end of the next month.
    closed = ic.CloseInclusion(InclusionId=inclusion.InclusionId, EndDate=today, Version=changed.Version).Inclusion
    result["closed"] = closed.EndDate
    print(f"closed on {closed.EndDate}, billable until {closed.BillingPeriod.End}")
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000", sys.argv[2] if len(sys.argv) > 2 else "creds")
