"""The simulated eHealth attribute authority (``IAM/AttributeAuthority/v1``).

It answers the facts the gateway must not decide alone (``integrated-care.md``):
therapeutic links of a professional or a pharmacy with patients, memberships
and roles in PSIs, pharmacies and insurers, and insurer affiliation. A
question is a SAML 2.0 ``samlp:AttributeQuery``; the answer is a
``samlp:Response`` with one assertion, signed (enveloped, exclusive c14n,
RSA-SHA256) with the platform key ``attribute-authority``. The vocabulary is
in :mod:`gateway.aa_vocabulary`.

A query that cannot be answered still gets a signed Response, with a SAML
status that says why (``Requester`` / ``InvalidAttrNameOrValue``, ...), as
the SAML protocol wants; only a malformed SOAP message gets a SOAP Fault.

The facts come from the sandbox registries with TherLink's changes, never
from ``platform.facts`` (which may itself be a client of this authority).

Over HTTP the call needs a SAML holder-of-key token, and a person may ask
only about themselves or about a pharmacy they work in; an organisation
acting as itself may ask about anyone. :func:`answer_query` is the
in-process core, for a trusted caller (the gateway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Sequence

from fastapi import APIRouter
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import SignatureConstructionMethod

from gateway.domain.identifiers import InvalidIdentifier, check_niss, compact
from gateway.domain.ports import CareFacts, OrganisationKind
from gateway.aa_vocabulary import (
    AA_ISSUER,
    ATTR_INSURER,
    ATTR_ON,
    ATTR_PHARMACY_LINK,
    ATTR_THERAPEUTIC_LINK,
    ATTRIBUTES,
    ATTRNAME_FORMAT_URI,
    MEMBERSHIP_PREFIX,
    MEMBERSHIP_ROLES,
    SAML_NS,
    SAML_VERSION,
    SAMLP_NS,
    SOAP_ACTION,
    STATUS_INVALID_ATTR,
    STATUS_REQUESTER,
    STATUS_SUCCESS,
    STATUS_UNKNOWN_PRINCIPAL,
    STATUS_VERSION_MISMATCH,
    SUBJECT_PERSON,
    SUBJECT_PHARMACY,
    XS_NS,
    XSI_NS,
    attr_membership,
)
from gateway.ehealth.sandbox.facts import SandboxCareFacts
from gateway.ehealth.sandbox.links import StoredLinks
from gateway.ehealth.soapkit import HostedService, caller, hok_security, new_id, refuse, soap_contract
from gateway.domain.principal import Principal, Role
from gateway.identity.xmldsig import DS_NS, EXC_C14N, RSA_SHA256, SHA256, xml_datetime
from gateway.soap11.service import SoapRequest

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

PATH = "/IAM/AttributeAuthority/v1"
ASSERTION_LIFETIME = timedelta(minutes=5)  # facts are asked again at each call (IC-A1)
NSMAP = {"samlp": SAMLP_NS, "saml": SAML_NS, "xs": XS_NS, "xsi": XSI_NS}


def _p(name: str) -> str:
    return f"{{{SAMLP_NS}}}{name}"


def _a(name: str) -> str:
    return f"{{{SAML_NS}}}{name}"


class QueryRefused(Exception):
    """A query the authority answers with a non-success SAML status."""

    def __init__(self, message: str, second: str | None = None, top: str = STATUS_REQUESTER) -> None:
        super().__init__(message)
        self.message, self.second, self.top = message, second, top


@dataclass(frozen=True)
class Query:
    """An AttributeQuery as read: who about, for which day, which attributes (name -> values asked)."""

    id: str
    subject_format: str
    subject: str
    day: date
    asked: dict[str, list[str]]


# ------------------------------------------------------------------ in process


def authority_facts(platform: "Platform") -> CareFacts:
    """The facts the authority answers from: registries, register, TherLink."""
    return platform.facts


def answer_query(platform: "Platform", query: etree._Element, facts: CareFacts | None = None) -> etree._Element:
    """The signed ``samlp:Response`` to a ``samlp:AttributeQuery`` element."""
    facts = facts or authority_facts(platform)
    query_id = query.get("ID") or None
    try:
        read = read_query(platform, query)
        attributes = answer(platform, facts, read)
        response = _response(platform, query_id, STATUS_SUCCESS, None, None)
        response.append(_assertion(platform, read, attributes))
    except QueryRefused as refused:
        response = _response(platform, query_id, refused.top, refused.second, refused.message)
    return sign_response(platform, response)


def read_query(platform: "Platform", query: etree._Element) -> Query:
    if query.tag != _p("AttributeQuery"):
        raise QueryRefused(f"Expected a samlp:AttributeQuery, not {etree.QName(query).localname}.")
    if query.get("Version") != SAML_VERSION:
        raise QueryRefused("Only SAML 2.0 queries are answered.", top=STATUS_VERSION_MISMATCH)
    if not query.get("ID"):
        raise QueryRefused("The query has no ID.")
    names = query.findall(f"{_a('Subject')}/{_a('NameID')}")
    if len(names) != 1 or not (names[0].text or "").strip():
        raise QueryRefused("The query must name one subject (saml:Subject/saml:NameID).", STATUS_UNKNOWN_PRINCIPAL)
    subject_format = names[0].get("Format") or SUBJECT_PERSON
    subject = _subject(platform, subject_format, names[0].text or "")
    asked: dict[str, list[str]] = {}
    for attribute in query.findall(_a("Attribute")):
        name = attribute.get("Name") or ""
        definition = ATTRIBUTES.get(name)
        if definition is None:
            raise QueryRefused(f"Unknown attribute {name!r}; see the attribute list in docs/ehealth-sandbox.md.",
                               STATUS_INVALID_ATTR)
        if attribute.get("NameFormat") not in (None, ATTRNAME_FORMAT_URI):
            raise QueryRefused(f"Attribute names are URIs (NameFormat {ATTRNAME_FORMAT_URI}).", STATUS_INVALID_ATTR)
        if subject_format not in definition.subject:
            raise QueryRefused(f"{name} is not asked about a subject of format {subject_format}; "
                               f"its subject is {definition.subject}.", STATUS_INVALID_ATTR)
        values = [(v.text or "").strip() for v in attribute.findall(_a("AttributeValue"))]
        asked.setdefault(name, []).extend(values)
    day = _day(platform, asked.pop(ATTR_ON, None))
    for name, values in asked.items():
        if ATTRIBUTES[name].takes_values and not values:
            raise QueryRefused(f"{name} is asked with {ATTRIBUTES[name].asked_with}.", STATUS_INVALID_ATTR)
        if not ATTRIBUTES[name].takes_values and values:
            raise QueryRefused(f"{name} is asked without values.", STATUS_INVALID_ATTR)
        if name in (ATTR_THERAPEUTIC_LINK, ATTR_PHARMACY_LINK):
            asked[name] = [_patient(v) for v in values]
    if not asked and subject_format == SUBJECT_PERSON:  # SAML: no attribute named = all (that need no value)
        asked = {name: [] for name, d in ATTRIBUTES.items() if not d.takes_values and name != ATTR_ON}
    return Query(query.get("ID") or "", subject_format, subject, day, asked)


def answer(platform: "Platform", facts: CareFacts, query: Query) -> list[tuple[str, list[str]]]:
    """Each asked attribute with the values that are true for the subject."""
    result: list[tuple[str, list[str]]] = []
    for name, values in query.asked.items():
        if name == ATTR_THERAPEUTIC_LINK:
            found = [v for v in values if facts.has_therapeutic_link(query.subject, v, query.day)]
        elif name == ATTR_PHARMACY_LINK:
            found = [v for v in values if facts.pharmacy_has_therapeutic_link(query.subject, v, query.day)]
        elif name.startswith(MEMBERSHIP_PREFIX):
            role = name.removeprefix(MEMBERSHIP_PREFIX)
            found = sorted({m.organisation_nihii for m in facts.memberships(query.subject) if m.role == role})
        elif name == ATTR_INSURER:
            code = facts.insurer_of(query.subject, query.day)
            found = [code] if code else []
        else:  # pragma: no cover - every name of ATTRIBUTES is handled above
            raise QueryRefused(f"{name} is not answered.", STATUS_INVALID_ATTR)
        result.append((name, found))
    result.append((ATTR_ON, [query.day.isoformat()]))
    return result


def _subject(platform: "Platform", subject_format: str, value: str) -> str:
    if subject_format == SUBJECT_PERSON:
        try:
            return check_niss(value).value
        except InvalidIdentifier as exc:
            raise QueryRefused(f"The subject is not a valid NISS: {exc.message}", STATUS_UNKNOWN_PRINCIPAL) from None
    if subject_format == SUBJECT_PHARMACY:
        organisation = platform.registries.organisation(value)
        if organisation is None or organisation.kind is not OrganisationKind.PHARMACY:
            raise QueryRefused(f"{compact(value)} is not a public pharmacy known in CoBrHa.", STATUS_UNKNOWN_PRINCIPAL)
        return organisation.nihii
    raise QueryRefused(f"Unknown subject format {subject_format!r}: use {SUBJECT_PERSON} or {SUBJECT_PHARMACY}.",
                       STATUS_UNKNOWN_PRINCIPAL)


def _patient(value: str) -> str:
    try:
        return check_niss(value).value
    except InvalidIdentifier as exc:
        raise QueryRefused(f"{value!r} is not a valid NISS: {exc.message}", STATUS_INVALID_ATTR) from None


def _day(platform: "Platform", values: list[str] | None) -> date:
    if values is None:
        return platform.clock.today()
    if len(values) != 1:
        raise QueryRefused(f"{ATTR_ON} takes one date.", STATUS_INVALID_ATTR)
    try:
        return date.fromisoformat(values[0])
    except ValueError:
        raise QueryRefused(f"{ATTR_ON} must be a date YYYY-MM-DD, not {values[0]!r}.", STATUS_INVALID_ATTR) from None


def _response(platform: "Platform", in_response_to: str | None, top: str, second: str | None, message: str | None) -> etree._Element:
    response = etree.Element(_p("Response"), nsmap=NSMAP, ID=new_id(), Version=SAML_VERSION,
                             IssueInstant=xml_datetime(platform.clock.now()))
    if in_response_to and _is_ncname(in_response_to):
        response.set("InResponseTo", in_response_to)
    etree.SubElement(response, _a("Issuer")).text = AA_ISSUER
    etree.SubElement(response, f"{{{DS_NS}}}Signature", Id="placeholder", nsmap={"ds": DS_NS})
    status = etree.SubElement(response, _p("Status"))
    code = etree.SubElement(status, _p("StatusCode"), Value=top)
    if second:
        etree.SubElement(code, _p("StatusCode"), Value=second)
    if message:
        etree.SubElement(status, _p("StatusMessage")).text = message
    return response


def _assertion(platform: "Platform", query: Query, attributes: Sequence[tuple[str, list[str]]]) -> etree._Element:
    now = platform.clock.now()
    assertion = etree.Element(_a("Assertion"), ID=new_id(), Version=SAML_VERSION, IssueInstant=xml_datetime(now))
    etree.SubElement(assertion, _a("Issuer")).text = AA_ISSUER
    subject = etree.SubElement(assertion, _a("Subject"))
    etree.SubElement(subject, _a("NameID"), Format=query.subject_format).text = query.subject
    etree.SubElement(assertion, _a("Conditions"), NotBefore=xml_datetime(now),
                     NotOnOrAfter=xml_datetime(now + ASSERTION_LIFETIME))
    statement = etree.SubElement(assertion, _a("AttributeStatement"))
    for name, values in attributes:
        attribute = etree.SubElement(statement, _a("Attribute"), Name=name, NameFormat=ATTRNAME_FORMAT_URI)
        for value in values:
            element = etree.SubElement(attribute, _a("AttributeValue"))
            element.set(f"{{{XSI_NS}}}type", "xs:string")
            element.text = value
    return assertion


def sign_response(platform: "Platform", response: etree._Element) -> etree._Element:
    """Enveloped signature over the Response (its ``ID``), in place of the placeholder after the Issuer."""
    credential = platform.pki.platform("attribute-authority")
    signer = XMLSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm=RSA_SHA256,
                       digest_algorithm=SHA256, c14n_algorithm=EXC_C14N)
    signer.namespaces = {"ds": DS_NS}
    return signer.sign(response, key=credential.private_key, cert=[credential.certificate],
                       reference_uri="#" + response.get("ID", ""), id_attribute="ID")


def _is_ncname(value: str) -> bool:
    return bool(value) and (value[0].isalpha() or value[0] == "_") and all(c.isalnum() or c in "._-" for c in value)


# ------------------------------------------------------------------ over HTTP


def may_ask(platform: "Platform", principal: Principal, query: etree._Element) -> bool:
    """A person asks about themselves, or about a pharmacy where they are a
    pharmacist; an organisation acting as itself (or the gateway) asks about anyone."""
    if principal.role in (Role.ORGANISATION, Role.SYSTEM):
        return True
    names = query.findall(f"{_a('Subject')}/{_a('NameID')}")
    if len(names) != 1:
        return True  # answered with a Requester status, which reveals nothing
    subject_format, value = names[0].get("Format") or SUBJECT_PERSON, compact(names[0].text or "")
    if subject_format == SUBJECT_PHARMACY:
        return any(m.organisation_nihii == value and m.role == "pharmacist" for m in platform.registries.memberships_of(principal.niss))
    person = platform.register.person(value)
    me = platform.register.person(principal.niss)
    return value == principal.niss or (person is not None and me is not None and person.niss == me.niss)


def router(platform: "Platform") -> APIRouter:
    def attribute_query(request: SoapRequest) -> etree._Element:
        principal = caller(request)
        if not may_ask(platform, principal, request.payload):
            raise refuse("aa-subject-not-allowed",
                         "You may ask the attribute authority about yourself or about the pharmacy you work in only.")
        return answer_query(platform, request.payload)

    service = HostedService(
        "AttributeAuthority", PATH,
        soap_contract("attribute-authority", "AttributeAuthority-v1.wsdl"),
        soap_contract("attribute-authority", "saml-schema-protocol-2.0-subset.xsd"),
        {_p("AttributeQuery"): (SOAP_ACTION, attribute_query)},
        hok_security(platform),
    )
    return service.router()


__all__ = ["answer_query", "read_query", "answer", "sign_response", "router", "authority_facts", "attr_membership",
           "MEMBERSHIP_ROLES", "QueryRefused"]
