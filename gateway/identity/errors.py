"""Refusals of a token or a signed message, with a stable ``code`` that
faces put in their SOAP Fault or OAuth error, so a connector can act on it
without parsing a sentence."""

from __future__ import annotations


class TokenRejected(ValueError):
    """A token (SAML assertion, JWT) or a WS-Security message was refused."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class MessageRejected(TokenRejected):
    """A WS-Security message refused for a reason of the message itself
    (timestamp, signature, wrapping, replay) rather than of its token."""
