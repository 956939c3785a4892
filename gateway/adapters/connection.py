"""All the adapters of one platform, built from what the composition root
knows: an ``httpx.Client`` (:mod:`gateway.adapters.transport`), the
endpoints, the gateway's signer (:mod:`gateway.adapters.wsse`), whom to
trust for signed answers (:mod:`gateway.adapters.trust`), the clock and the
cache lifetimes (:mod:`gateway.adapters.cache`).

``connect(...).facts``, ``.register`` and ``.directory`` are the domain's
three ports; the three share one cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import httpx
from cryptography import x509

from gateway.adapters.addressbook import AddressBookClient
from gateway.adapters.attribute_authority import SERVICE as AA_SERVICE
from gateway.adapters.attribute_authority import AttributeAuthorityClient
from gateway.adapters.cache import Lifetimes, TimedCache
from gateway.adapters.consultrn import ConsultRnRegister
from gateway.adapters.facts import PlatformCareFacts
from gateway.adapters.soap import SoapClient
from gateway.adapters.transport import Endpoints
from gateway.adapters.trust import CertificateTrust
from gateway.adapters.wsse import MessageSigner
from gateway.domain.clock import Clock


@dataclass(frozen=True)
class PlatformAdapters:
    """The domain's ports, answered by one platform."""

    facts: PlatformCareFacts
    register: ConsultRnRegister
    directory: AddressBookClient
    authority: AttributeAuthorityClient
    cache: TimedCache


def connect(
    http: httpx.Client,
    endpoints: Endpoints,
    *,
    signer: MessageSigner,
    authority_trust: "CertificateTrust | x509.Certificate | Sequence[x509.Certificate]",
    clock: Clock,
    lifetimes: Lifetimes | None = None,
    cache: TimedCache | None = None,
) -> PlatformAdapters:
    """The adapters of the platform at ``endpoints``, reached through ``http``."""
    cache = cache if cache is not None else TimedCache(clock, lifetimes)

    def soap(service: str, name: str) -> SoapClient:
        return SoapClient(http, endpoints.url(service), service=name, signer=signer)

    authority = AttributeAuthorityClient(soap("attribute-authority", AA_SERVICE), authority_trust, clock=clock, cache=cache)
    addressbook = AddressBookClient(soap("addressbook", "AddressBook"), clock=clock, cache=cache)
    register = ConsultRnRegister(soap("consultrn", "consultRN"), clock=clock, cache=cache)
    return PlatformAdapters(PlatformCareFacts(authority, addressbook), register, addressbook, authority, cache)
