"""Token exchange (RFC 8693): an STS SAML 1.1 holder-of-key assertion in,
a JWT access token out, so that software already holding an STS token can
call the FHIR face without a second sign-in.

A holder-of-key assertion is worthless without its key; a bearer JWT is
not. So the exchange demands proof of possession: the client authenticates
with ``private_key_jwt`` signed by the key of the certificate named in the
assertion's subject confirmation, under the holder's client id
(``ssin-{NISS}`` for a person's certificate, ``cbe-{CBE}`` for an
organisation's). A stolen assertion alone cannot be exchanged.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Mapping

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.ehealth.oauth_assertions import authenticate_client
from gateway.ehealth.oauth_clients import ClientKey
from gateway.ehealth.oauth_errors import OAuthError
from gateway.ehealth.oauth_tokens import TokenGrant
from gateway.identity.errors import TokenRejected
from gateway.identity.jwk import jwk_thumbprint
from gateway.identity.saml import verify_assertion
from gateway.identity.xml import UnsafeXml, parse_untrusted

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
SAML1 = "urn:ietf:params:oauth:token-type:saml1"
SAML2 = "urn:ietf:params:oauth:token-type:saml2"
SUBJECT_TOKEN_TYPES = (SAML1,)


def holder_client_id(certificate: x509.Certificate) -> str | None:
    """The client id of a certificate's holder: ``ssin-{NISS}`` or ``cbe-{CBE}`` (eHealth subject names)."""
    for attribute in (*certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME),
                      *certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)):
        kind, _, ident = str(attribute.value).partition("=")
        if kind == "SSIN" and ident:
            return f"ssin-{ident}"
        if kind == "CBE" and ident:
            return f"cbe-{ident}"
    return None


def _decode(token: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise OAuthError("invalid_request", "subject_token must be the base64url encoding of the SAML assertion.") from None


def exchange_saml(platform: "Platform", form: Mapping[str, str], *, audiences: tuple[str, ...], scope: str) -> TokenGrant:
    """Verify the assertion and the holder's proof, and grant the assertion's claims."""
    token_type = form.get("subject_token_type")
    if token_type not in SUBJECT_TOKEN_TYPES:
        hint = " (the eHealth STS issues SAML 1.1)" if token_type == SAML2 else ""
        raise OAuthError("invalid_request", f"subject_token_type must be {SAML1}{hint}.")
    if not form.get("subject_token"):
        raise OAuthError("invalid_request", "subject_token is required.")
    if form.get("actor_token") or form.get("actor_token_type"):
        raise OAuthError("invalid_request", "Delegation (actor_token) is not supported.")
    try:
        element = parse_untrusted(_decode(form["subject_token"]))
        verified = verify_assertion(element, trusted=[platform.pki.platform("sts").certificate], clock=platform.clock)
        claims = verified.claims()
    except UnsafeXml as error:
        raise OAuthError("invalid_request", f"subject_token: {error.message}") from None
    except TokenRejected as error:
        raise OAuthError("invalid_request", f"The SAML assertion is refused ({error.code}): {error.message}") from None
    certificate = verified.subject_certificate  # as the verifier read it from the signed assertion
    holder = holder_client_id(certificate)
    key = certificate.public_key()
    if holder is None or not isinstance(key, rsa.RSAPublicKey):
        raise OAuthError("invalid_request", "The holder-of-key certificate names no SSIN nor CBE.")
    proof = ClientKey(holder, jwk_thumbprint(key), key)
    client = authenticate_client(platform, form, audiences=audiences, resolve=lambda cid: proof if cid == holder else None)
    payload = claims.to_jwt()
    return TokenGrant(subject=claims.niss, client_id=client.client_id, scope=scope, claims=payload,
                      not_after=verified.not_on_or_after)
