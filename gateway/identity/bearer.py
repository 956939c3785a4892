"""The ``Authorization: Bearer`` scheme (RFC 6750) without a web framework:
reading the token from the header, and the ``WWW-Authenticate`` challenge
that says why a request was refused. A face turns :class:`BearerMissing`
into its HTTP 401."""

from __future__ import annotations

from gateway.identity.errors import TokenRejected

REALM = "care-gateway"


class BearerMissing(TokenRejected):
    """No usable bearer token; ``error`` is the RFC 6750 code to put in the
    challenge (none when no credentials were sent at all, §3.1)."""

    def __init__(self, code: str, message: str, error: str | None) -> None:
        super().__init__(code, message)
        self.error = error


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'").encode("ascii", "replace").decode("ascii")


def bearer_challenge(error: str | None = None, description: str | None = None, realm: str = REALM) -> str:
    """An RFC 6750 ``WWW-Authenticate`` value; no error code when no token was sent (§3.1)."""
    parts = [f'realm="{realm}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{_quoted(description)}"')
    return "Bearer " + ", ".join(parts)


def read_bearer(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header value, or :class:`BearerMissing`."""
    header = (authorization or "").strip()
    if not header:
        raise BearerMissing("token-missing", "An access token is required (Authorization: Bearer ...).", None)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise BearerMissing("token-scheme", "Send the access token as 'Authorization: Bearer <token>'.", "invalid_request")
    return token.strip()
