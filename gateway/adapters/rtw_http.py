"""Calling the platform's JSON services behind a machine-to-machine access
token: the gateway, an organisation acting as itself, gets the token from
eHealth's IdP with ``client_credentials`` and ``private_key_jwt`` (its own
key, client id ``cbe-{CBE}``), keeps it until shortly before it expires, and
sends it as ``Authorization: Bearer``. Every failure is a
:class:`~gateway.adapters.errors.PlatformError` with its stable code."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.adapters import errors
from gateway.adapters.errors import PlatformError
from gateway.domain.clock import Clock
from gateway.identity.jwk import jwk_thumbprint

TOKEN_PATH = "auth/realms/M2M/protocol/openid-connect/token"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MARGIN = timedelta(seconds=30)


def cbe_of(certificate: x509.Certificate) -> str:
    """The CBE an eHealth organisation certificate names (``CBE=…`` in its CN or an OU)."""
    for attribute in (*certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME),
                      *certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)):
        kind, _, value = str(attribute.value).partition("=")
        if kind == "CBE" and value:
            return value
    raise ValueError("the gateway's certificate names no CBE (CN or OU 'CBE=…'): it cannot act as an organisation")


class MachineToken:
    """The gateway's own access token for the platform's REST services."""

    def __init__(self, http: httpx.Client, base_url: str, key: rsa.RSAPrivateKey, certificate: x509.Certificate,
                 clock: Clock) -> None:
        self.http = http
        self.url = base_url.rstrip("/") + "/" + TOKEN_PATH
        self.key = key
        self.kid = jwk_thumbprint(certificate.public_key())  # type: ignore[arg-type]
        self.client_id = "cbe-" + cbe_of(certificate)
        self.clock = clock
        self._token: tuple[str, datetime] | None = None
        self._lock = threading.Lock()

    def value(self) -> str:
        with self._lock:
            now = self.clock.now()
            if self._token is None or now >= self._token[1] - MARGIN:
                self._token = self._fetch(now)
            return self._token[0]

    def forget(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self, now: datetime) -> tuple[str, datetime]:
        issued = int(now.timestamp())
        assertion = jwt.encode({"iss": self.client_id, "sub": self.client_id, "aud": self.url, "iat": issued,
                                "exp": issued + 60, "jti": secrets.token_urlsafe(16)},
                               self.key, algorithm="RS256", headers={"kid": self.kid})
        try:
            response = self.http.post(self.url, data={"grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
                                                      "client_assertion": assertion, "client_id": self.client_id})
        except httpx.HTTPError as exc:
            raise PlatformError(errors.UNREACHABLE, f"could not be reached ({type(exc).__name__}).", service="IAM token",
                                url=self.url) from None
        if response.status_code != 200:
            raise PlatformError(errors.FAULT, f"refused the gateway's client_credentials ({response.status_code}: "
                                f"{response.text[:200]}).", service="IAM token", url=self.url)
        body = response.json()
        return str(body["access_token"]), now + timedelta(seconds=int(body.get("expires_in", 60)))


class JsonService:
    """One of the platform's JSON services: POST a JSON object, read a JSON object."""

    def __init__(self, http: httpx.Client, url: str, *, service: str, token: MachineToken) -> None:
        self.http = http
        self.url = url
        self.service = service
        self.token = token

    def error(self, code: str, message: str) -> PlatformError:
        return PlatformError(code, message, service=self.service, url=self.url)

    def call(self, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in (1, 2):
            try:
                response = self.http.post(self.url, json=body, headers={"Authorization": f"Bearer {self.token.value()}",
                                                                        "Accept": "application/json"})
            except httpx.TimeoutException as exc:
                raise self.error(errors.UNREACHABLE, f"no answer in time ({type(exc).__name__}).") from None
            except httpx.HTTPError as exc:
                raise self.error(errors.UNREACHABLE, f"could not be reached ({type(exc).__name__}).") from None
            if response.status_code == 401 and attempt == 1:  # the token expired meanwhile: once more with a new one
                self.token.forget()
                continue
            break
        if response.status_code != 200:
            raise self.error(errors.HTTP_ERROR if response.status_code >= 500 else errors.FAULT,
                             f"answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            answer = response.json()
        except ValueError:
            raise self.error(errors.ANSWER_INVALID, "did not answer JSON.") from None
        if not isinstance(answer, dict):
            raise self.error(errors.ANSWER_INVALID, "did not answer a JSON object.")
        return answer
