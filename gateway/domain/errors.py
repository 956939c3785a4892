"""Errors the domain raises; each face turns them into an OperationOutcome or
a SOAP Fault without deciding anything itself.

Every error carries a stable ``code``, the ``rule`` id it enforces where one
applies (``IC-R1``), the element ``path`` at fault, and a ``message`` that
says what to do.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of the errors a use case raises on purpose."""

    category: ClassVar[str] = "invalid"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        rule: str | None = None,
        path: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule
        self.path = path
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "code": self.code,
            "rule": self.rule,
            "path": self.path,
            "message": self.message,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, rule={self.rule!r}, path={self.path!r})"


class InvalidInput(DomainError):
    """The request breaks a business rule or names something malformed."""

    category = "invalid"


class NotFound(DomainError):
    """What the request names does not exist (or is not visible to the caller)."""

    category = "not-found"


class Concealed(NotFound):
    """A refusal about something the caller may not know exists (IC-A3: another
    project's inclusion, consent or care team). The caller reads exactly the
    answer an unknown id gets (``shown``); the audit trail records the refusal
    it really was (``actual``), so auditors still see the attempt."""

    def __init__(self, shown: NotFound, actual: DomainError) -> None:
        super().__init__(shown.code, shown.message, rule=shown.rule, path=shown.path, details=shown.details)
        self.actual = actual


class AccessDenied(DomainError):
    """The access policy refused the act (IC-A9: deny by default)."""

    category = "forbidden"


class Conflict(DomainError):
    """The act would contradict what is stored (for example two principal inclusions)."""

    category = "conflict"


class VersionConflict(Conflict):
    """Optimistic concurrency: the caller changed an outdated version."""

    category = "version-conflict"
