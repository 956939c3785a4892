"""The simulated eHealth STS (``IAM/SecurityTokenService/v1``): issues SAML
1.1 holder-of-key assertions, in the WS-Trust form and the legacy SAML 1.1
form, signed with the platform's STS key.

It certifies an attribute only when the sandbox registries confirm it
(:mod:`gateway.ehealth.sts_attributes`); a refusal names the attribute.
Requests are signed by the caller: WS-Security with a BinarySecurityToken
(WS-Trust form) or an enveloped signature (legacy form); the caller's
certificate must come from the sandbox CA, be valid, and be the key the
token will confirm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from fastapi import APIRouter
from lxml import etree

from gateway.contracts import contract
from gateway.ehealth.pki import subject_identifier
from gateway.ehealth.sts_attributes import AttributeRefused, Claim, certify
from gateway.ehealth.sts_legacy import (
    REQUEST_DENIED,
    REQUESTER,
    LegacyRequest,
    legacy_claims,
    legacy_response,
    verify_legacy_request,
)
from gateway.identity.claims import ATTR_CERT_HOLDER_SSIN
from gateway.identity.errors import TokenRejected
from gateway.domain.principal import Principal
from gateway.identity.replay import ReplayGuard
from gateway.identity.saml import AM_X509_PKI, SAML_NS, SAMLP_NS, STS_ISSUER, build_assertion, sign_assertion
from gateway.identity.signing import SAML_TOKEN_TYPE
from gateway.identity.certstore import CertificateStore
from gateway.identity.wssecurity import MessageTrust, VerifiedMessage, verify_message
from gateway.identity.xmldsig import DS_NS, cert_from_b64, parse_xml_datetime, same_cert, xml_datetime
from gateway.soap11.envelope import STATUS_INVALID_INPUT, STATUS_NOT_AUTHORIZED, WSSE_NS, WSU_NS, Envelope, SoapFault
from gateway.soap11.service import SoapRequest, SoapService

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

log = logging.getLogger("gateway.ehealth.sts")

PATH = "/IAM/SecurityTokenService/v1"
from gateway.namespaces import WST_NS
AUTH_NS = "http://docs.oasis-open.org/wsfed/authorization/200706"
AUTHCLAIMS_DIALECT = "http://docs.oasis-open.org/wsfed/authorization/200706/authclaims"
REQUEST_TYPE_ISSUE = f"{WST_NS}/Issue"
KEY_TYPE_PUBLIC_KEY = f"{WST_NS}/PublicKey"
ACTION_RST = "urn:be:fgov:ehealth:sts:protocol:v1:RequestSecurityToken"
ACTION_LEGACY = "urn:be:fgov:ehealth:sts:protocol:v1:RequestSecureToken"
MAX_LIFETIME = timedelta(hours=24)
RST_PATH = "/Envelope/Body/RequestSecurityToken"


def _wst(name: str) -> str:
    return f"{{{WST_NS}}}{name}"


def _invalid(message: str, path: str) -> SoapFault:
    return SoapFault("sts-request-invalid", message, status=STATUS_INVALID_INPUT, path=path)


@dataclass(frozen=True)
class _Issued:
    assertion: etree._Element
    not_before: datetime
    not_on_or_after: datetime


class SecurityTokenService:
    """The STS of one gateway: its key, registries, clock and replay table."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform
        self.replay = ReplayGuard(platform.db)

    # -- security: who asks (the caller's signature), before any handler

    def security(self, envelope: Envelope, raw: bytes) -> tuple[etree._Element, Principal | None, Any]:
        ca = self.platform.pki.ca.certificate
        try:
            payload = envelope.payload
            if payload is not None and payload.tag == f"{{{SAMLP_NS}}}Request":
                legacy = verify_legacy_request(envelope, ca=ca, clock=self.platform.clock, replay=self.replay)
                return legacy.payload, None, legacy
            verified = verify_message(envelope, mode="x509", trust=MessageTrust(CertificateStore.of(ca)), clock=self.platform.clock,
                                      replay=self.replay)
            return verified.payload, None, verified
        except TokenRejected as exc:
            log.info("sts: refused request: %s (%s)", exc.code, exc.message)
            raise SoapFault(exc.code, exc.message, status=STATUS_NOT_AUTHORIZED, path="/Envelope/Header/Security") from None

    # -- issuing

    def issue(self, cert: x509.Certificate, claims: list[Claim], expires: datetime | None) -> _Issued:
        """A signed assertion for the holder of ``cert``, or AttributeRefused."""
        kind, niss = subject_identifier(cert)
        if kind != "SSIN":
            raise AttributeRefused("sts-subject-unsupported", ATTR_CERT_HOLDER_SSIN,
                                   f"the certificate names {kind or 'no one'}, not a person (SSIN=…); the sandbox "
                                   "STS issues tokens to people only.")
        person = self.platform.register.person(niss) or _rtw_staff(self.platform, niss)
        if person is None:
            raise AttributeRefused("sts-person-unknown", ATTR_CERT_HOLDER_SSIN, "the national register does not know "
                                   "the certificate's SSIN.")
        if person.deceased:
            raise AttributeRefused("sts-person-deceased", ATTR_CERT_HOLDER_SSIN, "the national register records the "
                                   "certificate holder as deceased.")
        attributes = certify(self.platform, niss, claims, self.platform.clock.today())
        now = self.platform.clock.now()
        not_after = now + MAX_LIFETIME if expires is None else min(expires, now + MAX_LIFETIME)
        if not_after <= now:
            raise SoapFault("sts-lifetime-invalid", "The requested wsu:Expires is not in the future.",
                            status=STATUS_INVALID_INPUT, path=f"{RST_PATH}/Lifetime/Expires")
        sts = self.platform.pki.platform("sts")
        assertion = build_assertion(issuer=STS_ISSUER, subject_niss=niss, subject_cert=cert, attributes=attributes,
                                    authentication_method=AM_X509_PKI, not_before=now, not_on_or_after=not_after,
                                    issue_instant=now)
        signed = sign_assertion(assertion, sts.private_key, sts.certificate)
        log.info("sts: issued %s to certificate serial %s until %s: %s", signed.get("AssertionID"), cert.serial_number,
                 xml_datetime(not_after), ", ".join(a[1] for a in attributes))
        return _Issued(signed, now, not_after)

    def _refused(self, cert: x509.Certificate, refusal: AttributeRefused) -> None:
        log.info("sts: refused certificate serial %s: %s %s (%s)", cert.serial_number, refusal.code,
                 refusal.attribute, refusal.reason)

    # -- WS-Trust form

    def request_security_token(self, req: SoapRequest) -> etree._Element:
        _expect_action(req, ACTION_RST)
        verified: VerifiedMessage = req.security
        claims, expires = _read_rst(req.payload, verified.certificate)
        try:
            issued = self.issue(verified.certificate, claims, expires)
        except AttributeRefused as refusal:
            self._refused(verified.certificate, refusal)
            raise SoapFault(refusal.code, refusal.message, status=STATUS_NOT_AUTHORIZED,
                            path=f"{RST_PATH}/Claims/ClaimType[@Uri='{refusal.attribute}']") from None
        response = etree.Element(_wst("RequestSecurityTokenResponse"), nsmap={"wst": WST_NS, "wsu": WSU_NS})
        if req.payload.get("Context"):
            response.set("Context", req.payload.get("Context", ""))
        etree.SubElement(response, _wst("TokenType")).text = SAML_TOKEN_TYPE
        etree.SubElement(response, _wst("RequestedSecurityToken")).append(issued.assertion)
        lifetime = etree.SubElement(response, _wst("Lifetime"))
        etree.SubElement(lifetime, f"{{{WSU_NS}}}Created").text = xml_datetime(issued.not_before)
        etree.SubElement(lifetime, f"{{{WSU_NS}}}Expires").text = xml_datetime(issued.not_on_or_after)
        return response

    # -- legacy form

    def request_secure_token(self, req: SoapRequest) -> etree._Element:
        _expect_action(req, ACTION_LEGACY)
        legacy: LegacyRequest = req.security
        now = self.platform.clock.now()

        def refuse(code: str, attribute: str, message: str) -> etree._Element:
            log.info("sts: refused legacy request of certificate serial %s: %s %s", legacy.certificate.serial_number,
                     code, attribute)
            return legacy_response(in_response_to=legacy.request_id, now=now, status=(REQUESTER, REQUEST_DENIED),
                                   message=message, attribute=attribute, code=code)

        try:
            claims, hok = legacy_claims(req.payload)
        except ValueError as exc:
            raise _invalid(f"The AttributeQuery is malformed: {exc}.", "/Envelope/Body/Request/AttributeQuery") from None
        if hok is not None and not same_cert(hok, legacy.certificate):
            return refuse("sts-usekey-mismatch", ATTR_CERT_HOLDER_SSIN,
                          "The Subject confirms a certificate other than the one that signed the request.")
        try:
            issued = self.issue(legacy.certificate, claims, None)
        except AttributeRefused as refusal:
            self._refused(legacy.certificate, refusal)
            return refuse(refusal.code, refusal.attribute, refusal.message)
        return legacy_response(in_response_to=legacy.request_id, now=now, assertion=issued.assertion)


def _expect_action(req: SoapRequest, action: str) -> None:
    if req.soap_action and req.soap_action != action:
        raise _invalid(f"SOAPAction {req.soap_action!r} does not match the payload; use {action!r}.", "/Envelope/Body")


def _read_rst(rst: etree._Element, signer: x509.Certificate) -> tuple[list[Claim], datetime | None]:
    """Claims and requested expiry of a verified RequestSecurityToken."""
    if (rst.findtext(_wst("TokenType")) or "").strip() != SAML_TOKEN_TYPE:
        raise _invalid(f"wst:TokenType must be {SAML_TOKEN_TYPE}.", f"{RST_PATH}/TokenType")
    if (rst.findtext(_wst("RequestType")) or "").strip() != REQUEST_TYPE_ISSUE:
        raise _invalid(f"wst:RequestType must be {REQUEST_TYPE_ISSUE}.", f"{RST_PATH}/RequestType")
    key_type = rst.findtext(_wst("KeyType"))
    if key_type is not None and key_type.strip() != KEY_TYPE_PUBLIC_KEY:
        raise _invalid(f"Only holder-of-key tokens are issued: wst:KeyType {KEY_TYPE_PUBLIC_KEY}.", f"{RST_PATH}/KeyType")
    claims: list[Claim] = []
    element = rst.find(_wst("Claims"))
    if element is not None:
        if element.get("Dialect") != AUTHCLAIMS_DIALECT:
            raise _invalid(f"wst:Claims must use Dialect {AUTHCLAIMS_DIALECT}.", f"{RST_PATH}/Claims")
        for claim in element.findall(f"{{{AUTH_NS}}}ClaimType"):
            uri = (claim.get("Uri") or "").strip()
            if not uri:
                raise _invalid("Every auth:ClaimType needs a Uri.", f"{RST_PATH}/Claims/ClaimType")
            claims.append(Claim(uri, (claim.findtext(f"{{{AUTH_NS}}}Value") or "").strip() or None))
    expires: datetime | None = None
    expires_text = rst.findtext(f"{_wst('Lifetime')}/{{{WSU_NS}}}Expires")
    if expires_text is not None:
        try:
            expires = parse_xml_datetime(expires_text)
        except ValueError as exc:
            raise _invalid(f"wsu:Expires is unreadable: {exc}.", f"{RST_PATH}/Lifetime/Expires") from None
    use_key = rst.find(_wst("UseKey"))
    if use_key is not None:
        text = use_key.findtext(f"{{{WSSE_NS}}}BinarySecurityToken") or use_key.findtext(f".//{{{DS_NS}}}X509Certificate")
        try:
            key = cert_from_b64(text)
        except ValueError as exc:
            raise _invalid(f"wst:UseKey must carry the certificate to confirm: {exc}.", f"{RST_PATH}/UseKey") from None
        if not same_cert(key, signer):
            raise SoapFault("sts-usekey-mismatch", "wst:UseKey names a certificate other than the one that signed the "
                            "request: sign with the key the token will confirm.", status=STATUS_NOT_AUTHORIZED,
                            path=f"{RST_PATH}/UseKey")
    return claims, expires


def router(platform: "Platform") -> APIRouter:
    """POST the STS's SOAP requests; GET ``?wsdl`` for its contract."""
    sts = SecurityTokenService(platform)
    service = SoapService(
        "eHealth STS (sandbox)", PATH, contract("soap", "ehealth", "sts.wsdl"),
        operations={_wst("RequestSecurityToken"): sts.request_security_token,
                    f"{{{SAMLP_NS}}}Request": sts.request_secure_token},
        security=sts.security,
    )
    return service.router()


__all__ = ["PATH", "SecurityTokenService", "router", "SAML_NS"]


def _rtw_staff(platform: "Platform", niss: str):  # type: ignore[no-untyped-def]
    """A return-to-work partner's user, as the sandbox's user management knows
    them: their people are drawn beside the register, not in it."""
    from gateway.ehealth.rtw.state import rtw_state

    return next((m.person for m in rtw_state(platform).sandbox.staff.values() if m.person.niss == niss), None)
