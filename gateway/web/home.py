"""The gateway's home page, ``GET /``: what is served where, for a person
who has just started the gateway (HTML), or for a script
(``Accept: application/json``, the same facts).

Nothing here is written by hand twice: the facts are read, at each request,
from what the running app was built from:

- the app's routes (every route is listed, so a route added appears);
- the FHIR face's own CapabilityStatement (``/fhir/metadata``, asked
  in-process), which is generated from the resource handlers it mounts;
- the SOAP services mounted (each service's ``GET`` route, which answers
  ``?wsdl``), the gateway's under ``/soap`` and, when this process hosts the
  simulated platform, the platform's under ``/ehealth``;
- the settings and the trust in force (``Settings.platform``,
  :class:`gateway.trust.TrustSettings`): which platform is trusted, which
  identity providers' discovery documents, which STS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

import gateway
from gateway.web import html
from gateway.web.html import code, definitions, esc, link, table

if TYPE_CHECKING:
    from gateway.config import Settings

FHIR = "/fhir"  # gateway.fhir.api.PREFIX
SOAP = "/soap"  # gateway.soap.face.PREFIX
PLATFORM = "/ehealth"  # gateway.ehealth.platform.PREFIX: the simulated services, when hosted here
CONSOLE = "/sandbox/console/"  # gateway.ehealth.console: the sandbox console, when hosted here
CONFORMANCE = "/conformance"  # gateway.conformance.api.PREFIX
STYLESHEET = "/web/site.css"
WSDL_ROUTE = "get_wsdl"  # the name of a SOAP service's GET route (gateway/soap11/service.py), which answers ?wsdl
DISCOVERY = "/.well-known/openid-configuration"  # where OpenID Connect Discovery puts an issuer's document

# The documentation, in the project's source tree (tests/web check that each exists).
DOCS = (
    ("README.md", "Start here: the two commands, the command line, what is there"),
    ("docs/fhir.md", "The FHIR R4 API: resources, search, errors"),
    ("docs/soap.md", "The SOAP services and their WS-Security"),
    ("docs/oauth.md", "OAuth2 / OpenID Connect: getting an access token"),
    ("docs/sts.md", "The STS: SAML holder-of-key tokens"),
    ("docs/ehealth-sandbox.md", "The simulated eHealth platform, its personas and its console"),
    ("docs/conformance.md", "Validating messages and running test suites"),
    ("docs/going-live.md", "From the sandbox to acceptance to production: every setting"),
    ("docs/mappings.md", "Field-by-field mapping FHIR, domain, SOAP"),
    ("docs/architecture.md", "How the gateway is built"),
)


@dataclass(frozen=True)
class RouteFact:
    path: str
    methods: tuple[str, ...]
    summary: str
    name: str


def app_routes(app: Any) -> Iterator[RouteFact]:
    """Every HTTP route of ``app``, included routers flattened."""
    from fastapi import routing

    flatten = getattr(routing, "iter_route_contexts", None)  # FastAPI >= 0.16x includes routers lazily
    for route in (flatten(app.routes) if flatten else app.routes):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if not path or not methods:
            continue  # a websocket or a mount
        endpoint = getattr(route, "endpoint", None)
        summary = getattr(route, "summary", None) or _first_line(getattr(endpoint, "__doc__", None))
        yield RouteFact(path, tuple(m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in methods),
                        summary, getattr(endpoint, "__name__", ""))


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0] if doc and doc.strip() else ""


async def _capability(app: Any) -> dict[str, Any] | None:
    """The FHIR face's CapabilityStatement, asked of the app itself (None if it cannot answer)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://home.in-process") as client:
        response = await client.get(FHIR + "/metadata", headers={"Accept": "application/fhir+json"})
    try:
        return response.json() if response.status_code == 200 else None
    except ValueError:
        return None


def _soap_services(routes: list[RouteFact], base: str, prefix: str) -> list[dict[str, str]]:
    return [{"name": r.path.removeprefix(prefix).strip("/").replace("/", " "), "endpoint": base + r.path,
             "wsdl": base + r.path + "?wsdl"}
            for r in routes if r.name == WSDL_ROUTE and r.path.startswith(prefix + "/")]


def _certificates(paths: Any) -> list[dict[str, str]]:
    from gateway.identity.certstore import load_certificates

    found = []
    for path in paths or ():
        try:
            certificates = load_certificates(Path(path).read_bytes())
        except (OSError, ValueError) as error:
            found.append({"file": str(path), "error": f"cannot be read: {error}"})
            continue
        found += [{"file": str(path), "subject": c.subject.rfc4514_string(),
                   "valid_until": c.not_valid_after_utc.isoformat()} for c in certificates]
    return found


def _identity(trust: Any, settings: "Settings", routes: list[RouteFact], base: str) -> dict[str, Any]:
    embedded = settings.embedded_platform
    providers = []
    for issuer in getattr(trust, "oidc", ()):
        discovery = issuer.discovery_url or (issuer.issuer.rstrip("/") + DISCOVERY if issuer.issuer else None)
        providers.append({
            "name": issuer.name, "issuer": issuer.issuer, "discovery": discovery,
            # embedded, the gateway fetches the keys in-process: that address is no one else's to use
            "jwks": None if embedded else issuer.jwks_url, "audiences": list(issuer.audiences),
        })
    sts_path = PLATFORM + "/IAM/SecurityTokenService/v1"
    if embedded:
        sts = base + sts_path if any(r.path == sts_path for r in routes) else None
    else:
        from gateway.adapters.transport import Endpoints

        sts = Endpoints(settings.platform).url("sts")
    sts_settings = getattr(trust, "sts", None)
    store = getattr(trust, "ca", None)
    return {
        "oidc": providers,
        "sts": {"endpoint": sts, "issuers": list(getattr(sts_settings, "issuers", ())),
                "certificates": _certificates(getattr(sts_settings, "certificates", ()))},
        "ca": _certificates(getattr(store, "roots", ())),
    }


def _platform(settings: "Settings", routes: list[RouteFact], base: str) -> dict[str, Any]:
    if settings.embedded_platform:
        console = base + CONSOLE if any(r.path == CONSOLE for r in routes) else None
        return {
            "mode": "embedded", "base_url": base + PLATFORM, "console": console,
            "summary": "This gateway hosts the simulated eHealth platform in the same process (the embedded default) "
                       "and reaches it through its adapters and its trust settings, as it would reach the real one. "
                       "Sandbox data only.",
            "services": [{"name": s["name"], "endpoint": s["endpoint"], "contract": s["wsdl"]}
                         for s in _soap_services(routes, base, PLATFORM)]
                        + [{"name": "OpenID Connect " + r.path.removeprefix(PLATFORM).removesuffix(DISCOVERY).strip("/"),
                            "endpoint": base + r.path.removesuffix(DISCOVERY), "contract": base + r.path}
                           for r in routes if r.path.startswith(PLATFORM + "/") and r.path.endswith(DISCOVERY)],
        }
    from gateway.adapters.transport import SERVICE_PATHS, Endpoints

    endpoints = Endpoints(settings.platform)
    return {
        "mode": "configured", "base_url": settings.platform, "console": None,
        "summary": f"This gateway trusts the eHealth platform at {settings.platform}, with the certificates and identity "
                   "providers of its trust settings; it hosts no simulated platform.",
        "services": [{"name": name, "endpoint": endpoints.url(name), "contract": None} for name in SERVICE_PATHS],
    }


async def served(request: Request, settings: "Settings", trust: Any) -> dict[str, Any]:
    """The facts of the home page, from the running app."""
    app = request.app
    base = str(request.base_url).rstrip("/")
    routes = list(app_routes(app))
    paths = {r.path for r in routes}
    fhir = None
    if FHIR + "/metadata" in paths:
        statement = await _capability(app) or {}
        rest = (statement.get("rest") or [{}])[0]
        fhir = {
            "base": base + FHIR, "capability_statement": base + FHIR + "/metadata",
            "fhir_version": statement.get("fhirVersion"),
            "resources": [{"type": r.get("type"), "profile": r.get("profile") or r.get("supportedProfile", [None])[0],
                           "interactions": [i.get("code") for i in r.get("interaction", [])]}
                          for r in rest.get("resource", [])],
        }
    api = {name: base + url for name, url in (("openapi", app.openapi_url), ("docs", app.docs_url),
                                               ("redoc", app.redoc_url)) if url and url in paths}
    if "/health" in paths:
        api["health"] = base + "/health"
    conformance = {}
    if CONFORMANCE + "/validator" in paths:
        conformance["validator_page"] = base + CONFORMANCE + "/validator"
    if CONFORMANCE + "/validate" in paths:
        conformance["validate"] = base + CONFORMANCE + "/validate"
    return {
        "name": "care-gateway",
        "version": gateway.__version__,
        "base_url": base,
        "platform": _platform(settings, routes, base),
        "fhir": fhir,
        "soap": _soap_services(routes, base, SOAP),
        "identity": _identity(trust, settings, routes, base),
        "conformance": conformance,
        "api": api,
        "docs": [{"path": path, "about": about} for path, about in DOCS],
        "routes": [{"methods": list(r.methods), "path": r.path, "summary": r.summary} for r in routes],
    }


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


# ---------------------------------------------------------------- the page


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}" aria-labelledby="{ident}-title"><h2 id="{ident}-title">{esc(title)}</h2>{body}</section>'


def _optional_link(url: str | None) -> str:
    return link(url) if url else '<span class="muted">none</span>'


def _contract_link(url: str | None) -> str:
    if not url:
        return ""
    return link(url, "discovery document" if url.endswith(DISCOVERY) else "WSDL")


def render(facts: dict[str, Any]) -> str:
    platform, fhir, identity = facts["platform"], facts["fhir"], facts["identity"]
    sections = []

    platform_items = [("Platform", f'<span class="mode">{esc(platform["mode"])}</span>'),
                      ("Services base", link(platform["base_url"], id="platform-base"))]
    if platform["console"]:
        platform_items.append(("Sandbox console", link(platform["console"], "Personas, tokens, credentials, register, "
                                                       "last calls", id="console-link")))
    services = table("The platform's services", ("service", "endpoint", "contract"),
                     ([esc(s["name"]), code(s["endpoint"]), _contract_link(s["contract"])]
                      for s in platform["services"]), id="platform-services")
    sections.append(_section("platform", "eHealth platform",
                             f'<p>{esc(platform["summary"])}</p>{definitions(platform_items)}{services}'))

    if fhir:
        items = [("FHIR base", link(fhir["base"], id="fhir-base")),
                 ("CapabilityStatement", link(fhir["capability_statement"] + "?_format=json&_pretty=true",
                                              fhir["capability_statement"], id="capability-statement")
                  + ' <span class="muted">(JSON here; <code>_format=xml</code> for XML)</span>'),
                 ("FHIR version", esc(fhir["fhir_version"]))]
        resources = table("Resources (from the CapabilityStatement)", ("type", "profile", "interactions"),
                          ([esc(r["type"]), code(r["profile"]) if r["profile"] else "", esc(", ".join(r["interactions"]))]
                           for r in fhir["resources"]), id="fhir-resources")
        sections.append(_section("fhir", "FHIR R4 API", definitions(items) + resources
                                 + "<p>Every interaction but the CapabilityStatement needs an access token from an "
                                   "identity provider below (docs/fhir.md).</p>"))

    soap = table("SOAP 1.1 services, WS-Security with an STS token", ("service", "endpoint (POST)", "contract"),
                 ([esc(s["name"]), code(s["endpoint"]), link(s["wsdl"], "WSDL")] for s in facts["soap"]), id="soap-services")
    sections.append(_section("soap", "SOAP services", soap))

    providers = table("OpenID Connect identity providers whose access tokens the FHIR face accepts",
                      ("name", "issuer", "discovery document", "audiences"),
                      ([esc(p["name"]), code(p["issuer"]), _optional_link(p["discovery"]) +
                        (f'<br>keys: {code(p["jwks"])}' if p["jwks"] else ""), esc(", ".join(p["audiences"]))]
                       for p in identity["oidc"]), id="identity-providers")
    sts = identity["sts"]
    sts_items = [("STS endpoint", code(sts["endpoint"]) if sts["endpoint"] else '<span class="muted">none</span>'),
                 ("Issuers accepted", esc(", ".join(sts["issuers"])))]
    sts_items += [("STS certificate", esc(c.get("subject") or c.get("error")) + f' <span class="muted">{esc(c.get("valid_until"))}</span>')
                  for c in sts["certificates"]]
    sts_items += [("Root CA", esc(c.get("subject") or c.get("error"))) for c in identity["ca"]]
    sections.append(_section("identity", "Whom the gateway trusts", providers
                             + "<p>The SOAP face accepts SAML 1.1 holder-of-key tokens of this STS "
                               "(docs/sts.md):</p>" + definitions(sts_items)))

    conformance = facts["conformance"]
    items = []
    if "validator_page" in conformance:
        items.append(("Validator page", link(conformance["validator_page"], "Validate a message", id="validator-link")))
    if "validate" in conformance:
        items.append(("Validation over HTTP (POST)", code(conformance["validate"])))
    sections.append(_section("conformance", "Conformance", definitions(items)))

    api = facts["api"]
    names = {"openapi": "OpenAPI description", "docs": "OpenAPI documentation (Swagger UI)",
             "redoc": "OpenAPI documentation (ReDoc)", "health": "Health"}
    sections.append(_section("api", "OpenAPI and operations", definitions((names[k], link(v)) for k, v in api.items())
                             + '<p class="muted">The OpenAPI documentation pages load their scripts from a CDN, '
                               "which machines without internet cannot reach; the description itself is local.</p>"))

    docs = "".join(f"<li>{code(d['path'])}: {esc(d['about'])}</li>" for d in facts["docs"])
    sections.append(_section("docs", "Documentation", f"<p>In the project's source tree:</p><ul>{docs}</ul>"))

    routes = table("Every route of this server", ("methods", "path", "what"),
                   ([esc(" ".join(r["methods"])), code(r["path"]), esc(r["summary"])] for r in facts["routes"]),
                   id="routes")
    sections.append(_section("routes", "Every route", routes))

    nav = "".join(f'<li><a href="#{ident}">{esc(title)}</a></li>' for ident, title in (
        ("platform", "eHealth platform"), ("fhir", "FHIR"), ("soap", "SOAP"), ("identity", "Trust"),
        ("conformance", "Conformance"), ("api", "OpenAPI"), ("docs", "Documentation"), ("routes", "Every route")))
    header = (f'<header><h1>care-gateway</h1><p>Interoperability gateway for Belgian integrated care, version '
              f'<span id="version">{esc(facts["version"])}</span>: inclusions, consents, care teams and referrals through '
              f'a FHIR R4 API and eHealth-secured SOAP services.</p><p class="muted">The same facts as JSON: '
              f'<code>curl -H "Accept: application/json" {esc(facts["base_url"])}/</code></p></header>')
    return f'{header}<nav aria-label="On this page"><ul>{nav}</ul></nav><main>{"".join(sections)}</main>'


def router(settings: "Settings", trust: Any) -> APIRouter:
    """``GET /`` and its stylesheet; ``settings`` and ``trust`` are the gateway's, as in force."""
    routes = APIRouter(tags=["operations"])

    @routes.get("/", summary="What this gateway serves and where (HTML; JSON with Accept: application/json)")
    async def home(request: Request) -> Response:
        facts = await served(request, settings, trust)
        if wants_json(request):
            return JSONResponse(facts)
        return html.page("care-gateway", render(facts), STYLESHEET)

    @routes.get(STYLESHEET, include_in_schema=False)
    def stylesheet() -> Response:
        return html.stylesheet()

    return routes
