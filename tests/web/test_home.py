"""The gateway's home page, ``GET /``: generated from what the app is built
from (its routes, the FHIR face's CapabilityStatement, the SOAP services
mounted, the trust in force), the same facts as HTML and as JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.web.home import DOCS, app_routes

ROOT = Path(__file__).resolve().parents[2]
JSON = {"Accept": "application/json"}


@pytest.fixture
def client(gw) -> TestClient:
    return TestClient(create_app(gw))


def test_the_home_page_says_where_the_fhir_base_and_the_soap_services_are(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<a href="http://testserver/fhir" id="fhir-base">http://testserver/fhir</a>' in page.text
    facts = client.get("/", headers=JSON).json()
    assert facts["fhir"]["base"] == "http://testserver/fhir"
    assert facts["fhir"]["capability_statement"] == "http://testserver/fhir/metadata"
    names = [s["name"] for s in facts["soap"]]
    assert names[:3] == ["IntegratedCare v1", "CareTeam v1", "Referral v1"]  # in the order the face mounts them
    mounted = {r.path for r in app_routes(client.app) if r.path.startswith("/soap/") and "POST" in r.methods}
    assert {s["endpoint"].removeprefix("http://testserver") for s in facts["soap"]} == mounted  # each, and only them
    for service in facts["soap"]:
        assert client.get(service["wsdl"]).headers["content-type"].startswith("text/xml")  # each WSDL is there


def test_html_and_json_carry_the_same_facts(client) -> None:
    page = client.get("/").text
    facts = client.get("/", headers=JSON).json()
    urls = [facts["fhir"]["base"], facts["fhir"]["capability_statement"], facts["platform"]["base_url"],
            facts["platform"]["console"], facts["conformance"]["validator_page"], facts["conformance"]["validate"],
            *facts["api"].values(), *(s["wsdl"] for s in facts["soap"]), *(s["endpoint"] for s in facts["soap"]),
            *(s["contract"] for s in facts["platform"]["services"]), facts["identity"]["sts"]["endpoint"],
            *(p["discovery"] for p in facts["identity"]["oidc"]), *(p["issuer"] for p in facts["identity"]["oidc"])]
    assert all(urls) and [u for u in urls if u not in page] == []
    assert [r["path"] for r in facts["routes"] if f"<code>{r['path']}</code>" not in page] == []
    assert f'<span id="version">{facts["version"]}</span>' in page


def test_the_fhir_resources_are_those_of_the_capability_statement(client) -> None:
    statement = client.get("/fhir/metadata", headers={"Accept": "application/fhir+json"}).json()
    facts = client.get("/", headers=JSON).json()
    assert [r["type"] for r in facts["fhir"]["resources"]] == [r["type"] for r in statement["rest"][0]["resource"]]
    assert facts["fhir"]["fhir_version"] == "4.0.1"


def test_every_route_is_listed_and_a_route_added_appears(gw) -> None:
    app = create_app(gw)

    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    app.add_api_route("/extra/ping", ping, methods=["GET"], summary="A route added after the app was built")
    client = TestClient(app)
    facts = client.get("/", headers=JSON).json()
    assert {"methods": ["GET"], "path": "/extra/ping", "summary": "A route added after the app was built"} in facts["routes"]
    assert "<code>/extra/ping</code>" in client.get("/").text
    assert [r["path"] for r in facts["routes"]] == [r.path for r in app_routes(app)]
    assert {"/fhir/metadata", "/soap/IntegratedCare/v1", "/conformance/validator", "/health", "/"} <= {
        r["path"] for r in facts["routes"]}


def test_the_embedded_platform_and_its_trust(client, gw) -> None:
    facts = client.get("/", headers=JSON).json()
    platform = facts["platform"]
    assert platform["mode"] == "embedded" and platform["base_url"] == "http://testserver/ehealth"
    assert platform["console"] == "http://testserver/sandbox/console/"
    assert {s["name"] for s in platform["services"]} >= {"IAM SecurityTokenService v1", "TherLink v1", "consultRN v1",
                                                         "OpenID Connect auth/realms/M2M"}
    providers = facts["identity"]["oidc"]
    assert [p["issuer"] for p in providers] == [i.issuer for i in gw.trust.oidc]  # every issuer trusted, in order
    assert providers[0]["issuer"] == "http://testserver/ehealth/auth/realms/M2M"
    for provider in providers:
        assert provider["discovery"] == provider["issuer"] + "/.well-known/openid-configuration"
        assert client.get(provider["discovery"]).json()["issuer"] == provider["issuer"]  # the document is there
        assert provider["jwks"] is None  # embedded, the keys are fetched in-process: no address to give anyone
    sts = facts["identity"]["sts"]
    assert sts["issuers"] == ["urn:be:fgov:ehealth:sts:1_0"]
    assert sts["certificates"][0]["subject"].startswith("CN=eHealth Security Token Service (sandbox)")
    assert facts["identity"]["ca"][0]["subject"].startswith("CN=care-gateway sandbox CA")


def test_a_gateway_trusting_a_configured_platform(database, clock, platform, tmp_path, monkeypatch) -> None:
    """Configured for another platform: the page says which, the endpoints the
    adapters call and the configured discovery document; no /ehealth, no console."""
    from gateway.config import Settings
    from gateway.ehealth.platform import write_trust_files
    from gateway.wiring import build_gateway

    settings_file = write_trust_files(platform, tmp_path / "trust")[-1]
    monkeypatch.setenv("CARE_GATEWAY_SETTINGS", str(settings_file))
    monkeypatch.setenv("CARE_GATEWAY_DATABASE_URL", database.url)
    gw = build_gateway(Settings.from_env(), clock=clock, db=database)
    assert gw.platform is None
    client = TestClient(create_app(gw))
    facts = client.get("/", headers=JSON).json()
    assert facts["platform"]["mode"] == "configured" and facts["platform"]["console"] is None
    assert facts["platform"]["base_url"] == platform.base_url
    assert {s["name"]: s["endpoint"] for s in facts["platform"]["services"]}["sts"] == (
        platform.base_url + "/IAM/SecurityTokenService/v1")
    assert facts["identity"]["oidc"][0]["discovery"] == (
        platform.base_url + "/auth/realms/M2M/.well-known/openid-configuration")
    assert facts["identity"]["sts"]["endpoint"] == platform.base_url + "/IAM/SecurityTokenService/v1"
    assert not any(r["path"].startswith(("/ehealth", "/sandbox")) for r in facts["routes"])
    page = client.get("/").text
    assert f"This gateway trusts the eHealth platform at {platform.base_url}" in page
    assert 'id="console-link"' not in page
    assert client.get("/sandbox/console/").status_code == 404
    assert client.get("/ehealth/IAM/SecurityTokenService/v1?wsdl").status_code == 404


def test_the_docs_listed_exist() -> None:
    assert [path for path, _ in DOCS if not (ROOT / path).is_file()] == []


def test_a_browser_asking_for_html_gets_html(client) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.8"
    assert client.get("/", headers={"Accept": accept}).headers["content-type"].startswith("text/html")
    assert client.get("/", headers={"Accept": "application/json"}).headers["content-type"] == "application/json"
