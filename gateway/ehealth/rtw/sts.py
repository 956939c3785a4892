"""The social-security crossroads bank's STS (sandbox): the web-service
sign-in of the users its user management knows, the regional employment
services' (RP-S1), as its OpenID Connect IdP (:mod:`gateway.ehealth.rtw.signin`)
is their interactive one.

The same WS-Trust and legacy SAML 1.1 requests as eHealth's STS
(:mod:`gateway.ehealth.sts`, whose machinery this reuses) at
``/bcss/IAM/SecurityTokenService/v1``, issuing SAML 1.1 holder-of-key
assertions with an Issuer of its own (:data:`BCSS_STS_ISSUER`), signed with
a key of its own in the sandbox PKI (``bcss-sts``), whose attributes are
the crossroads bank's (:data:`BCSS_STS_ATTRIBUTES`): the user's number,
the CBE of their regional service and their return-to-work role, each
certified only when its user management confirms it. It vouches for
nobody else: an insurer's, a prevention service's or INAMI's user is
refused (they sign in through eHealth).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptography import x509
from fastapi import APIRouter

from gateway.contracts import contract
from gateway.ehealth.pki import SandboxPki, _issue, _name
from gateway.ehealth.pki import subject_identifier
from gateway.ehealth.rtw.state import rtw_state
from gateway.ehealth.sts import MAX_LIFETIME, RST_PATH, SecurityTokenService, _Issued, _wst
from gateway.ehealth.sts_attributes import AttributeRefused, Claim
from gateway.identity.saml import AM_X509_PKI, SAMLP_NS, build_assertion, sign_assertion
from gateway.identity.xmldsig import xml_datetime
from gateway.soap11.envelope import STATUS_INVALID_INPUT, SoapFault
from gateway.soap11.service import SoapService

if TYPE_CHECKING:
    from gateway.ehealth.pki import Credential
    from gateway.ehealth.platform import Platform

log = logging.getLogger("gateway.ehealth.rtw.sts")

BCSS_STS_PATH = "/bcss/IAM/SecurityTokenService/v1"
BCSS_STS_ISSUER = "urn:be:ksz-bcss:sts:1_0"
BCSS_ATTRIBUTE_NS = "urn:be:ksz-bcss:attributes"
# Principal field -> the crossroads bank's SAML attribute (the gateway maps
# them with [trust.sts.attributes], as it maps its IdP's claims).
BCSS_STS_ATTRIBUTES = {
    "niss": "urn:be:ksz-bcss:ssin",
    "role": "urn:be:ksz-bcss:rtw-function",
    "organisation_cbe": "urn:be:ksz-bcss:enterprise-number",
    "display_name": "urn:be:ksz-bcss:name",
}
KEY_NAME = "bcss-sts"
KEY_SERIAL = 300000  # after the serials pki.generate and append_rtw_personas hand out
_SUBJECT = "KSZ-BCSS Security Token Service (sandbox)"


def bcss_sts_credential(pki: SandboxPki) -> "Credential":
    """The crossroads bank STS's key and certificate, issued by the sandbox
    CA beside the platform's own keys (shipped for the default seed, made
    on first use in a generated PKI)."""
    try:
        return pki.credential(KEY_NAME)
    except KeyError:
        pass
    made = _issue(pki.ca, KEY_NAME, _name(_SUBJECT), serial=KEY_SERIAL)
    (pki.directory / f"{KEY_NAME}.key.pem").write_bytes(made.key_pem)
    (pki.directory / f"{KEY_NAME}.cert.pem").write_bytes(made.cert_pem)
    return pki.credential(KEY_NAME)


class CrossroadsSts(SecurityTokenService):
    """eHealth's STS machinery (request checks, WS-Trust and legacy forms),
    issuing the crossroads bank's assertions."""

    def issue(self, cert: x509.Certificate, claims: list[Claim], expires: datetime | None) -> _Issued:
        ssin, cbe_name, role_name = (BCSS_STS_ATTRIBUTES[k] for k in ("niss", "organisation_cbe", "role"))
        kind, niss = subject_identifier(cert)
        if kind != "SSIN":
            raise AttributeRefused("sts-subject-unsupported", ssin, f"the certificate names {kind or 'no one'}, not a "
                                   "person (SSIN=…); this STS issues tokens to people only.")
        members = rtw_state(self.platform).sandbox.roles_signing_in(niss, "bcss")
        if not members:
            raise AttributeRefused("sts-wrong-identity-provider", ssin, "the crossroads bank's user management knows the "
                                   "certificate's holder as no user of a regional employment service; insurers', "
                                   "prevention services' and INAMI's users sign in through eHealth's STS (RP-S1).")
        asked = {c.uri: (c.value or "").strip() for c in claims}
        for uri in asked:
            if uri not in BCSS_STS_ATTRIBUTES.values():
                raise AttributeRefused("sts-attribute-unknown", uri, "this STS certifies no attribute of that name; it "
                                       f"certifies {', '.join(sorted(BCSS_STS_ATTRIBUTES.values()))}.")
        if asked.get(ssin) and asked[ssin] != niss:
            raise AttributeRefused("sts-ssin-mismatch", ssin, "the SSIN claimed is not the SSIN the certificate names.")
        for uri in (cbe_name, role_name):
            if not asked.get(uri):
                raise AttributeRefused("sts-value-required", uri, "state your regional service's CBE and your "
                                       "return-to-work role as the values of these claims.")
        member = next((m for m in members if m.organisation.cbe == asked[cbe_name]), None)
        if member is None:
            raise AttributeRefused("sts-not-member", cbe_name, "user management knows the certificate's holder in no "
                                   "regional service of that CBE.")
        if member.role.value != asked[role_name]:
            raise AttributeRefused("sts-not-member", role_name, f"user management does not confirm the role "
                                   f"{asked[role_name]} of the certificate's holder at {member.organisation.cbe}.")
        now = self.platform.clock.now()
        not_after = now + MAX_LIFETIME if expires is None else min(expires, now + MAX_LIFETIME)
        if not_after <= now:
            raise SoapFault("sts-lifetime-invalid", "The requested wsu:Expires is not in the future.",
                            status=STATUS_INVALID_INPUT, path=f"{RST_PATH}/Lifetime/Expires")
        person = member.person
        values = {"niss": niss, "organisation_cbe": member.organisation.cbe, "role": member.role.value,
                  "display_name": f"{person.first_name} {person.last_name}"}
        attributes = [(BCSS_ATTRIBUTE_NS, BCSS_STS_ATTRIBUTES[k], [v]) for k, v in values.items()]
        key = bcss_sts_credential(self.platform.pki)
        assertion = build_assertion(issuer=BCSS_STS_ISSUER, subject_niss=niss, subject_cert=cert, attributes=attributes,
                                    authentication_method=AM_X509_PKI, not_before=now, not_on_or_after=not_after,
                                    issue_instant=now)
        signed = sign_assertion(assertion, key.private_key, key.certificate)
        log.info("crossroads bank sts: issued %s to certificate serial %s until %s: %s of %s", signed.get("AssertionID"),
                 cert.serial_number, xml_datetime(not_after), member.role.value, member.organisation.cbe)
        return _Issued(signed, now, not_after)


def router(platform: "Platform") -> APIRouter:
    """POST the crossroads bank STS's SOAP requests; GET ``?wsdl`` for its contract (eHealth's STS contract)."""
    sts = CrossroadsSts(platform)
    service = SoapService(
        "crossroads bank STS (sandbox)", BCSS_STS_PATH, contract("soap", "ehealth", "sts.wsdl"),
        operations={_wst("RequestSecurityToken"): sts.request_security_token,
                    f"{{{SAMLP_NS}}}Request": sts.request_secure_token},
        security=sts.security,
    )
    return service.router()


__all__ = ["BCSS_STS_ATTRIBUTES", "BCSS_STS_ISSUER", "BCSS_STS_PATH", "CrossroadsSts", "bcss_sts_credential", "router"]


def bcss_sts_certificate_file(pki: SandboxPki):  # type: ignore[no-untyped-def]
    """The PEM file of the crossroads bank STS's certificate (public material:
    what a gateway pins to trust it), made first if the PKI has none yet."""
    bcss_sts_credential(pki)
    return pki.directory / f"{KEY_NAME}.cert.pem"
