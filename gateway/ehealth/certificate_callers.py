"""Organisations calling the simulated services as themselves, with their
eHealth certificate alone (``ehealth.md``: certificate-only calls, a
BinarySecurityToken referenced by the signature over Body, Timestamp and
token), beside the people who call with an STS token.

That is how the gateway's adapters (:mod:`gateway.adapters`) ask the
platform: on nobody's behalf, for the access policy, as a hospital's or a
vendor's server would. The certificate must chain to the sandbox CA (the
identity layer checks it) and name an organisation of the sandbox
registries (``CN=NIHII-HOSPITAL=…`` or ``CN=CBE=…``); the caller is then a
:class:`~gateway.domain.principal.Principal` with the role
``organisation``, which the services answer as they answer an organisation
acting as itself (the attribute authority: about anyone; the AddressBook:
with professionals' SSIN; consultRN: look-ups and the mutation feed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptography import x509
from lxml import etree

from gateway.domain.ports import OrganisationRecord
from gateway.ehealth.pki import ORG_PREFIX, subject_identifier
from gateway.domain.principal import SYSTEM_NISS, Principal, Role
from gateway.namespaces import SAML1_NS, WSSE_NS
from gateway.soap11.envelope import STATUS_NOT_AUTHORIZED, Envelope, SoapFault
from gateway.soap11.service import Security

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform


def organisation_of(platform: "Platform", certificate: x509.Certificate) -> OrganisationRecord | None:
    """The organisation an eHealth-shaped certificate names, if the registries know it under that kind."""
    kind, value = subject_identifier(certificate)
    registries = platform.registries
    if kind == "CBE":
        return registries.organisation_by_cbe(value)
    organisation = registries.organisation(value) if kind.startswith("NIHII-") else None
    return organisation if organisation is not None and ORG_PREFIX.get(organisation.kind) == kind else None


def organisation_principal(platform: "Platform", certificate: x509.Certificate) -> Principal:
    organisation = organisation_of(platform, certificate)
    if organisation is None:
        raise SoapFault("certificate-not-an-organisation", "A call signed with a certificate alone is for an organisation "
                        "acting as itself, and this certificate names none the platform knows; a person signs with an "
                        "STS token (SAML holder-of-key).", status=STATUS_NOT_AUTHORIZED, path="/Envelope/Header/Security")
    return Principal(niss=SYSTEM_NISS, role=Role.ORGANISATION, organisation_nihii=organisation.nihii,
                     organisation_cbe=organisation.cbe, display_name=organisation.name, authentication="x509")


def token_or_certificate(platform: "Platform", token: Security, certificate: Security) -> Security:
    """``token`` for messages carrying a SAML assertion, ``certificate`` for
    those carrying only a BinarySecurityToken (its caller: the organisation
    the certificate names)."""

    def security(envelope: Envelope, raw: bytes) -> tuple[etree._Element, Principal | None, Any]:
        header = envelope.header
        certificate_only = (header is not None and header.find(f".//{{{WSSE_NS}}}BinarySecurityToken") is not None
                            and header.find(f".//{{{SAML1_NS}}}Assertion") is None)
        if not certificate_only:
            return token(envelope, raw)
        payload, _, verified = certificate(envelope, raw)
        return payload, organisation_principal(platform, verified.certificate), verified

    return security
