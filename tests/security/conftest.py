"""Fixtures of the security tests: the FHIR and SOAP callers of the face
tests (real tokens from the sandbox IdP and STS) and the two-project
setting of the IC-A3 findings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.fhir.conftest import fhir_client, fhir_token  # noqa: F401  (fixtures)
from tests.soap.conftest import soap  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def two_projects(live, soap, personas) -> dict[str, Any]:  # type: ignore[no-untyped-def]  # noqa: F811
    """PSI B's staff declare the patient as principal with a research-consent
    decision; a care provider then declares the same patient as information
    in PSI A (the decision in force serves him). patient-2 is included in
    PSI B only. Everything PSI B's side holds is listed in ``secrets``: none
    of it may reach PSI A's staff."""
    psi_a, psi_b = personas["psi-admin"].organisation_nihii, personas["psi-admin-other"].organisation_nihii
    day = live.clock.today()
    b_start, b_consent_day = day - timedelta(days=47), day - timedelta(days=53)
    b = soap.service("psi-admin-other").DeclareInclusion(
        PatientSsin=personas["patient"].niss, PsiNihii=psi_b, Status="principal", StartDate=b_start,
        ResearchConsent={"Decision": "refuse", "Date": b_consent_day}).Inclusion
    a = soap.service("gp").DeclareInclusion(
        PatientSsin=personas["patient"].niss, PsiNihii=psi_a, Status="information", StartDate=day - timedelta(days=20)).Inclusion
    b2 = soap.service("psi-admin-other").DeclareInclusion(
        PatientSsin=personas["patient-2"].niss, PsiNihii=psi_b, Status="principal", StartDate=day - timedelta(days=61),
        ResearchConsent={"Decision": "agree", "Date": day - timedelta(days=62)}).Inclusion
    consent = soap.service("psi-admin-other").GetResearchConsent(PatientSsin=personas["patient"].niss).ResearchConsent[0]
    staff_b = personas["psi-admin-other"]
    return {
        "a": a, "b": b, "b2": b2, "b_consent": consent, "psi_a": psi_a, "psi_b": psi_b,
        "secrets": {
            "PSI B's NIHII": psi_b, "PSI B's CBE": staff_b.organisation_cbe,
            "PSI B's name": live.gw.ctx.facts.organisation(psi_b).name, "PSI B's staff NISS": staff_b.niss, "PSI B's staff name": staff_b.display_name,
            "PSI B's inclusion id": b.InclusionId, "PSI B's inclusion of patient-2": b2.InclusionId,
            "PSI B's consent id": consent.ConsentId, "PSI B's start date": b_start.isoformat(),
            "PSI B's consent date": b_consent_day.isoformat(), "patient-2's NISS": personas["patient-2"].niss,
            "patient-2's start date": (day - timedelta(days=61)).isoformat(),
        },
    }
