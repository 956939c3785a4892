"""STS assertions verified once per process and recognised by their signed
bytes until they expire; each message's own signature, Timestamp and
replay are still checked every time (WS-Security, IC-A9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from gateway.identity import assertion_cache
from gateway.identity.assertion_cache import VerifiedAssertions
from gateway.identity.errors import TokenRejected
from gateway.identity.saml import STS_ISSUER, verify_assertion
from gateway.identity.xml import parse_untrusted


@pytest.fixture
def counted(monkeypatch):
    calls: list[str] = []

    def counting(element, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(element.get("AssertionID"))
        return verify_assertion(element, **kwargs)

    monkeypatch.setattr(assertion_cache, "verify_assertion", counting)
    return calls


def check(cache, token: bytes, gw, sts_cred):  # type: ignore[no-untyped-def]
    return cache(parse_untrusted(token), trusted=(sts_cred.certificate,), clock=gw.clock, issuers=(STS_ISSUER,))


def test_an_assertion_is_verified_once_until_it_expires(gw, issue, sts_cred, counted):
    cache, token = VerifiedAssertions(), issue("gp", lifetime=timedelta(minutes=30))
    first = check(cache, token, gw, sts_cred)
    assert check(cache, token, gw, sts_cred) is first
    assert len(counted) == 1 and len(cache) == 1
    gw.clock.advance(timedelta(minutes=31))
    with pytest.raises(TokenRejected) as refused:
        check(cache, token, gw, sts_cred)
    assert refused.value.code == "assertion-expired" and len(counted) == 2 and len(cache) == 0


def test_a_changed_assertion_is_verified_in_full_and_refused(gw, issue, sts_cred, counted):
    cache, token = VerifiedAssertions(), issue("gp")
    check(cache, token, gw, sts_cred)
    changed = parse_untrusted(token)
    value = next(e for e in changed.iter() if e.text and e.text.strip().isdigit() and len(e.text.strip()) == 11)
    value.text = "85073003328"  # another person's NISS in an attribute
    with pytest.raises(TokenRejected) as refused:
        cache(changed, trusted=(sts_cred.certificate,), clock=gw.clock, issuers=(STS_ISSUER,))
    assert refused.value.code == "assertion-bad-signature" and len(counted) == 2
    with pytest.raises(TokenRejected):  # refusals are not kept
        cache(changed, trusted=(sts_cred.certificate,), clock=gw.clock, issuers=(STS_ISSUER,))
    assert len(counted) == 3


def test_every_message_is_still_checked_for_itself(gw, issue, signed_saml, verify, sandbox_trust, counted):
    """Same assertion, same cache: a replayed message and a message signed
    with another key than the holder's are refused as without a cache."""
    cache, token = VerifiedAssertions(), issue("gp")
    message = signed_saml("gp", token=token)
    assert verify(message, assertions=cache).principal.niss
    with pytest.raises(TokenRejected) as replayed:
        verify(message, assertions=cache)
    assert replayed.value.code == "message-replayed"
    with pytest.raises(TokenRejected) as wrong_key:
        verify(signed_saml("gp", token=token, signer="nurse"), assertions=cache)
    assert wrong_key.value.code == "message-signature-invalid"
    assert len(counted) == 1


def test_the_soap_face_verifier_keeps_its_assertions(gw):
    assert isinstance(gw.messages.assertions, VerifiedAssertions)
