"""Tokens for the sandbox console: got the way a vendor's software gets
them, shown decoded, with snippets that use them against a gateway.

:class:`PlatformClient` reaches the platform's own app in-process, over
HTTP semantics (``httpx`` through the app's routes): the console asks the
STS with :func:`gateway.ehealth.sts_client.persona_token` (WS-Trust, signed
with the persona's sandbox key) and the IdP with
:func:`gateway.ehealth.sandbox_tokens.persona_access_token` (token exchange,
sign-in or client credentials, by role). A return-to-work persona signs
in where its partner signs in (RP-S1, :class:`SignsInAt`): eHealth, or the
social-security crossroads bank's IdP and STS for the regional services'
users, asked with :mod:`gateway.ehealth.rtw.tokens`. No token is minted
around them: what the console shows is what the STS and the IdP issued,
refusals included.

The decoding is for people: the access token's signature is checked against
the published keys (JWKS) of the realm that issued it, the assertion's as
the gateway checks it (:func:`gateway.identity.saml.verify_assertion` with
the certificate paired with that STS's Issuer), and validity is judged on
the platform's clock.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote

import httpx
import jwt
from lxml import etree

from gateway.domain.principal import Role
from gateway.namespaces import DS_NS, SAML1_NS

if TYPE_CHECKING:
    from cryptography import x509

    from gateway.ehealth.pki import SandboxPki
    from gateway.ehealth.platform import Platform
    from gateway.ehealth.sandbox.personas import Persona

IN_PROCESS = "http://platform.in-process"
SSIN_SYSTEM = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
SANDBOX_GATEWAY = "http://127.0.0.1:8000"  # where `care-gateway serve` listens by default
RTW_DOSSIER_TYPE = "https://care-gateway.be/fhir/CodeSystem/rtw-episode-type|rtw-dossier"


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


@dataclass(frozen=True)
class SignsInAt:
    """Where a return-to-work persona signs in (RP-S1): an IdP realm, known
    by its discovery document (whose JWKS checks its tokens), and an STS,
    known by its Issuer paired with its signing certificate, as the
    gateway's trust pairs them (``[[trust.sts]]``)."""

    key: str  # ehealth | bcss, as ``StaffMember.identity_provider``
    name: str  # for people
    discovery: str  # the realm's discovery document, a path of the platform's app
    sts_issuer: str
    sts_certificate: Callable[["SandboxPki"], "x509.Certificate"]


def signs_in_at(identity_provider: str) -> SignsInAt:
    """eHealth's IdP and STS, or the crossroads bank's (``bcss``)."""
    from gateway.ehealth.platform import PREFIX
    from gateway.ehealth.rtw.signin import BCSS_REALM
    from gateway.ehealth.rtw.sts import BCSS_STS_ISSUER, bcss_sts_credential
    from gateway.ehealth.sandbox_tokens import REALM
    from gateway.identity.saml import STS_ISSUER

    if identity_provider == "bcss":
        return SignsInAt("bcss", "the crossroads bank (KSZ-BCSS)", f"{PREFIX}{BCSS_REALM}/.well-known/openid-configuration",
                         BCSS_STS_ISSUER, lambda pki: bcss_sts_credential(pki).certificate)
    return SignsInAt("ehealth", "eHealth", f"{REALM}/.well-known/openid-configuration", STS_ISSUER,
                     lambda pki: pki.platform("sts").certificate)


def flow_of(persona: "Persona") -> str:
    """How :func:`persona_access_token` gets this persona's token (docs/oauth.md)."""
    if persona.role in (Role.PROVIDER, Role.PHARMACIST):
        return "STS SAML token, exchanged at the token endpoint (RFC 8693, holder-of-key proven by private_key_jwt)"
    if persona.role is Role.INSURER:
        return "client_credentials with the insurer's organisation key (private_key_jwt)"
    return "sign-in on the sandbox login page, authorization code with PKCE"


def _instant(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=timezone.utc) if isinstance(value, (int, float)) else None


def access_token(platform: "Platform", client: httpx.Client, persona: "Persona",
                 rtw: SignsInAt | None = None) -> AccessToken | Refusal:
    """An access token for ``persona`` from the platform's IdP, decoded; for
    a return-to-work persona (``rtw``), from the sign-in of its own realm."""
    from gateway.ehealth.sandbox_tokens import TokenError, persona_access_token
    from gateway.ehealth.sts_client import StsRefused

    try:
        if rtw is None:
            token = persona_access_token(IN_PROCESS, platform.pki, persona, clock=platform.clock, http=client)
        else:
            from gateway.ehealth.rtw.tokens import rtw_access_token

            token = rtw_access_token(IN_PROCESS, persona, realm=rtw.key, seed=platform.settings.seed, http=client)
    except StsRefused as refused:
        return Refusal("The STS refused the token the exchange needs", refused.code, refused.message)
    except (TokenError, httpx.HTTPStatusError) as refused:
        return Refusal("The identity provider refused", "token-refused", str(refused))
    except KeyError as missing:  # the flow of this role needs a certificate the sandbox PKI does not hold
        return Refusal("No sandbox credential for this flow", "credential-missing", str(missing).strip("'\""))
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    verified = _verify_jwt(client, token, header, claims, (rtw or signs_in_at("ehealth")).discovery)
    issued, expires = _instant(claims.get("iat")), _instant(claims.get("exp"))
    now = platform.clock.now()
    valid = bool(issued and expires and issued <= now < expires) and verified.startswith("verified")
    flow = flow_of(persona) if rtw is None else (
        f"sign-in on the sandbox login page of {rtw.name} for return-to-work users, authorization code with PKCE (RP-S1)")
    return AccessToken(persona.key, flow, token, header, claims, verified, issued, expires, valid)


def _verify_jwt(client: httpx.Client, token: str, header: dict[str, Any], claims: dict[str, Any], discovery_path: str) -> str:
    """Check the signature with the key the issuing realm publishes, and
    that the realm is the token's issuer, as a resource server would."""
    try:
        discovery = client.get(f"{IN_PROCESS}{discovery_path}").json()
        if claims.get("iss") != discovery["issuer"]:
            return f"not verified: the token's issuer {claims.get('iss')!r} is not the realm's {discovery['issuer']!r}"
        keys = client.get(discovery["jwks_uri"]).json()["keys"]
        key = next(k for k in keys if k.get("kid") == header.get("kid"))
        jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"],
                   options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False})
    except StopIteration:
        return f"not verified: the IdP publishes no key with kid {header.get('kid')!r}"
    except (httpx.HTTPError, KeyError, ValueError, jwt.PyJWTError) as error:
        return f"not verified: {error}"
    return f"verified with the IdP's published key (JWKS, kid {header.get('kid')}) of the issuer {discovery['issuer']}"


def sts_assertion(platform: "Platform", client: httpx.Client, persona: "Persona",
                  rtw: SignsInAt | None = None) -> Assertion | Refusal:
    """A SAML 1.1 holder-of-key assertion for ``persona`` from the platform's
    STS, decoded; for a return-to-work persona (``rtw``), from its own STS."""
    from gateway.ehealth.sts_client import StsRefused, persona_token

    try:
        if rtw is None:
            xml = persona_token(IN_PROCESS, platform.pki, persona, clock=platform.clock, http=client)
        else:
            from gateway.ehealth.rtw.tokens import rtw_sts_token

            xml = rtw_sts_token(IN_PROCESS, platform, persona, sts=rtw.key, http=client)
    except StsRefused as refused:
        return Refusal("The STS refused", refused.code, refused.message)
    except KeyError:
        return Refusal("No sandbox certificate", "credential-missing",
                       f"{persona.key} has no certificate in the sandbox PKI: they sign in at the identity provider only.")
    return decode_assertion(platform, persona.key, xml, rtw or signs_in_at("ehealth"))


def decode_assertion(platform: "Platform", persona: str, xml: bytes, sts: SignsInAt | None = None) -> Assertion:
    """The assertion for people, verified against the certificate paired
    with ``sts``'s Issuer (eHealth's by default), as the gateway pairs them."""
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

    sts = sts or signs_in_at("ehealth")
    try:
        verify_assertion(etree.fromstring(xml), trusted=[sts.sts_certificate(platform.pki)], clock=platform.clock,
                         issuers=(sts.sts_issuer,))
        verified = (f"verified as the gateway verifies it: signed by the certificate of the STS of {sts.name}, "
                    f"issuer {sts.sts_issuer}, validity, holder-of-key")
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


@dataclass(frozen=True)
class Example:
    """What the snippets ask the gateway for: a search of EpisodeOfCare
    over FHIR and the matching SOAP operation, about one person."""

    niss: str
    what: str  # what the FHIR search returns, for people
    search: tuple[tuple[str, str], ...]
    wsdl: str  # the SOAP service's path
    operation: str  # its operation and argument, as zeep calls it
    argument: str


def example_patient(platform: "Platform", persona: "Persona") -> str:
    """Whose inclusions the snippets ask for: patients their own; everyone
    else the sandbox's ``patient`` (with whom gp, nurse and pharmacy A have
    links: other personas see the refusal their situation earns)."""
    return persona.niss if persona.role is Role.PATIENT else platform.registries.cast.patient


def inclusions_example(patient: str) -> Example:
    return Example(patient, "The inclusions of", (("patient-identifier", f"{SSIN_SYSTEM}|{patient}"),),
                   "/soap/IntegratedCare/v1", "GetPatientInclusions", "PatientSsin")


def dossier_example(platform: "Platform", persona: "Persona") -> Example:
    """The return-to-work dossiers of an insured person of the sandbox's
    situations whom the persona's partner serves (registered with its
    regional service, affiliated with its insurer, working for an employer
    it is the prevention service of; INAMI sees every dossier). A persona
    who serves none of them (one built to be refused) asks for the main
    insured person's and sees the refusal its situation earns. The
    search answers an empty Bundle until a dossier is opened."""
    from gateway.ehealth.rtw.state import rtw_state

    sandbox = rtw_state(platform).sandbox
    cbe = sandbox.staff[persona.key].organisation.cbe
    on = platform.clock.today()
    cast = sandbox.cast

    def served(niss: str) -> bool:
        insurer = sandbox.insurer_of(niss)
        return (any(r.cbe == cbe for r in sandbox.registrations_of(niss, on))
                or (insurer is not None and insurer.cbe == cbe)
                or any(s.cbe == cbe for e in sandbox.employments_of(niss, on)
                       for s in sandbox.prevention_services_of(e.employer_cbe)))

    niss = next((n for n in (cast.insured, cast.changed_employer, cast.actiris, cast.adg) if served(n)), cast.insured)
    return Example(niss, "The return-to-work dossiers of",
                   (("type", RTW_DOSSIER_TYPE), ("patient-identifier", f"{SSIN_SYSTEM}|{niss}")),
                   "/soap/ReturnToWork/v1", "SearchDossiers", "InsuredSsin")


def curl_snippet(gateway: str, token: str, example: Example) -> str:
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in example.search)
    return (f"GATEWAY={gateway}\n"
            f"TOKEN='{token}'\n"
            f'curl --fail-with-body -sS -H "Authorization: Bearer $TOKEN" -H "Accept: application/fhir+json" \\\n'
            f'  "$GATEWAY/fhir/EpisodeOfCare?{query}"\n')


def httpx_snippet(gateway: str, token: str, example: Example) -> str:
    return (f"import httpx\n\n"
            f"GATEWAY = {json.dumps(gateway)}\n"
            f"TOKEN = {json.dumps(token)}\n\n"
            f"response = httpx.get(f\"{{GATEWAY}}/fhir/EpisodeOfCare\",\n"
            f"                     params={json.dumps(dict(example.search))},\n"
            f"                     headers={{\"Authorization\": f\"Bearer {{TOKEN}}\", \"Accept\": \"application/fhir+json\"}})\n"
            f"print(response.status_code, response.text)\n"
            f"response.raise_for_status()\n")


def zeep_snippet(gateway: str, persona: str, xml: bytes, example: Example) -> str:
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
            f"service = zeep.Client(f\"{{GATEWAY}}{example.wsdl}?wsdl\",\n"
            f"                      wsse=SamlHolderOfKey(ASSERTION, key, cert)).service\n"
            f"print(service.{example.operation}({example.argument}={json.dumps(example.niss)}))\n")
