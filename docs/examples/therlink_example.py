"""Declare, check, list and revoke a therapeutic link with the sandbox
TherLink, as a practice system would: an STS token first, then zeep with a
SAML holder-of-key WS-Security plugin, from the service's own ``?wsdl``.

Before running it:

    care-gateway sandbox credentials gp --out creds/
    care-gateway serve                      # http://127.0.0.1:8000

Then:

    python docs/examples/therlink_example.py http://127.0.0.1:8000 creds/

The persona numbers below are those of the default sandbox (seed 2026), as
``care-gateway sandbox personas`` lists them. The example leaves the sandbox
as it found it (it revokes the link it declares), so it can run again.
This file is executed by the test suite (tests/ehealth/test_docs_example.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import zeep
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gateway.domain.clock import Clock, SystemClock
from gateway.ehealth.sts_client import request_token
from gateway.identity.claims import ATTR_CERT_HOLDER_SSIN, ATTR_DOCTOR_BOOLEAN, ATTR_DOCTOR_NIHII
from gateway.identity.zeep_wsse import SamlHolderOfKey

GP_NISS, GP_NIHII = "75123152609", "15461602004"  # persona "gp"
PATIENT = "61033029906"  # persona "patient": the gp has a link with them
NEW_PATIENT = "94091643654"  # persona "niss-changed-patient": no link with the gp yet


def code(value: str, scheme: str) -> dict[str, str]:
    """A KMEHR-style code or identifier: text, S (the scheme) and SV (its version)."""
    return {"_value_1": value, "S": scheme, "SV": "1.0"}


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

    # 3. TherLink, from its WSDL; every call is signed with the token's key.
    therlink = zeep.Client(f"{base_url}/ehealth/TherLink/v1?wsdl",
                           wsse=SamlHolderOfKey(token, key, cert, clock=clock))
    now = clock.now()
    request = {"date": now.date(), "time": now.time().replace(tzinfo=None, microsecond=0)}
    me = {"id": [code(GP_NIHII, "ID-HCPARTY"), code(GP_NISS, "INSS")], "cd": code("persphysician", "CD-HCPARTY")}

    def has_link(patient: str) -> bool:
        answer = therlink.service.HasTherapeuticLink(
            request=request, select={"patient": {"id": [code(patient, "INSS")]}, "hcparty": me})
        return bool(answer.hastherapeuticlink)

    def link(patient: str) -> dict[str, Any]:
        return {"patient": {"id": [code(patient, "INSS")]}, "hcparty": me,
                "cd": code("gpconsultation", "CD-THERAPEUTICLINKTYPE")}

    result: dict[str, Any] = {"existing_link": has_link(PATIENT)}
    print(f"link with {PATIENT}: {result['existing_link']}")

    # 4. Declare a link with a new patient; the patient's eID was read at the consultation.
    put = therlink.service.PutTherapeuticLink(request=request, therapeuticlink=link(NEW_PATIENT),
                                              proof={"cd": code("eidreading", "CD-PROOFTYPE")})
    result["declared"] = put.acknowledge.iscomplete
    result["after_put"] = has_link(NEW_PATIENT)
    print(f"declared a link with {NEW_PATIENT} ({put.therapeuticlink.patient.familyname}) "
          f"from {put.therapeuticlink.startdate}: {result['after_put']}")

    # 5. The gp's current links with that patient.
    listed = therlink.service.GetTherapeuticLink(request=request, select={"patient": {"id": [code(NEW_PATIENT, "INSS")]}})
    result["listed"] = [(item.cd._value_1, item.startdate) for item in listed.therapeuticlinklist.therapeuticlink]
    print(f"current links: {result['listed']}")

    # 6. Revoke it again.
    revoked = therlink.service.RevokeTherapeuticLink(request=request, therapeuticlink=link(NEW_PATIENT))
    result["revoked"] = revoked.revoked
    result["after_revoke"] = has_link(NEW_PATIENT)
    print(f"revoked {revoked.revoked} link(s); link now: {result['after_revoke']}")
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000", sys.argv[2] if len(sys.argv) > 2 else "creds")
