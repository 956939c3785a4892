"""SAML 1.1 holder-of-key assertions: what an issued assertion holds, and
every reason :func:`verify_assertion` refuses one."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from lxml import etree

from gateway.identity.claims import (
    ATTR_CERT_HOLDER_SSIN,
    ATTR_DOCTOR_BOOLEAN,
    ATTR_DOCTOR_NIHII,
    ATTR_PERSON_SSIN,
    CERTIFIED_NS,
    IDENTIFICATION_NS,
)
from gateway.identity.errors import TokenRejected
from gateway.domain.principal import Role
from gateway.identity.saml import (
    AM_X509_PKI,
    CM_HOLDER_OF_KEY,
    SAML_NS,
    STS_ISSUER,
    build_assertion,
    sign_assertion,
    verify_assertion,
)
from gateway.identity.xml import parse_untrusted
from gateway.identity.xmldsig import EXC_C14N, RSA_SHA256, SHA256

S = {"saml": SAML_NS, "ds": "http://www.w3.org/2000/09/xmldsig#"}


@pytest.fixture
def gp(personas):
    return personas["gp"]


@pytest.fixture
def make(gw, gp, clock):
    """Build and sign an assertion about gp (by default with the STS key)."""

    def run(*, signer: str = "sts", lifetime: timedelta = timedelta(hours=1), mutate=None) -> bytes:
        now = clock.now()
        assertion = build_assertion(
            issuer=STS_ISSUER, subject_niss=gp.niss, subject_cert=gw.platform.pki.persona("gp").certificate,
            attributes=[(IDENTIFICATION_NS, ATTR_CERT_HOLDER_SSIN, [gp.niss]), (IDENTIFICATION_NS, ATTR_PERSON_SSIN, [gp.niss]),
                        (CERTIFIED_NS, ATTR_DOCTOR_BOOLEAN, ["true"]), (CERTIFIED_NS, ATTR_DOCTOR_NIHII, [gp.nihii])],
            authentication_method=AM_X509_PKI, not_before=now, not_on_or_after=now + lifetime, issue_instant=now,
        )
        if mutate:
            mutate(assertion)
        cred = gw.platform.pki.credential(signer)
        return etree.tostring(sign_assertion(assertion, cred.private_key, cred.certificate))

    return run


def check(data: bytes, gw, clock):
    return verify_assertion(parse_untrusted(data), trusted=[gw.platform.pki.platform("sts").certificate], clock=clock)


def rejected(data: bytes, gw, clock) -> TokenRejected:
    with pytest.raises(TokenRejected) as err:
        check(data, gw, clock)
    return err.value


def test_signed_assertion_verifies_and_yields_the_physicians_claims(make, gw, gp, clock):
    verified = check(make(), gw, clock)
    assert verified.issuer == STS_ISSUER
    assert verified.attributes[ATTR_DOCTOR_NIHII] == [gp.nihii]
    assert verified.subject_certificate == gw.platform.pki.persona("gp").certificate
    assert verified.not_on_or_after - verified.not_before == timedelta(hours=1)
    claims = verified.claims()
    assert (claims.niss, claims.role, claims.quality, claims.nihii) == (gp.niss, Role.PROVIDER, "doctor", gp.nihii)
    assert claims.principal().authentication == "sts-holder-of-key"


def test_assertion_has_the_shape_ehealth_describes(make):
    root = parse_untrusted(make())
    assert root.get("MajorVersion") == "1" and root.get("MinorVersion") == "1"
    assert root.get("AssertionID", "").startswith("_")
    assert root.find("saml:Conditions", S).get("NotOnOrAfter")
    assert root.find("saml:AuthenticationStatement", S).get("AuthenticationMethod") == AM_X509_PKI
    methods = root.xpath("//saml:Subject/saml:SubjectConfirmation/saml:ConfirmationMethod/text()", namespaces=S)
    assert methods == [CM_HOLDER_OF_KEY, CM_HOLDER_OF_KEY]  # authentication and attribute statements
    assert root.xpath("count(//saml:SubjectConfirmation/ds:KeyInfo/ds:X509Data/ds:X509Certificate)", namespaces=S) == 2
    assert root.find("saml:AttributeStatement/saml:Attribute", S).get("AttributeNamespace") == IDENTIFICATION_NS
    # enveloped signature, last child, with the algorithms of ehealth.md
    signature = root[-1]
    assert signature.tag == "{http://www.w3.org/2000/09/xmldsig#}Signature"
    assert signature.find("ds:SignedInfo/ds:CanonicalizationMethod", S).get("Algorithm") == EXC_C14N
    assert signature.find("ds:SignedInfo/ds:SignatureMethod", S).get("Algorithm") == RSA_SHA256
    reference = signature.find("ds:SignedInfo/ds:Reference", S)
    assert reference.get("URI") == "#" + root.get("AssertionID")
    assert reference.find("ds:DigestMethod", S).get("Algorithm") == SHA256


def test_assertion_signed_by_an_untrusted_key_is_refused(make, gw, clock):
    assert rejected(make(signer="untrusted-sts"), gw, clock).code == "assertion-untrusted-signer"


def test_untrusted_key_presenting_the_trusted_sts_certificate_is_refused(make, gw, clock):
    """The attacker copies the real STS certificate into KeyInfo: the key does not match."""
    root = parse_untrusted(make(signer="untrusted-sts"))
    cert = root.find("ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate", S)
    cert.text = "".join(gw.platform.pki.platform("sts").cert_pem.decode().splitlines()[1:-1])
    assert rejected(etree.tostring(root), gw, clock).code == "assertion-bad-signature"


def test_a_changed_attribute_breaks_the_signature(make, gw, clock, personas):
    root = parse_untrusted(make())
    for value in root.iterfind(".//saml:Attribute[@AttributeName='urn:be:fgov:person:ssin']/saml:AttributeValue", S):
        value.text = personas["patient"].niss
    assert rejected(etree.tostring(root), gw, clock).code == "assertion-bad-signature"


def test_expired_and_not_yet_valid_assertions_are_refused_beyond_the_skew(make, gw, clock):
    data = make(lifetime=timedelta(hours=1))
    clock.advance(timedelta(hours=1, seconds=59))
    assert check(data, gw, clock)  # within the 60 s skew
    clock.advance(timedelta(seconds=2))
    assert rejected(data, gw, clock).code == "assertion-expired"
    clock.advance(-timedelta(hours=1, seconds=61) - timedelta(minutes=5))
    assert rejected(data, gw, clock).code == "assertion-not-yet-valid"


def test_assertion_without_holder_of_key_confirmation_is_refused(make, gw, clock):
    def bearer(assertion):
        for method in assertion.iter(f"{{{SAML_NS}}}ConfirmationMethod"):
            method.text = "urn:oasis:names:tc:SAML:1.0:cm:bearer"

    assert rejected(make(mutate=bearer), gw, clock).code == "assertion-no-holder-of-key"


def test_unsigned_assertion_is_refused(make, gw, clock):
    root = parse_untrusted(make())
    root.remove(root[-1])
    assert rejected(etree.tostring(root), gw, clock).code == "assertion-unsigned"


def test_assertion_wrapping_another_signed_assertion_is_refused(make, gw, clock, personas):
    """An attacker's unsigned assertion carrying a genuine signed one inside."""
    genuine = parse_untrusted(make())
    evil = copy.deepcopy(genuine)
    evil.set("AssertionID", "_evil")
    for value in evil.iter(f"{{{SAML_NS}}}AttributeValue"):
        value.text = personas["patient"].niss
    evil.remove(evil[-1])
    evil.append(copy.deepcopy(genuine[-1]))  # the genuine signature, referencing the genuine ID
    evil.append(genuine)
    assert rejected(etree.tostring(evil), gw, clock).code == "assertion-wrapping"


def test_repeated_assertion_id_is_refused(make, gw, clock):
    root = parse_untrusted(make())
    etree.SubElement(root.find("saml:AttributeStatement", S), f"{{{SAML_NS}}}Attribute",
                     AssertionID=root.get("AssertionID"), AttributeName="x", AttributeNamespace="y")
    assert rejected(etree.tostring(root), gw, clock).code == "assertion-wrapping"


def test_values_are_read_from_the_signed_copy_so_a_comment_cannot_truncate_them(make, gw, gp, clock):
    """Exclusive c14n ignores comments: a comment injected into a value keeps
    the signature valid, and the value read must still be the whole one."""
    root = parse_untrusted(make())
    value = root.find(".//saml:Attribute[@AttributeName='urn:be:fgov:person:ssin']/saml:AttributeValue", S)
    value.text = gp.niss[:4]
    comment = etree.Comment("injected")
    comment.tail = gp.niss[4:]
    value.append(comment)
    verified = check(etree.tostring(root), gw, clock)
    assert verified.attributes[ATTR_PERSON_SSIN] == [gp.niss]
    assert verified.element is not root and not list(verified.element.iter(etree.Comment))


def test_an_assertion_from_another_issuer_is_refused(clock):
    """Signed by a trusted key but naming another Issuer: not an STS token."""
    from datetime import timedelta

    from gateway.domain.identifiers import make_niss
    from gateway.ehealth.pki import load_pki
    from gateway.identity.errors import TokenRejected
    from gateway.identity.saml import build_assertion, sign_assertion, verify_assertion
    from datetime import date

    pki = load_pki()
    sts, gp = pki.platform("sts"), pki.persona("gp")
    now = clock.now()
    assertion = build_assertion(
        issuer="urn:example:not-the-sts", subject_niss=make_niss(date(1975, 12, 31), 526), subject_cert=gp.certificate,
        attributes=[], authentication_method="urn:oasis:names:tc:SAML:1.0:am:X509-PKI",
        not_before=now - timedelta(minutes=1), not_on_or_after=now + timedelta(hours=1), issue_instant=now)
    signed = sign_assertion(assertion, sts.private_key, sts.certificate)
    with pytest.raises(TokenRejected) as err:
        verify_assertion(signed, trusted=[sts.certificate], clock=clock)
    assert err.value.code == "assertion-issuer-unknown"
