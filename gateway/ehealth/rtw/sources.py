"""The simulated return-to-work sources, JSON over HTTP behind an eHealth
machine-to-machine access token (``client_credentials``, an organisation
acting as itself), as the platform's newer REST services are called:

- ``CIN/MemberData/v1/affiliation``: the insurer of a person (CIN membership data);
- ``DAtaAttributeService/v1/dimona/employments``: current employers (Dimona);
- ``DAtaAttributeService/v1/seed-connect/prevention-services``: an employer's prevention services (SEED-Connect);
- ``DAtaAttributeService/v1/jobseeker/registrations``: registrations as job seeker (JobSeeker);
- ``UMAN/v1/return-to-work/roles``: the return-to-work roles user management confirms for a user;
- ``pseudo/v1/domains/{domain}/evaluate``: the blinded pseudonymisation service;
- ``TRIO/v1/dossiers/exists``: whether TRIO holds a dossier for a pseudonym of its domain.

Every request body is a JSON object; a bad one gets HTTP 400 with
``{"error", "error_description"}``; a missing or refused token HTTP 401.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway import blinded_pseudonyms as blinding
from gateway.domain.identifiers import InvalidIdentifier, check_cbe, check_niss
from gateway.ehealth.oauth_keys import ACCESS_TOKEN_AUDIENCE, issuer_for, sandbox_jwks
from gateway.ehealth.rtw.sandbox import TRIO_DOMAIN
from gateway.ehealth.rtw.state import rtw_state
from gateway.identity.bearer import BearerMissing, read_bearer
from gateway.identity.errors import TokenRejected
from gateway.identity.jwt import JwtVerifier

if TYPE_CHECKING:
    from gateway.ehealth.platform import Platform

PATHS = {
    "cin-affiliation": "/CIN/MemberData/v1/affiliation",
    "dimona": "/DAtaAttributeService/v1/dimona/employments",
    "seed-connect": "/DAtaAttributeService/v1/seed-connect/prevention-services",
    "jobseeker": "/DAtaAttributeService/v1/jobseeker/registrations",
    "uman": "/UMAN/v1/return-to-work/roles",
    "pseudo": "/pseudo/v1/domains/{domain}/evaluate",
    "trio": "/TRIO/v1/dossiers/exists",
}


class _Refused(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "error_description": self.description}, status_code=self.status)


def _niss(body: dict[str, Any], name: str = "ssin") -> str:
    try:
        return check_niss(str(body.get(name) or "")).value
    except InvalidIdentifier as exc:
        raise _Refused(400, "invalid_request", f"{name}: {exc.message}") from None


def _cbe(body: dict[str, Any], name: str) -> str:
    try:
        return check_cbe(str(body.get(name) or "")).value
    except InvalidIdentifier as exc:
        raise _Refused(400, "invalid_request", f"{name}: {exc.message}") from None


def _day(platform: "Platform", body: dict[str, Any]) -> date:
    value = body.get("on")
    if value is None:
        return platform.clock.today()
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _Refused(400, "invalid_request", f"on must be a date (YYYY-MM-DD), not {value!r}.") from None


def router(platform: "Platform") -> APIRouter:
    """The sources' routes, to mount under ``/ehealth``."""
    api = APIRouter(tags=["ehealth: return-to-work sources (sandbox)"])
    state = rtw_state(platform)
    data = state.sandbox
    verifier = JwtVerifier(issuer_for(platform.settings.public_url), ACCESS_TOKEN_AUDIENCE,
                           lambda: sandbox_jwks(platform.pki), platform.clock)

    def serve(source: str, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                try:
                    payload = verifier.verify_payload(read_bearer(request.headers.get("authorization")))
                except (BearerMissing, TokenRejected) as refused:
                    raise _Refused(401, "invalid_token", getattr(refused, "message", str(refused))) from None
                if "ssin" in payload:
                    raise _Refused(403, "insufficient_scope", "These sources answer organisations acting as themselves "
                                   "(client_credentials), not users.")
                try:
                    body = await request.json()
                except ValueError:
                    raise _Refused(400, "invalid_request", "The body must be a JSON object.") from None
                if not isinstance(body, dict):
                    raise _Refused(400, "invalid_request", "The body must be a JSON object.")
                state.count(source)
                return JSONResponse(answer(body))
            except _Refused as refused:
                return refused.response()

        return endpoint

    def followed(niss: str) -> str:
        """The number the sources hold the person under: like the real ones, they
        follow the national register's NISS changes (IC-R5), so a person is
        found under their new number as under their former ones."""
        person = platform.register.person(niss)
        numbers = (person.niss, *person.previous_niss) if person is not None else ()
        return next((n for n in numbers if data.current(n) is not None), niss)

    def affiliation(body: dict[str, Any]) -> dict[str, Any]:
        found = data.insurer_of(followed(_niss(body)))
        return {"insurer": None if found is None else {"code": found.code, "name": found.name, "cbe": found.cbe}}

    def dimona(body: dict[str, Any]) -> dict[str, Any]:
        return {"employments": [{"employer_cbe": e.employer_cbe, "employer_name": e.employer_name,
                                 "start": e.start.isoformat(), "end": e.end.isoformat() if e.end else None}
                                for e in data.employments_of(followed(_niss(body)), _day(platform, body))]}

    def seed_connect(body: dict[str, Any]) -> dict[str, Any]:
        return {"prevention_services": [{"cbe": s.cbe, "name": s.name, "employer_cbe": s.employer_cbe}
                                        for s in data.prevention_services_of(_cbe(body, "employer_cbe"))]}

    def jobseeker(body: dict[str, Any]) -> dict[str, Any]:
        return {"registrations": [{"cbe": r.cbe, "name": r.name, "region": r.region,
                                   "registered_on": r.registered_on.isoformat()}
                                  for r in data.registrations_of(followed(_niss(body)), _day(platform, body))]}

    def uman(body: dict[str, Any]) -> dict[str, Any]:
        return {"roles": [{"organisation_cbe": r.organisation_cbe, "role": r.role} for r in data.staff_roles(_niss(body))]}

    def pseudo(body: dict[str, Any]) -> dict[str, Any]:
        try:
            blinded = blinding.decode(str(body.get("blinded") or ""))
        except ValueError:
            raise _Refused(400, "invalid_request", "blinded must be a group element (base64url, 256 bytes).") from None
        with state.lock:
            state.pseudo_received.append({"blinded": str(body["blinded"])})
        return {"domain": TRIO_DOMAIN, "evaluated": blinding.encode(blinding.evaluate(blinded, data.trio_key))}

    known = {blinding.encode(blinding.pseudonym(n, TRIO_DOMAIN, data.trio_key)) for n in data.trio_niss}

    def trio(body: dict[str, Any]) -> dict[str, Any]:
        value = str(body.get("pseudonym") or "")
        with state.lock:
            state.trio_received.append(dict((k, str(v)) for k, v in body.items()))
        try:
            blinding.decode(value)
        except ValueError:
            raise _Refused(400, "invalid_request", "pseudonym must be a pseudonym of TRIO's domain.") from None
        return {"exists": value in known}

    for source, answer in (("cin-affiliation", affiliation), ("dimona", dimona), ("seed-connect", seed_connect),
                           ("jobseeker", jobseeker), ("uman", uman), ("trio", trio)):
        api.add_api_route(PATHS[source], serve(source, answer), methods=["POST"], summary=f"return to work: {source}")
    api.add_api_route(PATHS["pseudo"].format(domain=TRIO_DOMAIN), serve("pseudo", pseudo), methods=["POST"],
                      summary="blinded pseudonymisation in TRIO's domain")
    return api
