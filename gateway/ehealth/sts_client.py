"""A client of the STS, built with zeep from the STS's own ``?wsdl`` and
signed with :class:`~gateway.identity.zeep_wsse.X509Signature`: what the
tests, the examples and the conformance runner use to get real tokens,
exactly as a vendor's connector would.

``base_url`` may be the gateway (``http://host:port``), the simulated
platform (``…/ehealth``) or the STS endpoint itself; against the real
platform, pass the STS endpoint.
"""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import zeep
import zeep.exceptions
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from zeep.transports import Transport

from gateway.domain.clock import Clock, SystemClock
from gateway.ehealth.platform import PREFIX
from gateway.ehealth.sts import (
    ACTION_LEGACY,
    AUTHCLAIMS_DIALECT,
    KEY_TYPE_PUBLIC_KEY,
    PATH,
    REQUEST_TYPE_ISSUE,
)
from gateway.ehealth.sts_legacy import build_legacy_request
from gateway.identity.claims import ATTR_RTW_CBE, RTW_TOKEN_ROLES, attr_rtw_role
from gateway.identity.claims import (
    ATTR_CERT_HOLDER_SSIN,
    ATTR_DOCTOR_BOOLEAN,
    ATTR_DOCTOR_NIHII,
    attr_org_nihii,
    attr_org_recognised,
    attr_org_role,
    attr_professional_boolean,
    attr_professional_nihii,
)
from gateway.domain.principal import Role
from gateway.identity.saml import SAML_NS, SAMLP_NS
from gateway.identity.signing import BASE64_BINARY, SAML_TOKEN_TYPE, X509V3, Key
from gateway.identity.xml import parse_untrusted
from gateway.identity.xmldsig import xml_datetime
from gateway.identity.zeep_wsse import X509Signature
from gateway.soap11.envelope import FAULT_NS, envelope_bytes

if TYPE_CHECKING:
    from gateway.ehealth.pki import SandboxPki
    from gateway.ehealth.sandbox.personas import Persona
    from gateway.ehealth.platform import Platform

BINDING = "{urn:be:fgov:ehealth:sts:protocol:v1}SecurityTokenServiceBinding"
ORGANISATION_ROLES = {Role.PHARMACIST: "pharmacy", Role.PSI_ADMINISTRATIVE: "psi", Role.PSI_COORDINATOR: "psi",
                      Role.INSURER: "insurer"}


class StsRefused(Exception):
    """The STS refused: ``code`` is its stable code, ``path`` names the
    refused attribute (``…ClaimType[@Uri='…']``) when one is to blame."""

    def __init__(self, code: str, message: str, path: str | None = None, status: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.path = path
        self.status = status


def sts_url(base_url: str) -> str:
    """The STS endpoint for a gateway, platform or STS URL."""
    url = base_url.rstrip("/")
    if url.endswith(PATH):
        return url
    return (url if url.endswith(PREFIX) else url + PREFIX) + PATH


class HttpxTransport(Transport):
    """zeep over an ``httpx.Client`` (a FastAPI TestClient is one), so that a
    test can talk to an app in-process as well as over real HTTP."""

    def __init__(self, client: httpx.Client) -> None:
        self.cache = None
        self.load_timeout = self.operation_timeout = None
        self.client = client
        self.logger = logging.getLogger(__name__)
        self._close_session = False

    def get(self, address: str, params: Any, headers: Any) -> httpx.Response:
        return self.client.get(address, params=params, headers=headers)

    def post(self, address: str, message: bytes, headers: Any) -> httpx.Response:
        return self.client.post(address, content=message, headers=headers)

    def _load_remote_data(self, url: str) -> bytes:
        response = self.client.get(url)
        response.raise_for_status()
        return response.content

    def __del__(self) -> None:  # the caller owns the client
        pass


def _transport(http: httpx.Client | Any | None) -> Transport:
    if isinstance(http, httpx.Client):
        return HttpxTransport(http)
    return Transport(session=http, timeout=30, operation_timeout=30)


def _refusal(fault: zeep.exceptions.Fault) -> StsRefused:
    detail = fault.detail
    code = status = path = None
    if detail is not None:
        code = detail.findtext(f".//{{{FAULT_NS}}}Code")
        status = detail.findtext(f".//{{{FAULT_NS}}}Status")
        path = detail.findtext(f".//{{{FAULT_NS}}}Path")
    return StsRefused(code or "sts-fault", fault.message or "", path, status)


def _as_issued(assertion: etree._Element) -> bytes:
    """The assertion's bytes without the response's unused namespace
    declarations (exclusive c14n, which its signature uses, ignores them)."""
    copy = etree.fromstring(etree.tostring(assertion))
    etree.cleanup_namespaces(copy)
    return etree.tostring(copy)


def _cert_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def request_token(
    base_url: str,
    key: Key,
    cert: x509.Certificate,
    *,
    claims: list[tuple[str, str]],
    lifetime: timedelta | int = timedelta(hours=1),
    clock: Clock | None = None,
    http: httpx.Client | Any | None = None,
) -> bytes:
    """Ask the STS (WS-Trust form) for a holder-of-key token confirming
    ``cert`` with ``claims`` (ClaimType URI, value or ""); return the
    assertion's bytes as issued. Raises :class:`StsRefused`."""
    clock = clock or SystemClock()
    span = lifetime if isinstance(lifetime, timedelta) else timedelta(seconds=lifetime)
    url = sts_url(base_url)
    client = zeep.Client(url + "?wsdl", transport=_transport(http), wsse=X509Signature(key, cert, clock))
    service = client.create_service(BINDING, url)
    now = clock.now()
    try:
        result = service.RequestSecurityToken(
            TokenType=SAML_TOKEN_TYPE,
            RequestType=REQUEST_TYPE_ISSUE,
            Claims={"Dialect": AUTHCLAIMS_DIALECT,
                    "ClaimType": [{"Uri": uri, "Value": value or None} for uri, value in claims]},
            Lifetime={"Created": xml_datetime(now), "Expires": xml_datetime(now + span)},
            KeyType=KEY_TYPE_PUBLIC_KEY,
            UseKey={"BinarySecurityToken": {"_value_1": _cert_b64(cert), "ValueType": X509V3,
                                            "EncodingType": BASE64_BINARY}},
        )
    except zeep.exceptions.Fault as fault:
        raise _refusal(fault) from None
    assertion = result.RequestedSecurityToken._value_1
    if not isinstance(assertion, etree._Element) or assertion.tag != f"{{{SAML_NS}}}Assertion":
        raise StsRefused("sts-response-invalid", "The STS answered without a SAML 1.1 assertion.")
    return _as_issued(assertion)


def request_token_legacy(
    base_url: str,
    key: Key,
    cert: x509.Certificate,
    *,
    claims: list[tuple[str, str]],
    clock: Clock | None = None,
    http: httpx.Client | None = None,
) -> bytes:
    """The same with the legacy SAML 1.1 samlp:Request (posted as is: zeep
    adds nothing to an enveloped-signature request)."""
    clock = clock or SystemClock()
    request = build_legacy_request(key, cert, claims, clock=clock)
    body = envelope_bytes(request)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION_LEGACY}"'}
    client = http or httpx.Client(timeout=30)
    try:
        response = client.post(sts_url(base_url), content=body, headers=headers)
    finally:
        if http is None:
            client.close()
    root = parse_untrusted(response.content)
    fault = root.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    if fault is not None:
        raise StsRefused(root.findtext(f".//{{{FAULT_NS}}}Code") or "sts-fault", fault.findtext("faultstring") or "",
                         root.findtext(f".//{{{FAULT_NS}}}Path"), root.findtext(f".//{{{FAULT_NS}}}Status"))
    samlp = root.find(f".//{{{SAMLP_NS}}}Response")
    if samlp is None:
        raise StsRefused("sts-response-invalid", "The STS answered without a samlp:Response.")
    codes = [c.get("Value") for c in samlp.iter(f"{{{SAMLP_NS}}}StatusCode")]
    assertion = samlp.find(f"{{{SAML_NS}}}Assertion")
    if codes[:1] != ["samlp:Success"] or assertion is None:
        raise StsRefused(samlp.findtext(f".//{{{FAULT_NS}}}Code") or "sts-refused",
                         samlp.findtext(f".//{{{SAMLP_NS}}}StatusMessage") or "", samlp.findtext(f".//{{{FAULT_NS}}}Attribute"),
                         " ".join(c or "" for c in codes))
    return _as_issued(assertion)


def persona_claims(persona: "Persona") -> list[tuple[str, str]]:
    """The claims a connector would request for this persona: the SSIN, and
    the professional or organisation attributes of its role."""
    claims = [(ATTR_CERT_HOLDER_SSIN, persona.niss)]
    if persona.role is Role.PROVIDER and persona.quality == "doctor":
        claims += [(ATTR_DOCTOR_BOOLEAN, ""), (ATTR_DOCTOR_NIHII, persona.nihii or "")]
    elif persona.role is Role.PROVIDER and persona.quality:
        claims += [(attr_professional_boolean(persona.quality), ""),
                   (attr_professional_nihii(persona.quality), persona.nihii or "")]
    org = ORGANISATION_ROLES.get(persona.role)
    if org and persona.organisation_nihii:
        claims += [(attr_org_nihii(org), persona.organisation_nihii), (attr_org_recognised(org), "")]
        if persona.role is not Role.PHARMACIST:  # PSI staff, insurer staff: which role they hold there
            claims.append((attr_org_role(org, persona.role.value), ""))
    if persona.role is Role.PHARMACIST and persona.nihii:
        claims.append((attr_professional_nihii("pharmacist"), persona.nihii))
    if persona.role.value in RTW_TOKEN_ROLES and persona.organisation_cbe:  # return to work: partner CBE and role
        claims += [(ATTR_RTW_CBE, persona.organisation_cbe), (attr_rtw_role(persona.role.value), "")]
    return claims


def persona_token(
    base_url: str,
    gw_or_pki: "Platform | SandboxPki",
    persona: "Persona",
    *,
    clock: Clock | None = None,
    lifetime: timedelta | int = timedelta(hours=1),
    http: httpx.Client | Any | None = None,
    credential: str | None = None,
) -> bytes:
    """A real STS token for a sandbox persona, signed with its sandbox key
    (or the named ``credential``, e.g. ``persona-gp-expired-certificate``)."""
    pki = getattr(gw_or_pki, "pki", gw_or_pki)
    if clock is None and hasattr(gw_or_pki, "clock"):
        clock = gw_or_pki.clock  # type: ignore[union-attr]
    cred = pki.credential(credential) if credential else pki.persona(persona.key)
    return request_token(base_url, cred.private_key, cred.certificate, claims=persona_claims(persona),
                         lifetime=lifetime, clock=clock, http=http)
