"""Whose SAML assertions are believed, STS by STS.

Each trusted STS is the Issuer names it writes *paired* with the
certificates it signs with: an assertion is verified only with the keys of
the STS its Issuer names, so one STS cannot speak for another (an assertion
carrying the eHealth STS's Issuer but signed with the crossroads bank STS's
key is refused, and the other way round). An STS with an attribute
vocabulary of its own (the social-security crossroads bank's) names which
attribute carries each fact of a Principal, as an OpenID Connect issuer
names its claims; the Principal then says which STS vouched for it in
``extra["iss"]``, as a bearer token's does (return to work's RP-S1 reads it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cryptography import x509

from gateway.identity.claims import Claims, ClaimsMapping, claims_from_mapped_attributes
from gateway.identity.errors import TokenRejected
from gateway.identity.saml import VerifiedAssertion


@dataclass(frozen=True)
class TrustedSts:
    """One STS: the Issuer(s) it writes, the only certificates that may sign
    them, and its attribute names (None: eHealth's, :mod:`gateway.identity.claims`)."""

    name: str
    issuers: tuple[str, ...]
    certificates: tuple[x509.Certificate, ...]
    attributes: ClaimsMapping | None = None


def claims_of(assertion: VerifiedAssertion, sts: TrustedSts | None) -> Claims:
    """What a verified assertion says about its holder, read in the
    vocabulary of the STS that issued it, stamped with its Issuer."""
    if sts is None or sts.attributes is None:
        claims = assertion.claims()
    else:
        try:
            claims = claims_from_mapped_attributes(assertion.attributes, sts.attributes)
        except ValueError as exc:
            raise TokenRejected("assertion-malformed", f"The assertion of STS {sts.name!r} cannot be read as claims: "
                                f"{exc}.") from None
    return dataclasses.replace(claims, extra={**claims.extra, "iss": assertion.issuer})
