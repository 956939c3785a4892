"""Builders of hub-services v2 values for zeep (TherLink and Consent tests):
KMEHR-style ``id``/``cd`` as ``{"_value_1": value, "S": scheme, "SV": "1.0"}``."""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.domain.professions import PROFESSIONS
from gateway.ehealth.sandbox.personas import Persona


def ident(value: str, scheme: str) -> dict[str, str]:
    return {"_value_1": value, "S": scheme, "SV": "1.0"}


def patient(niss: str) -> dict[str, Any]:
    return {"id": [ident(niss, "INSS")]}


def professional(persona: Persona) -> dict[str, Any]:
    assert persona.nihii and persona.quality
    return {"id": [ident(persona.nihii, "ID-HCPARTY"), ident(persona.niss, "INSS")],
            "cd": ident(PROFESSIONS[persona.quality].hcparty, "CD-HCPARTY")}


def pharmacy(nihii: str) -> dict[str, Any]:
    return {"id": [ident(nihii, "ID-HCPARTY")], "cd": ident("orgpharmacy", "CD-HCPARTY")}


def request(clock: Any) -> dict[str, Any]:
    now = clock.now()
    return {"date": now.date(), "time": now.time().replace(tzinfo=None, microsecond=0)}


def link(patient_niss: str, party: dict[str, Any], link_type: str = "gpconsultation",
         start: date | None = None, end: date | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"patient": patient(patient_niss), "hcparty": party,
                             "cd": ident(link_type, "CD-THERAPEUTICLINKTYPE")}
    if start:
        value["startdate"] = start
    if end:
        value["enddate"] = end
    return value


def proof(kind: str = "eidreading") -> dict[str, Any]:
    return {"cd": ident(kind, "CD-PROOFTYPE")}
