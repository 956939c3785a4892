"""The ASGI application: one FastAPI app that the faces mount their routes on."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

import gateway
from gateway.config import Settings
from gateway.wiring import Gateway, build_gateway


def create_app(gw: Gateway | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the app around a wired gateway (tests pass their own)."""
    gw = gw or build_gateway(settings or Settings.from_env())
    from gateway.blocking import configure

    configure(gw.settings.calls_at_once)  # how many calls at once on each event loop that serves from now on
    app = FastAPI(
        title="care-gateway",
        version=gateway.__version__,
        description=(
            "Interoperability gateway for Belgian integrated care: inclusions, consents, care teams and "
            "referrals through a FHIR R4 API and eHealth-secured SOAP services, beside a simulated eHealth platform."
        ),
    )
    app.state.gateway = gw
    if gw.platform is not None:  # embedded default: this process also serves the simulated platform
        from gateway.ehealth.platform import mount_platform

        mount_platform(app, gw.platform)  # /ehealth/..., and /sandbox/... when sandbox actions are on

    from gateway.fhir.api import router as fhir_router
    from gateway.fhir.resources import all_handlers

    from gateway.fhir.bulk import router as bulk_router  # $export (IC-R7): before the generic /{type}/{id} routes
    app.include_router(bulk_router(gw.bulk_exports, gw.tokens, gw.clock))
    handlers = all_handlers()
    app.include_router(fhir_router(gw.use_cases, handlers, gw.tokens))
    from gateway.soap.face import mount_soap; mount_soap(app, gw.use_cases, gw.messages)  # noqa: E702 - /soap/IntegratedCare/v1, ...
    from gateway.conformance.api import router as conformance_router; app.include_router(conformance_router(gw.settings, gw.trust, gw.clock))  # noqa: E702 - POST /conformance/validate, GET /conformance/validator
    from gateway.web.home import router as home_router; app.include_router(home_router(gw.settings, gw.trust))  # noqa: E702 - GET /: what is served where

    describe_api(app, handlers)

    @app.get("/health", tags=["operations"], summary="Liveness and database reachability")
    def health() -> Any:
        try:
            with gw.db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            database = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not hidden
            return JSONResponse(
                status_code=503,
                content={"status": "unavailable", "database": "unreachable", "detail": type(exc).__name__},
            )
        return {"status": "ok", "version": gateway.__version__, "database": database, "dialect": gw.db.dialect}

    return app


def describe_api(app: FastAPI, handlers: list[Any]) -> None:
    """The OpenAPI description with the FHIR face's concrete paths (gateway/fhir/openapi.py), built once."""
    from fastapi.openapi.utils import get_openapi

    from gateway.conformance.fhir.validator import FhirValidator
    from gateway.fhir.openapi import describe_fhir

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = describe_fhir(spec, handlers, FhirValidator.default().structures)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
