"""Each trusted STS's Issuers paired with its own certificates, and read in
its own attribute vocabulary (gateway/identity/sts_trust.py): the pieces the
SOAP tests of the crossroads bank's STS rely on (RP-S1)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from lxml import etree

from gateway.domain.principal import Role
from gateway.identity.certstore import CertificateStore
from gateway.identity.claims import ATTR_PERSON_SSIN, ClaimsMapping
from gateway.identity.errors import TokenRejected
from gateway.identity.saml import VerifiedAssertion
from gateway.identity.sts_trust import TrustedSts, claims_of
from gateway.identity.wssecurity import MessageTrust

MAPPING = ClaimsMapping.from_names({"niss": "urn:x:ssin", "role": "urn:x:function", "organisation_cbe": "urn:x:cbe"})


def assertion(issuer: str, attributes: dict[str, list[str]], cert) -> VerifiedAssertion:  # type: ignore[no-untyped-def]
    at = datetime(2026, 6, 15, tzinfo=timezone.utc)
    return VerifiedAssertion(etree.Element("assertion"), "_a", issuer, attributes, cert, at, at)


def test_rp_s1_an_sts_with_its_own_attribute_names_makes_a_principal_naming_its_issuer(platform) -> None:  # type: ignore[no-untyped-def]
    cert = platform.pki.persona("gp").certificate
    sts = TrustedSts("bcss", ("urn:x:sts",), (cert,), MAPPING)
    made = claims_of(assertion("urn:x:sts", {"urn:x:ssin": ["85073003328"], "urn:x:function": ["reg-counsellor"],
                                             "urn:x:cbe": ["0820563481"], ATTR_PERSON_SSIN: ["17073003384"]}, cert), sts).principal()
    assert (made.niss, made.role, made.organisation_cbe) == ("85073003328", Role.REG_COUNSELLOR, "0820563481")
    assert made.extra["iss"] == "urn:x:sts" and made.authentication == "sts-holder-of-key"
    eh = claims_of(assertion("urn:eh", {ATTR_PERSON_SSIN: ["17073003384"]}, cert), TrustedSts("ehealth", ("urn:eh",), (cert,)))
    assert eh.niss == "17073003384" and eh.role is Role.PATIENT and eh.extra["iss"] == "urn:eh"


@pytest.mark.parametrize("attributes", [{"urn:x:ssin": ["85073003328"]}, {"urn:x:ssin": ["85073003328"], "urn:x:function": ["chief"]}])
def test_an_assertion_without_a_known_role_in_the_sts_vocabulary_is_refused(platform, attributes) -> None:  # type: ignore[no-untyped-def]
    cert = platform.pki.persona("gp").certificate
    with pytest.raises(TokenRejected) as refused:
        claims_of(assertion("urn:x:sts", attributes, cert), TrustedSts("bcss", ("urn:x:sts",), (cert,), MAPPING))
    assert refused.value.code == "assertion-malformed" and "bcss" in refused.value.message


def test_each_issuer_finds_only_its_own_sts_and_the_flat_lists_are_one_sts(platform) -> None:  # type: ignore[no-untyped-def]
    store = CertificateStore.of(platform.pki.ca.certificate)
    one, other = platform.pki.platform("sts").certificate, platform.pki.platform("attribute-authority").certificate
    paired = MessageTrust(store, sts=(TrustedSts("ehealth", ("urn:eh",), (one,)), TrustedSts("bcss", ("urn:x",), (other,))))
    assert paired.sts_for("urn:eh").certificates == (one,) and paired.sts_for("urn:x").certificates == (other,)  # type: ignore[union-attr]
    assert paired.sts_for("urn:nobody") is None and set(paired.sts_issuers) == {"urn:eh", "urn:x"}
    flat = MessageTrust(store, (one, other), ("urn:eh",))
    assert [(s.issuers, s.certificates) for s in flat.sts] == [(("urn:eh",), (one, other))]
