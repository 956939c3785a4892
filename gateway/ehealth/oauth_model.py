"""Tables of the sandbox IdP: spent client-assertion ids and authorization
codes. In the database, not in memory, so that several gateway instances
behind a load balancer refuse the same replay and redeem a code once.

Times are epoch seconds (integers): compared the same way on SQLite and
PostgreSQL, with no time-zone conversion in between.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.ehealth.store import PlatformBase as Base


class OAuthUsedAssertion(Base):
    """A client assertion's ``jti``, kept until the assertion expires: a second
    use of the same (client, jti) is a replay (RFC 7523 §3, item 7)."""

    __tablename__ = "oauth_used_assertion"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class OAuthAuthorizationCode(Base):
    """One authorization code, stored as its SHA-256 (a database read does not
    yield a usable code). Spent by its first presentation, right or wrong."""

    __tablename__ = "oauth_authorization_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(200))
    nonce: Mapped[str | None] = mapped_column(String(200), nullable=True)
    subject: Mapped[str] = mapped_column(String(64))
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
