"""How the adapters sign their requests: WS-Security with the gateway's own
credential.

The gateway asks the platform as itself, an organisation, on nobody's
behalf: the access policy asks whether *this* provider has a link with
*this* patient, a question no person's token may ask about others (the
attribute authority lets a person ask about themselves only). So the key
is an organisation's eHealth certificate, the one a hospital's or a
vendor's server holds (in the sandbox PKI: ``load_pki().organisation(nihii)``),
never a person's and never one of the platform's own keys (those belong to
the platform: holding one would let the gateway speak *as* the platform).

:class:`CertificateSigner` is eHealth's certificate-only mode
(``ehealth.md``): a BinarySecurityToken with the certificate, one signature
over Body, Timestamp and token, RSA-SHA256, exclusive c14n, a 60 s
timestamp. A service that wants an STS token instead takes a
:class:`MessageSigner` that adds it; the clients do not change.
"""

from __future__ import annotations

from typing import Protocol

from cryptography import x509
from lxml import etree

from gateway.domain.clock import Clock
from gateway.identity.signing import Key, sign_with_x509


class MessageSigner(Protocol):
    """Adds WS-Security to a SOAP 1.1 envelope and returns it."""

    def sign(self, envelope: etree._Element) -> etree._Element: ...


class CertificateSigner:
    """Certificate-only WS-Security with one key and its certificate."""

    def __init__(self, key: Key, certificate: x509.Certificate, *, clock: Clock, lifetime: int = 60) -> None:
        self.key = key
        self.certificate = certificate
        self.clock = clock
        self.lifetime = lifetime

    def sign(self, envelope: etree._Element) -> etree._Element:
        return sign_with_x509(envelope, self.key, self.certificate, clock=self.clock, lifetime=self.lifetime)
