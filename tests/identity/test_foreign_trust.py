"""A gateway configured, by trust settings alone, for a platform that is not
the sandbox: a foreign STS whose certificate chains root -> intermediate ->
STS, callers' certificates under the same intermediate, and a foreign
identity provider with its own keys. Its tokens and assertions pass; the
sandbox's do not, not even an assertion signed with the shipped sandbox
STS key."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from gateway.conformance.soap.trust import RunReplayGuard
from gateway.domain.clock import FixedClock
from gateway.ehealth.pki import SHIPPED
from gateway.identity.claims import ATTR_DOCTOR_BOOLEAN, ATTR_DOCTOR_NIHII, ATTR_PERSON_SSIN, CERTIFIED_NS, IDENTIFICATION_NS
from gateway.identity.errors import TokenRejected
from gateway.identity.jwk import jwk_thumbprint
from gateway.domain.principal import Role
from gateway.identity.replay import ReplayGuard
from gateway.identity.saml import AM_X509_PKI, build_assertion, sign_assertion
from gateway.identity.signing import sign_with_saml, sign_with_x509
from gateway.identity.wssecurity import MessageTrust, MessageVerifier, VerifiedMessage, verify_message
from gateway.identity.xml import parse_untrusted
from gateway.namespaces import DS_NS
from gateway.soap11.envelope import FAULT_NS, envelope_bytes, read_envelope
from gateway.trust import TrustSettings
from tests.identity.conftest import ping, unsigned_envelope
from tests.identity.foreign import NOW, YEAR, ForeignIdp, ForeignPki, Holder, crl, issue

FOREIGN_STS = "urn:foreign:sts"
DOCTOR_NISS, DOCTOR_NIHII = "75123152609", "10000000001"


@pytest.fixture(scope="module")
def pki() -> ForeignPki:
    return ForeignPki.generate()


@pytest.fixture
def idp() -> ForeignIdp:
    return ForeignIdp()


def shipped(name: str) -> Holder:
    """A credential of the sandbox as the package ships it (private key included): read by the test only."""
    key = serialization.load_pem_private_key((SHIPPED / f"{name}.key.pem").read_bytes(), password=None)
    return Holder(key, x509.load_pem_x509_certificate((SHIPPED / f"{name}.cert.pem").read_bytes()))  # type: ignore[arg-type]


def settings_for(pki: ForeignPki, idp: ForeignIdp, tmp_path: Path, **extra: Any) -> TrustSettings:
    """The foreign platform's public material as files, and the [trust] table naming them."""
    for name, holder in {"root": pki.root, "issuing": pki.intermediate, "sts": pki.sts}.items():
        (tmp_path / f"{name}.pem").write_bytes(holder.cert_pem)
    table: dict[str, Any] = {
        "sts_certificates": ["sts.pem"], "sts_issuers": [FOREIGN_STS],
        "ca_certificates": ["root.pem"], "ca_intermediates": ["issuing.pem"],
        "oidc": [{"name": "foreign", "issuer": idp.issuer, "discovery_url": idp.discovery_url,
                  "audiences": ["care-gateway"]}],
        **extra,
    }
    return TrustSettings.from_mapping(table, base=tmp_path)


def assertion(holder: Holder, *, signer: Holder, issuer: str = FOREIGN_STS, chain: tuple[x509.Certificate, ...] = (),
              niss: str = DOCTOR_NISS, nihii: str = DOCTOR_NIHII) -> bytes:
    """A SAML 1.1 holder-of-key assertion for a physician, as an STS issues it."""
    unsigned = build_assertion(
        issuer=issuer, subject_niss=niss, subject_cert=holder.certificate, subject_chain=chain,
        attributes=[(IDENTIFICATION_NS, ATTR_PERSON_SSIN, [niss]), (CERTIFIED_NS, ATTR_DOCTOR_BOOLEAN, ["true"]),
                    (CERTIFIED_NS, ATTR_DOCTOR_NIHII, [nihii])],
        authentication_method=AM_X509_PKI, not_before=NOW, not_on_or_after=NOW + dt.timedelta(hours=1), issue_instant=NOW,
    )
    return etree.tostring(sign_assertion(unsigned, signer.key, signer.certificate))


def saml_message(token: bytes, holder: Holder, payload: etree._Element | None = None) -> bytes:
    envelope = parse_untrusted(envelope_bytes(payload)) if payload is not None else unsigned_envelope()
    return etree.tostring(sign_with_saml(envelope, token, holder.key, holder.certificate, clock=FixedClock(NOW)))


def check(trust: MessageTrust, data: bytes, mode: str = "saml-hok") -> VerifiedMessage:
    return verify_message(read_envelope(parse_untrusted(data)), mode=mode, trust=trust,  # type: ignore[arg-type]
                          clock=FixedClock(NOW), replay=RunReplayGuard())


def refused(trust: MessageTrust, data: bytes, mode: str = "saml-hok") -> TokenRejected:
    with pytest.raises(TokenRejected) as caught:
        check(trust, data, mode)
    return caught.value


# ------------------------------------------------------------ SAML holder-of-key and X.509


def test_a_foreign_sts_assertion_with_a_holder_under_its_intermediate_is_accepted(pki, idp, tmp_path):
    trust = settings_for(pki, idp, tmp_path).message_trust()
    verified = check(trust, saml_message(assertion(pki.caller, signer=pki.sts), pki.caller))
    assert verified.principal is not None
    assert (verified.principal.niss, verified.principal.role, verified.principal.nihii) == (DOCTOR_NISS, Role.PROVIDER, DOCTOR_NIHII)
    assert verified.certificate == pki.caller.certificate


def test_the_intermediate_may_come_with_the_holders_certificate(pki, idp, tmp_path):
    trust = settings_for(pki, idp, tmp_path, ca_intermediates=[]).message_trust()
    assert refused(trust, saml_message(assertion(pki.caller, signer=pki.sts), pki.caller)).code == "certificate-untrusted"
    carried = assertion(pki.caller, signer=pki.sts, chain=(pki.intermediate.certificate,))
    assert check(trust, saml_message(carried, pki.caller)).principal is not None


def test_an_assertion_signed_with_the_shipped_sandbox_sts_key_is_refused(pki, idp, tmp_path):
    trust = settings_for(pki, idp, tmp_path).message_trust()
    sandbox_sts = shipped("sts")
    forged = assertion(pki.caller, signer=sandbox_sts)
    refusal = refused(trust, saml_message(forged, pki.caller))
    assert refusal.code == "assertion-untrusted-signer" and "not a trusted STS" in refusal.message
    # the sandbox key presenting the foreign STS's certificate: the signature does not verify with it
    root = parse_untrusted(forged)
    embedded = root.find("ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate", {"ds": DS_NS})
    embedded.text = "".join(pki.sts.cert_pem.decode().splitlines()[1:-1])
    assert refused(trust, saml_message(etree.tostring(root), pki.caller)).code == "assertion-bad-signature"


def test_a_sandbox_persona_is_no_holder_of_key_here(pki, idp, tmp_path):
    """Even vouched for by the foreign STS, a certificate of the sandbox CA does not chain to a trusted root."""
    trust = settings_for(pki, idp, tmp_path).message_trust()
    gp = shipped("persona-gp")
    refusal = refused(trust, saml_message(assertion(gp, signer=pki.sts), gp))
    assert refusal.code == "certificate-untrusted" and "does not chain to a trusted root CA" in refusal.message


def test_an_assertion_of_another_issuer_is_refused(pki, idp, tmp_path):
    trust = settings_for(pki, idp, tmp_path).message_trust()
    token = assertion(pki.caller, signer=pki.sts, issuer="urn:be:fgov:ehealth:sts:1_0")
    assert refused(trust, saml_message(token, pki.caller)).code == "assertion-issuer-unknown"


def test_x509_signed_messages_chain_to_the_configured_root(pki, idp, tmp_path):
    trust = settings_for(pki, idp, tmp_path).message_trust()
    clock = FixedClock(NOW)
    ok = sign_with_x509(unsigned_envelope(), pki.caller.key, pki.caller.certificate, clock=clock)
    assert check(trust, etree.tostring(ok), "x509").certificate == pki.caller.certificate
    gp = shipped("persona-gp")
    sandbox = sign_with_x509(unsigned_envelope(), gp.key, gp.certificate, clock=clock)
    assert refused(trust, etree.tostring(sandbox), "x509").code == "certificate-untrusted"


def test_a_holder_revoked_by_the_configured_crl_is_refused(pki, idp, tmp_path):
    (tmp_path / "issuing.crl").write_bytes(crl(pki.intermediate, [pki.caller.certificate]).public_bytes(serialization.Encoding.PEM))
    trust = settings_for(pki, idp, tmp_path, crls=["issuing.crl"]).message_trust()
    refusal = refused(trust, saml_message(assertion(pki.caller, signer=pki.sts), pki.caller))
    assert refusal.code == "certificate-revoked"
    other = pki.other_caller
    assert check(trust, saml_message(assertion(other, signer=pki.sts), other)).principal is not None


def test_a_holder_under_an_expired_intermediate_is_refused(pki, idp, tmp_path):
    lapsed = issue("Foreign Issuing CA", pki.root, ca=True, not_before=NOW - 3 * YEAR, not_after=NOW - YEAR,
                   key=pki.intermediate.key)
    (tmp_path / "lapsed.pem").write_bytes(lapsed.cert_pem)
    trust = settings_for(pki, idp, tmp_path, ca_intermediates=["lapsed.pem"]).message_trust()
    refusal = refused(trust, saml_message(assertion(pki.caller, signer=pki.sts), pki.caller))
    assert refusal.code == "certificate-expired" and "Foreign Issuing CA" in refusal.message


# ------------------------------------------------------------ OpenID Connect


def sandbox_idp_token(claims: dict[str, Any], issuer: str) -> str:
    oauth = shipped("oauth")
    body = {"iss": issuer, "aud": "care-gateway", "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600, **claims}
    return jwt.encode(body, oauth.key, algorithm="RS256", headers={"kid": jwk_thumbprint(oauth.key.public_key())})


PROVIDER = {"sub": DOCTOR_NISS, "ssin": DOCTOR_NISS, "role": "provider", "quality": "doctor", "nihii": DOCTOR_NIHII}


def test_the_foreign_idps_tokens_are_accepted_and_the_sandbox_idps_refused(pki, idp, tmp_path):
    tokens = settings_for(pki, idp, tmp_path).token_verifier(idp.client(), FixedClock(NOW))
    assert tokens.principal(idp.token(PROVIDER)).nihii == DOCTOR_NIHII
    with pytest.raises(TokenRejected) as caught:
        tokens.principal(sandbox_idp_token(PROVIDER, "http://127.0.0.1:8000/ehealth/auth/realms/M2M"))
    assert caught.value.code == "wrong-issuer"
    with pytest.raises(TokenRejected) as caught:
        tokens.principal(sandbox_idp_token(PROVIDER, idp.issuer))  # the sandbox key under the foreign issuer's name
    assert caught.value.code == "unknown-kid"


# ------------------------------------------------------------ through the faces


def call(app: Any, method: str, path: str, **kw: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            return await http.request(method, path, **kw)

    return asyncio.run(go())


def test_the_faces_take_the_verifiers_they_are_given(gw, pki, idp, tmp_path, personas):
    """The gateway's faces know no trust of their own: configured for the
    foreign platform, its SOAP and FHIR faces admit its callers and turn the
    sandbox's away (a sandbox STS token, a sandbox IdP token)."""
    from gateway.app import create_app
    from gateway.soap.integrated_care import ACTION, NS, PATH

    settings = settings_for(pki, idp, tmp_path)
    gw.messages = MessageVerifier(settings.message_trust(), gw.clock, ReplayGuard(gw.db))
    gw.tokens = settings.token_verifier(idp.client(), gw.clock)
    app = create_app(gw)
    gp = personas["gp"]

    request = etree.Element(f"{{{NS}}}GetPatientInclusionsRequest", nsmap={"ic": NS})
    etree.SubElement(request, f"{{{NS}}}PatientSsin").text = personas["patient"].niss
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION}GetPatientInclusions"'}

    def fault_code(response: httpx.Response) -> str | None:
        return etree.fromstring(response.content).findtext(f".//{{{FAULT_NS}}}Code")

    foreign = saml_message(assertion(pki.caller, signer=pki.sts, niss=gp.niss, nihii=gp.nihii), pki.caller, payload=request)
    answer = call(app, "POST", "/soap" + PATH, content=foreign, headers=headers)
    assert answer.status_code == 200, answer.text
    sandbox_token = assertion(shipped("persona-gp"), signer=shipped("sts"), issuer="urn:be:fgov:ehealth:sts:1_0", niss=gp.niss)
    answer = call(app, "POST", "/soap" + PATH, content=saml_message(sandbox_token, shipped("persona-gp"), payload=ping()),
                  headers=headers)
    assert answer.status_code == 500 and fault_code(answer) == "assertion-untrusted-signer"

    search = f"/fhir/EpisodeOfCare?patient-identifier={personas['patient'].niss}"
    claims = {**PROVIDER, "sub": gp.niss, "ssin": gp.niss, "nihii": gp.nihii}
    answer = call(app, "GET", search, headers={"Authorization": f"Bearer {idp.token(claims)}"})
    assert answer.status_code == 200, answer.text
    sandbox = sandbox_idp_token(claims, "http://127.0.0.1:8000/ehealth/auth/realms/M2M")
    answer = call(app, "GET", search, headers={"Authorization": f"Bearer {sandbox}"})
    assert answer.status_code == 401 and "not a trusted issuer" in answer.text
