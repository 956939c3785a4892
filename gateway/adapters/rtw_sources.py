"""The return-to-work sources (the domain's
:class:`~gateway.domain.rtw.ports.PartnerSources`) answered by the
platform's services over the wire: CIN membership data, Dimona,
SEED-Connect and JobSeeker through the data attribute service, and user
management. No caching here: the domain keeps access data at most 24 hours
(RP-A7) and asks again after that."""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping, Sequence

import httpx

from gateway.adapters import errors
from gateway.adapters.rtw_http import JsonService, MachineToken
from gateway.domain.rtw.ports import Employment, InsurerAffiliation, JobSeekerRegistration, PreventionService, StaffRole

RTW_PATHS: Mapping[str, str] = {
    "cin-affiliation": "CIN/MemberData/v1/affiliation",
    "dimona": "DAtaAttributeService/v1/dimona/employments",
    "seed-connect": "DAtaAttributeService/v1/seed-connect/prevention-services",
    "jobseeker": "DAtaAttributeService/v1/jobseeker/registrations",
    "uman": "UMAN/v1/return-to-work/roles",
    "pseudo": "pseudo/v1/domains/uhmep_v1/evaluate",
    "trio": "TRIO/v1/dossiers/exists",
}
NAMES = {"cin-affiliation": "CIN MemberData", "dimona": "Dimona (DAAS)", "seed-connect": "SEED-Connect (DAAS)",
         "jobseeker": "JobSeeker (DAAS)", "uman": "user management", "pseudo": "blinded pseudonymisation", "trio": "TRIO"}


def service(http: httpx.Client, base_url: str, token: MachineToken, name: str,
            paths: Mapping[str, str] | None = None) -> JsonService:
    path = {**RTW_PATHS, **(paths or {})}[name]
    return JsonService(http, base_url.rstrip("/") + "/" + path, service=NAMES[name], token=token)


def _date(svc: JsonService, value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise svc.error(errors.ANSWER_INVALID, f"{name} is not a date: {value!r}.") from None


def _items(svc: JsonService, answer: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = answer.get(name)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise svc.error(errors.ANSWER_INVALID, f"the answer has no list '{name}'.")
    return items


class PlatformPartnerSources:
    """:class:`PartnerSources` over the platform's JSON services."""

    def __init__(self, http: httpx.Client, base_url: str, token: MachineToken, paths: Mapping[str, str] | None = None) -> None:
        self.cin = service(http, base_url, token, "cin-affiliation", paths)
        self.dimona = service(http, base_url, token, "dimona", paths)
        self.seed = service(http, base_url, token, "seed-connect", paths)
        self.jobseeker = service(http, base_url, token, "jobseeker", paths)
        self.uman = service(http, base_url, token, "uman", paths)

    def insurer_of(self, niss: str, on: date) -> InsurerAffiliation | None:
        found = self.cin.call({"ssin": niss, "on": on.isoformat()}).get("insurer")
        if found is None:
            return None
        try:
            return InsurerAffiliation(str(found["code"]), str(found["name"]), str(found["cbe"]))
        except (KeyError, TypeError):
            raise self.cin.error(errors.ANSWER_INVALID, "the insurer lacks its code, name or CBE.") from None

    def employments_of(self, niss: str, on: date) -> Sequence[Employment]:
        svc = self.dimona
        return [Employment(str(e["employer_cbe"]), str(e["employer_name"]), _date(svc, e["start"], "start"),
                           _date(svc, e["end"], "end") if e.get("end") else None)
                for e in _items(svc, svc.call({"ssin": niss, "on": on.isoformat()}), "employments")]

    def prevention_services_of(self, employer_cbe: str, on: date) -> Sequence[PreventionService]:
        svc = self.seed
        return [PreventionService(str(s["cbe"]), str(s["name"]), str(s["employer_cbe"]))
                for s in _items(svc, svc.call({"employer_cbe": employer_cbe, "on": on.isoformat()}), "prevention_services")]

    def registrations_of(self, niss: str, on: date) -> Sequence[JobSeekerRegistration]:
        svc = self.jobseeker
        return [JobSeekerRegistration(str(r["cbe"]), str(r["name"]), str(r["region"]),
                                      _date(svc, r["registered_on"], "registered_on"))
                for r in _items(svc, svc.call({"ssin": niss, "on": on.isoformat()}), "registrations")]

    def staff_roles(self, niss: str) -> Sequence[StaffRole]:
        svc = self.uman
        return [StaffRole(str(r["organisation_cbe"]), str(r["role"])) for r in _items(svc, svc.call({"ssin": niss}), "roles")]
