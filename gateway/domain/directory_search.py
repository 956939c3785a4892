"""Searching the care-provider directory (CoBrHa) and reading a patient by
the opaque id the faces show instead of a NISS.

Why a module beside :mod:`gateway.domain.directory`: a read names one
record by its number, a search needs a port that can list
(:class:`~gateway.domain.ports.CareDirectory`) and a rule on what the caller
may search and see. The standing rule is the reads' (every authenticated
caller in good standing, as the eHealth AddressBook); a professional's SSIN
is shown, and may be searched on, only by callers acting as a professional,
an organisation or an insurer (:func:`ssin_visibility`), as the AddressBook
does: a citizen sees names and NIHII numbers. Every search is one audited
act (IC-R8), with the names of its criteria, never their values.

The faces reach it through :attr:`gateway.domain.directory.DirectoryService.search`,
so that which directory answers (the sandbox registries, the platform's
AddressBook) is the composition root's choice alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Callable, Generic, Sequence, TypeVar

from gateway.domain.acts import Act
from gateway.domain.context import DomainContext
from gateway.domain.errors import InvalidInput, NotFound
from gateway.domain.identifiers import InvalidIdentifier, check_cbe, check_nihii, check_niss, compact
from gateway.domain.policy import Decision
from gateway.domain.ports import (
    CareDirectory,
    OrganisationKind,
    OrganisationQuery,
    OrganisationRecord,
    ProfessionalQuery,
    ProfessionalRecord,
)
from gateway.domain.pseudonyms import PseudonymError
from gateway.domain.views import PersonView
from gateway.domain.principal import Principal, Role

if TYPE_CHECKING:
    from gateway.domain.directory import DirectoryService

T = TypeVar("T")

# Who sees a professional's SSIN (AddressBook: professionals and organisations; insurers and the gateway too).
SEES_PROFESSIONAL_SSIN = frozenset({Role.PROVIDER, Role.PHARMACIST, Role.ORGANISATION, Role.INSURER, Role.SYSTEM})


@dataclass(frozen=True)
class ProfessionalEntry:
    """A professional as this caller may see them: ``niss`` is None when hidden."""

    nihii: str
    quality: str
    last_name: str
    first_name: str
    visa_valid_until: date | None
    niss: str | None

    def visa_valid_on(self, day: date) -> bool:
        return self.visa_valid_until is not None and day <= self.visa_valid_until


@dataclass(frozen=True)
class OrganisationEntry:
    nihii: str
    cbe: str
    ehp: str | None
    kind: OrganisationKind
    name: str
    insurer_code: str | None


@dataclass(frozen=True)
class DirectoryPage(Generic[T]):
    items: tuple[T, ...]
    total: int
    next_offset: int | None


def ssin_visibility(principal: Principal) -> Decision:
    """May this caller see (and search on) professionals' SSIN? Deny by default (IC-A9)."""
    if principal.role in SEES_PROFESSIONAL_SSIN:
        return Decision.allow("IC-A9", "professionals and organisations see professionals' SSIN")
    return Decision.deny("IC-A9", "ssin-search-not-allowed",
                         "Searching or seeing professionals by SSIN is for callers acting as a professional or an organisation; "
                         "search by NIHII or name instead.")


def professional_entry(principal: Principal, record: ProfessionalRecord) -> ProfessionalEntry:
    """What ``principal`` may see of ``record`` (read through :class:`DirectoryService`)."""
    shown = record.niss if ssin_visibility(principal).allowed else None
    return ProfessionalEntry(record.nihii, record.quality, record.last_name, record.first_name, record.visa_valid_until, shown)


def _identifier(check: Callable[[str], Any], value: str | None, path: str) -> str | None:
    if value is None:
        return None
    try:
        return str(check(value).value)
    except InvalidIdentifier as exc:
        raise InvalidInput(exc.code, exc.message, path=path) from None


def _check_page(count: int, offset: int, maximum: int) -> None:
    """Pages are bounded (IC-A8): no mass export of the directory either."""
    if not 1 <= count <= maximum:
        raise InvalidInput("page-size-out-of-range", f"Ask for 1 to {maximum} entries.", rule="IC-A8", path="_count")
    if offset < 0:
        raise InvalidInput("invalid-cursor", "The paging cursor is not one this server gave; start the search again.", path="_cursor")


def _slice(items: Sequence[T], count: int, offset: int) -> tuple[Sequence[T], int | None]:
    end = offset + count
    return items[offset:end], (end if end < len(items) else None)


class DirectorySearch:
    """Directory searches and the patient read by opaque id, each one audited act."""

    def __init__(self, ctx: DomainContext, directory: CareDirectory, reads: "DirectoryService | None" = None) -> None:
        self.ctx = ctx
        self.directory = directory
        self._reads = reads

    @property
    def reads(self) -> "DirectoryService":
        """The reads by number (the patient read of :meth:`patient_by_pseudonym`)."""
        if self._reads is None:
            from gateway.domain.directory import DirectoryService

            self._reads = DirectoryService(self.ctx, self.directory)
        return self._reads

    def organisation_entry(self, record: OrganisationRecord) -> OrganisationEntry:
        return OrganisationEntry(record.nihii, record.cbe, self.directory.ehp_number(record), record.kind, record.name,
                                 record.insurer_code)

    def professionals(self, principal: Principal, query: ProfessionalQuery, *, count: int, offset: int = 0,
                      channel: str = "internal") -> DirectoryPage[ProfessionalEntry]:
        ctx = self.ctx

        def body(act: Act) -> DirectoryPage[ProfessionalEntry]:
            act.require(ctx.policy.standing(principal))
            _check_page(count, offset, ctx.settings.max_page_size)
            if not query.criteria():
                raise InvalidInput("search-criteria-missing", "Give at least one of identifier, name, family, given, qualification.",
                                   path="search")
            if query.ssin and not ssin_visibility(principal).allowed:
                act.require(ssin_visibility(principal))
            checked = ProfessionalQuery(
                nihii=_identifier(check_nihii, query.nihii, "identifier"), ssin=_identifier(check_niss, query.ssin, "identifier"),
                family=query.family, given=query.given, name=query.name, quality=query.quality,
            )
            found = self.directory.find_professionals(checked)
            act.detail.update(criteria=query.criteria(), found=len(found))
            page, next_offset = _slice(found, count, offset)
            return DirectoryPage(tuple(professional_entry(principal, r) for r in page), len(found), next_offset)

        return ctx.runner.run(principal, "practitioner.search", body, channel=channel, resource_type="practitioner")

    def organisations(self, principal: Principal, query: OrganisationQuery, *, count: int, offset: int = 0,
                      channel: str = "internal") -> DirectoryPage[OrganisationEntry]:
        ctx = self.ctx

        def body(act: Act) -> DirectoryPage[OrganisationEntry]:
            act.require(ctx.policy.standing(principal))
            _check_page(count, offset, ctx.settings.max_page_size)
            if not query.criteria():
                raise InvalidInput("search-criteria-missing", "Give at least one of identifier, name, type.", path="search")
            checked = OrganisationQuery(
                nihii=_identifier(check_nihii, query.nihii, "identifier"), cbe=_identifier(check_cbe, query.cbe, "identifier"),
                ehp=compact(query.ehp) if query.ehp else None, kind=query.kind, name=query.name,
            )
            found = self.directory.find_organisations(checked)
            act.detail.update(criteria=query.criteria(), found=len(found))
            page, next_offset = _slice(found, count, offset)
            return DirectoryPage(tuple(self.organisation_entry(r) for r in page), len(found), next_offset)

        return ctx.runner.run(principal, "organization.search", body, channel=channel, resource_type="organization")

    def patient_by_pseudonym(self, principal: Principal, pseudonym: str, *, channel: str = "internal") -> PersonView:
        """IC-R9 under the consult rules, for a patient named by their pseudonym
        (so that no plaintext NISS travels in a URL). A value that is no
        pseudonym of ours names nobody: that read is refused, and audited too."""
        try:
            niss = self.ctx.pseudonyms.reveal(pseudonym)
        except PseudonymError:
            def unknown(act: Act) -> PersonView:
                # The value is not kept (it may be a NISS sent as an id: IC-R10); a NISS is audited by its pseudonym.
                try:
                    act.patient_pseudonym = self.ctx.pseudonyms.pseudonymise(check_niss(pseudonym).value)
                except InvalidIdentifier:
                    pass
                raise NotFound("unknown-patient", "No patient has this id: ids are opaque; search by identifier (the NISS) "
                               "to find a patient's id.", path="id")

            return self.ctx.runner.run(principal, "patient.read", unknown, channel=channel, resource_type="patient")
        return self.reads.patient(principal, niss, channel=channel)


__all__ = ["CareDirectory", "DirectoryPage", "DirectorySearch", "OrganisationEntry", "OrganisationKind", "OrganisationQuery",
           "ProfessionalEntry", "ProfessionalQuery", "SEES_PROFESSIONAL_SSIN", "professional_entry", "ssin_visibility"]
