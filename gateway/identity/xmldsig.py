"""XML Signature settings shared by the SAML, WS-Security and STS code:
one algorithm policy (exclusive c14n, RSA-SHA256, SHA-256; no SHA-1),
certificate (de)serialisation, and the ID-uniqueness check every verifier
runs before trusting a ``Reference URI="#…"`` (signature wrapping)."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import SignatureConfiguration
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

from gateway.namespaces import DS_NS  # noqa: F401  (re-exported for the modules that sign and verify)

EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value
RSA_SHA256 = SignatureMethod.RSA_SHA256.value
SHA256 = DigestAlgorithm.SHA256.value

SIGNATURE_METHODS = frozenset({SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512})
DIGEST_ALGORITHMS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})

# Every attribute a reference could be resolved by, in any namespace
# (signxml matches by local name): a duplicate value among them is refused.
ID_LOCAL_NAMES = frozenset({"Id", "ID", "id", "AssertionID", "RequestID", "ResponseID"})


def verifier_config(location: str, *, at: datetime, references: int | bool = 1) -> SignatureConfiguration:
    """The configuration every verification uses: where the ds:Signature
    must be, how many references, our algorithms, certificate time = ``at``."""
    return SignatureConfiguration(
        location=location,
        expect_references=references,
        signature_methods=SIGNATURE_METHODS,
        digest_algorithms=DIGEST_ALGORITHMS,
        verification_time=at.astimezone(timezone.utc),
    )


def cert_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def cert_from_b64(text: str | None) -> x509.Certificate:
    """A certificate from base64 DER text; ``ValueError`` if it is not one."""
    try:
        der = base64.b64decode("".join((text or "").split()), validate=True)
        return x509.load_der_x509_certificate(der)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is "not a certificate"
        raise ValueError(f"not a base64 DER X.509 certificate: {exc}") from None


def same_cert(a: x509.Certificate, b: x509.Certificate) -> bool:
    return a.public_bytes(serialization.Encoding.DER) == b.public_bytes(serialization.Encoding.DER)


def id_values(root: etree._Element) -> Counter[str]:
    """How many times each ID-like attribute value occurs under ``root``."""
    counts: Counter[str] = Counter()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if etree.QName(name).localname in ID_LOCAL_NAMES:
                counts[value] += 1
    return counts


def duplicate_ids(root: etree._Element) -> list[str]:
    return sorted(value for value, n in id_values(root).items() if n > 1)


def exc_c14n(element: etree._Element, inclusive_prefixes: list[str] | None = None) -> bytes:
    """Exclusive canonical form of an element, as a reference digest sees it."""
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False,
                          inclusive_ns_prefixes=inclusive_prefixes)


def utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a timezone-aware instant is needed")
    return value.astimezone(timezone.utc)


def xml_datetime(value: datetime) -> str:
    """``2026-06-15T12:00:00.000Z``: UTC with milliseconds, as connectors write it."""
    return utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_xml_datetime(text: str | None) -> datetime:
    """An xs:dateTime that names its zone; ``ValueError`` otherwise."""
    if not text:
        raise ValueError("missing date-time")
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError(f"date-time without a zone: {text}")
    return value.astimezone(timezone.utc)
