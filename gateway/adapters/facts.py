""":class:`~gateway.domain.ports.CareFacts` from the platform's services:
CoBrHa records from the AddressBook, everything the access policy must not
decide alone from the attribute authority."""

from __future__ import annotations

from datetime import date
from typing import Sequence

from gateway.adapters.addressbook import AddressBookClient
from gateway.adapters.attribute_authority import AttributeAuthorityClient
from gateway.domain.ports import Membership, OrganisationKind, OrganisationRecord, ProfessionalRecord


class PlatformCareFacts:
    """One :class:`CareFacts` composed of the AddressBook and the attribute authority."""

    def __init__(self, authority: AttributeAuthorityClient, addressbook: AddressBookClient) -> None:
        self.authority = authority
        self.addressbook = addressbook

    def professional(self, nihii: str) -> ProfessionalRecord | None:
        return self.addressbook.professional(nihii)

    def organisation(self, nihii: str) -> OrganisationRecord | None:
        return self.addressbook.organisation(nihii)

    def memberships(self, niss: str) -> Sequence[Membership]:
        return self.authority.memberships(niss)

    def has_therapeutic_link(self, professional_niss: str, patient_niss: str, on: date) -> bool:
        return self.authority.has_therapeutic_link(professional_niss, patient_niss, on)

    def pharmacy_has_therapeutic_link(self, pharmacy_nihii: str, patient_niss: str, on: date) -> bool:
        """Only a public pharmacy CoBrHa knows has pharmacy links (IC-A2); it is asked about then."""
        pharmacy = self.addressbook.organisation(pharmacy_nihii) if pharmacy_nihii else None
        if pharmacy is None or pharmacy.kind is not OrganisationKind.PHARMACY:
            return False
        return self.authority.pharmacy_has_therapeutic_link(pharmacy.nihii, patient_niss, on)

    def insurer_of(self, patient_niss: str, on: date) -> str | None:
        return self.authority.insurer_of(patient_niss, on)
