"""The access policy through the attribute authority: a DomainContext built
on AttributeAuthorityFacts decides IC-A1, IC-A2 and IC-A3 exactly as on the
sandbox facts, every fact asked as a signed SAML 2.0 exchange; an answer
that was tampered with, signed by another key, or meant for another query
is refused (fail closed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from gateway.domain.context import DomainContext
from gateway.domain.errors import AccessDenied
from gateway.domain.inclusions import InclusionService
from gateway.domain.policy import AccessPolicy
from gateway.ehealth.aa_facts import (
    AttributeAuthorityError,
    AttributeAuthorityFacts,
    http_transport,
    in_process_transport,
)
from gateway.ehealth.aa_vocabulary import ATTR_THERAPEUTIC_LINK, SAML_NS, SUBJECT_PERSON
from gateway.ehealth.attribute_authority import answer_query, authority_facts, sign_response
from gateway.identity.signing import sign_with_saml
from gateway.identity.xml import parse_untrusted
from tests.conftest import declaration


class Spy:
    """A transport that counts the exchanges and may change the answer."""

    def __init__(self, inner, change=None) -> None:
        self.inner, self.change, self.calls = inner, change, 0

    def __call__(self, query: bytes) -> bytes:
        self.calls += 1
        answer = self.inner(query)
        return self.change(answer) if self.change else answer


def aa_context(gw, transport) -> DomainContext:
    facts = AttributeAuthorityFacts(transport, gw.pki.platform("attribute-authority").certificate,
                                    directory=gw.registries, clock=gw.clock)
    return DomainContext(db=gw.db, clock=gw.clock, pseudonyms=gw.ctx.pseudonyms, facts=facts, register=gw.register,
                         settings=gw.settings)


@pytest.fixture
def spy(gw) -> Spy:
    return Spy(in_process_transport(gw))


@pytest.fixture
def via_aa(gw, spy) -> InclusionService:
    return InclusionService(aa_context(gw, spy))


@pytest.fixture
def two_psis(gw, personas):
    """The patient: principal in PSI B, information in PSI A (declared on the plain gateway)."""
    gp = personas["gp"].principal()
    b = gw.inclusions.declare(gp, declaration(personas["patient"], personas["psi-admin-other"].organisation_nihii))
    a = gw.inclusions.declare(gp, declaration(personas["patient"], personas["psi-admin"].organisation_nihii,
                                              status="information"))
    return a, b


def test_IC_A1_provider_with_a_link_sees_everything_through_the_authority(via_aa, spy, personas, two_psis):
    seen = via_aa.consult(personas["gp"].principal(), personas["patient"].niss)
    assert {i.id for i in seen.inclusions} == {two_psis[0].id, two_psis[1].id}
    assert spy.calls >= 1  # the link was asked, not looked up


def test_IC_A1_provider_without_a_link_is_denied_through_the_authority(via_aa, spy, personas, two_psis):
    with pytest.raises(AccessDenied) as err:
        via_aa.consult(personas["gp-no-link"].principal(), personas["patient"].niss)
    assert (err.value.rule, err.value.code) == ("IC-A1", "no-therapeutic-link")
    assert spy.calls == 1


def test_IC_A2_the_pharmacys_link_counts_through_the_authority(via_aa, personas, two_psis):
    assert len(via_aa.consult(personas["pharmacist"].principal(), personas["patient"].niss).inclusions) == 2
    with pytest.raises(AccessDenied) as err:
        via_aa.consult(personas["pharmacist-no-link"].principal(), personas["patient"].niss)
    assert err.value.rule == "IC-A2"


@pytest.mark.parametrize("key", ["psi-admin", "psi-coordinator"])
def test_IC_A3_psi_staff_see_own_psi_through_the_authority(via_aa, personas, two_psis, key):
    seen = via_aa.consult(personas[key].principal(), personas["patient"].niss)
    assert [i.id for i in seen.inclusions] == [two_psis[0].id]
    assert seen.principal_elsewhere is True


def test_IC_A1_IC_A2_IC_A3_decisions_are_identical_through_the_authority(gw, personas):
    """Every persona against every patient persona: the same decision, the same rule, the same code."""
    direct = AccessPolicy(gw.ctx.facts, gw.clock)
    through = AccessPolicy(aa_context(gw, in_process_transport(gw)).facts, gw.clock)
    patients = [p for p in personas.values() if p.role.value == "patient"]
    for who in personas.values():
        for patient in patients:
            a = direct.consult(who.principal(), patient.niss)
            b = through.consult(who.principal(), patient.niss)
            assert (a.allowed, a.rule, a.code, a.own_psi) == (b.allowed, b.rule, b.code, b.own_psi), (who.key, patient.key)
        assert direct.standing(who.principal()) == through.standing(who.principal()), who.key


def test_IC_A1_a_link_revoked_at_the_authority_is_seen_through_it(gw, personas):
    """The authority answers from TherLink's store: a revocation there is the answer at the next question."""
    from gateway.ehealth.sandbox.links import StoredLinks

    facts = aa_context(gw, in_process_transport(gw)).facts
    gp, patient = personas["gp"].niss, personas["patient"].niss
    assert facts.has_therapeutic_link(gp, patient, gw.clock.today())
    links = StoredLinks(gw.registries, gw.db, gw.ctx.pseudonyms, gw.register)
    with gw.db.transaction() as session:
        (link,) = [l for l in links.links_of(patient, session) if l.party_key == gp]
        links.revoke(session, link, on=gw.clock.today(), by_niss=gp, by_role="provider", now=gw.clock.now())
    assert not facts.has_therapeutic_link(gp, patient, gw.clock.today())
    assert facts.has_therapeutic_link(gp, patient, gw.clock.today() - timedelta(days=1))  # history stays


# ------------------------------------------------------------------ refusals


def _tamper_link(answer: bytes) -> bytes:
    """Claim a link the authority did not state: add a value to the signed attribute."""
    root = etree.fromstring(answer)
    attribute = root.find(f".//{{{SAML_NS}}}Attribute[@Name='{ATTR_THERAPEUTIC_LINK}']")
    etree.SubElement(attribute, f"{{{SAML_NS}}}AttributeValue").text = "61033029906"
    return etree.tostring(root)


def test_a_tampered_response_is_refused(gw, personas):
    facts = aa_context(gw, Spy(in_process_transport(gw), _tamper_link)).facts
    with pytest.raises(AttributeAuthorityError) as err:
        facts.has_therapeutic_link(personas["gp-no-link"].niss, personas["patient"].niss, gw.clock.today())
    assert err.value.code == "aa-signature-invalid"
    service = InclusionService(aa_context(gw, Spy(in_process_transport(gw), _tamper_link)))
    with pytest.raises(AttributeAuthorityError):  # the policy fails closed: no decision on an untrusted answer
        service.consult(personas["gp-no-link"].principal(), personas["patient"].niss)


def test_a_response_signed_by_another_key_is_refused(gw, personas):
    def resign(answer: bytes) -> bytes:
        root = parse_untrusted(_tamper_link(answer))
        root.remove(root.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
        issuer = root.find(f"{{{SAML_NS}}}Issuer")
        issuer.addnext(etree.Element("{http://www.w3.org/2000/09/xmldsig#}Signature", Id="placeholder"))

        class OtherPki:
            def platform(self, name):
                return gw.pki.platform("untrusted-sts")

        class Forger:
            pki = OtherPki()

        return etree.tostring(sign_response(Forger(), root))  # type: ignore[arg-type]

    facts = aa_context(gw, Spy(in_process_transport(gw), resign)).facts
    with pytest.raises(AttributeAuthorityError) as err:
        facts.has_therapeutic_link(personas["gp-no-link"].niss, personas["patient"].niss, gw.clock.today())
    assert err.value.code == "aa-signature-invalid"


def test_an_answer_to_another_query_is_refused(gw, personas):
    """A genuine, signed answer replayed for a new question (InResponseTo, subject) is not believed."""
    recorded: list[bytes] = []

    def replay(answer: bytes) -> bytes:
        recorded.append(answer)
        return recorded[0]

    facts = aa_context(gw, Spy(in_process_transport(gw), replay)).facts
    assert facts.has_therapeutic_link(personas["gp"].niss, personas["patient"].niss, gw.clock.today())
    with pytest.raises(AttributeAuthorityError) as err:
        facts.has_therapeutic_link(personas["gp-no-link"].niss, personas["patient"].niss, gw.clock.today())
    assert err.value.code == "aa-response-invalid"


def test_a_stale_answer_is_refused(gw, personas):
    def later(answer: bytes) -> bytes:
        gw.clock.advance(timedelta(minutes=10))
        return answer

    facts = aa_context(gw, Spy(in_process_transport(gw), later)).facts
    with pytest.raises(AttributeAuthorityError) as err:
        facts.memberships(personas["psi-admin"].niss)
    assert err.value.code == "aa-response-invalid"


def test_a_refusal_of_the_authority_is_an_error_not_a_no(gw):
    facts = aa_context(gw, in_process_transport(gw)).facts
    with pytest.raises(AttributeAuthorityError) as err:
        facts.ask(SUBJECT_PERSON, "12345678901", {ATTR_THERAPEUTIC_LINK: ["61033029906"]})
    assert err.value.code == "aa-refused" and "UnknownPrincipal" in err.value.message


def test_answer_query_in_process_is_signed_and_answers_from_the_registries(gw, personas):
    from gateway.ehealth.aa_facts import build_query, verify_response

    query = build_query(SUBJECT_PERSON, personas["nurse"].niss, {ATTR_THERAPEUTIC_LINK: [personas["patient"].niss]},
                        None, now=gw.clock.now())
    response = answer_query(gw, query, authority_facts(gw))
    answered = verify_response(etree.tostring(response), query, gw.pki.platform("attribute-authority").certificate,
                               now=gw.clock.now())
    assert answered[ATTR_THERAPEUTIC_LINK] == [personas["patient"].niss]


# ------------------------------------------------------------------ over HTTP


def test_IC_A1_through_a_remote_authority_over_http(live, personas, callers):
    """The gp's own facts asked of the live authority over HTTP, WS-Security signed with the gp's STS token."""
    credential = live.gw.pki.persona("gp")
    token = callers.token("gp")

    def secure(envelope: bytes) -> bytes:
        return etree.tostring(sign_with_saml(parse_untrusted(envelope), token, credential.private_key,
                                             credential.certificate, clock=live.clock))

    transport = Spy(http_transport(f"{live.base_url}/ehealth/IAM/AttributeAuthority/v1", secure=secure))
    service = InclusionService(aa_context(live.gw, transport))
    assert service.consult(personas["gp"].principal(), personas["patient"].niss).patient is not None
    assert transport.calls >= 1
    facts = aa_context(live.gw, transport).facts
    assert not facts.has_therapeutic_link(personas["gp"].niss, personas["psi-admin"].niss, live.clock.today())
    unsigned = aa_context(live.gw, http_transport(f"{live.base_url}/ehealth/IAM/AttributeAuthority/v1")).facts
    with pytest.raises(AttributeAuthorityError) as err:
        unsigned.has_therapeutic_link(personas["gp"].niss, personas["patient"].niss, live.clock.today())
    assert err.value.code == "aa-fault"


def test_IC_A1_gateway_configured_to_ask_the_attribute_authority(database, clock, personas):
    """With CARE_GATEWAY_ATTRIBUTE_AUTHORITY=in-process every decision goes
    through the signed SAML exchange, and the rules hold the same."""
    from gateway.config import Settings
    from gateway.domain.errors import AccessDenied
    from gateway.ehealth.aa_facts import AttributeAuthorityFacts
    from gateway.services import build_gateway
    from tests.conftest import declaration

    gw = build_gateway(Settings(database_url=database.url, attribute_authority="in-process"), clock=clock, db=database)
    assert isinstance(gw.ctx.facts, AttributeAuthorityFacts) and gw.ctx.policy.facts is gw.ctx.facts
    gw.inclusions.declare(personas["gp"].principal(), declaration(personas["patient"], personas["psi-admin"].organisation_nihii))
    assert gw.inclusions.consult(personas["gp"].principal(), personas["patient"].niss).inclusions
    with pytest.raises(AccessDenied) as err:
        gw.inclusions.consult(personas["gp-no-link"].principal(), personas["patient"].niss)
    assert err.value.rule == "IC-A1"
