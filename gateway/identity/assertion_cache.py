"""STS assertions verified once, then recognised by their signed bytes.

A SOAP client sends the same holder-of-key assertion in every message
until it expires; checking the STS's signature on it each time is half of
a message's XML-signature work. An assertion that passed every check of
:func:`~gateway.identity.saml.verify_assertion` is remembered by the
SHA-256 of its exclusive canonical form (the bytes its signature covers,
comments aside), never by its AssertionID or anything else the sender
chose, until its ``NotOnOrAfter``. Another assertion, or the same one
changed by one byte, is verified in full. Refusals are never remembered.
What each message proves for itself (its own signature with the holder's
key, its Timestamp, the holder's certificate chain, replay) is checked
for every message, as before. Bounded, least recently used first, per
process.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import timedelta
from typing import Sequence

from cryptography import x509
from lxml import etree

from gateway.domain.clock import Clock
from gateway.identity.saml import STS_ISSUER, VerifiedAssertion, verify_assertion
from gateway.identity.xmldsig import exc_c14n


class VerifiedAssertions:
    """:func:`verify_assertion` with its successes remembered until the assertion expires."""

    def __init__(self, *, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, VerifiedAssertion] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(
        self,
        element: etree._Element,
        *,
        trusted: Sequence[x509.Certificate],
        clock: Clock,
        skew: timedelta = timedelta(seconds=60),
        issuers: Sequence[str] = (STS_ISSUER,),
    ) -> VerifiedAssertion:
        key = hashlib.sha256(exc_c14n(element)).digest()
        now = clock.now()
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None:
                if kept.not_before <= now + skew and now < kept.not_on_or_after:
                    self._entries.move_to_end(key)
                    return kept
                del self._entries[key]
        verified = verify_assertion(element, trusted=trusted, clock=clock, skew=skew, issuers=issuers)
        if now < verified.not_on_or_after:
            with self._lock:
                self._entries[key] = verified
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return verified

    def __len__(self) -> int:
        return len(self._entries)
