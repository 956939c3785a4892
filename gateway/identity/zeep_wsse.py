"""zeep WS-Security plugins for eHealth calls: zeep has no SAML token and
its Signature adds no Timestamp, so a vendor writes
``zeep.Client(wsdl, wsse=SamlHolderOfKey(assertion, key, cert))``.

Both delegate to :mod:`gateway.identity.signing`, so zeep clients sign
exactly like every other client of the project."""

from __future__ import annotations

from typing import Any

from cryptography import x509
from lxml import etree

from gateway.domain.clock import Clock, SystemClock
from gateway.identity.signing import Key, sign_with_saml, sign_with_x509


class SamlHolderOfKey:
    """Sign each request with a SAML 1.1 holder-of-key token from the STS."""

    def __init__(self, assertion_bytes: bytes, key: Key, cert: x509.Certificate, clock: Clock | None = None,
                 *, lifetime: int = 60) -> None:
        self.assertion_bytes = assertion_bytes
        self.key = key
        self.cert = cert
        self.clock = clock or SystemClock()
        self.lifetime = lifetime

    def apply(self, envelope: etree._Element, headers: dict[str, Any]) -> tuple[etree._Element, dict[str, Any]]:
        return sign_with_saml(envelope, self.assertion_bytes, self.key, self.cert, clock=self.clock,
                              lifetime=self.lifetime), headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        """Responses are not signed by the simulated services."""
        return envelope


class X509Signature:
    """Sign each request with a certificate (BinarySecurityToken), as the STS
    request itself is signed."""

    def __init__(self, key: Key, cert: x509.Certificate, clock: Clock | None = None, *, lifetime: int = 60) -> None:
        self.key = key
        self.cert = cert
        self.clock = clock or SystemClock()
        self.lifetime = lifetime

    def apply(self, envelope: etree._Element, headers: dict[str, Any]) -> tuple[etree._Element, dict[str, Any]]:
        return sign_with_x509(envelope, self.key, self.cert, clock=self.clock, lifetime=self.lifetime), headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        return envelope
