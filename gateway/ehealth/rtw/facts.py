"""The return-to-work ports answered in process from the sandbox data, for
tests of the domain alone (as :mod:`gateway.ehealth.sandbox.facts` is for
Integrated Care); the gateway itself asks over the wire
(:mod:`gateway.adapters.rtw_sources`). Each answer is counted like a call
to the simulated service."""

from __future__ import annotations

from datetime import date
from typing import Sequence

from gateway import blinded_pseudonyms as blinding
from gateway.domain.rtw.ports import Employment, InsurerAffiliation, JobSeekerRegistration, PreventionService, StaffRole
from gateway.ehealth.rtw.sandbox import TRIO_DOMAIN
from gateway.ehealth.rtw.state import RtwPlatformState


class SandboxPartnerSources:
    def __init__(self, state: RtwPlatformState) -> None:
        self.state = state
        self.data = state.sandbox

    def insurer_of(self, niss: str, on: date) -> InsurerAffiliation | None:
        self.state.count("cin-affiliation")
        return self.data.insurer_of(niss)

    def employments_of(self, niss: str, on: date) -> Sequence[Employment]:
        self.state.count("dimona")
        return self.data.employments_of(niss, on)

    def prevention_services_of(self, employer_cbe: str, on: date) -> Sequence[PreventionService]:
        self.state.count("seed-connect")
        return self.data.prevention_services_of(employer_cbe)

    def registrations_of(self, niss: str, on: date) -> Sequence[JobSeekerRegistration]:
        self.state.count("jobseeker")
        return self.data.registrations_of(niss, on)

    def staff_roles(self, niss: str) -> Sequence[StaffRole]:
        self.state.count("uman")
        return self.data.staff_roles(niss)


class SandboxTrio:
    """TRIO asked with the person's pseudonym in its domain (what it receives is recorded)."""

    def __init__(self, state: RtwPlatformState) -> None:
        self.state = state

    def has_dossier(self, niss: str) -> bool:
        data = self.state.sandbox
        current = data.current(niss) or niss
        pseudonym = blinding.encode(blinding.pseudonym(current, TRIO_DOMAIN, data.trio_key))
        self.state.trio_received.append({"pseudonym": pseudonym})
        return current in data.trio_niss
