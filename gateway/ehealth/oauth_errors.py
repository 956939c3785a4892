"""OAuth2 errors as RFC 6749 §5.2 puts them on the wire: a JSON object with
``error`` and ``error_description``, never cached."""

from __future__ import annotations

from fastapi.responses import JSONResponse

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """A refusal of the token (or userinfo) endpoint.

    ``invalid_client`` answers 401 (RFC 6749 §5.2); the other codes 400.
    """

    def __init__(self, error: str, description: str, status: int | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status if status is not None else (401 if error == "invalid_client" else 400)

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "error_description": self.description},
                            status_code=self.status, headers=NO_STORE)
