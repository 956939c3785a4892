"""Declare an inclusion over FHIR as a GP, then read and search it.

    python docs/examples/fhir_example.py http://127.0.0.1:8000

The GP's practice software gets an STS token with the GP's sandbox
certificate, exchanges it for an access token, and uses a FHIR client.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta

from fhirpy import SyncFHIRClient

from gateway.domain.clock import Clock, SystemClock
from gateway.ehealth.pki import load_pki
from gateway.ehealth.sandbox.personas import personas
from gateway.ehealth.sandbox.registries import generate_registries
from gateway.ehealth.sandbox_tokens import persona_access_token

SSIN = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
NIHDI = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/nihdi"


def main(base_url: str, clock: Clock | None = None) -> dict:
    clock = clock or SystemClock()
    cast = personas(generate_registries())
    gp, patient, psi = cast["gp"], cast["patient-2"], cast["psi-admin"].organisation_nihii
    token = persona_access_token(base_url, load_pki(), gp, clock=clock)
    fhir = SyncFHIRClient(f"{base_url}/fhir", authorization=f"Bearer {token}")

    start = clock.today() - timedelta(days=10)
    inclusion = fhir.resource(
        "EpisodeOfCare",
        meta={"profile": ["https://care-gateway.be/fhir/StructureDefinition/be-cg-inclusion"]},
        status="active",
        type=[{"coding": [{"system": "https://care-gateway.be/fhir/CodeSystem/inclusion-status", "code": "information"}]}],
        patient={"identifier": {"system": SSIN, "value": patient.niss}},
        managingOrganization={"identifier": {"system": NIHDI, "value": psi}},
        period={"start": start.isoformat()},
        extension=[{"url": "https://care-gateway.be/fhir/StructureDefinition/research-consent", "extension": [
            {"url": "decision", "valueCode": "permit"}, {"url": "date", "valueDate": start.isoformat()}]}],
    )
    inclusion.save()  # POST /fhir/EpisodeOfCare: declared (IC-F1)
    billing = next(e["valuePeriod"] for e in inclusion["extension"] if e["url"].endswith("/billing-period"))
    print(f"declared EpisodeOfCare/{inclusion.id}, billable from {billing['start']} (IC-R2)")

    found = fhir.resources("EpisodeOfCare").search(**{"patient-identifier": f"{SSIN}|{patient.niss}"}).fetch_all()
    print(f"{len(found)} inclusion(s) of the patient visible to the GP")
    consents = fhir.resources("Consent").search(**{"patient-identifier": patient.niss}).fetch_all()
    print(f"research consent in force: {consents[0]['provision']['type']}")
    return {"inclusion": inclusion.serialize(), "found": len(found), "consent": consents[0]["provision"]["type"]}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
