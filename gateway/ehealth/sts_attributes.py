"""What the simulated STS certifies, and only when its registries confirm
it (``ehealth.md``): a claimed attribute becomes an assertion attribute
after a check against CoBrHa (professionals, visas), the organisations and
their staff memberships; otherwise :class:`AttributeRefused` names the
attribute and says why, so that the caller can fix its request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from gateway.domain.identifiers import compact
from gateway.domain.ports import OrganisationKind, ProfessionalRecord
from gateway.domain.professions import PROFESSIONS
from gateway.identity.claims import (
    ATTR_CERT_HOLDER_SSIN,
    ATTR_DOCTOR_BOOLEAN,
    ATTR_DOCTOR_NIHII,
    ATTR_GIVENNAME,
    ATTR_PERSON_SSIN,
    ATTR_SURNAME,
    CERTIFIED_NS,
    IDENTIFICATION_NS,
    attr_org_nihii,
    attr_org_recognised,
    attr_org_role,
    ORGANISATION_TOKEN_ROLES,
    attr_professional_boolean,
    attr_professional_nihii,
    ATTR_RTW_CBE,
    RTW_TOKEN_ROLES,
    attr_rtw_role,
)
from gateway.identity.saml import Attribute

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

_PRO = "urn:be:fgov:person:ssin:ehealth:1.0:professional:"
_NIHII = "urn:be:fgov:person:ssin:ehealth:1.0:nihii:"
# The staff role an organisation attribute needs; other kinds accept any member.
_ORG_ROLE = {OrganisationKind.PHARMACY: "pharmacist"}


@dataclass(frozen=True)
class Claim:
    """One requested attribute: its URI and, if the caller states one, its value."""

    uri: str
    value: str | None = None


class AttributeRefused(Exception):
    """The STS will not certify ``attribute``."""

    def __init__(self, code: str, attribute: str, reason: str) -> None:
        super().__init__(f"The STS cannot certify {attribute}: {reason}")
        self.code = code
        self.attribute = attribute
        self.reason = reason
        self.message = str(self)


class _Certifier:
    """Certifies the claims of one person (``niss``, from their certificate)."""

    def __init__(self, platform: "Platform", niss: str, today: date) -> None:
        self.platform = platform
        self.niss = niss
        self.today = today
        self.out: dict[str, Attribute] = {}

    def add(self, namespace: str, name: str, value: str) -> None:
        self.out[name] = (namespace, name, [value])

    def professional(self, claim: Claim, quality: str) -> ProfessionalRecord:
        if quality not in PROFESSIONS:
            raise AttributeRefused("sts-attribute-unknown", claim.uri, f"{quality!r} is not a profession the STS knows.")
        records = [r for r in self.platform.registries.professionals_of(self.niss) if r.quality == quality]
        if not records:
            raise AttributeRefused("sts-not-a-professional", claim.uri,
                                   f"CoBrHa has no {PROFESSIONS[quality].label} with the certificate's SSIN.")
        valid = [r for r in records if r.visa_valid_on(self.today)]
        if not valid:
            until = records[0].visa_valid_until
            raise AttributeRefused("sts-visa-invalid", claim.uri, f"the {PROFESSIONS[quality].label}'s visa is not valid "
                                   f"today ({'no visa' if until is None else 'expired ' + until.isoformat()}).")
        record = valid[0]
        if claim.uri.endswith(":nihii11") and claim.value and compact(claim.value) != record.nihii:
            raise AttributeRefused("sts-nihii-mismatch", claim.uri,
                                   f"NIHII {claim.value} is not this {PROFESSIONS[quality].label}'s number.")
        return record

    def certify_professional(self, claim: Claim, quality: str) -> None:
        record = self.professional(claim, quality)
        if quality == "doctor" and claim.uri in (ATTR_DOCTOR_BOOLEAN, ATTR_DOCTOR_NIHII):
            self.add(CERTIFIED_NS, ATTR_DOCTOR_BOOLEAN, "true")
            self.add(CERTIFIED_NS, ATTR_DOCTOR_NIHII, record.nihii)
        else:
            self.add(CERTIFIED_NS, attr_professional_boolean(quality), "true")
            self.add(CERTIFIED_NS, attr_professional_nihii(quality), record.nihii)
        self.add(CERTIFIED_NS, ATTR_GIVENNAME, record.first_name)
        self.add(CERTIFIED_NS, ATTR_SURNAME, record.last_name)

    def certify_organisation(self, claim: Claim, kind: OrganisationKind) -> None:
        if not claim.value:
            raise AttributeRefused("sts-value-required", claim.uri, "state the organisation's NIHII as the value.")
        organisation = self.platform.facts.organisation(claim.value)
        if organisation is None or organisation.kind is not kind:
            raise AttributeRefused("sts-organisation-unknown", claim.uri,
                                   f"{claim.value} is not a recognised {kind.value} NIHII.")
        role = _ORG_ROLE.get(kind)
        if not any(m.organisation_nihii == organisation.nihii and (role is None or m.role == role)
                   for m in self.platform.facts.memberships(self.niss)):
            raise AttributeRefused("sts-not-member", claim.uri, f"the certificate's holder is not "
                                   f"{'a ' + role if role else 'a member'} of {kind.value} {organisation.nihii}.")
        self.add(IDENTIFICATION_NS, attr_org_nihii(kind.value), organisation.nihii)

    def certify_role(self, claim: Claim, org: str, role: str) -> None:
        """The holder's role in the organisation already certified in this token."""
        entry = self.out.get(attr_org_nihii(org))
        nihii = entry[2][0] if entry else None
        if nihii is None:
            raise AttributeRefused("sts-value-required", claim.uri, f"request {attr_org_nihii(org)} with the organisation's NIHII too.")
        if not any(m.organisation_nihii == nihii and m.role == role for m in self.platform.facts.memberships(self.niss)):
            raise AttributeRefused("sts-not-member", claim.uri, f"the certificate's holder is not {role} of {org} {nihii}.")
        self.add(CERTIFIED_NS, claim.uri, "true")

    def certify_rtw(self, claim: Claim) -> None:
        """Return to work: the partner's CBE, then the role in it, as user management confirms them."""
        from gateway.ehealth.rtw.facts import SandboxPartnerSources
        from gateway.ehealth.rtw.state import rtw_state

        held = SandboxPartnerSources(rtw_state(self.platform)).staff_roles(self.niss)
        # RP-S1: eHealth vouches for insurers', prevention services' and INAMI's users, never a regional service's
        ours = {(m.organisation.cbe, m.role.value) for m in rtw_state(self.platform).sandbox.roles_signing_in(self.niss, "ehealth")}
        if claim.uri == ATTR_RTW_CBE and any(r.organisation_cbe == claim.value for r in held) and not any(
                cbe == claim.value for cbe, _ in ours):
            raise AttributeRefused("sts-wrong-identity-provider", claim.uri, "users of a regional employment service sign "
                                   "in through the social-security crossroads bank's STS, not eHealth's (RP-S1).")
        held = [r for r in held if (r.organisation_cbe, r.role) in ours]
        if claim.uri == ATTR_RTW_CBE:
            if not claim.value or not any(r.organisation_cbe == claim.value for r in held):
                raise AttributeRefused("sts-not-member", claim.uri, "user management knows the certificate's holder in no "
                                       "return-to-work partner of that CBE: state your organisation's CBE as the value.")
            self.add(IDENTIFICATION_NS, ATTR_RTW_CBE, claim.value)
            return
        entry = self.out.get(ATTR_RTW_CBE)
        if entry is None:
            raise AttributeRefused("sts-value-required", claim.uri, f"request {ATTR_RTW_CBE} with the partner's CBE too.")
        role = next(r for r in RTW_TOKEN_ROLES if claim.uri == attr_rtw_role(r))
        if not any(r.organisation_cbe == entry[2][0] and r.role == role for r in held):
            raise AttributeRefused("sts-not-member", claim.uri, f"user management does not confirm the role {role} of the "
                                   f"certificate's holder at {entry[2][0]}.")
        self.add(CERTIFIED_NS, claim.uri, "true")

    def certify(self, claim: Claim) -> None:
        uri = claim.uri
        if uri == ATTR_RTW_CBE or _rtw_role(uri):
            self.certify_rtw(claim)
            return
        if uri in (ATTR_CERT_HOLDER_SSIN, ATTR_PERSON_SSIN):
            if claim.value and compact(claim.value) != self.niss:
                raise AttributeRefused("sts-ssin-mismatch", uri, "the SSIN claimed is not the SSIN the certificate names.")
        elif uri in (ATTR_DOCTOR_BOOLEAN, ATTR_DOCTOR_NIHII):
            self.certify_professional(claim, "doctor")
        elif uri in (ATTR_GIVENNAME, ATTR_SURNAME):
            person = self.platform.registries.person(self.niss)
            if person is None:
                raise AttributeRefused("sts-person-unknown", uri, "the national register does not know this SSIN.")
            self.add(CERTIFIED_NS, ATTR_GIVENNAME, person.first_name)
            self.add(CERTIFIED_NS, ATTR_SURNAME, person.last_name)
        elif uri.startswith(_PRO) and uri.endswith(":boolean"):
            self.certify_professional(claim, uri[len(_PRO):-len(":boolean")])
        elif uri.startswith(_NIHII) and uri.endswith(":nihii11"):
            self.certify_professional(claim, uri[len(_NIHII):-len(":nihii11")])
        elif (kind := _org_kind(uri)) is not None:
            self.certify_organisation(claim, kind)
        elif (held := _org_role(uri)) is not None:
            self.certify_role(claim, *held)
        elif (kind := _recognised_kind(uri)) is not None:
            if attr_org_nihii(kind.value) not in self.out:
                raise AttributeRefused("sts-value-required", uri,
                                       f"request {attr_org_nihii(kind.value)} with the organisation's NIHII too.")
            self.add(CERTIFIED_NS, uri, "true")
        else:
            raise AttributeRefused("sts-attribute-unknown", uri, "the STS certifies no attribute of that name.")


def _org_kind(uri: str) -> OrganisationKind | None:
    return next((k for k in OrganisationKind if uri == attr_org_nihii(k.value)), None)


def _org_role(uri: str) -> tuple[str, str] | None:
    return next(((org, role) for org, role in ORGANISATION_TOKEN_ROLES if uri == attr_org_role(org, role)), None)


def _rtw_role(uri: str) -> bool:
    return uri.startswith(ATTR_RTW_CBE + ":") and any(uri == attr_rtw_role(r) for r in RTW_TOKEN_ROLES)


def _recognised_kind(uri: str) -> OrganisationKind | None:
    return next((k for k in OrganisationKind if uri == attr_org_recognised(k.value)), None)


def certify(platform: "Platform", niss: str, claims: list[Claim], today: date) -> list[Attribute]:
    """The attributes of an assertion for the holder of ``niss``: the
    identification attributes, then each claim the registries confirm.
    Raises :class:`AttributeRefused` on the first claim they do not."""
    certifier = _Certifier(platform, niss, today)
    certifier.add(IDENTIFICATION_NS, ATTR_CERT_HOLDER_SSIN, niss)
    certifier.add(IDENTIFICATION_NS, ATTR_PERSON_SSIN, niss)
    # organisation numbers before the "recognised" booleans that depend on them
    for claim in sorted(claims, key=lambda c: _recognised_kind(c.uri) is not None or _org_role(c.uri) is not None or _rtw_role(c.uri)):
        certifier.certify(claim)
    return list(certifier.out.values())
