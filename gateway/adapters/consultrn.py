"""A client of the national register look-up (``consultRN/v1``):
:class:`~gateway.domain.ports.NationalRegister` over the wire.

- :meth:`ConsultRnRegister.person`: ``SearchBySSIN`` with a current or a
  former number; the answer gives the current number, the former ones,
  names, birth date, gender and death date (IC-R9, IC-F1).
- :meth:`ConsultRnRegister.mutations_after`: ``GetMutations``, the feed of
  deaths and NISS changes after a sequence number (IC-R4, IC-R5), at most
  500 a call (the service's page).

SOAP action ``urn:be:fgov:ehealth:consultrn:protocol:v1:{Operation}``;
each request carries an ``Id`` that the answer must name. The answers are
not signed (their integrity rests on the transport). A person is kept for
``Lifetimes.person`` (5 minutes by default) under the number asked; the
feed is never kept.
"""

from __future__ import annotations

from datetime import date
from typing import Sequence

from lxml import etree

from gateway.adapters import errors
from gateway.adapters.cache import TimedCache
from gateway.adapters.commons import child, found, request
from gateway.adapters.soap import SoapClient
from gateway.domain.clock import Clock
from gateway.domain.identifiers import InvalidIdentifier, check_niss
from gateway.domain.ports import MutationKind, PersonRecord, RegisterMutation

PROTOCOL_NS = "urn:be:fgov:ehealth:consultrn:protocol:v1"
CORE_NS = "urn:be:fgov:ehealth:consultrn:core:v1"
ACTION = "urn:be:fgov:ehealth:consultrn:protocol:v1:"
FEED_PAGE = 500


def _p(name: str) -> str:
    return f"{{{PROTOCOL_NS}}}{name}"


def _c(name: str) -> str:
    return f"{{{CORE_NS}}}{name}"


class ConsultRnRegister:
    """The national register through consultRN."""

    def __init__(self, soap: SoapClient, *, clock: Clock, cache: TimedCache | None = None) -> None:
        self.soap = soap
        self.clock = clock
        self.cache = cache if cache is not None else TimedCache(clock)

    def person(self, niss: str) -> PersonRecord | None:
        try:
            number = check_niss(niss).value
        except InvalidIdentifier:
            return None  # no one has a malformed number: nothing to ask
        return self.cache.get("person", number, lambda: self._person(number))

    def mutations_after(self, seq: int, limit: int = FEED_PAGE) -> Sequence[RegisterMutation]:
        payload = request(_p("GetMutationsRequest"), self.clock.now())
        child(payload, _c("After"), str(max(seq, 0)))
        child(payload, _c("MaxElements"), str(min(max(limit, 1), FEED_PAGE)))
        answer = self._call(payload, "GetMutations")
        return tuple(self._mutation(element) for element in answer.findall(_c("Mutation")))

    def _person(self, number: str) -> PersonRecord | None:
        payload = request(_p("SearchBySSINRequest"), self.clock.now())
        child(payload, _c("SSIN"), number)
        answer = self._call(payload, "SearchBySSIN")
        element = answer.find(_c("Person"))
        return self._person_of(element) if element is not None else None

    def _call(self, payload: etree._Element, operation: str) -> etree._Element:
        request_id = payload.get("Id", "")
        answer = self.soap.call(payload, ACTION + operation)
        found(self.soap, answer, _p(f"{operation}Response"), request_id, CORE_NS)
        return answer

    def _date(self, element: etree._Element, name: str) -> date | None:
        text = (element.findtext(_c(name)) or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.soap.error(errors.ANSWER_INVALID, f"answered an unreadable {name} {text!r}.") from None

    def _person_of(self, element: etree._Element) -> PersonRecord:
        gender = (element.findtext(_c("Gender")) or "").strip()
        return PersonRecord(
            niss=(element.findtext(_c("SSIN")) or "").strip(),
            last_name=(element.findtext(_c("LastName")) or "").strip(),
            first_name=(element.findtext(_c("FirstName")) or "").strip(),
            birth_date=self._date(element, "BirthDate"),
            sex=gender if gender in ("male", "female") else None,
            death_date=self._date(element, "DeathDate"),
            previous_niss=tuple((e.text or "").strip() for e in element.findall(_c("PreviousSSIN"))),
        )

    def _mutation(self, element: etree._Element) -> RegisterMutation:
        try:
            kind = MutationKind((element.findtext(_c("Kind")) or "").strip())
            seq = int(element.findtext(_c("Seq")) or "")
        except ValueError:
            raise self.soap.error(errors.ANSWER_INVALID, "answered a mutation with an unreadable kind or sequence "
                                  "number.") from None
        effective = self._date(element, "Effective")
        if effective is None:
            raise self.soap.error(errors.ANSWER_INVALID, f"answered mutation {seq} without its effective date.")
        return RegisterMutation(seq, kind, (element.findtext(_c("SSIN")) or "").strip(), effective,
                                (element.findtext(_c("NewSSIN")) or "").strip() or None)
