"""Fixtures of the return-to-work domain tests: the use cases over the
sandbox sources in process (no wire), and the personas as principals
signed in through the IdP of their partner (RP-S1)."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.domain.principal import Principal
from gateway.domain.rtw.policy import SignIn
from gateway.domain.rtw.service import ReturnToWork
from gateway.ehealth.rtw.facts import SandboxPartnerSources, SandboxTrio
from gateway.ehealth.rtw.personas import rtw_personas
from gateway.ehealth.rtw.sandbox import RtwSandbox
from gateway.ehealth.rtw.state import RtwPlatformState, rtw_state

EHEALTH = "https://ehealth.test/auth/realms/M2M"
BCSS = "https://bcss.test/auth/realms/UMAN"


@pytest.fixture
def state(platform) -> RtwPlatformState:  # type: ignore[no-untyped-def]
    return rtw_state(platform)


@pytest.fixture
def sandbox(state: RtwPlatformState) -> RtwSandbox:
    return state.sandbox


@pytest.fixture
def rtw(gw, state: RtwPlatformState) -> ReturnToWork:  # type: ignore[no-untyped-def]
    return ReturnToWork(gw.ctx, SandboxPartnerSources(state), SandboxTrio(state), SignIn(frozenset({BCSS}), frozenset({EHEALTH})))


@pytest.fixture
def who(sandbox: RtwSandbox):  # type: ignore[no-untyped-def]
    """``who("oa-physician")``: that persona as a principal from its own IdP (or ``issuer``)."""
    personas = rtw_personas(sandbox)

    def make(key: str, issuer: str | None = None) -> Principal:
        chosen = issuer or (BCSS if sandbox.staff[key].identity_provider == "bcss" else EHEALTH)
        principal = personas[key].principal("otp")
        return dataclasses.replace(principal, extra={"iss": chosen})

    return make
