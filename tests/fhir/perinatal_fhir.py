"""FHIR bodies of the perinatal programme the FHIR, parity and docs tests share."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from gateway.domain.identifiers import NIHDI_SYSTEM, SSIN_SYSTEM
from gateway.fhir.resources.perinatal import (CONSENT_PROFILE, DOMAIN_SYSTEM, EPISODE_PROFILE, QUESTIONNAIRE,
                                              SCREENING_PROFILE, TYPE_CODE, TYPE_SYSTEM)

BASE = "https://care-gateway.be/fhir"
FHIR = "application/fhir+json"
EPISODES = f"{TYPE_SYSTEM}|{TYPE_CODE}"


class Fhir:
    """Plain FHIR REST calls with one bearer token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base = f"{base_url}/fhir"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": FHIR}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.base}/{path}", params=params, headers=self.headers, timeout=30)

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.base}/{path}", json=body, headers={**self.headers, "Content-Type": FHIR}, timeout=30)

    def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.put(f"{self.base}/{path}", json=body, headers={**self.headers, "Content-Type": FHIR}, timeout=30)


def episode(woman: str, team_id: str, declared: date, consent: date | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "EpisodeOfCare", "meta": {"profile": [EPISODE_PROFILE]}, "status": "active",
        "type": [{"coding": [{"system": TYPE_SYSTEM, "code": TYPE_CODE}]}],
        "patient": {"identifier": {"system": SSIN_SYSTEM, "value": woman}},
        "period": {"start": declared.isoformat()}, "team": [{"reference": f"CareTeam/{team_id}"}],
    }
    if consent is not None:
        body["extension"] = [{"url": f"{BASE}/StructureDefinition/perinatal-consent-given", "valueDate": consent.isoformat()}]
    return body


def screening(episode_id: str, answers: dict[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse", "meta": {"profile": [SCREENING_PROFILE]}, "questionnaire": QUESTIONNAIRE,
        "status": "completed", "subject": {"reference": f"EpisodeOfCare/{episode_id}"},
        "item": [{"linkId": d, "answer": [{"valueCoding": {"system": f"{BASE}/CodeSystem/perinatal-screening-answer", "code": a}}]}
                 for d, a in answers.items()],
    }


def withdrawal(consent: dict[str, Any]) -> dict[str, Any]:
    return {**consent, "status": "inactive"}


def referral(woman: str, episode_id: str, screening_id: str, domain: str, performer_nihii: str) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest", "meta": {"profile": [f"{BASE}/StructureDefinition/be-cg-referral"]},
        "status": "active", "intent": "order", "authoredOn": "2026-01-01T00:00:00+00:00", "requester": {"display": "me"},
        "category": [{"coding": [{"system": f"{BASE}/CodeSystem/referral-programme", "code": "perinatal"}]},
                     {"text": "perinatal-support"}],
        "code": {"text": "housing support service"},
        "subject": {"identifier": {"system": SSIN_SYSTEM, "value": woman}},
        "reasonCode": [{"coding": [{"system": DOMAIN_SYSTEM, "code": domain}], "text": f"perinatal vulnerability: {domain}"}],
        "supportingInfo": [{"reference": f"EpisodeOfCare/{episode_id}"}, {"reference": f"QuestionnaireResponse/{screening_id}"}],
        "performer": [{"identifier": {"system": NIHDI_SYSTEM, "value": performer_nihii}}],
    }


__all__ = ["CONSENT_PROFILE", "EPISODES", "Fhir", "episode", "referral", "screening", "withdrawal"]
