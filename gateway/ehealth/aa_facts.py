"""CareFacts answered by an attribute authority, as the policy must ask it
(``DESIGN.md``: "the policy calls the attribute authority through an
interface"): each question becomes a SAML 2.0 ``samlp:AttributeQuery``,
goes through a transport, and the answer is believed only once its
signature verifies with the authority's certificate (pinned, not taken from
the message) and it answers *this* query (``InResponseTo``, subject, day).
Anything else raises :class:`AttributeAuthorityError`: the policy then
fails closed.

Transports are ``Callable[[bytes], bytes]`` (query in, response out):
:func:`in_process_transport` calls the simulated authority directly;
:func:`http_transport` posts a SOAP envelope to a remote one, signed by a
``secure`` function (WS-Security with the gateway's token).

``professional()`` and ``organisation()`` are not attribute-authority
questions: they are CoBrHa look-ups (AddressBook), answered from a
``directory`` (the sandbox registries, or anything with those two methods).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import httpx
from cryptography import x509
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import SignXMLException

from gateway.domain.clock import Clock
from gateway.domain.identifiers import compact
from gateway.domain.ports import Membership, OrganisationKind, OrganisationRecord, ProfessionalRecord
from gateway.ehealth.aa_vocabulary import (
    AA_ISSUER,
    ATTR_INSURER,
    ATTR_ON,
    ATTR_PHARMACY_LINK,
    ATTR_THERAPEUTIC_LINK,
    ATTRNAME_FORMAT_URI,
    MEMBERSHIP_ROLES,
    SAML_NS,
    SAML_VERSION,
    SAMLP_NS,
    SOAP_ACTION,
    STATUS_SUCCESS,
    SUBJECT_PERSON,
    SUBJECT_PHARMACY,
    attr_membership,
)
from gateway.ehealth.soapkit import new_id
from gateway.identity.xml import UnsafeXml, parse_untrusted
from gateway.identity.xmldsig import duplicate_ids, parse_xml_datetime, verifier_config, xml_datetime
from gateway.soap.envelope import SOAP11_NS, envelope_bytes

if TYPE_CHECKING:
    from gateway.services import Gateway

Transport = Callable[[bytes], bytes]
SKEW = timedelta(seconds=60)
MAX_AGE = timedelta(minutes=5)
REQUESTER = "urn:be:care-gateway:gateway"


class AttributeAuthorityError(RuntimeError):
    """The authority could not be asked, refused, or gave an answer we do not believe."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Directory(Protocol):
    """CoBrHa look-ups (the sandbox registries satisfy it)."""

    def professional(self, nihii: str) -> ProfessionalRecord | None: ...

    def organisation(self, nihii: str) -> OrganisationRecord | None: ...


def _p(name: str) -> str:
    return f"{{{SAMLP_NS}}}{name}"


def _a(name: str) -> str:
    return f"{{{SAML_NS}}}{name}"


# ------------------------------------------------------------------ transports


def in_process_transport(gw: "Gateway") -> Transport:
    """Ask the simulated authority of ``gw`` directly (bytes both ways, as on the wire)."""
    from gateway.ehealth.attribute_authority import answer_query

    def send(query: bytes) -> bytes:
        return etree.tostring(answer_query(gw, parse_untrusted(query)))

    return send


def http_transport(
    url: str,
    *,
    secure: Callable[[bytes], bytes] | None = None,
    client: httpx.Client | None = None,
    timeout: float = 10.0,
) -> Transport:
    """Post the query in a SOAP 1.1 envelope to ``url``; ``secure`` adds
    WS-Security (e.g. ``lambda e: sign_with_saml(e, token, key, cert, clock=clock)``)."""
    http = client or httpx.Client(timeout=timeout)

    def send(query: bytes) -> bytes:
        envelope = envelope_bytes(parse_untrusted(query))
        if secure is not None:
            envelope = secure(envelope)
        try:
            reply = http.post(url, content=envelope,
                              headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SOAP_ACTION}"'})
        except httpx.HTTPError as exc:
            raise AttributeAuthorityError("aa-unreachable", f"The attribute authority at {url} did not answer: {exc}.") from None
        try:
            root = parse_untrusted(reply.content)
        except UnsafeXml as exc:
            raise AttributeAuthorityError("aa-malformed", f"The attribute authority answered unreadable XML: {exc.message}") from None
        body = root.find(f"{{{SOAP11_NS}}}Body")
        children = [c for c in (body if body is not None else []) if isinstance(c.tag, str)]
        if len(children) != 1:
            raise AttributeAuthorityError("aa-malformed", "The attribute authority's SOAP Body must hold one element.")
        if children[0].tag == f"{{{SOAP11_NS}}}Fault":
            raise AttributeAuthorityError("aa-fault", "The attribute authority refused the call: "
                                          + (children[0].findtext("faultstring") or "no reason given"))
        return etree.tostring(children[0])

    return send


# ------------------------------------------------------------------ queries


def build_query(subject_format: str, subject: str, attributes: dict[str, list[str]], on: date | None,
                *, now: datetime, issuer: str = REQUESTER) -> etree._Element:
    """A ``samlp:AttributeQuery`` about ``subject`` for ``attributes`` (name -> values asked)."""
    query = etree.Element(_p("AttributeQuery"), nsmap={"samlp": SAMLP_NS, "saml": SAML_NS},
                          ID=new_id(), Version=SAML_VERSION, IssueInstant=xml_datetime(now))
    etree.SubElement(query, _a("Issuer")).text = issuer
    name_id = etree.SubElement(etree.SubElement(query, _a("Subject")), _a("NameID"), Format=subject_format)
    name_id.text = subject
    wanted = dict(attributes)
    if on is not None:
        wanted[ATTR_ON] = [on.isoformat()]
    for name, values in wanted.items():
        attribute = etree.SubElement(query, _a("Attribute"), Name=name, NameFormat=ATTRNAME_FORMAT_URI)
        for value in values:
            etree.SubElement(attribute, _a("AttributeValue")).text = value
    return query


def verify_response(
    raw: bytes,
    query: etree._Element,
    certificate: x509.Certificate,
    *,
    now: datetime,
    issuer: str = AA_ISSUER,
) -> dict[str, list[str]]:
    """The attributes of a Response to ``query``, read from the signed
    element only; :class:`AttributeAuthorityError` unless every check passes."""
    try:
        root = parse_untrusted(raw)
    except UnsafeXml as exc:
        raise AttributeAuthorityError("aa-malformed", f"Unreadable response: {exc.message}") from None
    if root.tag != _p("Response"):
        raise AttributeAuthorityError("aa-malformed", f"Expected a samlp:Response, got {etree.QName(root).localname}.")
    duplicates = duplicate_ids(root)
    if duplicates:
        raise AttributeAuthorityError("aa-signature-invalid", f"ID values occur more than once: {', '.join(duplicates[:3])}.")
    try:
        result = XMLVerifier().verify(root, x509_cert=certificate, id_attribute="ID",
                                      expect_config=verifier_config("./", at=now, references=1))
    except (SignXMLException, etree.LxmlError, ValueError) as exc:
        raise AttributeAuthorityError("aa-signature-invalid",
                                      f"The response's signature does not verify with the attribute authority's key: {exc}.") from None
    signed = result[0].signed_xml if isinstance(result, list) else result.signed_xml
    if signed is None or signed.tag != _p("Response") or signed.get("ID") != root.get("ID"):
        raise AttributeAuthorityError("aa-signature-invalid", "The signature does not cover the whole Response.")
    _check_response(signed, query, now=now, issuer=issuer)
    return _attributes(signed, query)


def _check_response(signed: etree._Element, query: etree._Element, *, now: datetime, issuer: str) -> None:
    def bad(message: str) -> AttributeAuthorityError:
        return AttributeAuthorityError("aa-response-invalid", message)

    if signed.get("InResponseTo") != query.get("ID"):
        raise bad("The response answers another query (InResponseTo).")
    if (signed.findtext(_a("Issuer")) or "").strip() != issuer:
        raise bad(f"The response is not issued by {issuer}.")
    try:
        issued = parse_xml_datetime(signed.get("IssueInstant"))
    except ValueError:
        raise bad("The response has no readable IssueInstant.") from None
    if issued > now + SKEW or now - issued > MAX_AGE:
        raise bad("The response is not fresh (IssueInstant).")
    codes = signed.findall(f"{_p('Status')}/{_p('StatusCode')}")
    if len(codes) != 1:
        raise bad("The response has no status.")
    if codes[0].get("Value") != STATUS_SUCCESS:
        second = codes[0].find(_p("StatusCode"))
        message = signed.findtext(f"{_p('Status')}/{_p('StatusMessage')}") or ""
        raise AttributeAuthorityError(
            "aa-refused", f"The attribute authority refused the query ({codes[0].get('Value')}"
            + (f", {second.get('Value')}" if second is not None else "") + f"): {message}")


def _attributes(signed: etree._Element, query: etree._Element) -> dict[str, list[str]]:
    assertions = signed.findall(_a("Assertion"))
    if len(assertions) != 1:
        raise AttributeAuthorityError("aa-response-invalid", "The response must carry exactly one assertion.")
    assertion = assertions[0]
    asked = query.find(f"{_a('Subject')}/{_a('NameID')}")
    told = assertion.find(f"{_a('Subject')}/{_a('NameID')}")
    if asked is None or told is None or (told.text, told.get("Format")) != (asked.text, asked.get("Format")):
        raise AttributeAuthorityError("aa-response-invalid", "The assertion is about another subject than the one asked.")
    values: dict[str, list[str]] = {}
    for attribute in assertion.iterfind(f"{_a('AttributeStatement')}/{_a('Attribute')}"):
        values.setdefault(attribute.get("Name") or "", []).extend(
            (v.text or "").strip() for v in attribute.findall(_a("AttributeValue")))
    for attribute in query.findall(_a("Attribute")):
        name = attribute.get("Name") or ""
        if name not in values:
            raise AttributeAuthorityError("aa-response-invalid", f"The response does not answer {name}.")
        if name == ATTR_ON and values[name] != [(attribute.findtext(_a("AttributeValue")) or "").strip()]:
            raise AttributeAuthorityError("aa-response-invalid", "The response is for another day than the one asked.")
    return values


# ------------------------------------------------------------------ CareFacts


class AttributeAuthorityFacts:
    """:class:`~gateway.domain.ports.CareFacts` through an attribute authority."""

    def __init__(
        self,
        transport: Transport,
        certificate: x509.Certificate,
        *,
        directory: Directory,
        clock: Clock,
        issuer: str = AA_ISSUER,
    ) -> None:
        self.transport = transport
        self.certificate = certificate
        self.directory = directory
        self.clock = clock
        self.issuer = issuer

    @classmethod
    def in_process(cls, gw: "Gateway") -> "AttributeAuthorityFacts":
        """Facts from the simulated authority of ``gw``, verified like a remote one."""
        return cls(in_process_transport(gw), gw.pki.platform("attribute-authority").certificate,
                   directory=gw.registries, clock=gw.clock)

    def ask(self, subject_format: str, subject: str, attributes: dict[str, list[str]],
            on: date | None = None) -> dict[str, list[str]]:
        """Send one query and return the verified answer (attribute name -> values)."""
        query = build_query(subject_format, subject, attributes, on, now=self.clock.now())
        raw = self.transport(etree.tostring(query))
        return verify_response(raw, query, self.certificate, now=self.clock.now(), issuer=self.issuer)

    # -- CoBrHa, from the directory

    def professional(self, nihii: str) -> ProfessionalRecord | None:
        return self.directory.professional(nihii)

    def organisation(self, nihii: str) -> OrganisationRecord | None:
        return self.directory.organisation(nihii)

    # -- the attribute authority

    def memberships(self, niss: str) -> Sequence[Membership]:
        names = {attr_membership(role): role for role in MEMBERSHIP_ROLES}
        answer = self.ask(SUBJECT_PERSON, niss, {name: [] for name in names})
        return tuple(Membership(nihii, role) for name, role in names.items() for nihii in answer.get(name, []))

    def has_therapeutic_link(self, professional_niss: str, patient_niss: str, on: date) -> bool:
        patient = compact(patient_niss)
        answer = self.ask(SUBJECT_PERSON, professional_niss, {ATTR_THERAPEUTIC_LINK: [patient]}, on)
        return patient in answer.get(ATTR_THERAPEUTIC_LINK, [])

    def pharmacy_has_therapeutic_link(self, pharmacy_nihii: str, patient_niss: str, on: date) -> bool:
        pharmacy = self.directory.organisation(pharmacy_nihii) if pharmacy_nihii else None
        if pharmacy is None or pharmacy.kind is not OrganisationKind.PHARMACY:
            return False  # not a pharmacy: no pharmacy link (as SandboxCareFacts answers)
        answer = self.ask(SUBJECT_PHARMACY, pharmacy.nihii, {ATTR_PHARMACY_LINK: [compact(patient_niss)]}, on)
        return compact(patient_niss) in answer.get(ATTR_PHARMACY_LINK, [])

    def insurer_of(self, patient_niss: str, on: date) -> str | None:
        values = self.ask(SUBJECT_PERSON, patient_niss, {ATTR_INSURER: []}, on).get(ATTR_INSURER, [])
        return values[0] if values else None
