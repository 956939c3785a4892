"""A platform that is not the sandbox, generated in the test: a root CA,
an intermediate CA under it, an STS certificate and callers' certificates
under the intermediate, revocation lists, and an identity provider with its
own RSA keys whose JWKS an ``httpx.MockTransport`` serves (counting the
requests, so caching and refetching are observable)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Sequence

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.identity.jwk import jwk_thumbprint

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.timezone.utc)  # the tests' clock (tests/conftest.py)
YEAR = dt.timedelta(days=365)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Foreign Health Platform"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class Holder:
    """A key and the certificate issued for it."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def issue(subject: str, issuer: Holder | None, *, ca: bool, not_before: dt.datetime = NOW - YEAR,
          not_after: dt.datetime = NOW + YEAR, eku: Sequence[x509.ObjectIdentifier] | None = None,
          key: rsa.RSAPrivateKey | None = None) -> Holder:
    """A certificate as a CA issues it (self-signed when ``issuer`` is None)."""
    key = key or new_key()
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.certificate.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    else:
        builder = builder.add_extension(x509.KeyUsage(True, True, True, False, False, False, False, False, False), critical=True)
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku or [ExtendedKeyUsageOID.CLIENT_AUTH])), critical=False)
    return Holder(key, builder.sign(signer, hashes.SHA256()))


def crl(issuer: Holder, revoked: Sequence[x509.Certificate] = (), *, this_update: dt.datetime = NOW - dt.timedelta(days=1),
        next_update: dt.datetime = NOW + dt.timedelta(days=7), revoked_on: dt.datetime = NOW - dt.timedelta(days=2)
        ) -> x509.CertificateRevocationList:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.certificate.subject)
               .last_update(this_update).next_update(next_update))
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(revoked_on).build())
    return builder.sign(issuer.key, hashes.SHA256())


@dataclass
class ForeignPki:
    """root -> intermediate -> {STS, callers}; everything valid at NOW."""

    root: Holder
    intermediate: Holder
    sts: Holder
    caller: Holder
    other_caller: Holder

    @classmethod
    def generate(cls) -> "ForeignPki":
        root = issue("Foreign Root CA", None, ca=True, not_before=NOW - 5 * YEAR, not_after=NOW + 10 * YEAR)
        intermediate = issue("Foreign Issuing CA", root, ca=True)
        return cls(root, intermediate, issue("Foreign STS", intermediate, ca=False),
                   issue("SSIN=75123152609", intermediate, ca=False), issue("SSIN=85073003328", intermediate, ca=False))


@dataclass
class ForeignIdp:
    """An OpenID Connect provider with its own keys, answering over a mock
    HTTP transport: ``/.well-known/openid-configuration`` and ``/jwks``."""

    issuer: str = "https://idp.foreign.example/realms/care"
    keys: list[rsa.RSAPrivateKey] = field(default_factory=lambda: [new_key()])
    requests: list[str] = field(default_factory=list)
    down: bool = False

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/jwks"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(k) for k in self.keys]}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if self.down:
            return httpx.Response(503, text="down for maintenance")
        if str(request.url) == self.discovery_url:
            return httpx.Response(200, json={"issuer": self.issuer, "jwks_uri": self.jwks_url,
                                             "token_endpoint": self.issuer + "/token"})
        if str(request.url) == self.jwks_url:
            return httpx.Response(200, json=self.jwks())
        return httpx.Response(404)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def rotate(self) -> rsa.RSAPrivateKey:
        """Publish a new key beside the current one; tokens are then signed with it."""
        self.keys.append(new_key())
        return self.keys[-1]

    def token(self, claims: dict[str, Any], *, key: rsa.RSAPrivateKey | None = None, kid: str | None = None,
              now: dt.datetime = NOW) -> str:
        key = key or self.keys[-1]
        body = {"iss": self.issuer, "aud": "care-gateway", "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 600,
                **claims}
        return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid or jwk_thumbprint(key.public_key())})


def public_jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The published form of a signing key, ``kid`` = RFC 7638 thumbprint."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": jwk_thumbprint(key.public_key()), "use": "sig", "alg": "RS256"}
