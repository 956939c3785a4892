"""Therapeutic links as TherLink has left them: the sandbox registries'
links, less those revoked through TherLink, plus those declared through it
(table ``therlink_link``).

:class:`StoredLinks` is what :class:`~gateway.ehealth.sandbox.facts.SandboxCareFacts`
reads, so that the access policy (IC-A1, IC-A2) sees a link the moment TherLink
records or revokes it, on every gateway instance. Reads outside a given
session use a plain autocommit connection, as the register does: the policy
asks in the middle of a use case's write transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

from gateway.domain.database import Database
from gateway.domain.identifiers import compact
from gateway.domain.ports import NationalRegister, OrganisationKind
from gateway.domain.professions import PROFESSIONS
from gateway.domain.pseudonyms import PseudonymService
from gateway.ehealth.hub_model import TherapeuticLinkRow
from gateway.ehealth.sandbox.registries import PharmacyLink, SandboxRegistries, TherapeuticLink

PROFESSIONAL = "professional"
PHARMACY = "pharmacy"
FROM_REGISTRY = "registry"
FROM_THERLINK = "therlink"

# CD-THERAPEUTICLINKTYPE codes the sandbox knows (a subset of its own; see docs/ehealth-sandbox.md).
LINK_TYPES: dict[str, str] = {
    "gpconsultation": "consultation with a general practitioner",
    "gphomevisit": "home visit by a general practitioner",
    "consultation": "consultation with another care professional",
    "homenursing": "home nursing care",
    "hospitaladmission": "hospital admission",
    "pharmaceuticalcare": "care relationship between a public pharmacy and a patient",
}
PHARMACY_HCPARTY = "orgpharmacy"


def registry_key(registries: SandboxRegistries, register: NationalRegister | None, niss: str) -> str:
    """The number the sandbox registries file this person under: their
    current or former number there, or, through the register's mutation
    feed, the number they had before a NISS change (IC-R5)."""
    known = registries.current_niss(niss)
    if known is not None:
        return known
    if register is not None:
        person = register.person(niss)
        for number in (person.previous_niss if person else ()):
            known = registries.current_niss(number)
            if known is not None:
                return known
    return compact(niss)


def implied_type(party_kind: str, quality: str | None) -> str:
    """The link type of a registry link (the registries record none)."""
    if party_kind == PHARMACY:
        return "pharmaceuticalcare"
    return "gpconsultation" if quality == "doctor" else "consultation"


@dataclass(frozen=True)
class Link:
    """One therapeutic link as TherLink shows it."""

    source: str  # registry | therlink
    row_id: int | None
    patient_key: str
    party_kind: str  # professional | pharmacy
    party_key: str | None  # the professional's NISS (registry key); None for a pharmacy
    party_nihii: str
    party_hcparty: str
    link_type: str
    start: date
    end: date | None
    revoked_on: date | None = None
    proof_type: str | None = None
    comment: str | None = None

    def active_on(self, day: date) -> bool:
        return (self.start <= day and (self.end is None or day <= self.end)
                and (self.revoked_on is None or day < self.revoked_on))

    @property
    def effective_end(self) -> date | None:
        """The last day the link is active (a revocation ends it the day before)."""
        if self.revoked_on is None:
            return self.end
        last = self.revoked_on - timedelta(days=1)
        return last if self.end is None or last < self.end else self.end

    def same_registry_link(self, row: TherapeuticLinkRow | "Link") -> bool:
        return (self.party_kind, self.party_nihii, self.start) == (row.party_kind, row.party_nihii,
                                                                   row.start if isinstance(row, Link) else row.start_date)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


_COLUMNS = (
    TherapeuticLinkRow.id, TherapeuticLinkRow.source, TherapeuticLinkRow.party_kind, TherapeuticLinkRow.party_pseudonym,
    TherapeuticLinkRow.party_nihii, TherapeuticLinkRow.party_hcparty, TherapeuticLinkRow.link_type,
    TherapeuticLinkRow.start_date, TherapeuticLinkRow.end_date, TherapeuticLinkRow.revoked_on,
    TherapeuticLinkRow.proof_type, TherapeuticLinkRow.comment,
)


class StoredLinks:
    """The registries' links with TherLink's additions and revocations."""

    def __init__(
        self,
        registries: SandboxRegistries,
        database: Database,
        pseudonyms: PseudonymService,
        register: NationalRegister | None = None,
    ) -> None:
        self.registries = registries
        self.database = database
        self.pseudonyms = pseudonyms
        self.register = register

    def key(self, niss: str) -> str:
        return registry_key(self.registries, self.register, niss)

    # ------------------------------------------------------------ reading

    def links_of(self, patient_niss: str, session: Session | None = None) -> list[Link]:
        """Every link of a patient, ended and revoked ones included, registry links first."""
        patient = self.key(patient_niss)
        statement = (select(*_COLUMNS)
                     .where(TherapeuticLinkRow.patient_pseudonym == self.pseudonyms.pseudonymise(patient))
                     .order_by(TherapeuticLinkRow.id))
        rows = session.execute(statement).all() if session is not None else self._read(statement)
        stored = [self._link(patient, row) for row in rows]
        revocations = [link for link in stored if link.source == FROM_REGISTRY]
        result: list[Link] = []
        for link in self._registry_links(patient):
            override = next((r for r in revocations if link.same_registry_link(r)), None)
            result.append(link if override is None else _with_revocation(link, override.revoked_on))
        result.extend(link for link in stored if link.source == FROM_THERLINK)
        return result

    def professional_links(self, patient_key: str) -> tuple[TherapeuticLink, ...]:
        """For SandboxCareFacts: the professional links, revocations applied."""
        return tuple(
            TherapeuticLink(link.party_key or "", link.patient_key, link.start, _end_for_facts(link))
            for link in self.links_of(patient_key) if link.party_kind == PROFESSIONAL
        )

    def pharmacy_links(self, patient_key: str) -> tuple[PharmacyLink, ...]:
        return tuple(
            PharmacyLink(link.party_nihii, link.patient_key, link.start, _end_for_facts(link))
            for link in self.links_of(patient_key) if link.party_kind == PHARMACY
        )

    def _registry_links(self, patient: str) -> list[Link]:
        links: list[Link] = []
        for link in self.registries.links_of(patient):
            record = next(iter(self.registries.professionals_of(link.professional_niss)), None)
            quality = record.quality if record else None
            hcparty = PROFESSIONS[quality].hcparty if quality in PROFESSIONS else "persphysician"
            links.append(Link(FROM_REGISTRY, None, patient, PROFESSIONAL, link.professional_niss,
                              record.nihii if record else "", hcparty, implied_type(PROFESSIONAL, quality),
                              link.start, link.end))
        for plink in self.registries.pharmacy_links_of(patient):
            links.append(Link(FROM_REGISTRY, None, patient, PHARMACY, None, plink.pharmacy_nihii, PHARMACY_HCPARTY,
                              implied_type(PHARMACY, None), plink.start, plink.end))
        return links

    def _link(self, patient: str, row: Sequence[Any]) -> Link:
        (row_id, source, kind, party_pseudonym, nihii, hcparty, link_type, start, end, revoked_on, proof, comment) = row
        party_key = self.pseudonyms.reveal(party_pseudonym) if party_pseudonym else None
        start_day = _day(start)
        assert start_day is not None
        return Link(source, int(row_id), patient, kind, party_key, nihii, hcparty, link_type, start_day, _day(end),
                    _day(revoked_on), proof, comment)

    def _read(self, statement: ClauseElement) -> list[tuple[Any, ...]]:
        return self.database.read_outside(statement)

    # ------------------------------------------------------------ writing

    def add(
        self, session: Session, link: Link, *, author_niss: str, author_role: str, now: datetime,
    ) -> Link:
        """Record a link declared through TherLink."""
        row = TherapeuticLinkRow(
            source=FROM_THERLINK, patient_pseudonym=self.pseudonyms.pseudonymise(link.patient_key),
            party_kind=link.party_kind,
            party_pseudonym=self.pseudonyms.pseudonymise(link.party_key) if link.party_key else None,
            party_nihii=link.party_nihii, party_hcparty=link.party_hcparty, link_type=link.link_type,
            start_date=link.start, end_date=link.end, proof_type=link.proof_type, comment=link.comment,
            author_pseudonym=self.pseudonyms.pseudonymise(author_niss), author_role=author_role, created_at=now,
        )
        session.add(row)
        session.flush()
        return Link(FROM_THERLINK, row.id, link.patient_key, link.party_kind, link.party_key, link.party_nihii,
                    link.party_hcparty, link.link_type, link.start, link.end, None, link.proof_type, link.comment)

    def revoke(self, session: Session, link: Link, *, on: date, by_niss: str, by_role: str, now: datetime) -> None:
        """End a link from ``on`` (it is no longer active that day)."""
        by = self.pseudonyms.pseudonymise(by_niss)
        if link.source == FROM_THERLINK and link.row_id is not None:
            row = session.get(TherapeuticLinkRow, link.row_id)
            assert row is not None
            row.revoked_on, row.revoked_by_pseudonym, row.revoked_at = on, by, now
            return
        session.add(TherapeuticLinkRow(
            source=FROM_REGISTRY, patient_pseudonym=self.pseudonyms.pseudonymise(link.patient_key),
            party_kind=link.party_kind,
            party_pseudonym=self.pseudonyms.pseudonymise(link.party_key) if link.party_key else None,
            party_nihii=link.party_nihii, party_hcparty=link.party_hcparty, link_type=link.link_type,
            start_date=link.start, end_date=link.end, author_pseudonym=by, author_role=by_role, created_at=now,
            revoked_on=on, revoked_by_pseudonym=by, revoked_at=now,
        ))
        session.flush()


def _with_revocation(link: Link, revoked_on: date | None) -> Link:
    return Link(link.source, link.row_id, link.patient_key, link.party_kind, link.party_key, link.party_nihii,
                link.party_hcparty, link.link_type, link.start, link.end, revoked_on, link.proof_type, link.comment)


def _end_for_facts(link: Link) -> date | None:
    """The registries' link shape has no revocation: a link revoked before it
    started ends the day before its start (never active)."""
    end = link.effective_end
    if end is not None and end < link.start:
        return link.start - timedelta(days=1)
    return end


def is_pharmacy(registries: SandboxRegistries, nihii: str) -> bool:
    organisation = registries.organisation(nihii)
    return organisation is not None and organisation.kind is OrganisationKind.PHARMACY
