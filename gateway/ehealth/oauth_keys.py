"""Where the sandbox IdP lives and which key it signs with: the realm path,
the issuer, the audience of its access tokens, and its JWKS.

Kept apart from the endpoints, which publish them. A resource server (the
gateway's FHIR face) imports none of this: it is configured with the
issuer and the JWKS URL, and fetches the keys over HTTP.
"""

from __future__ import annotations

from typing import Any

from gateway.ehealth.pki import Credential, SandboxPki
from gateway.ehealth.platform import PREFIX
from gateway.identity.jwk import rsa_public_jwk

REALM = "/auth/realms/M2M"
OIDC = REALM + "/protocol/openid-connect"
ACCESS_TOKEN_AUDIENCE = "care-gateway"
SIGNING_ALGORITHM = "RS256"


def issuer_for(base_url: str) -> str:
    """The issuer as seen from a request's base URL (``http://host:port/``)."""
    return base_url.rstrip("/") + PREFIX + REALM


def signing_credential(pki: SandboxPki) -> Credential:
    return pki.platform("oauth")


def signing_jwk(pki: SandboxPki) -> dict[str, Any]:
    return rsa_public_jwk(signing_credential(pki).certificate, alg=SIGNING_ALGORITHM)


def sandbox_jwks(pki: SandboxPki) -> dict[str, Any]:
    """The IdP's published key set (one key; a rotation would add the next one here)."""
    return {"keys": [signing_jwk(pki)]}
