"""A client of the attribute authority (``IAM/AttributeAuthority/v1``): the
facts the access policy must not decide alone (``DESIGN.md``: "the policy
calls the attribute authority through an interface"): therapeutic links of
a professional or a pharmacy (IC-A1, IC-A2), memberships and roles (IC-A3,
IC-F1) and insurer affiliation (IC-R7).

Each question is a SAML 2.0 ``samlp:AttributeQuery`` in a SOAP envelope
signed with the gateway's credential (:mod:`gateway.adapters.wsse`). The
answer is believed only once its enveloped signature verifies with a
certificate the gateway is configured to trust (:mod:`gateway.adapters.trust`,
never the message's say-so), on the element signxml says it verified, and
it answers *this* query (``InResponseTo``, issuer, freshness, subject, day,
every attribute asked). Anything else raises :class:`AttributeAuthorityError`
(a :class:`~gateway.domain.ports.SourceUnavailable`): the policy then fails
closed. A SAML status other than success is an error too, never a "no".

Why the attribute authority for links, and not TherLink: TherLink answers a
care party or the patient about their own links; the gateway asks on behalf
of whoever calls it, which is what the authority is for (an organisation
acting as itself may ask about anyone). The vocabulary (attribute names,
subject formats) is the authority's contract, in
:mod:`gateway.aa_vocabulary`.

Answers are kept for a while (:mod:`gateway.adapters.cache`): links and
memberships 60 s, insurer affiliation 15 min by default.
"""

from __future__ import annotations

import copy
import uuid
from datetime import date, datetime, timedelta
from typing import Sequence

from cryptography import x509
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import SignXMLException

from gateway.adapters import errors
from gateway.adapters.cache import TimedCache
from gateway.adapters.errors import PlatformError
from gateway.adapters.soap import SoapClient
from gateway.adapters.trust import CertificateTrust, as_trust, pinned_candidates
from gateway.domain.clock import Clock
from gateway.domain.identifiers import InvalidIdentifier, check_niss, compact
from gateway.domain.ports import Membership
from gateway.aa_vocabulary import (
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
from gateway.identity.xml import UnsafeXml, parse_untrusted
from gateway.identity.xmldsig import DS_NS, cert_from_b64, duplicate_ids, parse_xml_datetime, verifier_config, xml_datetime

SERVICE = "AttributeAuthority"
SKEW = timedelta(seconds=60)
MAX_AGE = timedelta(minutes=5)
REQUESTER = "urn:be:care-gateway:gateway"


class AttributeAuthorityError(PlatformError):
    """The authority could not be asked, refused, or gave an answer we do not believe."""

    def __init__(self, code: str, message: str, url: str | None = None) -> None:
        super().__init__(code, message, service=SERVICE, url=url)


def _p(name: str) -> str:
    return f"{{{SAMLP_NS}}}{name}"


def _a(name: str) -> str:
    return f"{{{SAML_NS}}}{name}"


def _new_id() -> str:
    return f"_{uuid.uuid4().hex}"


# ------------------------------------------------------------------ queries


def build_query(subject_format: str, subject: str, attributes: dict[str, list[str]], on: date | None,
                *, now: datetime, issuer: str = REQUESTER) -> etree._Element:
    """A ``samlp:AttributeQuery`` about ``subject`` for ``attributes`` (name -> values asked)."""
    query = etree.Element(_p("AttributeQuery"), nsmap={"samlp": SAMLP_NS, "saml": SAML_NS},
                          ID=_new_id(), Version=SAML_VERSION, IssueInstant=xml_datetime(now))
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


def _signature_certificates(root: etree._Element) -> list[x509.Certificate]:
    signature = root.find(f"{{{DS_NS}}}Signature")
    texts = signature.findall(f".//{{{DS_NS}}}X509Certificate") if signature is not None else []
    certificates = []
    for element in texts:
        try:
            certificates.append(cert_from_b64(element.text))
        except ValueError:
            raise AttributeAuthorityError(errors.SIGNATURE_INVALID, "The response's KeyInfo holds something that is "
                                          "not a certificate.") from None
    return certificates


def _signer(root: etree._Element, trust: CertificateTrust, now: datetime) -> list[x509.Certificate]:
    """The trusted certificates the signature may be made with: those of its
    KeyInfo that ``trust`` accepts (the others as path candidates), or the
    pinned ones when it carries none."""
    carried = _signature_certificates(root)
    if not carried:
        pinned = list(pinned_candidates(trust))
        if pinned:
            return pinned
        raise AttributeAuthorityError(errors.SIGNATURE_INVALID, "The response's signature carries no certificate.")
    trusted = [c for c in carried if trust(c, untrusted=[o for o in carried if o is not c], at=now)]
    if not trusted:
        names = "; ".join(f"{c.subject.rfc4514_string()} (serial {c.serial_number})" for c in carried)
        raise AttributeAuthorityError(errors.SIGNATURE_INVALID, f"The response is signed with a certificate this "
                                      f"gateway does not trust: {names}.")
    return trusted


def verify_response(
    raw: bytes,
    query: etree._Element,
    trust: "CertificateTrust | x509.Certificate | Sequence[x509.Certificate]",
    *,
    now: datetime,
    issuer: str = AA_ISSUER,
) -> dict[str, list[str]]:
    """The attributes of a Response to ``query``, read from the signed
    element only; :class:`AttributeAuthorityError` unless every check passes.
    ``trust`` decides whose signature counts (a certificate or a list of
    them pins those; see :mod:`gateway.adapters.trust`)."""
    try:
        root = parse_untrusted(raw)
    except UnsafeXml as exc:
        raise AttributeAuthorityError(errors.ANSWER_INVALID, f"Unreadable response: {exc.message}") from None
    if root.tag != _p("Response"):
        raise AttributeAuthorityError(errors.ANSWER_INVALID, f"Expected a samlp:Response, got {etree.QName(root).localname}.")
    duplicates = duplicate_ids(root)
    if duplicates:
        raise AttributeAuthorityError(errors.SIGNATURE_INVALID, f"ID values occur more than once: {', '.join(duplicates[:3])}.")
    signed = None
    problem = "no certificate to check it with"
    for certificate in _signer(root, as_trust(trust), now):
        try:
            result = XMLVerifier().verify(root, x509_cert=certificate, id_attribute="ID",
                                          expect_config=verifier_config("./", at=now, references=1))
        except (SignXMLException, etree.LxmlError, ValueError) as exc:
            problem = str(exc)
            continue
        signed = result[0].signed_xml if isinstance(result, list) else result.signed_xml
        break
    if signed is None:
        raise AttributeAuthorityError(errors.SIGNATURE_INVALID, "The response's signature does not verify with the "
                                      f"attribute authority's trusted certificate: {problem}.")
    if signed.tag != _p("Response") or signed.get("ID") != root.get("ID"):
        raise AttributeAuthorityError(errors.SIGNATURE_INVALID, "The signature does not cover the whole Response.")
    _check_response(signed, query, now=now, issuer=issuer)
    return _attributes(signed, query)


def _check_response(signed: etree._Element, query: etree._Element, *, now: datetime, issuer: str) -> None:
    def bad(message: str) -> AttributeAuthorityError:
        return AttributeAuthorityError(errors.ANSWER_INVALID, message)

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
            errors.REFUSED, f"The attribute authority refused the query ({codes[0].get('Value')}"
            + (f", {second.get('Value')}" if second is not None else "") + f"): {message}")


def _attributes(signed: etree._Element, query: etree._Element) -> dict[str, list[str]]:
    assertions = signed.findall(_a("Assertion"))
    if len(assertions) != 1:
        raise AttributeAuthorityError(errors.ANSWER_INVALID, "The response must carry exactly one assertion.")
    assertion = assertions[0]
    asked = query.find(f"{_a('Subject')}/{_a('NameID')}")
    told = assertion.find(f"{_a('Subject')}/{_a('NameID')}")
    if asked is None or told is None or (told.text, told.get("Format")) != (asked.text, asked.get("Format")):
        raise AttributeAuthorityError(errors.ANSWER_INVALID, "The assertion is about another subject than the one asked.")
    values: dict[str, list[str]] = {}
    for attribute in assertion.iterfind(f"{_a('AttributeStatement')}/{_a('Attribute')}"):
        values.setdefault(attribute.get("Name") or "", []).extend(
            (v.text or "").strip() for v in attribute.findall(_a("AttributeValue")))
    for attribute in query.findall(_a("Attribute")):
        name = attribute.get("Name") or ""
        if name not in values:
            raise AttributeAuthorityError(errors.ANSWER_INVALID, f"The response does not answer {name}.")
        if name == ATTR_ON and values[name] != [(attribute.findtext(_a("AttributeValue")) or "").strip()]:
            raise AttributeAuthorityError(errors.ANSWER_INVALID, "The response is for another day than the one asked.")
    return values


def _valid_niss(value: str) -> str | None:
    try:
        return check_niss(value).value
    except InvalidIdentifier:
        return None


# ------------------------------------------------------------------ the client


class AttributeAuthorityClient:
    """The authority's facts (the attribute-authority half of :class:`~gateway.domain.ports.CareFacts`)."""

    def __init__(
        self,
        soap: SoapClient,
        trust: "CertificateTrust | x509.Certificate | Sequence[x509.Certificate]",
        *,
        clock: Clock,
        cache: TimedCache | None = None,
        issuer: str = AA_ISSUER,
    ) -> None:
        self.soap = soap
        self.trust = as_trust(trust)
        self.clock = clock
        self.cache = cache if cache is not None else TimedCache(clock)
        self.issuer = issuer

    def ask(self, subject_format: str, subject: str, attributes: dict[str, list[str]],
            on: date | None = None) -> dict[str, list[str]]:
        """Send one query and return the verified answer (attribute name -> values)."""
        query = build_query(subject_format, subject, attributes, on, now=self.clock.now())
        answer = self.soap.call(copy.deepcopy(query), SOAP_ACTION)
        try:
            return verify_response(etree.tostring(answer), query, self.trust, now=self.clock.now(), issuer=self.issuer)
        except AttributeAuthorityError as exc:
            raise AttributeAuthorityError(exc.code, exc.reason, self.soap.url) from None

    def memberships(self, niss: str) -> Sequence[Membership]:
        subject = _valid_niss(niss)
        if subject is None:
            return ()  # not a person's number: a member of nothing, nothing to ask
        names = {attr_membership(role): role for role in MEMBERSHIP_ROLES}

        def fetch() -> tuple[Membership, ...]:
            answer = self.ask(SUBJECT_PERSON, subject, {name: [] for name in names})
            return tuple(Membership(nihii, role) for name, role in names.items() for nihii in answer.get(name, []))

        return self.cache.get("memberships", subject, fetch)

    def has_therapeutic_link(self, professional_niss: str, patient_niss: str, on: date) -> bool:
        professional, patient = _valid_niss(professional_niss), _valid_niss(patient_niss)
        if professional is None or patient is None:
            return False

        def fetch() -> bool:
            answer = self.ask(SUBJECT_PERSON, professional, {ATTR_THERAPEUTIC_LINK: [patient]}, on)
            return patient in answer.get(ATTR_THERAPEUTIC_LINK, [])

        return self.cache.get("links", (professional, patient, on), fetch)

    def pharmacy_has_therapeutic_link(self, pharmacy_nihii: str, patient_niss: str, on: date) -> bool:
        """Asked about a pharmacy CoBrHa knows (the authority refuses any other subject)."""
        pharmacy, patient = compact(pharmacy_nihii), _valid_niss(patient_niss)
        if patient is None:
            return False

        def fetch() -> bool:
            answer = self.ask(SUBJECT_PHARMACY, pharmacy, {ATTR_PHARMACY_LINK: [patient]}, on)
            return patient in answer.get(ATTR_PHARMACY_LINK, [])

        return self.cache.get("links", ("pharmacy", pharmacy, patient, on), fetch)

    def insurer_of(self, patient_niss: str, on: date) -> str | None:
        patient = _valid_niss(patient_niss)
        if patient is None:
            return None

        def fetch() -> str | None:
            values = self.ask(SUBJECT_PERSON, patient, {ATTR_INSURER: []}, on).get(ATTR_INSURER, [])
            return values[0] if values else None

        return self.cache.get("insurer", (patient, on), fetch)
