"""The attribute authority and CoBrHa of the sandbox: :class:`CareFacts`
answered from the sandbox registries."""

from __future__ import annotations

from datetime import date
from typing import Protocol, Sequence

from gateway.domain.ports import Membership, NationalRegister, OrganisationKind, OrganisationRecord, ProfessionalRecord
from gateway.ehealth.sandbox.links import registry_key
from gateway.ehealth.sandbox.registries import PharmacyLink, SandboxRegistries, TherapeuticLink


class LinkOverlay(Protocol):
    """The registries' links as changed since (TherLink: ``links.StoredLinks``)."""

    def professional_links(self, patient_key: str) -> Sequence[TherapeuticLink]: ...

    def pharmacy_links(self, patient_key: str) -> Sequence[PharmacyLink]: ...


class SandboxCareFacts:
    """CareFacts over a SandboxRegistries.

    Any number of a person finds them: current, former (BIS replaced by a
    national number) and, when a ``register`` is given, a number the
    register's mutation feed gave them later, so that links and memberships
    follow the person to the new number (IC-R5).

    With ``links`` (the links TherLink recorded and revoked), therapeutic
    links are the registries' links as TherLink changed them; without, the
    registries' links alone.
    """

    def __init__(
        self, registries: SandboxRegistries, *, register: NationalRegister | None = None, links: LinkOverlay | None = None,
    ) -> None:
        self._registries = registries
        self._register = register
        self._links = links

    def _key(self, niss: str) -> str:
        """The number the registries file this person under."""
        return registry_key(self._registries, self._register, niss)

    def _professional_links(self, patient_key: str) -> Sequence[TherapeuticLink]:
        return self._links.professional_links(patient_key) if self._links else self._registries.links_of(patient_key)

    def _pharmacy_links(self, patient_key: str) -> Sequence[PharmacyLink]:
        return self._links.pharmacy_links(patient_key) if self._links else self._registries.pharmacy_links_of(patient_key)

    def professional(self, nihii: str) -> ProfessionalRecord | None:
        return self._registries.professional(nihii)

    def organisation(self, nihii: str) -> OrganisationRecord | None:
        return self._registries.organisation(nihii)

    def memberships(self, niss: str) -> Sequence[Membership]:
        return tuple(m.as_membership() for m in self._registries.memberships_of(self._key(niss)))

    def has_therapeutic_link(self, professional_niss: str, patient_niss: str, on: date) -> bool:
        professional = self._key(professional_niss)
        return any(
            link.professional_niss == professional and link.active_on(on)
            for link in self._professional_links(self._key(patient_niss))
        )

    def pharmacy_has_therapeutic_link(self, pharmacy_nihii: str, patient_niss: str, on: date) -> bool:
        pharmacy = self._registries.organisation(pharmacy_nihii)
        if pharmacy is None or pharmacy.kind is not OrganisationKind.PHARMACY:
            return False
        return any(
            link.pharmacy_nihii == pharmacy.nihii and link.active_on(on)
            for link in self._pharmacy_links(self._key(patient_niss))
        )

    def insurer_of(self, patient_niss: str, on: date) -> str | None:
        """The insurer code; affiliations do not change in the sandbox, so ``on`` is not needed."""
        return self._registries.insurer_code_of(self._key(patient_niss))
