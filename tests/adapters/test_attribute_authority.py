"""The attribute authority's client: every fact the policy asks (IC-A1
links, IC-A2 pharmacy links, IC-A3 memberships, IC-R7 insurer) answered
over the wire as the sandbox answers it in process, and an answer that
cannot be believed refused with a stable code (fail closed)."""

from __future__ import annotations

import copy
from datetime import timedelta

import httpx
import pytest
from lxml import etree

from gateway.adapters import errors
from gateway.adapters.attribute_authority import AttributeAuthorityError, build_query, verify_response
from gateway.adapters.trust import PinnedCertificates, chain_trust
from gateway.domain.ports import SourceUnavailable
from gateway.aa_vocabulary import ATTR_THERAPEUTIC_LINK, SAML_NS, SOAP_ACTION, SUBJECT_PERSON
from gateway.identity.certstore import CertificateStore

PATIENTS = ("patient", "patient-2", "deceased-patient", "bis-patient")


class Rewriting(httpx.BaseTransport):
    """Passes requests on, and rewrites the attribute authority's answers."""

    def __init__(self, inner: httpx.BaseTransport, change) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.change = inner, change

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        content = response.read()
        if "AttributeAuthority" in request.url.path and response.status_code == 200:
            content = self.change(content)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, content=content)


def add_linked_patient(envelope: bytes) -> bytes:
    """Claim a link the authority did not state: a value added inside the signed Response."""
    root = etree.fromstring(envelope)
    attribute = root.find(f".//{{{SAML_NS}}}Attribute[@Name='{ATTR_THERAPEUTIC_LINK}']")
    if attribute is not None:
        etree.SubElement(attribute, f"{{{SAML_NS}}}AttributeValue").text = "61033029906"
    return etree.tostring(root)


def test_IC_A1_links_are_the_authoritys(side, personas):
    truth, today = side.truth.facts, side.clock.today()
    for who in ("gp", "gp-no-link", "nurse", "expired-visa"):
        for patient in PATIENTS:
            a, b = personas[who].niss, personas[patient].niss
            assert side.adapters.facts.has_therapeutic_link(a, b, today) == truth.has_therapeutic_link(a, b, today), (who, patient)
    assert side.calls.count("AttributeAuthority/v1") >= 1  # asked over the wire, not looked up


def test_IC_A2_pharmacy_links_are_the_authoritys(side, personas, registries):
    truth, today = side.truth.facts, side.clock.today()
    pharmacies = (registries.cast.pharmacy_a, registries.cast.pharmacy_b, registries.cast.hospital)
    for pharmacy in pharmacies:
        for patient in PATIENTS:
            b = personas[patient].niss
            assert (side.adapters.facts.pharmacy_has_therapeutic_link(pharmacy, b, today)
                    == truth.pharmacy_has_therapeutic_link(pharmacy, b, today)), (pharmacy, patient)
    assert side.adapters.facts.pharmacy_has_therapeutic_link(registries.cast.pharmacy_a, personas["patient"].niss, today)


def test_IC_A3_memberships_and_IC_R7_insurer_are_the_authoritys(side, personas):
    truth, today = side.truth.facts, side.clock.today()
    for persona in personas.values():
        assert set(side.adapters.facts.memberships(persona.niss)) == set(truth.memberships(persona.niss)), persona.key
    for patient in PATIENTS:
        niss = personas[patient].niss
        assert side.adapters.facts.insurer_of(niss, today) == truth.insurer_of(niss, today), patient


def test_a_malformed_number_is_asked_nothing(in_process):
    facts = in_process.adapters.facts
    assert facts.memberships("12345678901") == () and facts.insurer_of("1", in_process.clock.today()) is None
    assert not facts.has_therapeutic_link("12345678901", "61033029906", in_process.clock.today())
    assert in_process.calls.requests == []


# ------------------------------------------------------------------ refusals


def test_IC_A1_a_tampered_answer_is_refused_never_read_as_a_link(side, make_side, personas):
    tampered = make_side(side, wrap=lambda inner: Rewriting(inner, add_linked_patient))
    with pytest.raises(SourceUnavailable) as err:
        tampered.adapters.facts.has_therapeutic_link(personas["gp-no-link"].niss, personas["patient"].niss,
                                                     side.clock.today())
    assert err.value.code == errors.SIGNATURE_INVALID and err.value.category == "unavailable"
    assert err.value.details["service"] == "AttributeAuthority" and "/IAM/AttributeAuthority/v1" in err.value.message


def test_an_answer_signed_by_a_key_the_gateway_does_not_trust_is_refused(in_process, make_side, sandbox_pki, personas):
    other = make_side(in_process, trust=PinnedCertificates((sandbox_pki.platform("sts").certificate,)))
    with pytest.raises(AttributeAuthorityError) as err:
        other.adapters.facts.memberships(personas["psi-admin"].niss)
    assert err.value.code == errors.SIGNATURE_INVALID and "does not trust" in err.value.message


def test_the_authoritys_certificate_may_be_trusted_through_its_chain(in_process, make_side, sandbox_pki, personas):
    chained = make_side(in_process, trust=chain_trust(CertificateStore.of(sandbox_pki.ca.certificate)))
    assert chained.adapters.facts.memberships(personas["psi-admin"].niss)
    foreign = make_side(in_process, trust=chain_trust(CertificateStore.of(sandbox_pki.platform("untrusted-sts").certificate)))
    with pytest.raises(AttributeAuthorityError) as err:
        foreign.adapters.facts.memberships(personas["psi-admin"].niss)
    assert err.value.code == errors.SIGNATURE_INVALID


def test_an_answer_to_another_query_is_refused(in_process, make_side, personas):
    """A genuine, signed answer replayed for a new question (InResponseTo, subject) is not believed."""
    recorded: list[bytes] = []

    def replay(content: bytes) -> bytes:
        recorded.append(content)
        return recorded[0]

    replaying = make_side(in_process, wrap=lambda inner: Rewriting(inner, replay))
    today = in_process.clock.today()
    assert replaying.adapters.facts.has_therapeutic_link(personas["gp"].niss, personas["patient"].niss, today)
    with pytest.raises(AttributeAuthorityError) as err:
        replaying.adapters.facts.has_therapeutic_link(personas["nurse"].niss, personas["patient"].niss, today)
    assert err.value.code == errors.ANSWER_INVALID


def test_a_stale_answer_is_refused(in_process, make_side, personas):
    def later(content: bytes) -> bytes:
        in_process.clock.advance(timedelta(minutes=10))
        return content

    delayed = make_side(in_process, wrap=lambda inner: Rewriting(inner, later))
    with pytest.raises(AttributeAuthorityError) as err:
        delayed.adapters.facts.memberships(personas["psi-admin"].niss)
    assert err.value.code == errors.ANSWER_INVALID and "fresh" in err.value.message


def test_a_refusal_of_the_authority_is_an_error_not_a_no(in_process):
    with pytest.raises(AttributeAuthorityError) as err:
        in_process.adapters.authority.ask(SUBJECT_PERSON, "12345678901", {ATTR_THERAPEUTIC_LINK: ["61033029906"]})
    assert err.value.code == errors.REFUSED and "UnknownPrincipal" in err.value.message


def test_verify_response_takes_a_pinned_certificate_or_a_trust(in_process, aa_certificate, sandbox_pki, personas):
    """The protocol functions stand alone (the simulated authority's own tests use them)."""
    query = build_query(SUBJECT_PERSON, personas["nurse"].niss, {ATTR_THERAPEUTIC_LINK: [personas["patient"].niss]},
                        None, now=in_process.clock.now())
    answer = etree.tostring(in_process.adapters.authority.soap.call(copy.deepcopy(query), SOAP_ACTION))
    now = in_process.clock.now()
    assert verify_response(answer, query, aa_certificate, now=now)[ATTR_THERAPEUTIC_LINK] == [personas["patient"].niss]
    assert verify_response(answer, query, [aa_certificate], now=now)[ATTR_THERAPEUTIC_LINK] == [personas["patient"].niss]
    with pytest.raises(AttributeAuthorityError):
        verify_response(answer, query, sandbox_pki.platform("sts").certificate, now=now)


def test_the_gateway_asks_as_an_organisation_a_persons_certificate_alone_is_refused(in_process, make_side, sandbox_pki,
                                                                                    personas):
    """Certificate-only calls are an organisation's: a person needs an STS token (and may ask about themselves only)."""
    as_a_person = make_side(in_process, signed_by=sandbox_pki.persona("gp"))
    with pytest.raises(SourceUnavailable) as err:
        as_a_person.adapters.facts.memberships(personas["gp"].niss)
    assert err.value.code == errors.FAULT and "certificate-not-an-organisation" in err.value.message
    assert in_process.adapters.facts.memberships(personas["psi-admin"].niss)  # the hospital's certificate is accepted
