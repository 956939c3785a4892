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
``register``, ``directory``): that changes where facts come from, never
whether the access policy asks them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from gateway.config import Settings
from gateway.domain.access_log import AccessLogService
from gateway.domain.bulk_export import BulkExportService
from gateway.domain.care_teams import CareTeamService
from gateway.domain.clock import Clock, SystemClock
from gateway.domain.consent import ConsentService
from gateway.domain.context import DomainContext
from gateway.domain.database import Database
from gateway.domain.directory import DirectoryService
from gateway.domain.exports import ExportService
from gateway.domain.inclusions import InclusionService
from gateway.domain.lifecycle import Lifecycle
from gateway.domain.ports import CareDirectory, CareFacts, NationalRegister
from gateway.domain.pseudonyms import PseudonymService
from gateway.domain.referrals import ReferralService
from gateway.domain.rights import RightsService
from gateway.domain.usecases import UseCases

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
    bulk_exports: BulkExportService | None = None  # the insurers' bulk exports (IC-R7), FHIR Bulk Data
    messages: Any = None  # the WS-Security trust the SOAP face takes
    return_to_work: Any = None  # gateway.domain.rtw.service.ReturnToWork
    perinatal: Any = None  # gateway.domain.perinatal.service.PerinatalService

    @property
    def use_cases(self) -> UseCases:
        """What the faces are given: the use cases, not this object."""
        return UseCases(ctx=self.ctx, inclusions=self.inclusions, consents=self.consents, lifecycle=self.lifecycle,
                        exports=self.exports, care_teams=self.care_teams, referrals=self.referrals,
                        access_log=self.access_log, rights=self.rights, directory=self.directory,
                        return_to_work=self.return_to_work, perinatal=self.perinatal)


def build_gateway(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    platform: "Platform | None" = None,
    facts: CareFacts | None = None,
    register: NationalRegister | None = None,
    directory: CareDirectory | None = None,
    rtw_sources: Any = None,
    trio: Any = None,
) -> Gateway:
    """A gateway wired from ``settings``.

    Embedded default: the simulated platform is built (or ``platform`` is
    used) on its own database, and the gateway reaches it through the
    adapters over an in-process HTTP transport, trusting it by its public
    material. Otherwise the platform named by ``settings.platform`` is
    reached over the network with the configured trust, every setting of
    which must be present. ``facts``/``register``/``directory`` (and
    ``rtw_sources``/``trio`` for return to work) replace the adapters for
    tests of the domain.
    """
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    if settings.uses_sandbox_secret and db.dialect != "sqlite":
        log.warning("pseudonyms use the sandbox key: set CARE_GATEWAY_PSEUDONYM_SECRET for real data")
    pseudonyms = PseudonymService.from_secret(settings.pseudonym_secret)
    if not settings.embedded_platform:
        platform = None
    elif platform is None:
        platform = _embedded_platform(settings, clock)
    trust, http, base_url = _trust_and_transport(settings, platform)
    sources = None
    if facts is None or register is None or directory is None:
        sources = _platform_adapters(trust, http, base_url, clock)
    ctx = DomainContext(
        db=db,
        clock=clock,
        pseudonyms=pseudonyms,
        facts=facts or sources.facts,  # type: ignore[union-attr]
        register=register or sources.register,  # type: ignore[union-attr]
        settings=settings,
    )
    from gateway.identity.issuer_stamp import IssuerStamped
    from gateway.identity.token_cache import CachedTokens
    from gateway.identity.replay import ReplayGuard
    from gateway.identity.wssecurity import MessageVerifier

    return_to_work = _return_to_work(ctx, trust, http, base_url, clock, rtw_sources, trio)
    referrals = ReferralService(ctx)
    perinatal = _perinatal(ctx, referrals)
    return Gateway(
        settings=settings,
        db=db,
        clock=clock,
        ctx=ctx,
        inclusions=InclusionService(ctx),
        consents=ConsentService(ctx),
        lifecycle=Lifecycle(ctx),
        exports=ExportService(ctx),
        care_teams=CareTeamService(ctx),
        referrals=referrals,
        access_log=AccessLogService(ctx),
        rights=RightsService(ctx),
        bulk_exports=BulkExportService(ctx),
        directory=DirectoryService(ctx, directory or sources.directory),  # type: ignore[union-attr]
        platform=platform,
        trust=trust,
        tokens=CachedTokens(IssuerStamped(trust.token_verifier(http, clock)), clock),  # verified once per token
        messages=MessageVerifier(trust.message_trust(), clock, ReplayGuard(db)),
        return_to_work=return_to_work,
        perinatal=perinatal,
    )


def _perinatal(ctx: DomainContext, referrals: ReferralService) -> Any:
    """The perinatal programme (PN-1..PN-3, RF-3), on the referral workflow
    its referrals to support go through."""
    from gateway.domain.perinatal.service import PerinatalService

    service = PerinatalService(ctx, referrals)
    referrals.register_guard("perinatal", service.referral_guard)  # PN-2 on every perinatal referral act
    referrals.register_basis("perinatal", service.referral_basis)  # RF-3: the follow-up, screening and domain it rests on
    return service


def _return_to_work(ctx: DomainContext, trust: "TrustSettings", http: httpx.Client, base_url: str, clock: Clock,
                    sources: Any, trio: Any) -> Any:
    """Return to work: its sources and TRIO over the wire (the gateway's own
    machine-to-machine token), and RP-S1's sign-in table from the trusted
    issuers: the [[trust.oidc]] entries whose name starts with ``bcss`` are
    the crossroads bank's IdP (regional users), the others eHealth's."""
    from gateway.domain.rtw.policy import SignIn
    from gateway.domain.rtw.service import ReturnToWork

    if sources is None or trio is None:
        from gateway.adapters.rtw_http import MachineToken
        from gateway.adapters.rtw_sources import PlatformPartnerSources
        from gateway.adapters.rtw_trio import PlatformTrio

        own = trust.own_credential()
        token = MachineToken(http, base_url, own.key, own.certificate, clock)
        sources = sources or PlatformPartnerSources(http, base_url, token)
        trio = trio or PlatformTrio(http, base_url, token)
    regional = frozenset(i.issuer for i in trust.oidc if i.name.startswith("bcss"))
    ehealth = frozenset(i.issuer for i in trust.oidc if not i.name.startswith("bcss"))
    # the STSs likewise (a SOAP caller's Principal names its STS's Issuer): bcss* is the crossroads bank's
    regional |= {issuer for sts in trust.trusted_sts() if sts.name.startswith("bcss") for issuer in sts.issuers}
    ehealth |= {issuer for sts in trust.trusted_sts() if not sts.name.startswith("bcss") for issuer in sts.issuers}
    return ReturnToWork(ctx, sources, trio, SignIn(regional, ehealth), small_cell=ctx.settings.rtw_small_cell)


def _trust_and_transport(settings: Settings, platform: "Platform | None") -> "tuple[TrustSettings, httpx.Client, str]":
    """The trust in force, the HTTP client that reaches the platform, and the
    platform's services base URL: the configured ones (every trust setting
    required, start-up stops naming a missing one), or, embedded, the
    sandbox's public material and an in-process transport to its app."""
    from gateway.trust import TrustSettings

    if platform is not None:
        return _sandbox_trust(platform), httpx.Client(transport=_LazyInProcess(platform)), _IN_PROCESS + _prefix()
    trust = TrustSettings.load()
    trust.check()
    from gateway.adapters.transport import http_client

    return trust, http_client(), settings.platform


def _platform_adapters(trust: "TrustSettings", http: httpx.Client, base_url: str, clock: Clock) -> Any:
    """The domain's ports answered by the platform's web services, signed
    with the gateway's own credential, answers believed on the pinned
    platform certificates."""
    from gateway.adapters.connection import connect
    from gateway.adapters.transport import Endpoints
    from gateway.adapters.wsse import CertificateSigner

    own = trust.own_credential()
    return connect(http, Endpoints(base_url), signer=CertificateSigner(own.key, own.certificate, clock=clock),
                   authority_trust=list(trust.platform_signers()), clock=clock)


def _prefix() -> str:
    from gateway.ehealth.platform import PREFIX

    return PREFIX


def _sandbox_trust(platform: "Platform") -> "TrustSettings":
    """SANDBOX TRUST DERIVATION (embedded default only): trust the simulated
    platform by its *public* material, exactly what a vendor would configure
    for it: its CA and STS certificate files, its STS's Issuer, its IdP's
    issuer, JWKS URL and audience, and the organisation credential the
    gateway signs its own calls with. No key of the platform is read here."""
    from gateway.ehealth.oauth_keys import ACCESS_TOKEN_AUDIENCE, OIDC, issuer_for
    from gateway.ehealth.platform import PREFIX
    from gateway.identity.saml import STS_ISSUER
    from gateway.trust import CertificateStoreSettings, CredentialSettings, OidcIssuerSettings, StsSettings, TrustSettings

    from gateway.ehealth.rtw.signin import BCSS_CLAIMS, BCSS_OIDC, bcss_issuer
    from gateway.ehealth.rtw.sts import BCSS_STS_ATTRIBUTES, BCSS_STS_ISSUER, bcss_sts_certificate_file
    from gateway.identity.claims import ClaimsMapping

    pki = platform.pki.directory
    # The gateway signs its calls as an organisation of the sandbox (the files
    # `care-gateway sandbox credentials org-NIHII` writes), as a hospital's
    # installation would with its own eHealth certificate.
    own = f"org-{platform.registries.cast.hospital}"
    issuer = issuer_for(platform.settings.public_url)
    jwks_url = f"{_IN_PROCESS}{PREFIX}{OIDC}/certs"  # the IdP's published keys, through its HTTP route
    return TrustSettings(
        oidc=(OidcIssuerSettings("sandbox", issuer, jwks_url=jwks_url, audiences=(ACCESS_TOKEN_AUDIENCE,)),
              # the social-security crossroads bank's IdP: regional users of return to work (RP-S1)
              OidcIssuerSettings("bcss", bcss_issuer(platform.settings.public_url),
                                 jwks_url=f"{_IN_PROCESS}{PREFIX}{BCSS_OIDC}/certs", audiences=(ACCESS_TOKEN_AUDIENCE,),
                                 claims=ClaimsMapping.from_names(BCSS_CLAIMS))),
        sts=StsSettings((pki / "sts.cert.pem",), (STS_ISSUER,)),
        # the crossroads bank's STS: regional users' SOAP calls (RP-S1), its own Issuer, key and attributes
        other_sts=(StsSettings((bcss_sts_certificate_file(platform.pki),), (BCSS_STS_ISSUER,), "bcss",
                               ClaimsMapping.from_names(BCSS_STS_ATTRIBUTES)),),
        ca=CertificateStoreSettings((pki / "ca.cert.pem",)),
        credential=CredentialSettings(key=pki / f"{own}.key.pem", certificate=pki / f"{own}.cert.pem"),
        platform_certificates=(pki / "attribute-authority.cert.pem",),
    )


_IN_PROCESS = "http://platform.in-process"


class _LazyInProcess(httpx.BaseTransport):
    """An httpx transport to the hosted platform's own app, started on first
    use (the keys are fetched once a token comes, not for every gateway built)."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform
        self._inner: Any = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._inner is None:
                from gateway.adapters.transport import InProcessTransport
                from gateway.ehealth.platform import create_platform_app

                self._inner = InProcessTransport(create_platform_app(self.platform))
        return self._inner.handle_request(request)

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()


def _embedded_platform(settings: Settings, clock: Clock) -> "Platform":
    from gateway.ehealth.platform import PlatformSettings, build_platform

    return build_platform(
        PlatformSettings(database_url=settings.sandbox_database_url, seed=settings.sandbox_seed,
                         public_url=settings.public_url, sandbox_actions=settings.sandbox_actions),
        clock=clock,
    )

