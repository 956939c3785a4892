"""The simulated eHealth platform as a service of its own.

:class:`Platform` holds what the simulated services share: their own
database, the sandbox registries and national register, the sandbox PKI,
a clock, and the public URL they are reached at (the IdP's issuer is
derived from it, never from a request's ``Host``). :func:`create_platform_app`
serves them under ``/ehealth``, at the same relative paths as the real
platform (``IAM/SecurityTokenService/v1``, ...), so a vendor switches
between them by changing only a base URL.

``care-gateway sandbox serve`` runs this app alone; the gateway's embedded
default may host it in the same process, but reaches it only through its
adapters and configured trust, as it would reach the real platform.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from fastapi import APIRouter, FastAPI

from gateway.domain.clock import Clock, SystemClock
from gateway.domain.database import Database
from gateway.domain.ports import CareFacts
from gateway.domain.pseudonyms import PseudonymService

if TYPE_CHECKING:
    from gateway.ehealth.call_log import CallLog
    from gateway.ehealth.pki import SandboxPki
    from gateway.ehealth.sandbox.register import SandboxNationalRegister
    from gateway.ehealth.sandbox.registries import SandboxRegistries

PREFIX = "/ehealth"
DEFAULT_SEED = 2026
# The simulation's own key for the link and consent rows it keys by person
# (it is the platform, not the gateway: this never touches the gateway's data).
PLATFORM_PSEUDONYM_SECRET = "care-gateway-simulated-platform-key"
log = logging.getLogger("gateway.ehealth")


def default_platform_database_url() -> str:
    return f"sqlite:///{Path('var') / 'sandbox-platform.sqlite3'}"


@dataclass(frozen=True)
class PlatformSettings:
    """Settings of the simulated platform (``CARE_GATEWAY_SANDBOX_*``)."""

    database_url: str = field(default_factory=default_platform_database_url)
    seed: int = DEFAULT_SEED
    public_url: str = "http://127.0.0.1:8000"  # where vendors reach it: the IdP's issuer is built on it
    # The unauthenticated conveniences (inject a death or a NISS change, the JSON feed).
    sandbox_actions: bool = True

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "PlatformSettings":
        env = dict(os.environ if env is None else env)
        base = cls()
        return replace(
            base,
            database_url=env.get("CARE_GATEWAY_SANDBOX_DATABASE_URL", base.database_url),
            seed=int(env.get("CARE_GATEWAY_SANDBOX_SEED", base.seed)),
            public_url=env.get("CARE_GATEWAY_SANDBOX_PUBLIC_URL", base.public_url).rstrip("/"),
            sandbox_actions=env.get("CARE_GATEWAY_SANDBOX_ACTIONS", "on").strip().lower() not in ("off", "0", "false", "no"),
        )


@dataclass
class Platform:
    """One running simulated platform's state and services."""

    settings: PlatformSettings
    db: Database
    clock: Clock
    registries: "SandboxRegistries"
    register: "SandboxNationalRegister"
    pki: "SandboxPki"
    pseudonyms: PseudonymService
    facts: CareFacts  # what the platform's own services know: registries plus TherLink's stored links
    # the last calls its services answered, for the sandbox console (bounded, in memory; recorded only
    # while sandbox actions are on)
    calls: "CallLog" = field(default_factory=lambda: _call_log())

    @property
    def base_url(self) -> str:
        """The platform's services base, e.g. ``http://127.0.0.1:8000/ehealth``."""
        return self.settings.public_url.rstrip("/") + PREFIX


def _call_log() -> "CallLog":
    from gateway.ehealth.call_log import CallLog

    return CallLog()


def build_platform(settings: PlatformSettings, *, clock: Clock | None = None, db: Database | None = None) -> Platform:
    """The simulated platform on its own database (schema created if absent)."""
    from gateway.ehealth.pki import load_pki
    from gateway.ehealth.sandbox.facts import SandboxCareFacts
    from gateway.ehealth.sandbox.links import StoredLinks
    from gateway.ehealth.sandbox.register import SandboxNationalRegister
    from gateway.ehealth.sandbox.registries import generate_registries
    from gateway.ehealth.store import create_platform_schema

    clock = clock or SystemClock()
    if db is None:
        _prepare_sqlite_dir(settings.database_url)
        db = Database(settings.database_url)
    create_platform_schema(db)
    registries = generate_registries(settings.seed)
    register = SandboxNationalRegister(registries, db, clock)
    pseudonyms = PseudonymService.from_secret(PLATFORM_PSEUDONYM_SECRET)
    links = StoredLinks(registries, db, pseudonyms, register)
    return Platform(
        settings=settings, db=db, clock=clock, registries=registries, register=register,
        pki=load_pki(settings.seed), pseudonyms=pseudonyms,
        facts=SandboxCareFacts(registries, register=register, links=links),
    )


def _prepare_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _service_routers() -> list[Callable[[Platform], APIRouter]]:
    """Each simulated service module exposes ``router(platform) -> APIRouter``."""
    routers: list[Callable[[Platform], APIRouter]] = []
    # one line per service, in the order of ehealth.md
    from gateway.ehealth import sts  # STS: SAML 1.1 holder-of-key tokens (WS-Trust and legacy)
    routers.append(sts.router)
    from gateway.ehealth import oauth  # OAuth2 / OpenID Connect (sandbox IdP)
    routers.append(oauth.router)
    from gateway.ehealth import attribute_authority  # attribute authority: SAML 2.0 AttributeQuery
    routers.append(attribute_authority.router)
    from gateway.ehealth import therlink  # TherLink: therapeutic relationships
    routers.append(therlink.router)
    from gateway.ehealth import hub_consent  # Consent: the patient's hub consent
    routers.append(hub_consent.router)
    from gateway.ehealth import addressbook  # AddressBook / CoBrHa look-ups
    routers.append(addressbook.router)
    from gateway.ehealth import consultrn  # consultRN: national register and its mutation feed
    routers.append(consultrn.router)
    from gateway.ehealth.rtw import sources as rtw_sources  # return to work: CIN, Dimona, SEED-Connect, JobSeeker, UMAN, pseudo, TRIO
    routers.append(rtw_sources.router)
    from gateway.ehealth.rtw import signin as rtw_signin  # return to work: the crossroads bank's IdP, eHealth sign-in
    routers.append(rtw_signin.router)
    return routers


def mount_platform(app: FastAPI, platform: Platform) -> None:
    """Serve the simulated services under ``/ehealth`` of ``app`` (and the
    sandbox actions and console under ``/sandbox`` when they are on)."""
    for make in _service_routers():
        app.include_router(make(platform), prefix=PREFIX)
    if platform.settings.sandbox_actions:  # unauthenticated conveniences: never where data are real
        from gateway.ehealth.sandbox.actions import router as sandbox_actions

        app.include_router(sandbox_actions(platform))
        from gateway.ehealth.console import mount_console  # /sandbox/console/ and the record of the last calls

        mount_console(app, platform)


def create_platform_app(platform: Platform) -> FastAPI:
    """The simulated platform alone, as ``care-gateway sandbox serve`` runs it."""
    import gateway

    app = FastAPI(
        title="care-gateway simulated eHealth platform",
        version=gateway.__version__,
        description="STS, IdP, attribute authority, TherLink, Consent, AddressBook and consultRN, on sandbox data.",
    )
    app.state.platform = platform
    mount_platform(app, platform)
    if platform.settings.sandbox_actions:  # the sandbox console is this service's home page
        from gateway.ehealth.console import router as console

        app.include_router(console(platform, at_root=True))

    @app.get("/health", tags=["operations"], summary="Liveness of the simulated platform")
    def health() -> Any:
        return {"status": "ok", "service": "simulated eHealth platform", "version": gateway.__version__,
                "base": platform.base_url}

    return app


def write_trust_files(platform: Platform, out: Path, organisation: str | None = None) -> list[Path]:
    """Everything a gateway needs to trust this simulated platform, as a
    vendor would receive it for eHealth's acceptance environment: the CA,
    STS and attribute-authority certificates (public material only), an
    organisation's credential for the gateway's own signed calls, and a
    settings file naming them (``CARE_GATEWAY_SETTINGS``)."""
    from gateway.ehealth.oauth_keys import ACCESS_TOKEN_AUDIENCE, REALM, issuer_for
    from gateway.identity.saml import STS_ISSUER

    out.mkdir(parents=True, exist_ok=True)
    nihii = organisation or platform.registries.cast.hospital
    if platform.registries.organisation(nihii) is None:
        raise ValueError(f"no organisation with NIHII {nihii!r} in the sandbox")
    own = platform.pki.organisation(nihii)
    files = {
        "ca.cert.pem": platform.pki.ca.cert_pem,
        "sts.cert.pem": platform.pki.platform("sts").cert_pem,
        "attribute-authority.cert.pem": platform.pki.platform("attribute-authority").cert_pem,
        "bcss-sts.cert.pem": _bcss_sts_certificate(platform),
        f"org-{nihii}.key.pem": own.key_pem,
        f"org-{nihii}.cert.pem": own.cert_pem,
    }
    written = []
    for name, data in files.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    issuer = issuer_for(platform.settings.public_url)
    settings = out / "care-gateway.toml"
    settings.write_text(f"""# A gateway that trusts the simulated eHealth platform at {platform.base_url}
# (written by `care-gateway sandbox trust`; docs/going-live.md explains each line).
# Point CARE_GATEWAY_SETTINGS at this file; paths are relative to it.

[gateway]
platform = "{platform.base_url}"

[trust]
sts_certificates = ["sts.cert.pem"]
sts_issuers = ["{STS_ISSUER}"]
ca_certificates = ["ca.cert.pem"]
key = "org-{nihii}.key.pem"
certificate = "org-{nihii}.cert.pem"
platform_certificates = ["attribute-authority.cert.pem"]

[[trust.oidc]]
name = "sandbox"
issuer = "{issuer}"
discovery_url = "{platform.base_url}{REALM}/.well-known/openid-configuration"
audiences = ["{ACCESS_TOKEN_AUDIENCE}"]
{_bcss_trust(platform)}""", encoding="utf-8")
    written.append(settings)
    return written


def _bcss_sts_certificate(platform: Platform) -> bytes:
    from gateway.ehealth.rtw.sts import bcss_sts_credential

    return bcss_sts_credential(platform.pki).cert_pem


def _bcss_trust(platform: Platform) -> str:
    """The second ``[[trust.oidc]]``: the crossroads bank's IdP, where the
    regional services' users of return to work sign in (RP-S1), with its
    claims; and its STS (``[[trust.sts]]``, their SOAP calls), its Issuer
    paired with its certificate, with its attribute names."""
    from gateway.ehealth.oauth_keys import ACCESS_TOKEN_AUDIENCE
    from gateway.ehealth.rtw.signin import BCSS_CLAIMS, BCSS_REALM, bcss_issuer
    from gateway.ehealth.rtw.sts import BCSS_STS_ATTRIBUTES, BCSS_STS_ISSUER

    claims = "\n".join(f'{field} = "{claim}"' for field, claim in BCSS_CLAIMS.items())
    attributes = "\n".join(f'{field} = "{name}"' for field, name in BCSS_STS_ATTRIBUTES.items())
    return f"""
[[trust.oidc]]
name = "bcss"
issuer = "{bcss_issuer(platform.settings.public_url)}"
discovery_url = "{platform.base_url}{BCSS_REALM}/.well-known/openid-configuration"
audiences = ["{ACCESS_TOKEN_AUDIENCE}"]

[trust.oidc.claims]
{claims}

[[trust.sts]]
name = "bcss"
issuers = ["{BCSS_STS_ISSUER}"]
certificates = ["bcss-sts.cert.pem"]

[trust.sts.attributes]
{attributes}
"""
