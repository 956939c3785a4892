"""Wires one gateway: settings -> database, clock, pseudonyms, sandbox
registries and the ports they answer, and the domain services."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gateway.config import Settings
from gateway.domain.clock import Clock, SystemClock
from gateway.domain.access_log import AccessLogService
from gateway.domain.care_teams import CareTeamService
from gateway.domain.consent import ConsentService
from gateway.domain.context import DomainContext
from gateway.domain.directory import DirectoryService
from gateway.domain.database import Database
from gateway.domain.exports import ExportService
from gateway.domain.inclusions import InclusionService
from gateway.domain.lifecycle import Lifecycle
from gateway.domain.pseudonyms import PseudonymService
from gateway.domain.referrals import ReferralService
from gateway.domain.rights import RightsService
from gateway.ehealth.pki import SandboxPki, load_pki
from gateway.ehealth.sandbox.facts import SandboxCareFacts
from gateway.ehealth.sandbox.links import StoredLinks
from gateway.ehealth.sandbox.register import SandboxNationalRegister
from gateway.ehealth.sandbox.registries import SandboxRegistries, generate_registries

log = logging.getLogger("gateway")


@dataclass
class Gateway:
    """One running gateway's services."""

    settings: Settings
    db: Database
    clock: Clock
    registries: SandboxRegistries
    register: SandboxNationalRegister
    pki: SandboxPki
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


def build_gateway(settings: Settings, *, clock: Clock | None = None, db: Database | None = None) -> Gateway:
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    registries = generate_registries(settings.sandbox_seed)
    register = SandboxNationalRegister(registries, db, clock)
    if settings.uses_sandbox_secret and db.dialect != "sqlite":
        log.warning("pseudonyms use the sandbox key: set CARE_GATEWAY_PSEUDONYM_SECRET for real data")
    pseudonyms = PseudonymService.from_secret(settings.pseudonym_secret)
    ctx = DomainContext(
        db=db,
        clock=clock,
        pseudonyms=pseudonyms,
        facts=SandboxCareFacts(registries, register=register, links=StoredLinks(registries, db, pseudonyms, register)),
        register=register,
        settings=settings,
    )
    gw = Gateway(
        settings=settings,
        db=db,
        clock=clock,
        registries=registries,
        register=register,
        pki=load_pki(settings.sandbox_seed),
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
    )
    _choose_attribute_authority(gw)
    return gw


def _choose_attribute_authority(gw: Gateway) -> None:
    """Point the access policy at the configured source of facts (IC-A1:
    the attribute authority is asked at each call)."""
    from gateway.domain.policy import AccessPolicy
    from gateway.ehealth.aa_facts import AttributeAuthorityFacts, http_transport

    choice = gw.settings.attribute_authority
    if choice == "registries":
        return
    if choice == "in-process":
        facts = AttributeAuthorityFacts.in_process(gw)
    elif choice.startswith(("http://", "https://")):
        facts = AttributeAuthorityFacts(http_transport(choice), gw.pki.platform("attribute-authority").certificate,
                                        directory=gw.registries, clock=gw.clock)
    else:
        raise ValueError(f"CARE_GATEWAY_ATTRIBUTE_AUTHORITY must be 'registries', 'in-process' or a URL, not {choice!r}")
    gw.ctx.facts = facts
    gw.ctx.policy = AccessPolicy(facts, gw.clock)
    log.info("access policy asks the attribute authority (%s)", choice)
