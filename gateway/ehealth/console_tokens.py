"""Tokens for the sandbox console: got the way a vendor's software gets
them, shown decoded, with snippets that use them against a gateway.

:class:`PlatformClient` reaches the platform's own app in-process, over
HTTP semantics (``httpx`` through the app's routes): the console asks the
STS with :func:`gateway.ehealth.sts_client.persona_token` (WS-Trust, signed
with the persona's sandbox key) and the IdP with
:func:`gateway.ehealth.sandbox_tokens.persona_access_token` (token exchange,
sign-in or client credentials, by role). No token is minted around them:
what the console shows is what the STS and the IdP issued, refusals
included.

The decoding is for people: the access token's signature is checked against
the IdP's published keys (JWKS), the assertion's as the gateway checks it
(:func:`gateway.identity.saml.verify_assertion` with the STS certificate),
and validity is judged on the platform's clock.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import jwt
from lxml import etree

from gateway.domain.principal import Role
from gateway.namespaces import DS_NS, SAML1_NS

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform
    from gateway.ehealth.sandbox.personas import Persona

IN_PROCESS = "http://platform.in-process"
SSIN_SYSTEM = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
SANDBOX_GATEWAY = "http://127.0.0.1:8000"  # where `care-gateway serve` listens by default


class PlatformClient:
    """An ``httpx.Client`` to the platform's own app, in this process,
    started on first use and kept."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                from gateway.adapters.transport import in_process_client
                from gateway.ehealth.platform import create_platform_app

                self._client = in_process_client(create_platform_app(self.platform), base_url=IN_PROCESS, timeout=30)
            return self._client


@dataclass(frozen=True)
class Refusal:
    """The STS or the IdP said no: its code and its sentence."""

    what: str
    code: str
    message: str


@dataclass(frozen=True)
class AccessToken:
    persona: str
    flow: str
    token: str
    header: dict[str, Any]
    claims: dict[str, Any]
    verified: str  # how the signature was checked, or why it was not
    issued_at: datetime | None
    expires_at: datetime | None
    valid_now: bool


@dataclass(frozen=True)
class Assertion:
    persona: str
    xml: bytes
    assertion_id: str
    issuer: str
    issued_at: str
    not_before: str
    not_on_or_after: str
    subject: str
    confirmation: str
    signature_algorithm: str
    digest_algorithm: str
    canonicalization: str
    verified: str
    attributes: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (namespace, name, values)


def flow_of(persona: "Persona") -> str:
    """How :func:`persona_access_token` gets this persona's token (docs/oauth.md)."""
    if persona.role in (Role.PROVIDER, Role.PHARMACIST):
        return "STS SAML token, exchanged at the token endpoint (RFC 8693, holder-of-key proven by private_key_jwt)"
    if persona.role is Role.INSURER:
        return "client_credentials with the insurer's organisation key (private_key_jwt)"
    return "sign-in on the sandbox login page, authorization code with PKCE"


def _instant(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=timezone.utc) if isinstance(value, (int, float)) else None


def access_token(platform: "Platform", client: httpx.Client, persona: "Persona") -> AccessToken | Refusal:
    """An access token for ``persona`` from the platform's IdP, decoded."""
    from gateway.ehealth.sandbox_tokens import TokenError, persona_access_token
    from gateway.ehealth.sts_client import StsRefused

    try:
        token = persona_access_token(IN_PROCESS, platform.pki, persona, clock=platform.clock, http=client)
    except StsRefused as refused:
        return Refusal("The STS refused the token the exchange needs", refused.code, refused.message)
    except TokenError as refused:
        return Refusal("The identity provider refused", "token-refused", str(refused))
    except KeyError as missing:  # the flow of this role needs a certificate the sandbox PKI does not hold
        return Refusal("No sandbox credential for this flow", "credential-missing", str(missing).strip("'\""))
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    verified = _verify_jwt(client, token, header)
    issued, expires = _instant(claims.get("iat")), _instant(claims.get("exp"))
    now = platform.clock.now()
    valid = bool(issued and expires and issued <= now < expires) and verified.startswith("verified")
    return AccessToken(persona.key, flow_of(persona), token, header, claims, verified, issued, expires, valid)


def _verify_jwt(client: httpx.Client, token: str, header: dict[str, Any]) -> str:
    """Check the signature with the key the IdP publishes, as a resource server would."""
    from gateway.ehealth.sandbox_tokens import REALM

    try:
        discovery = client.get(f"{IN_PROCESS}{REALM}/.well-known/openid-configuration").json()
        keys = client.get(discovery["jwks_uri"]).json()["keys"]
        key = next(k for k in keys if k.get("kid") == header.get("kid"))
        jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"],
                   options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False})
    except StopIteration:
        return f"not verified: the IdP publishes no key with kid {header.get('kid')!r}"
    except (httpx.HTTPError, KeyError, ValueError, jwt.PyJWTError) as error:
        return f"not verified: {error}"
    return "verified with the IdP's published key (JWKS, kid " + str(header.get("kid")) + ")"


def sts_assertion(platform: "Platform", client: httpx.Client, persona: "Persona") -> Assertion | Refusal:
    """A SAML 1.1 holder-of-key assertion for ``persona`` from the platform's STS, decoded."""
    from gateway.ehealth.sts_client import StsRefused, persona_token

    try:
        xml = persona_token(IN_PROCESS, platform.pki, persona, clock=platform.clock, http=client)
    except StsRefused as refused:
        return Refusal("The STS refused", refused.code, refused.message)
    except KeyError:
        return Refusal("No sandbox certificate", "credential-missing",
                       f"{persona.key} has no certificate in the sandbox PKI: they sign in at the identity provider only.")
    return decode_assertion(platform, persona.key, xml)


def decode_assertion(platform: "Platform", persona: str, xml: bytes) -> Assertion:
    from gateway.identity.errors import TokenRejected
    from gateway.identity.saml import verify_assertion
    from gateway.identity.xml import parse_untrusted

    root = parse_untrusted(xml)
    saml = f"{{{SAML1_NS}}}"
    ds = f"{{{DS_NS}}}"
    conditions = root.find(f"{saml}Conditions")
    subject = root.find(f".//{saml}Subject/{saml}NameIdentifier")
    attributes = [(a.get("AttributeNamespace", ""), a.get("AttributeName", ""),
                   [(v.text or "").strip() for v in a.findall(f"{saml}AttributeValue")])
                  for a in root.iter(f"{saml}Attribute")]

    def algorithm(tag: str) -> str:
        found = root.find(f"{ds}Signature//{ds}{tag}")
        return found.get("Algorithm", "") if found is not None else ""

    try:
        verify_assertion(etree.fromstring(xml), trusted=[platform.pki.platform("sts").certificate], clock=platform.clock)
        verified = "verified as the gateway verifies it: signed by the STS certificate, issuer, validity, holder-of-key"
    except TokenRejected as refused:
        verified = f"not verified: {refused.code}: {refused.message}"
    return Assertion(
        persona=persona, xml=xml, assertion_id=root.get("AssertionID", ""), issuer=root.get("Issuer", ""),
        issued_at=root.get("IssueInstant", ""),
        not_before=conditions.get("NotBefore", "") if conditions is not None else "",
        not_on_or_after=conditions.get("NotOnOrAfter", "") if conditions is not None else "",
        subject=(subject.text or "") if subject is not None else "",
        confirmation=root.findtext(f".//{saml}ConfirmationMethod") or "",
        signature_algorithm=algorithm("SignatureMethod"), digest_algorithm=algorithm("DigestMethod"),
        canonicalization=algorithm("CanonicalizationMethod"), verified=verified, attributes=attributes,
    )


# ---------------------------------------------------------------- snippets


def example_patient(platform: "Platform", persona: "Persona") -> str:
    """Whose inclusions the snippets ask for: patients their own; everyone
    else the sandbox's ``patient`` (with whom gp, nurse and pharmacy A have
    links: other personas see the refusal their situation earns)."""
    return persona.niss if persona.role is Role.PATIENT else platform.registries.cast.patient


def curl_snippet(gateway: str, token: str, patient: str) -> str:
    query = "patient-identifier=" + quote(f"{SSIN_SYSTEM}|{patient}", safe="")
    return (f"GATEWAY={gateway}\n"
            f"TOKEN='{token}'\n"
            f'curl --fail-with-body -sS -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" \\\n'
            f'  "$GATEWAY/fhir/EpisodeOfCare?{query}"\n')


def httpx_snippet(gateway: str, token: str, patient: str) -> str:
    return (f"import httpx\n\n"
            f"GATEWAY = {json.dumps(gateway)}\n"
            f"TOKEN = {json.dumps(token)}\n\n"
            f"response = httpx.get(f\"{{GATEWAY}}/fhir/EpisodeOfCare\",\n"
            f"                     params={{\"patient-identifier\": {json.dumps(f'{SSIN_SYSTEM}|{patient}')}}},\n"
            f"                     headers={{\"Authorization\": f\"Bearer {{TOKEN}}\", \"Accept\": \"application/fhir+json\"}})\n"
            f"print(response.status_code, response.text)\n"
            f"response.raise_for_status()\n")


def zeep_snippet(gateway: str, persona: str, xml: bytes, patient: str) -> str:
    assertion = base64.b64encode(xml).decode("ascii")
    return (f"# The assertion is bound to {persona}'s certificate: sign with its key, downloaded above or written by\n"
            f"#   care-gateway sandbox credentials {persona} --out creds/\n"
            f"import base64\n"
            f"from pathlib import Path\n\n"
            f"import zeep\n"
            f"from cryptography import x509\n"
            f"from cryptography.hazmat.primitives.serialization import load_pem_private_key\n\n"
            f"from gateway.identity.zeep_wsse import SamlHolderOfKey\n\n"
            f"GATEWAY = {json.dumps(gateway)}\n"
            f"ASSERTION = base64.b64decode(\"{assertion}\")  # the STS's assertion, bytes exactly as issued\n"
            f"key = load_pem_private_key(Path(\"creds/{persona}.key.pem\").read_bytes(), password=None)\n"
            f"cert = x509.load_pem_x509_certificate(Path(\"creds/{persona}.cert.pem\").read_bytes())\n\n"
            f"service = zeep.Client(f\"{{GATEWAY}}/soap/IntegratedCare/v1?wsdl\",\n"
            f"                      wsse=SamlHolderOfKey(ASSERTION, key, cert)).service\n"
            f"print(service.GetPatientInclusions(PatientSsin={json.dumps(patient)}))\n")
