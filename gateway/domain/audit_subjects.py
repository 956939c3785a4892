"""The tokens audit records name people by (IC-R8 keeps who was concerned;
DS-8 and IC-R6 let no one be identified once their data are gone).

A person gets a random token the first time a record concerns them; the
record holds the token; the token's row (:class:`AuditSubject`) holds the
pseudonym. Reading the trail maps tokens back to people; renumbering moves
the row (IC-R5); purging deletes it (IC-R6): the sealed records are never
edited, and the hash chain stays intact.

Records written before tokens existed name the pseudonym itself; readers
accept both, and docs/security.md says what that means for erasure.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gateway.domain.model import AuditSubject

TOKEN_PREFIX = "s-"  # a token is 34 characters, a pseudonym 36: they are never mistaken


def is_token(value: str | None) -> bool:
    return bool(value) and value.startswith(TOKEN_PREFIX) and len(value) == len(TOKEN_PREFIX) + 32  # type: ignore[union-attr]


def token_for(session: Session, pseudonym: str, now: datetime) -> str:
    """The person's token, made on first use. Two acts making one at once
    leave two tokens for one person: readers look up every token of a
    pseudonym, so nothing is lost and no act fails on it."""
    found = session.execute(select(AuditSubject.token).where(AuditSubject.pseudonym == pseudonym).limit(1)).scalar_one_or_none()
    if found is not None:
        return found
    token = TOKEN_PREFIX + uuid.uuid4().hex
    session.add(AuditSubject(token=token, pseudonym=pseudonym, created_at=now))
    session.flush()
    return token


def tokens_of(session: Session, pseudonyms: Iterable[str]) -> list[str]:
    wanted = list(pseudonyms)
    if not wanted:
        return []
    return list(session.execute(select(AuditSubject.token).where(AuditSubject.pseudonym.in_(wanted))).scalars())


def pseudonyms_of(session: Session, tokens: Iterable[str]) -> dict[str, str]:
    wanted = [t for t in tokens if is_token(t)]
    if not wanted:
        return {}
    rows = session.execute(select(AuditSubject.token, AuditSubject.pseudonym).where(AuditSubject.token.in_(wanted))).all()
    return {token: pseudonym for token, pseudonym in rows}


def renumber(session: Session, old: str, new: str) -> None:
    """IC-R5: the tokens of the former number are the person's under the new one."""
    session.execute(update(AuditSubject).where(AuditSubject.pseudonym == old).values(pseudonym=new))


def forget(session: Session, pseudonyms: Iterable[str]) -> int:
    """IC-R6, DS-8: cut the link from the records to these people; how many tokens were cut."""
    wanted = list(pseudonyms)
    if not wanted:
        return 0
    return session.execute(delete(AuditSubject).where(AuditSubject.pseudonym.in_(wanted))).rowcount or 0
