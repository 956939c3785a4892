"""The attribute authority's vocabulary, in one place: the SAML 2.0
namespaces and status codes it uses, the subject formats it knows, and the
attributes it answers (names as URIs, ``attrname-format:uri``).

It is the authority's wire contract, so it sits outside both sides: the
simulated authority (``gateway.ehealth.attribute_authority``) answers in
these names and the gateway's client (``gateway.adapters.attribute_authority``)
asks in them, neither importing the other. ``docs/ehealth-sandbox.md`` lists
them (a test checks that every name is documented).

How a question is asked: a ``samlp:AttributeQuery`` whose ``saml:Subject``
names the person (NISS) or the pharmacy (NIHII) asked about, with one
``saml:Attribute`` per fact wanted. For the link attributes the query's
``AttributeValue``\\ s are the patients' NISS asked about; the answer holds
those of them with an active link. The optional :data:`ATTR_ON` attribute
gives the day the facts are wanted for (default: the authority's today);
the answer echoes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.namespaces import SAMLP2_NS as SAMLP_NS
from gateway.namespaces import SAML2_NS as SAML_NS
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
from gateway.namespaces import XS_NS
SAML_VERSION = "2.0"
ATTRNAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
SOAP_ACTION = "http://www.oasis-open.org/committees/security"  # SAML 2.0 SOAP binding

STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
STATUS_REQUESTER = "urn:oasis:names:tc:SAML:2.0:status:Requester"
STATUS_RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder"
STATUS_VERSION_MISMATCH = "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch"
STATUS_INVALID_ATTR = "urn:oasis:names:tc:SAML:2.0:status:InvalidAttrNameOrValue"
STATUS_UNKNOWN_PRINCIPAL = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"

AA_ISSUER = "urn:be:care-gateway:aa:sandbox"
"""Issuer of the simulated authority's responses and assertions; they are
signed with the platform key ``attribute-authority`` of the sandbox PKI."""

# Subject formats (saml:NameID/@Format)
SUBJECT_PERSON = "urn:be:fgov:person:ssin"
SUBJECT_PHARMACY = "urn:be:fgov:ehealth:1.0:pharmacy:nihii-number"

PREFIX = "urn:be:care-gateway:aa:"
ATTR_ON = PREFIX + "on"
ATTR_THERAPEUTIC_LINK = PREFIX + "therapeutic-link:patient"
ATTR_PHARMACY_LINK = PREFIX + "pharmacy-link:patient"
ATTR_INSURER = PREFIX + "insurer-affiliation"
MEMBERSHIP_PREFIX = PREFIX + "membership:"
MEMBERSHIP_ROLES = ("psi-administrative", "psi-coordinator", "pharmacist", "insurer", "auditor", "dpo")
_MEMBERSHIP_RULES = {"psi-administrative": "IC-F1, IC-A3, IC-A6", "psi-coordinator": "IC-A3, IC-F4",
                     "pharmacist": "IC-A2", "insurer": "IC-R7", "auditor": "IC-R8",
                     "dpo": "DS-2, DS-3, DS-4"}


def attr_membership(role: str) -> str:
    """``urn:be:care-gateway:aa:membership:{role}``: the organisations (NIHII) where the subject holds ``role``."""
    return MEMBERSHIP_PREFIX + role


@dataclass(frozen=True)
class AttributeDefinition:
    """One attribute the authority answers, as the docs show it."""

    name: str
    subject: str  # the subject format it applies to
    asked_with: str  # what the query's AttributeValues carry
    answer: str  # what the response's AttributeValues carry
    used_for: str  # the rule that needs it

    @property
    def takes_values(self) -> bool:
        return self.asked_with != "nothing"


ATTRIBUTES: dict[str, AttributeDefinition] = {
    a.name: a
    for a in (
        AttributeDefinition(ATTR_THERAPEUTIC_LINK, SUBJECT_PERSON, "the NISS of each patient asked about",
                            "the NISS of those asked with whom the professional has an active therapeutic link",
                            "IC-A1"),
        AttributeDefinition(ATTR_PHARMACY_LINK, SUBJECT_PHARMACY, "the NISS of each patient asked about",
                            "the NISS of those asked with whom the pharmacy has an active therapeutic link",
                            "IC-A2"),
        *(AttributeDefinition(attr_membership(role), SUBJECT_PERSON, "nothing",
                              f"the NIHII of each organisation where the person holds the role '{role}'",
                              _MEMBERSHIP_RULES[role])
          for role in MEMBERSHIP_ROLES),
        AttributeDefinition(ATTR_INSURER, SUBJECT_PERSON, "nothing",
                            "the code of the insurer the person is affiliated to (100 .. 900)", "IC-R7"),
        AttributeDefinition(ATTR_ON, SUBJECT_PERSON + " or " + SUBJECT_PHARMACY,
                            "one date, YYYY-MM-DD (optional; default: today)",
                            "the day the answer is for (echoed)", "IC-A1, IC-A2"),
    )
}
