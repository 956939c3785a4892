"""Reading people and organisations for display: a patient from the national
register at read time (IC-R9), under the consult rules (IC-F2); care
providers and organisations from CoBrHa, open to every authenticated caller
in good standing (as the AddressBook is). Each read is audited.

The searches (:attr:`DirectoryService.search`) need the directory port
(:class:`~gateway.domain.ports.CareDirectory`), given by the composition
root; the faces reach them here, never by building a directory themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from gateway.domain.acts import Act
from gateway.domain.context import DomainContext
from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.identifiers import InvalidIdentifier, check_nihii
from gateway.domain.inclusions import check_patient_niss, person_view
from gateway.domain.ports import (
    CareDirectory,
    OrganisationQuery,
    OrganisationRecord,
    ProfessionalQuery,
    ProfessionalRecord,
    SourceUnavailable,
)
from gateway.domain.views import PersonView
from gateway.domain.visibility import in_project
from gateway.domain.principal import Principal

if TYPE_CHECKING:
    from gateway.domain.directory_search import DirectorySearch


class DirectoryService:
    def __init__(self, ctx: DomainContext, directory: CareDirectory | None = None) -> None:
        self.ctx = ctx
        self.directory = directory
        self._search: "DirectorySearch | None" = None

    @property
    def search(self) -> "DirectorySearch":
        """The directory searches over the configured directory port (and the
        patient read by opaque id, which needs none)."""
        if self._search is None:
            from gateway.domain.directory_search import DirectorySearch

            self._search = DirectorySearch(self.ctx, self.directory or NoDirectory(), self)
        return self._search

    def patient(self, principal: Principal, niss: str, *, channel: str = "internal") -> PersonView:
        ctx = self.ctx

        def body(act: Act) -> PersonView:
            value = check_patient_niss(niss, "identifier")
            person = ctx.register.person(value)
            current = person.niss if person else value
            act.patient_pseudonym = ctx.pseudonyms.pseudonymise(current)
            same = person is not None and principal.niss in (person.niss, *person.previous_niss)
            decision = act.require(ctx.policy.consult(principal, current, same_person=same))
            # IC-A3: PSI staff see people included in their PSI only; whether anyone
            # else holds this number is not theirs to learn (one answer for both).
            if decision.own_psi is not None and (person is None or not in_project(act.session, act.patient_pseudonym, decision.own_psi)):
                raise NotFound("unknown-patient", "No patient with this NISS in your project.", rule="IC-A3", path="identifier")
            if person is None:
                raise NotFound("unknown-patient", f"No person with NISS {value} in the national register.", path="identifier")
            act.rule = "IC-R9"
            return person_view(person)

        return ctx.runner.run(principal, "patient.read", body, channel=channel, resource_type="patient")

    def _standing(self, act: Act) -> None:
        act.require(self.ctx.policy.standing(act.principal))

    def _registry_read(self, principal: Principal, nihii: str, what: str, look_up, channel: str):  # type: ignore[no-untyped-def]
        """One CoBrHa read by NIHII, for any caller in good standing."""
        def body(act: Act):  # type: ignore[no-untyped-def]
            self._standing(act)
            try:
                value = check_nihii(nihii).value
            except InvalidIdentifier as exc:
                raise InvalidInput(exc.code, exc.message, path="identifier") from None
            act.resource_id = value  # only a valid NIHII is kept: a NISS sent as an id never is (IC-R10)
            record = look_up(value)
            if record is None:
                raise NotFound(f"unknown-{what}", f"No {what} with NIHII {value} in CoBrHa.", path="identifier")
            return record

        return self.ctx.runner.run(principal, f"{'practitioner' if what == 'provider' else 'organization'}.read", body,
                                   channel=channel, resource_type="practitioner" if what == "provider" else "organization")

    def professional(self, principal: Principal, nihii: str, *, channel: str = "internal") -> ProfessionalRecord:
        return self._registry_read(principal, nihii, "provider", self.ctx.facts.professional, channel)

    def organisation(self, principal: Principal, nihii: str, *, channel: str = "internal") -> OrganisationRecord:
        return self._registry_read(principal, nihii, "organisation", self.ctx.facts.organisation, channel)


class NoDirectory:
    """The directory of a gateway given none: every search is refused as a
    source that cannot answer (a 503 on the faces), never as "nothing found"."""

    def _refuse(self) -> SourceUnavailable:
        return SourceUnavailable("directory-not-configured", "This gateway has no provider directory configured, so it "
                                 "cannot search CoBrHa; its operator configures the platform's AddressBook.",
                                 details={"service": "AddressBook"})

    def find_professionals(self, query: ProfessionalQuery) -> Sequence[ProfessionalRecord]:
        raise self._refuse()

    def find_organisations(self, query: OrganisationQuery) -> Sequence[OrganisationRecord]:
        raise self._refuse()

    def ehp_number(self, organisation: OrganisationRecord) -> str | None:
        raise self._refuse()
