"""Sandbox actions over HTTP: what a vendor's test script does to the
simulated platform that the real one never lets anybody do.

``POST /sandbox/register/mutations`` with JSON ``{"kind": "death" | "niss-change",
"niss": "…", "new_niss": "…", "date": "YYYY-MM-DD"}`` announces a death or a
NISS change in the national register's mutation feed (the HTTP twin of
``care-gateway sandbox mutate``). ``date`` defaults to today; ``new_niss``
is for ``niss-change``. A refused mutation answers 400 with the register's
own sentence. Not authenticated: it changes sandbox data only, and the
gateway applies the feed to inclusions only when ``register sync`` runs.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway.ehealth.consultrn import mutation_json

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform


class MutationRequest(BaseModel):
    kind: str
    niss: str
    new_niss: str | None = None
    date: str | None = None


def router(platform: "Platform") -> APIRouter:
    api = APIRouter(prefix="/sandbox", tags=["sandbox"])

    @api.post("/register/mutations", status_code=201,
              summary="Announce a death or a NISS change in the sandbox national register")
    def inject(request: MutationRequest) -> Any:
        try:
            on = _day(request.date) if request.date else platform.clock.today()
            if request.kind == "death":
                mutation = platform.register.inject_death(request.niss, on)
            elif request.kind == "niss-change":
                if not request.new_niss:
                    raise ValueError("A niss-change needs new_niss, the person's new number.")
                mutation = platform.register.inject_niss_change(request.niss, request.new_niss, on)
            else:
                raise ValueError(f"kind must be 'death' or 'niss-change', not {request.kind!r}.")
        except ValueError as exc:
            return JSONResponse(status_code=400, content={"error": str(exc)})
        return mutation_json(mutation)

    return api


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"date must be YYYY-MM-DD, not {value!r}.") from None
