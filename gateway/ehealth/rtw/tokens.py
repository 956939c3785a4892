"""Getting an access token as a return-to-work persona, the way a vendor's
software would: the sandbox sign-in (authorization code with PKCE) of the
realm where that persona's partner signs in (RP-S1). Tests, examples and
the conformance runner use this; nothing here bypasses a check."""

from __future__ import annotations

import httpx

from gateway.ehealth.rtw.personas import rtw_personas
from gateway.ehealth.rtw.sandbox import rtw_sandbox
from gateway.ehealth.rtw.signin import BCSS, EHEALTH
from gateway.ehealth.sandbox.personas import Persona
from gateway.ehealth.sandbox_tokens import _sign_in
from gateway.ehealth.platform import PREFIX


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
