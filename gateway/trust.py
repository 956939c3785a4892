"""Whom the gateway trusts, as settings: nothing is trusted that these do
not name.

- **OpenID Connect issuers** (the FHIR face's bearer tokens): for each, a
  name, the issuer URL, its discovery document or JWKS URL, the audiences
  accepted, and which token claim carries each fact of a Principal (the
  defaults are the sandbox IdP's claim names).
- **STS** (the SOAP face's SAML holder-of-key tokens): the STS signing
  certificates, pinned, and the Issuer names accepted in its assertions;
  further STSs in ``[[trust.sts]]`` tables (the social-security crossroads
  bank's, whose users are the regional services'), each Issuer paired with
  its own certificates so that one STS cannot speak for another, with the
  SAML attribute that carries each fact of a Principal when the STS names
  them its own way.
- **Certificate store**: the root CAs that callers' certificates must chain
  to, known intermediate CAs, and optional revocation lists (CRL).
- **The gateway's own credential**: its key and certificate (PEM, or one
  PKCS#12 file with its password) for the calls it signs.
- **The platform's signing certificates**, pinned: whose signature on an
  answer of the platform's services (the attribute authority's) is believed.
- **Caches**: how often the issuers' keys are refreshed, and the minimum time
  between two fetches (an unknown ``kid`` triggers one).

They are read from the ``[trust]`` section of the TOML file named by
``CARE_GATEWAY_SETTINGS`` (relative paths are relative to that file)::

    [trust]
    sts_certificates = ["pki/sts.pem"]
    sts_issuers = ["urn:be:fgov:ehealth:sts:1_0"]
    ca_certificates = ["pki/root-ca.pem"]
    ca_intermediates = ["pki/issuing-ca.pem"]
    crls = ["pki/issuing-ca.crl"]
    key = "pki/gateway.key.pem"
    certificate = "pki/gateway.cert.pem"
    platform_certificates = ["pki/attribute-authority.pem"]
    jwks_refresh_seconds = 3600
    jwks_min_refetch_seconds = 60

    [[trust.oidc]]
    name = "ehealth"
    issuer = "https://idp.example.be/auth/realms/healthcare"
    discovery_url = "https://idp.example.be/auth/realms/healthcare/.well-known/openid-configuration"
    audiences = ["care-gateway"]
    [trust.oidc.claims]          # Principal field = the issuer's claim name
    niss = "ssin"

    [[trust.sts]]                # another STS, with its own Issuer and key
    name = "bcss"                # a name starting with bcss: the crossroads bank's (RP-S1)
    issuers = ["urn:be:ksz-bcss:sts:1_0"]
    certificates = ["pki/bcss-sts.pem"]
    [trust.sts.attributes]       # Principal field = its SAML attribute name
    niss = "urn:be:ksz-bcss:ssin"

and from these environment variables, which override the file (lists are
comma-separated; relative paths are relative to the working directory):

==========================================  ==============================================
``CARE_GATEWAY_SETTINGS``                   the TOML settings file
``CARE_GATEWAY_OIDC_ISSUER``                issuer URL of the first OpenID Connect issuer
``CARE_GATEWAY_OIDC_DISCOVERY_URL``         its discovery document (``.well-known/openid-configuration``)
``CARE_GATEWAY_OIDC_JWKS_URL``              or its JWKS URL (one of the two)
``CARE_GATEWAY_OIDC_AUDIENCE``              the audience(s) it issues tokens for, for this gateway
``CARE_GATEWAY_STS_CERTIFICATES``           PEM file(s) of the trusted STS signing certificate(s)
``CARE_GATEWAY_STS_ISSUERS``                the assertion Issuer(s) accepted
``CARE_GATEWAY_CA_CERTIFICATES``            PEM file(s) of the trusted root CA(s)
``CARE_GATEWAY_CA_INTERMEDIATES``           PEM file(s) of intermediate CAs (optional)
``CARE_GATEWAY_CRL``                        CRL file(s), PEM or DER (optional)
``CARE_GATEWAY_KEY``                        the gateway's private key (PEM)
``CARE_GATEWAY_CERTIFICATE``                its certificate (PEM; CA certificates may follow it)
``CARE_GATEWAY_PKCS12``                     or both in one PKCS#12 file
``CARE_GATEWAY_KEY_PASSWORD``               the password of the key or of the PKCS#12 file
``CARE_GATEWAY_PLATFORM_CERTIFICATES``      PEM file(s) of the platform services' signing certificates
``CARE_GATEWAY_JWKS_REFRESH_SECONDS``       key set refresh interval (default 3600)
``CARE_GATEWAY_JWKS_MIN_REFETCH_SECONDS``   minimum time between two key fetches (default 60)
==========================================  ==============================================

The ``CARE_GATEWAY_OIDC_*`` variables set the first ``[[trust.oidc]]``
issuer of the file, or define one (named ``default``) when the file has
none; further issuers are configured in the file.

:meth:`TrustSettings.missing` says, in a sentence each, which of these is
absent; outside the embedded sandbox the gateway does not start until none
is. The embedded sandbox's trust is built by the composition root from the
simulated platform's public material, never here.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping, Sequence

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from gateway.domain.clock import Clock
from gateway.identity.certstore import CertificateStore, load_certificates, load_crl
from gateway.identity.claims import DEFAULT_CLAIMS, ClaimsMapping
from gateway.identity.oidc import DEFAULT_MIN_REFETCH, DEFAULT_REFRESH, JwksSource, TokenVerifier, TrustedIssuer
from gateway.identity.sts_trust import TrustedSts
from gateway.identity.wssecurity import MessageTrust

SETTINGS_ENV = "CARE_GATEWAY_SETTINGS"
DEFAULT_ISSUER_NAME = "default"


class TrustSettingsError(ValueError):
    """Trust settings that cannot be used; ``problems`` holds a sentence each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class OidcIssuerSettings:
    """One OpenID Connect identity provider whose access tokens are accepted."""

    name: str
    issuer: str = ""
    jwks_url: str | None = None
    discovery_url: str | None = None
    audiences: tuple[str, ...] = ()
    claims: ClaimsMapping = DEFAULT_CLAIMS


@dataclass(frozen=True)
class StsSettings:
    """One STS: its signing certificates and the Issuer(s) it writes, paired
    (only these certificates may sign assertions naming these Issuers), and,
    for an STS with attribute names of its own, which attribute carries each
    fact of a Principal (None: eHealth's names)."""

    certificates: tuple[Path, ...] = ()
    issuers: tuple[str, ...] = ()
    name: str = "ehealth"
    attributes: ClaimsMapping | None = None


@dataclass(frozen=True)
class CertificateStoreSettings:
    roots: tuple[Path, ...] = ()
    intermediates: tuple[Path, ...] = ()
    crls: tuple[Path, ...] = ()


@dataclass(frozen=True)
class CredentialSettings:
    """The gateway's own key and certificate: PEM files, or one PKCS#12 file."""

    key: Path | None = None
    certificate: Path | None = None
    pkcs12: Path | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CacheSettings:
    jwks_refresh: timedelta = DEFAULT_REFRESH
    jwks_min_refetch: timedelta = DEFAULT_MIN_REFETCH


@dataclass(frozen=True)
class OwnCredential:
    """The gateway's key, its certificate and the CA certificates sent with it."""

    key: PrivateKeyTypes = field(repr=False)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()


@dataclass(frozen=True)
class TrustSettings:
    oidc: tuple[OidcIssuerSettings, ...] = ()
    sts: StsSettings = StsSettings()
    # Further STSs, each with its own Issuer, certificates and attribute names
    # ([[trust.sts]]): the social-security crossroads bank's, for regional users.
    other_sts: tuple[StsSettings, ...] = ()
    ca: CertificateStoreSettings = CertificateStoreSettings()
    credential: CredentialSettings = CredentialSettings()
    cache: CacheSettings = CacheSettings()
    # The certificates the platform's services sign their answers with (the
    # attribute authority's), pinned: a certificate merely issued by a trusted
    # CA (any caller's) must not be able to speak for the platform.
    platform_certificates: tuple[Path, ...] = ()

    # ------------------------------------------------------------ reading

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> "TrustSettings":
        """The settings file named by ``CARE_GATEWAY_SETTINGS`` (if any), then the environment."""
        env = os.environ if env is None else env
        path = env.get(SETTINGS_ENV, "").strip()
        settings = cls.from_file(Path(path)) if path else cls()
        return settings.with_env(env)

    @classmethod
    def from_file(cls, path: Path) -> "TrustSettings":
        try:
            with path.open("rb") as handle:
                document = tomllib.load(handle)
        except OSError as error:
            raise TrustSettingsError([f"The settings file {path} cannot be read ({error.strerror or error}); "
                                      f"check {SETTINGS_ENV}."]) from None
        except tomllib.TOMLDecodeError as error:
            raise TrustSettingsError([f"The settings file {path} is not valid TOML: {error}."]) from None
        section = document.get("trust", {})
        if not isinstance(section, dict):
            raise TrustSettingsError([f"[trust] in {path} must be a table."])
        return cls.from_mapping(section, base=path.parent, where=f"[trust] of {path}")

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any], *, base: Path, where: str = "[trust]") -> "TrustSettings":
        """Settings from the ``[trust]`` table (already parsed); paths relative to ``base``."""
        reader = _Reader(section, base, where)
        settings = cls(
            oidc=tuple(_issuer_settings(entry, index, base, where) for index, entry in enumerate(reader.tables("oidc"))),
            sts=StsSettings(reader.paths("sts_certificates"), reader.strings("sts_issuers")),
            other_sts=tuple(_sts_settings(entry, index, base, where) for index, entry in enumerate(reader.tables("sts"))),
            ca=CertificateStoreSettings(reader.paths("ca_certificates"), reader.paths("ca_intermediates"),
                                        reader.paths("crls")),
            credential=CredentialSettings(reader.path("key"), reader.path("certificate"), reader.path("pkcs12"),
                                          reader.string("key_password")),
            cache=CacheSettings(reader.seconds("jwks_refresh_seconds", DEFAULT_REFRESH),
                                reader.seconds("jwks_min_refetch_seconds", DEFAULT_MIN_REFETCH)),
            platform_certificates=reader.paths("platform_certificates"),
        )
        reader.refuse_unknown()
        return settings

    def with_env(self, env: Mapping[str, str]) -> "TrustSettings":
        """These settings with the ``CARE_GATEWAY_*`` trust variables applied over them."""

        def value(name: str) -> str | None:
            text = env.get(f"CARE_GATEWAY_{name}")
            return text.strip() if text is not None and text.strip() else None

        def items(name: str) -> tuple[str, ...] | None:
            text = value(name)
            return None if text is None else tuple(p.strip() for p in text.split(",") if p.strip())

        def paths(name: str) -> tuple[Path, ...] | None:
            found = items(name)
            return None if found is None else tuple(Path(p) for p in found)

        settings = self
        oidc_names = ("OIDC_ISSUER", "OIDC_DISCOVERY_URL", "OIDC_JWKS_URL", "OIDC_AUDIENCE")
        if any(value(n) for n in oidc_names):
            if value("OIDC_DISCOVERY_URL") and value("OIDC_JWKS_URL"):
                raise TrustSettingsError(["CARE_GATEWAY_OIDC_DISCOVERY_URL and CARE_GATEWAY_OIDC_JWKS_URL are both "
                                          "set; set only one (the discovery document names the JWKS URL itself)."])
            first = self.oidc[0] if self.oidc else OidcIssuerSettings(DEFAULT_ISSUER_NAME)
            first = replace(first, issuer=value("OIDC_ISSUER") or first.issuer,
                            audiences=items("OIDC_AUDIENCE") or first.audiences)
            if value("OIDC_DISCOVERY_URL"):
                first = replace(first, discovery_url=value("OIDC_DISCOVERY_URL"), jwks_url=None)
            if value("OIDC_JWKS_URL"):
                first = replace(first, jwks_url=value("OIDC_JWKS_URL"), discovery_url=None)
            settings = replace(settings, oidc=(first, *self.oidc[1:]))
        sts, ca, credential, cache = settings.sts, settings.ca, settings.credential, settings.cache
        sts = replace(sts, certificates=paths("STS_CERTIFICATES") or sts.certificates,
                      issuers=items("STS_ISSUERS") or sts.issuers)
        ca = replace(ca, roots=paths("CA_CERTIFICATES") or ca.roots,
                     intermediates=paths("CA_INTERMEDIATES") or ca.intermediates, crls=paths("CRL") or ca.crls)
        if value("PKCS12"):
            credential = CredentialSettings(pkcs12=Path(value("PKCS12")), password=credential.password)  # type: ignore[arg-type]
        if value("KEY") or value("CERTIFICATE"):
            credential = replace(credential, pkcs12=None,
                                 key=Path(value("KEY")) if value("KEY") else credential.key,  # type: ignore[arg-type]
                                 certificate=Path(value("CERTIFICATE")) if value("CERTIFICATE") else credential.certificate)  # type: ignore[arg-type]
        if env.get("CARE_GATEWAY_KEY_PASSWORD") is not None:
            credential = replace(credential, password=env["CARE_GATEWAY_KEY_PASSWORD"])
        for name, attribute in (("JWKS_REFRESH_SECONDS", "jwks_refresh"), ("JWKS_MIN_REFETCH_SECONDS", "jwks_min_refetch")):
            if value(name):
                cache = replace(cache, **{attribute: _seconds(value(name), f"CARE_GATEWAY_{name}")})
        return replace(settings, sts=sts, ca=ca, credential=credential, cache=cache,
                       platform_certificates=paths("PLATFORM_CERTIFICATES") or settings.platform_certificates)

    # ------------------------------------------------------------ completeness

    def missing(self) -> list[str]:
        """One sentence per trust setting that is absent (empty: nothing is)."""
        problems: list[str] = []
        if not self.oidc:
            problems.append("No OpenID Connect issuer is configured: set CARE_GATEWAY_OIDC_ISSUER (or add a "
                            "[[trust.oidc]] table) to the identity provider whose access tokens the FHIR face accepts.")
        for index, issuer in enumerate(self.oidc):
            first = index == 0
            label = f"OpenID Connect issuer {issuer.name!r}"
            if not issuer.issuer:
                problems.append(f"{label} has no issuer URL: set its issuer"
                                f"{' (CARE_GATEWAY_OIDC_ISSUER)' if first else ''}, exactly as its tokens' iss claim says.")
            if not issuer.jwks_url and not issuer.discovery_url:
                problems.append(f"{label} has no key source: set its discovery_url or jwks_url"
                                f"{' (CARE_GATEWAY_OIDC_DISCOVERY_URL or CARE_GATEWAY_OIDC_JWKS_URL)' if first else ''}.")
            if not issuer.audiences:
                problems.append(f"{label} accepts no audience: set its audiences"
                                f"{' (CARE_GATEWAY_OIDC_AUDIENCE)' if first else ''}, the aud value its access "
                                "tokens carry for this gateway.")
        if not self.sts.certificates and not self.other_sts:
            problems.append("No STS signing certificate is trusted: set CARE_GATEWAY_STS_CERTIFICATES (sts_certificates) "
                            "to the PEM file of the STS whose SAML assertions the SOAP face accepts.")
        if not self.sts.issuers and (self.sts.certificates or not self.other_sts):
            problems.append("No STS Issuer is accepted: set CARE_GATEWAY_STS_ISSUERS (sts_issuers) to the Issuer its "
                            "assertions carry (the eHealth STS writes urn:be:fgov:ehealth:sts:1_0).")
        owners: dict[str, list[str]] = {}
        for sts in self.trusted_sts():
            for issuer in sts.issuers:
                owners.setdefault(issuer, []).append(sts.name)
        for issuer, names in owners.items():
            if len(names) > 1:
                problems.append(f"The STS Issuer {issuer!r} is accepted for several STSs ({', '.join(names)}); each "
                                "Issuer belongs to one STS, whose certificates alone may sign it.")
        if not self.ca.roots:
            problems.append("No root CA certificate is trusted: set CARE_GATEWAY_CA_CERTIFICATES (ca_certificates) to "
                            "the PEM file of the root CA that issues the callers' certificates.")
        own = self.credential
        if own.pkcs12 is None and own.key is None and own.certificate is None:
            problems.append("The gateway has no key and certificate of its own: set CARE_GATEWAY_KEY and "
                            "CARE_GATEWAY_CERTIFICATE (key, certificate), or CARE_GATEWAY_PKCS12 and "
                            "CARE_GATEWAY_KEY_PASSWORD, for the calls it signs to the platform's services.")
        elif own.pkcs12 is None and own.key is None:
            problems.append("The gateway's certificate is set but not its key: set CARE_GATEWAY_KEY (key).")
        elif own.pkcs12 is None and own.certificate is None:
            problems.append("The gateway's key is set but not its certificate: set CARE_GATEWAY_CERTIFICATE (certificate).")
        if not self.platform_certificates:
            problems.append("No signing certificate of the platform's services is trusted: set "
                            "CARE_GATEWAY_PLATFORM_CERTIFICATES (platform_certificates) to the PEM file of the attribute "
                            "authority's signing certificate, whose answers the access policy relies on.")
        return problems

    def check(self) -> None:
        """Refuse to go on while a trust setting is absent (:class:`TrustSettingsError`)."""
        problems = self.missing()
        if problems:
            raise TrustSettingsError(problems)

    # ------------------------------------------------------------ what the settings build

    def certificate_store(self) -> CertificateStore:
        """The configured roots, intermediates and CRLs, read and checked."""
        roots = _certificates(self.ca.roots, "CA certificate")
        intermediates = _certificates(self.ca.intermediates, "intermediate CA certificate")
        crls = []
        for path in self.ca.crls:
            data = _read(path, "CRL")
            try:
                crls.append(load_crl(data))
            except ValueError as error:
                raise TrustSettingsError([f"The CRL file {path} cannot be read as a CRL (PEM or DER): {error}."]) from None
        try:
            return CertificateStore(tuple(roots), tuple(intermediates), tuple(crls))
        except ValueError as error:
            raise TrustSettingsError([f"The certificate store cannot be built: {error}."]) from None

    def platform_signers(self) -> tuple[x509.Certificate, ...]:
        """The pinned signing certificates of the platform's services."""
        return tuple(_certificates(self.platform_certificates, "platform signing certificate"))

    def trusted_sts(self) -> tuple[StsSettings, ...]:
        """Every STS configured: the flat ``sts_*`` settings' one (if set), then the ``[[trust.sts]]`` tables'."""
        flat = (self.sts,) if self.sts.certificates or self.sts.issuers else ()
        return (*flat, *self.other_sts)

    def message_trust(self) -> MessageTrust:
        """What WS-Security verification trusts: the store, and each STS's
        certificates paired with its Issuers (and attribute names)."""
        return MessageTrust(self.certificate_store(), sts=tuple(
            TrustedSts(s.name, s.issuers, tuple(_certificates(s.certificates, f"certificate of STS {s.name!r}")), s.attributes)
            for s in self.trusted_sts()))

    def token_verifier(self, http: httpx.Client, clock: Clock) -> TokenVerifier:
        """The verifier of the configured issuers' access tokens, their keys fetched with ``http``."""
        issuers = []
        for issuer in self.oidc:
            keys = JwksSource(http, clock, jwks_url=issuer.jwks_url, discovery_url=issuer.discovery_url,
                              issuer=issuer.issuer, refresh=self.cache.jwks_refresh,
                              min_refetch=self.cache.jwks_min_refetch)
            issuers.append(TrustedIssuer(issuer.name, issuer.issuer, issuer.audiences, keys, issuer.claims))
        return TokenVerifier(issuers, clock)

    def own_credential(self) -> OwnCredential:
        """The gateway's key and certificate (the key must be the certificate's)."""
        own = self.credential
        password = own.password.encode() if own.password else None
        if own.pkcs12 is not None:
            data = _read(own.pkcs12, "PKCS#12")
            try:
                key, cert, chain = pkcs12.load_key_and_certificates(data, password)
            except ValueError as error:
                raise TrustSettingsError([f"The PKCS#12 file {own.pkcs12} cannot be opened ({error}); check "
                                          "CARE_GATEWAY_KEY_PASSWORD."]) from None
            if key is None or cert is None:
                raise TrustSettingsError([f"The PKCS#12 file {own.pkcs12} must hold a private key and its certificate."])
            credential = OwnCredential(key, cert, tuple(chain))
        else:
            if own.key is None or own.certificate is None:
                raise TrustSettingsError(["The gateway's own key and certificate are not both set: set "
                                          "CARE_GATEWAY_KEY and CARE_GATEWAY_CERTIFICATE, or CARE_GATEWAY_PKCS12."])
            data = _read(own.key, "key")
            try:
                key = serialization.load_pem_private_key(data, password)
            except (ValueError, TypeError) as error:
                raise TrustSettingsError([f"The key file {own.key} cannot be read as a PEM private key ({error}); "
                                          "check CARE_GATEWAY_KEY_PASSWORD."]) from None
            certs = _certificates((own.certificate,), "certificate")
            credential = OwnCredential(key, certs[0], tuple(certs[1:]))
        public = serialization.PublicFormat.SubjectPublicKeyInfo
        if (credential.key.public_key().public_bytes(serialization.Encoding.DER, public)
                != credential.certificate.public_key().public_bytes(serialization.Encoding.DER, public)):
            raise TrustSettingsError([f"The gateway's key is not the key of its certificate "
                                      f"{credential.certificate.subject.rfc4514_string()}; configure the matching pair."])
        return credential


# ---------------------------------------------------------------- reading helpers


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TrustSettingsError([f"The {what} file {path} cannot be read ({error.strerror or error})."]) from None


def _certificates(paths: Sequence[Path], what: str) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    for path in paths:
        data = _read(path, what)
        try:
            certs = load_certificates(data)
        except ValueError:
            certs = []
        if not certs:
            raise TrustSettingsError([f"The {what} file {path} holds no certificate (PEM or DER)."])
        found.extend(certs)
    return found


def _seconds(value: object, name: str) -> timedelta:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = -1.0
    if seconds <= 0:
        raise TrustSettingsError([f"{name} must be a positive number of seconds, not {value!r}."])
    return timedelta(seconds=seconds)


class _Reader:
    """Typed reads from a TOML table, each error naming the key and the table."""

    def __init__(self, table: Mapping[str, Any], base: Path, where: str) -> None:
        self.table, self.base, self.where = table, base, where
        self.used: set[str] = set()

    def _get(self, key: str) -> Any:
        self.used.add(key)
        return self.table.get(key)

    def _fail(self, key: str, expected: str) -> TrustSettingsError:
        return TrustSettingsError([f"{key} in {self.where} must be {expected}."])

    def string(self, key: str) -> str | None:
        value = self._get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string")
        return value or None

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, "a list of strings")
        return tuple(value)

    def path(self, key: str) -> Path | None:
        value = self.string(key)
        return None if value is None else self.base / value

    def paths(self, key: str) -> tuple[Path, ...]:
        return tuple(self.base / v for v in self.strings(key))

    def seconds(self, key: str, default: timedelta) -> timedelta:
        value = self._get(key)
        return default if value is None else _seconds(value, f"{key} in {self.where}")

    def tables(self, key: str) -> list[Mapping[str, Any]]:
        value = self._get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self._fail(key, f"an array of tables ([[trust.{key}]])")
        return value

    def refuse_unknown(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise TrustSettingsError([f"Unknown setting(s) {', '.join(unknown)} in {self.where}; the settings are "
                                      f"{', '.join(sorted(self.used))}."])


def _sts_settings(entry: Mapping[str, Any], index: int, base: Path, where: str) -> StsSettings:
    name = entry.get("name") if isinstance(entry.get("name"), str) and entry.get("name") else f"sts[{index}]"
    reader = _Reader(entry, base, f"STS {name!r} of {where}")
    reader.string("name")
    attributes = reader._get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise reader._fail("attributes", "a table (Principal field = SAML attribute name)")
    try:
        mapping = None if attributes is None else ClaimsMapping.from_names(attributes)
    except ValueError as error:
        raise TrustSettingsError([f"attributes of STS {name!r} in {where}: {error}."]) from None
    settings = StsSettings(reader.paths("certificates"), reader.strings("issuers"), name, mapping)
    reader.refuse_unknown()
    if not settings.certificates or not settings.issuers:
        raise TrustSettingsError([f"STS {name!r} in {where} needs its certificates (the PEM files it signs with) and "
                                  "its issuers (the Issuer its assertions carry)."])
    return settings


def _issuer_settings(entry: Mapping[str, Any], index: int, base: Path, where: str) -> OidcIssuerSettings:
    name = entry.get("name") if isinstance(entry.get("name"), str) and entry.get("name") else f"oidc[{index}]"
    reader = _Reader(entry, base, f"issuer {name!r} of {where}")
    reader.string("name")
    claims = reader._get("claims") or {}
    if not isinstance(claims, dict):
        raise reader._fail("claims", "a table (Principal field = claim name)")
    try:
        mapping = ClaimsMapping.from_names(claims)
    except ValueError as error:
        raise TrustSettingsError([f"claims of issuer {name!r} in {where}: {error}."]) from None
    settings = OidcIssuerSettings(name, reader.string("issuer") or "", reader.string("jwks_url"),
                                  reader.string("discovery_url"), reader.strings("audiences"), mapping)
    reader.refuse_unknown()
    if settings.jwks_url and settings.discovery_url:
        raise TrustSettingsError([f"Issuer {name!r} in {where} sets both jwks_url and discovery_url; set only one."])
    return settings


__all__ = [
    "CacheSettings", "CertificateStoreSettings", "CredentialSettings", "OidcIssuerSettings", "OwnCredential",
    "SETTINGS_ENV", "StsSettings", "TrustSettings", "TrustSettingsError",
]
