"""CertificateStore: real path building through intermediates (configured or
carried by the message), validity at the given instant for every
certificate of the chain, revocation lists, and refusals that say what to do."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from gateway.ehealth.pki import SHIPPED
from gateway.identity.certstore import CertificateRejected, CertificateStore
from tests.identity.foreign import NOW, YEAR, ForeignPki, crl, issue


@pytest.fixture(scope="module")
def pki() -> ForeignPki:
    return ForeignPki.generate()


def refused(store: CertificateStore, cert: x509.Certificate, at: dt.datetime = NOW, **kw: object) -> CertificateRejected:
    with pytest.raises(CertificateRejected) as caught:
        store.verify(cert, at, **kw)  # type: ignore[arg-type]
    if "sandbox" not in cert.issuer.rfc4514_string():
        assert "sandbox" not in caught.value.message.lower()  # nothing blames "the sandbox" unless it is one
    return caught.value


def sandbox(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((SHIPPED / f"{name}.cert.pem").read_bytes())


def test_a_chain_through_a_configured_intermediate_is_built_up_to_the_root(pki):
    store = CertificateStore((pki.root.certificate,), (pki.intermediate.certificate,))
    chain = store.verify(pki.caller.certificate, NOW)
    assert chain == (pki.caller.certificate, pki.intermediate.certificate, pki.root.certificate)


def test_an_intermediate_the_message_carries_is_a_candidate_never_an_anchor(pki):
    store = CertificateStore.of(pki.root.certificate)
    assert refused(store, pki.caller.certificate).code == "certificate-untrusted"  # the root alone: no path
    assert store.verify(pki.caller.certificate, NOW, untrusted=[pki.intermediate.certificate])[-1] == pki.root.certificate
    # another hierarchy's certificate, its own intermediate in the message: the message brings no anchor
    other = ForeignPki.generate()
    assert refused(store, other.caller.certificate, untrusted=[other.intermediate.certificate]).code == "certificate-untrusted"


def test_the_shipped_sandbox_certificates_chain_to_the_sandbox_ca():
    """Sandbox certificates carry no subjectAltName nor authorityKeyIdentifier
    (eHealth certificates name the holder in the subject): the profile allows it."""
    store = CertificateStore.of(sandbox("ca"))
    assert store.verify(sandbox("persona-gp"), NOW)[-1] == sandbox("ca")
    assert refused(store, sandbox("untrusted-sts")).code == "certificate-untrusted"


def test_a_foreign_store_refuses_sandbox_certificates(pki):
    store = CertificateStore((pki.root.certificate,), (pki.intermediate.certificate,))
    refusal = refused(store, sandbox("persona-gp"))
    assert refusal.code == "certificate-untrusted"
    assert "does not chain to a trusted root CA" in refusal.message and "SSIN=75123152609" in refusal.message


def test_an_expired_intermediate_is_named(pki):
    expired = issue("Foreign Issuing CA", pki.root, ca=True, not_before=NOW - 3 * YEAR, not_after=NOW - YEAR,
                    key=pki.intermediate.key)  # the same CA, its certificate lapsed
    store = CertificateStore((pki.root.certificate,), (expired.certificate,))
    refusal = refused(store, pki.caller.certificate)
    assert refusal.code == "certificate-expired"
    assert "Foreign Issuing CA" in refusal.message and "expired on" in refusal.message
    assert "current certificate among the trusted intermediates" in refusal.message
    # configuring its renewed certificate beside the lapsed one is enough
    renewed = CertificateStore((pki.root.certificate,), (expired.certificate, pki.intermediate.certificate))
    assert renewed.verify(pki.caller.certificate, NOW)[1] == pki.intermediate.certificate


def test_the_certificate_itself_expired_or_not_yet_valid(pki):
    store = CertificateStore((pki.root.certificate,), (pki.intermediate.certificate,))
    assert refused(store, pki.caller.certificate, NOW + 2 * YEAR).code == "certificate-expired"
    assert refused(store, pki.caller.certificate, NOW - 2 * YEAR).code == "certificate-not-yet-valid"


def test_a_revoked_leaf_is_refused_by_the_issuers_crl(pki):
    revocations = crl(pki.intermediate, [pki.caller.certificate])
    store = CertificateStore((pki.root.certificate,), (pki.intermediate.certificate,), (revocations,))
    refusal = refused(store, pki.caller.certificate)
    assert refusal.code == "certificate-revoked" and "revoked on" in refusal.message
    assert store.verify(pki.other_caller.certificate, NOW)  # not on the list
    # revoked in the future of the check: still good at that time
    later = crl(pki.intermediate, [pki.caller.certificate], revoked_on=NOW + dt.timedelta(hours=1))
    assert CertificateStore((pki.root.certificate,), (pki.intermediate.certificate,), (later,)).verify(pki.caller.certificate, NOW)


def test_a_stale_crl_leaves_revocation_unknown(pki):
    stale = crl(pki.intermediate, [], this_update=NOW - dt.timedelta(days=10), next_update=NOW - dt.timedelta(days=3))
    store = CertificateStore((pki.root.certificate,), (pki.intermediate.certificate,), (stale,))
    refusal = refused(store, pki.other_caller.certificate)
    assert refusal.code == "certificate-revocation-unknown" and "current CRL" in refusal.message


def test_a_crl_no_ca_of_the_store_signed_is_refused_at_construction(pki):
    other = ForeignPki.generate()
    with pytest.raises(ValueError, match="not signed by any CA of the store"):
        CertificateStore((pki.root.certificate,), (pki.intermediate.certificate,), (crl(other.intermediate),))


def test_a_certificate_only_for_servers_is_not_a_client_certificate(pki):
    server_only = issue("tls.foreign.example", pki.intermediate, ca=False, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    store = CertificateStore((pki.root.certificate,), (pki.intermediate.certificate,))
    refusal = refused(store, server_only.certificate)
    assert refusal.code == "certificate-untrusted" and "certificate profile" in refusal.message


def test_a_store_needs_a_root():
    with pytest.raises(ValueError, match="root"):
        CertificateStore(())
