"""The sandbox IdP's clients.

- **Organisations** (confidential, machine to machine): client id
  ``cbe-{CBE}`` for every organisation of the sandbox registries; its key is
  the organisation's sandbox certificate key, and ``kid`` is the key's
  RFC 7638 thumbprint. Nothing to register: the sandbox PKI is the registry.
- **Public sandbox apps** (authorization code + PKCE, no secret): a few
  static clients whose redirect URIs are loopback addresses on any port
  (RFC 8252 §7.3), each open to the roles its users have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.domain.ports import OrganisationKind, OrganisationRecord
from gateway.ehealth.pki import SandboxPki
from gateway.ehealth.sandbox.registries import SandboxRegistries
from gateway.identity.claims import CLAIM_NISS, Claims
from gateway.identity.jwk import jwk_thumbprint
from gateway.domain.principal import SYSTEM_NISS, Role

ORGANISATION_CLIENT_PREFIX = "cbe-"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
NO_PERSON = SYSTEM_NISS  # placeholder, removed from the token
PROFESSIONAL_ROLES = frozenset({Role.PROVIDER, Role.PHARMACIST, Role.PSI_ADMINISTRATIVE, Role.PSI_COORDINATOR, Role.AUDITOR, Role.DPO})


@dataclass(frozen=True)
class PublicClient:
    """A registered public client (no secret: PKCE protects its codes)."""

    client_id: str
    name: str
    roles: frozenset[Role]

    def allows_redirect(self, uri: str) -> bool:
        """Plain-HTTP loopback on any port, any path, no fragment nor user info."""
        try:
            parts = urlsplit(uri)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return False
        return (
            parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and not parts.fragment
            and parts.username is None and parts.password is None
        )


SANDBOX_CLIENTS: dict[str, PublicClient] = {
    c.client_id: c
    for c in (
        PublicClient("sandbox-practice-app", "Sandbox practice software (providers, pharmacists, PSI staff)",
                     PROFESSIONAL_ROLES),
        PublicClient("sandbox-citizen-app", "Sandbox citizen app (patients)", frozenset({Role.PATIENT})),
        PublicClient("sandbox-portal", "Sandbox web portal (anyone who signs in through the IdP)",
                     PROFESSIONAL_ROLES | {Role.PATIENT}),
    )
}


@dataclass(frozen=True)
class ClientKey:
    """The key a client proves itself with (its ``private_key_jwt`` signature)."""

    client_id: str
    kid: str
    public_key: rsa.RSAPublicKey


@dataclass(frozen=True)
class OrganisationClient:
    """An organisation as an OAuth2 client, with its sandbox certificate."""

    client_id: str
    organisation: OrganisationRecord
    key: ClientKey
    not_before: datetime
    not_after: datetime

    @property
    def role(self) -> Role:
        """Insurers act as ``insurer`` (IC-R7); any other organisation as ``organisation``."""
        return Role.INSURER if self.organisation.kind is OrganisationKind.INSURER else Role.ORGANISATION

    def claims(self) -> dict[str, Any]:
        """The token claims of the organisation acting as itself: no ``ssin``, since no person acts."""
        org = self.organisation
        claims = Claims(NO_PERSON, self.role, organisation_nihii=org.nihii, organisation_cbe=org.cbe,
                        display_name=org.name, authentication="private_key_jwt").to_jwt()
        del claims[CLAIM_NISS]
        return claims


def organisation_client_id(cbe: str) -> str:
    return ORGANISATION_CLIENT_PREFIX + cbe


def organisation_client(registries: SandboxRegistries, pki: SandboxPki, client_id: str) -> OrganisationClient | None:
    """The organisation behind ``cbe-{CBE}``, or None when there is none (or it has no sandbox key)."""
    if not client_id.startswith(ORGANISATION_CLIENT_PREFIX):
        return None
    cbe = client_id.removeprefix(ORGANISATION_CLIENT_PREFIX)
    if not (len(cbe) == 10 and cbe.isdigit()):
        return None
    organisation = registries.organisation_by_cbe(cbe)
    if organisation is None:
        return None
    try:
        certificate = pki.organisation(organisation.nihii).certificate
    except KeyError:
        return None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return None
    return OrganisationClient(
        client_id, organisation, ClientKey(client_id, jwk_thumbprint(key), key),
        certificate.not_valid_before_utc, certificate.not_valid_after_utc,
    )
