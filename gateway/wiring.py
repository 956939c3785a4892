"""The composition root: the one place that knows concrete classes and
builds a running gateway from its settings.

- the database, the clock and the pseudonymisation service;
- the domain's fact sources (``CareFacts``, ``NationalRegister``, the
  directory): clients of the eHealth platform's web services
  (:mod:`gateway.adapters`), whether that platform is the real one
  (``CARE_GATEWAY_PLATFORM`` = its base URL) or the simulated one hosted in
  this process (the embedded default), reached through the same adapters;
- the trust (:mod:`gateway.trust`): whose tokens and assertions are
  accepted; for the embedded default it is derived from the simulated
  platform's *public* material only (its CA and STS certificates, its IdP's
  issuer and published keys), exactly what a vendor would configure;
- the domain's use cases, and the narrow objects each face takes (a token
  verifier, a message verifier, the use cases, a validator).

Tests of the domain alone may pass their own fact sources (``facts``,
``register``): that changes where facts come from, never whether the access
policy asks them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from gateway.config import Settings
from gateway.domain.access_log import AccessLogService
from gateway.domain.care_teams import CareTeamService
from gateway.domain.clock import Clock, SystemClock
from gateway.domain.consent import ConsentService
from gateway.domain.context import DomainContext
from gateway.domain.database import Database
from gateway.domain.directory import DirectoryService
from gateway.domain.exports import ExportService
from gateway.domain.inclusions import InclusionService
from gateway.domain.lifecycle import Lifecycle
from gateway.domain.ports import CareFacts, NationalRegister
from gateway.domain.pseudonyms import PseudonymService
from gateway.domain.referrals import ReferralService
from gateway.domain.rights import RightsService

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform
    from gateway.trust import TrustSettings

log = logging.getLogger("gateway")


@dataclass
class Gateway:
    """One running gateway's services (what the faces are given, piece by piece)."""

    settings: Settings
    db: Database
    clock: Clock
    ctx: DomainContext
    inclusions: InclusionService
    consents: ConsentService
    lifecycle: Lifecycle
    exports: ExportService
    care_teams: CareTeamService
    referrals: ReferralService
    access_log: AccessLogService
    rights: RightsService
    directory: DirectoryService
    # The simulated platform this process hosts (embedded default only), to be
    # served under /ehealth; the gateway side never reads it.
    platform: "Platform | None" = None
    trust: Any = None  # gateway.trust.TrustSettings in force
    tokens: Any = None  # the bearer-token verifier the FHIR face takes
    messages: Any = None  # the WS-Security trust the SOAP face takes


def build_gateway(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    platform: "Platform | None" = None,
    facts: CareFacts | None = None,
    register: NationalRegister | None = None,
) -> Gateway:
    """A gateway wired from ``settings``.

    Embedded default: the simulated platform is built (or ``platform`` is
    used) on its own database, and the gateway reaches it through the
    adapters over an in-process HTTP transport. Otherwise the platform named
    by ``settings.platform`` is reached over the network with the configured
    trust. ``facts``/``register`` replace the adapters for tests of the domain.
    """
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    if settings.uses_sandbox_secret and db.dialect != "sqlite":
        log.warning("pseudonyms use the sandbox key: set CARE_GATEWAY_PSEUDONYM_SECRET for real data")
    pseudonyms = PseudonymService.from_secret(settings.pseudonym_secret)
    if settings.embedded_platform and platform is None:
        platform = _embedded_platform(settings, clock)
    sources = _fact_sources(settings, clock, platform)
    ctx = DomainContext(
        db=db,
        clock=clock,
        pseudonyms=pseudonyms,
        facts=facts or sources.facts,
        register=register or sources.register,
        settings=settings,
    )
    gw = Gateway(
        settings=settings,
        db=db,
        clock=clock,
        ctx=ctx,
        inclusions=InclusionService(ctx),
        consents=ConsentService(ctx),
        lifecycle=Lifecycle(ctx),
        exports=ExportService(ctx),
        care_teams=CareTeamService(ctx),
        referrals=ReferralService(ctx),
        access_log=AccessLogService(ctx),
        rights=RightsService(ctx),
        directory=DirectoryService(ctx),
        platform=platform if settings.embedded_platform else None,
    )
    _wire_trust(gw, platform)
    return gw


def _wire_trust(gw: Gateway, platform: "Platform | None") -> None:
    """The trust in force and the verifiers the faces take: the configured
    trust settings (every one required), or, embedded, the sandbox's."""
    from gateway.identity.replay import ReplayGuard
    from gateway.identity.wssecurity import MessageVerifier
    from gateway.trust import TrustSettings

    if platform is not None:
        trust, http = _sandbox_trust(platform), httpx.Client(transport=_LazyInProcess(platform))
    else:
        trust = TrustSettings.load()
        trust.check()  # a missing trust setting stops start-up, saying which
        from gateway.adapters.transport import http_client

        http = http_client()
    gw.trust = trust
    gw.tokens = trust.token_verifier(http, gw.clock)
    gw.messages = MessageVerifier(trust.message_trust(), gw.clock, ReplayGuard(gw.db))


def _sandbox_trust(platform: "Platform") -> "TrustSettings":
    """SANDBOX TRUST DERIVATION (embedded default only): trust the simulated
    platform by its *public* material, exactly what a vendor would configure
    for it: its CA and STS certificate files, its STS's Issuer, its IdP's
    issuer, JWKS URL and audience. No private key is read here."""
    from gateway.ehealth.oauth_keys import ACCESS_TOKEN_AUDIENCE, OIDC, issuer_for
    from gateway.ehealth.platform import PREFIX
    from gateway.identity.saml import STS_ISSUER
    from gateway.trust import CertificateStoreSettings, OidcIssuerSettings, StsSettings, TrustSettings

    pki = platform.pki.directory
    issuer = issuer_for(platform.settings.public_url)
    jwks_url = f"{_IN_PROCESS}{PREFIX}{OIDC}/certs"  # the IdP's published keys, through its HTTP route
    return TrustSettings(
        oidc=(OidcIssuerSettings("sandbox", issuer, jwks_url=jwks_url, audiences=(ACCESS_TOKEN_AUDIENCE,)),),
        sts=StsSettings((pki / "sts.cert.pem",), (STS_ISSUER,)),
        ca=CertificateStoreSettings((pki / "ca.cert.pem",)),
    )


_IN_PROCESS = "http://platform.in-process"


class _LazyInProcess(httpx.BaseTransport):
    """An httpx transport to the hosted platform's own app, started on first
    use (the keys are fetched once a token comes, not for every gateway built)."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform
        self._inner: Any = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:
            from gateway.adapters.transport import InProcessTransport
            from gateway.ehealth.platform import create_platform_app

            self._inner = InProcessTransport(create_platform_app(self.platform))
        return self._inner.handle_request(request)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()


@dataclass
class _Sources:
    facts: CareFacts
    register: NationalRegister


def _embedded_platform(settings: Settings, clock: Clock) -> "Platform":
    from gateway.ehealth.platform import PlatformSettings, build_platform

    return build_platform(
        PlatformSettings(database_url=settings.sandbox_database_url, seed=settings.sandbox_seed,
                         public_url=settings.public_url, sandbox_actions=settings.sandbox_actions),
        clock=clock,
    )


def _fact_sources(settings: Settings, clock: Clock, platform: "Platform | None") -> _Sources:
    """The domain's fact sources: adapters of the platform's web services."""
    if platform is None:
        raise NotImplementedError("platform adapters: wired below once gateway.adapters lands")
    return _Sources(facts=platform.facts, register=platform.register)
