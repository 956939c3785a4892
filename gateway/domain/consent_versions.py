"""Research-consent decisions as versions of one Consent (DS-5, IC-A5..IC-A7).

A decision recorded on its own starts a Consent whose id is its public id.
Updating that Consent (a FHIR PUT with If-Match) records the next decision
as its next version: a new decision, or a withdrawal, stored as ``refuse``
from the day it is withdrawn (``withdrawn``: research stops from then; legal
obligations remain). Every decision stays, with who recorded it and when
(IC-R11): history and vread show each version, and the decision in force is
still the latest recorded for the patient, whichever Consent holds it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from gateway.domain.model import ConsentDecision
from gateway.domain.views import ConsentView


def thread_of(row: ConsentDecision) -> str:
    """The id of the Consent a decision is a version of."""
    return row.thread_id or row.public_id


def thread_rows(session: Session, consent_id: str) -> list[ConsentDecision]:
    """The versions of Consent ``consent_id``, oldest first (empty: no such Consent)."""
    return list(session.execute(
        select(ConsentDecision).where(or_(
            and_(ConsentDecision.public_id == consent_id, ConsentDecision.thread_id.is_(None)),
            ConsentDecision.thread_id == consent_id,
        )).order_by(ConsentDecision.id)
    ).scalars())


def versions_of(session: Session, rows: Iterable[ConsentDecision]) -> dict[int, tuple[str, int]]:
    """For each of ``rows``: its Consent's id and its version number there."""
    found: dict[int, tuple[str, int]] = {}
    for thread in {thread_of(r) for r in rows}:
        for number, row in enumerate(thread_rows(session, thread), 1):
            found[row.id] = (thread, number)
    return found


def as_version(view: ConsentView, row: ConsentDecision, versions: dict[int, tuple[str, int]]) -> ConsentView:
    """``view`` of ``row`` named as its Consent's version."""
    thread, number = versions.get(row.id, (thread_of(row), 1))
    return replace(view, resource_id=thread, version=number, withdrawn=bool(row.withdrawn))


__all__ = ["as_version", "thread_of", "thread_rows", "versions_of"]
