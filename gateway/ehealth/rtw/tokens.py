"""Getting an access token as a return-to-work persona, the way a vendor's
software would: the sandbox sign-in (authorization code with PKCE) of the
realm where that persona's partner signs in (RP-S1). Tests, examples and
the conformance runner use this; nothing here bypasses a check. For SOAP,
the token of the persona's STS (:func:`rtw_sts_token`)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from gateway.ehealth.rtw.personas import rtw_personas
from gateway.ehealth.rtw.sandbox import rtw_sandbox
from gateway.ehealth.rtw.signin import BCSS, EHEALTH
from gateway.ehealth.sandbox.personas import Persona
from gateway.ehealth.sandbox_tokens import _sign_in
from gateway.ehealth.platform import PREFIX
from gateway.ehealth.rtw.sts import BCSS_STS_ATTRIBUTES, BCSS_STS_PATH
from gateway.ehealth.sts_client import persona_token, request_token

if TYPE_CHECKING:
    from gateway.domain.clock import Clock
    from gateway.ehealth.pki import SandboxPki
    from gateway.ehealth.platform import Platform


def rtw_persona(key: str, seed: int = 2026) -> Persona:
    return rtw_personas(rtw_sandbox(seed))[key]


def rtw_access_token(base_url: str, persona: Persona | str, *, realm: str | None = None, seed: int = 2026,
                     http: httpx.Client | None = None) -> str:
    """An access token for a return-to-work persona from the IdP of its
    partner (``realm`` forces the other one, for negative tests)."""
    sandbox = rtw_sandbox(seed)
    persona = rtw_persona(persona, seed) if isinstance(persona, str) else persona
    chosen = realm or sandbox.staff[persona.key].identity_provider
    where = BCSS if chosen == "bcss" else EHEALTH
    here = base_url.rstrip("/") + PREFIX + where.base
    client = http or httpx.Client(timeout=30)
    try:
        return _sign_in(client, {"authorization_endpoint": here + "/auth", "token_endpoint": here + "/token"},
                        where.client.client_id, persona)
    finally:
        if http is None:
            client.close()


def rtw_sts_token(base_url: str, platform_or_pki: "Platform | SandboxPki", persona: Persona | str, *,
                  sts: str | None = None, seed: int = 2026, clock: Clock | None = None,
                  lifetime: timedelta | int = timedelta(hours=1), http: httpx.Client | Any | None = None) -> bytes:
    """A SAML holder-of-key token for a return-to-work persona from the STS
    of its partner (RP-S1): the crossroads bank's for the regional services'
    users, eHealth's for the others (``sts`` forces the other one, for
    negative tests), requested with the persona's sandbox key as a vendor's
    connector would. Raises :class:`~gateway.ehealth.sts_client.StsRefused`."""
    pki = getattr(platform_or_pki, "pki", platform_or_pki)
    if clock is None and hasattr(platform_or_pki, "clock"):
        clock = platform_or_pki.clock  # type: ignore[union-attr]
    settings = getattr(platform_or_pki, "settings", None)
    sandbox = rtw_sandbox(settings.seed if settings is not None else seed)
    persona = rtw_persona(persona, sandbox.seed) if isinstance(persona, str) else persona
    chosen = sts or sandbox.staff[persona.key].identity_provider
    if chosen != "bcss":
        return persona_token(base_url, pki, persona, clock=clock, lifetime=lifetime, http=http)
    credential = pki.persona(persona.key)
    claims = [(BCSS_STS_ATTRIBUTES["niss"], persona.niss),
              (BCSS_STS_ATTRIBUTES["organisation_cbe"], persona.organisation_cbe or ""),
              (BCSS_STS_ATTRIBUTES["role"], persona.role.value)]
    url = base_url.rstrip("/")
    url = (url if url.endswith(PREFIX) else url + PREFIX) + BCSS_STS_PATH
    return request_token(url, credential.private_key, credential.certificate, claims=claims, lifetime=lifetime,
                         clock=clock, http=http)
