"""Tables of the simulated TherLink and hub Consent services.

They live in the gateway's database (like ``register_mutation``) so that
every gateway instance serves the same links and consents. People are kept
as pseudonyms (``gateway.domain.pseudonyms``), never as plaintext NISS: only
the simulated national register holds plaintext numbers (``DESIGN.md``).
The number pseudonymised is the one the sandbox registries file the person
under, so a link follows a person whose NISS changed (IC-R5).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.domain.model import NIHII, PSEUDONYM
from gateway.ehealth.store import PlatformBase as Base


class TherapeuticLinkRow(Base):
    """A therapeutic link declared through TherLink, or the revocation of a
    link of the sandbox registries (``source = 'registry'``: the row copies
    that link's party and start date and carries ``revoked_on``).

    A link is active on a day when ``start <= day <= end`` and the day is
    before ``revoked_on``.
    """

    __tablename__ = "therlink_link"
    __table_args__ = (Index("ix_therlink_link_patient", "patient_pseudonym"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))  # therlink | registry
    patient_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    party_kind: Mapped[str] = mapped_column(String(16))  # professional | pharmacy
    party_pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, nullable=True)  # a professional's NISS
    party_nihii: Mapped[str] = mapped_column(NIHII)
    party_hcparty: Mapped[str] = mapped_column(String(40))  # CD-HCPARTY: persphysician, orgpharmacy, ...
    link_type: Mapped[str] = mapped_column(String(40))  # CD-THERAPEUTICLINKTYPE
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    proof_type: Mapped[str | None] = mapped_column(String(32), nullable=True)  # CD-PROOFTYPE
    comment: Mapped[str | None] = mapped_column(String(255), nullable=True)
    author_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    author_role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    revoked_by_pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PatientConsentRow(Base):
    """A patient's consent to the exchange of their health data through the
    hubs (CD-CONSENT ``retrospective``), as the hub Consent service records it.
    Revoking sets ``revoke_date``; a new consent is a new row."""

    __tablename__ = "hub_patient_consent"
    __table_args__ = (Index("ix_hub_patient_consent_patient", "patient_pseudonym"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    consent_type: Mapped[str] = mapped_column(String(32))
    sign_date: Mapped[date] = mapped_column(Date)
    revoke_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    author_pseudonym: Mapped[str] = mapped_column(PSEUDONYM)
    author_role: Mapped[str] = mapped_column(String(32))
    author_nihii: Mapped[str | None] = mapped_column(NIHII, nullable=True)
    author_hcparty: Mapped[str | None] = mapped_column(String(40), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_by_pseudonym: Mapped[str | None] = mapped_column(PSEUDONYM, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
