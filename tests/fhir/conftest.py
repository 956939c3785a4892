"""Shared fixtures of the FHIR face's tests: real access tokens from the
simulated IdP for each persona (cached per module), and a fhirpy client."""

from __future__ import annotations

from typing import Callable

import pytest
from fhirpy import SyncFHIRClient

from gateway.ehealth.sandbox_tokens import persona_access_token


@pytest.fixture(scope="module")
def fhir_token(live, personas) -> Callable[[str], str]:  # type: ignore[no-untyped-def]
    cache: dict[str, str] = {}

    def token(key: str) -> str:
        if key not in cache:
            cache[key] = persona_access_token(live.base_url, live.gw.platform.pki, personas[key], clock=live.clock)
        return cache[key]

    return token


@pytest.fixture(scope="module")
def fhir_client(live, fhir_token) -> Callable[[str], SyncFHIRClient]:  # type: ignore[no-untyped-def]
    def client(key: str) -> SyncFHIRClient:
        return SyncFHIRClient(f"{live.base_url}/fhir", authorization=f"Bearer {fhir_token(key)}")

    return client
