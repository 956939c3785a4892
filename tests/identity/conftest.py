"""Fixtures of the identity tests: the sandbox PKI, tokens issued by the
real STS logic (no HTTP), and signed SOAP messages built as clients do."""

from __future__ import annotations

import shutil
from datetime import timedelta
from typing import Callable

import pytest
from lxml import etree

from gateway.ehealth.pki import Credential, SandboxPki
from gateway.ehealth.sts import SecurityTokenService
from gateway.ehealth.sts_attributes import Claim
from gateway.ehealth.sts_client import persona_claims
from gateway.identity.certstore import CertificateStore
from gateway.identity.replay import ReplayGuard
from gateway.identity.saml import STS_ISSUER
from gateway.identity.signing import sign_with_saml, sign_with_x509
from gateway.identity.wssecurity import MessageTrust, VerifiedMessage, verify_message
from gateway.identity.xml import parse_untrusted
from gateway.soap11.envelope import envelope_bytes, read_envelope

PAYLOAD_NS = "urn:test:ping"


def ping(text: str = "hello") -> etree._Element:
    payload = etree.Element(f"{{{PAYLOAD_NS}}}Ping", nsmap={"p": PAYLOAD_NS})
    etree.SubElement(payload, f"{{{PAYLOAD_NS}}}Text").text = text
    return payload


def unsigned_envelope(text: str = "hello") -> etree._Element:
    return parse_untrusted(envelope_bytes(ping(text)))


@pytest.fixture
def pki(gw) -> SandboxPki:
    return gw.platform.pki


@pytest.fixture
def sts_cred(pki) -> Credential:
    return pki.platform("sts")


@pytest.fixture
def issue(gw, personas) -> Callable[..., bytes]:
    """A token for a persona, certified by the STS logic against the registries."""

    def make(persona_key: str = "gp", *, credential: str | None = None, lifetime: timedelta = timedelta(hours=1)) -> bytes:
        cred = gw.platform.pki.credential(credential) if credential else gw.platform.pki.persona(persona_key)
        claims = [Claim(uri, value or None) for uri, value in persona_claims(personas[persona_key])]
        issued = SecurityTokenService(gw.platform).issue(cred.certificate, claims, gw.clock.now() + lifetime)
        return etree.tostring(issued.assertion)

    return make


@pytest.fixture
def signed_saml(gw, issue) -> Callable[..., bytes]:
    """An envelope signed with a persona's token and (by default) its key."""

    def make(persona_key: str = "gp", *, token: bytes | None = None, signer: str | None = None, text: str = "hello",
             lifetime: int = 60) -> bytes:
        cred = gw.platform.pki.persona(signer or persona_key)
        envelope = sign_with_saml(unsigned_envelope(text), token or issue(persona_key), cred.private_key,
                                  cred.certificate, clock=gw.clock, lifetime=lifetime)
        return etree.tostring(envelope)

    return make


@pytest.fixture
def signed_x509(gw) -> Callable[..., bytes]:
    def make(credential: str = "persona-gp", *, text: str = "hello", lifetime: int = 60) -> bytes:
        cred = gw.platform.pki.credential(credential)
        return etree.tostring(sign_with_x509(unsigned_envelope(text), cred.private_key, cred.certificate,
                                             clock=gw.clock, lifetime=lifetime))

    return make


@pytest.fixture
def sandbox_trust(pki) -> MessageTrust:
    """The simulated platform's STS and CA, as the embedded default trusts them."""
    return MessageTrust(CertificateStore.of(pki.ca.certificate), (pki.platform("sts").certificate,), (STS_ISSUER,))


@pytest.fixture
def verify(gw, sandbox_trust) -> Callable[..., VerifiedMessage]:
    """verify_message on bytes, as the SOAP face does (parse, envelope, verify)."""
    replay = ReplayGuard(gw.db)

    def run(data: bytes, mode: str = "saml-hok", **overrides: object) -> VerifiedMessage:
        envelope = read_envelope(parse_untrusted(data))
        options: dict[str, object] = dict(mode=mode, trust=sandbox_trust, clock=gw.clock, replay=replay)
        options.update(overrides)
        return verify_message(envelope, **options)  # type: ignore[arg-type]

    return run


@pytest.fixture
def xmlsec1() -> str:
    path = shutil.which("xmlsec1")
    if path is None:
        pytest.skip("xmlsec1 is not installed (Debian/Ubuntu package: xmlsec1); it is the independent signature oracle")
    return path
