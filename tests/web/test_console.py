"""The sandbox console over plain HTTP: personas, credentials (the files
`care-gateway sandbox credentials` writes), tokens from the platform's own
STS and IdP, the register's injections, the record of the last calls, and
its absence wherever sandbox actions are off."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.cli import main
from gateway.ehealth.call_log import CallLog, CallRecord
from gateway.ehealth.platform import PlatformSettings, build_platform, create_platform_app

CONSOLE = "/sandbox/console/"


@pytest.fixture
def client(gw) -> TestClient:
    return TestClient(create_app(gw))


def cell_texts(page: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, table_id
    return [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)]


def test_the_console_lists_every_persona_with_what_it_may_do(client, personas) -> None:
    page = client.get(CONSOLE)
    assert page.status_code == 200 and "Sandbox console" in page.text
    rows = cell_texts(page.text, "personas")
    assert len(rows) == len(personas)
    for persona, row in zip(personas.values(), rows):
        assert row[0] == f"{persona.key}{persona.display_name}" and row[1] == persona.role.value
        assert row[2] == persona.niss and row[3] == (persona.nihii or "")
        for may in persona.may:
            assert may.replace("'", "&#x27;") in row[5]
        assert f'id="access-{persona.key}"' in page.text  # every persona gets an access token


def test_a_persona_s_credentials_are_the_files_of_the_command_line(client, tmp_path) -> None:
    tmp_path = tmp_path / "creds"
    assert main(["sandbox", "credentials", "gp", "--out", str(tmp_path)]) == 0
    archive = zipfile.ZipFile(io.BytesIO(client.get(CONSOLE + "credentials/gp.zip").content))
    assert sorted(archive.namelist()) == sorted(f"gp/{p.name}" for p in tmp_path.iterdir())
    for name in ("gp.key.pem", "gp.cert.pem", "sandbox-ca.cert.pem"):
        assert archive.read(f"gp/{name}") == (tmp_path / name).read_bytes()
        assert client.get(CONSOLE + f"credentials/gp/{name}").content == (tmp_path / name).read_bytes()
    key, cert, chain = pkcs12.load_key_and_certificates(client.get(CONSOLE + "credentials/gp/gp.p12").content, b"sandbox")
    expected_key, expected_cert, _ = pkcs12.load_key_and_certificates((tmp_path / "gp.p12").read_bytes(), b"sandbox")
    assert cert == expected_cert and key.private_numbers() == expected_key.private_numbers() and len(chain) == 1


def test_an_organisation_s_credentials(client, gw, tmp_path) -> None:
    nihii = gw.platform.registries.cast.hospital
    tmp_path = tmp_path / "creds"
    assert f"credentials/org-{nihii}.zip" in client.get(CONSOLE).text
    assert main(["sandbox", "credentials", f"org-{nihii}", "--out", str(tmp_path)]) == 0
    archive = zipfile.ZipFile(io.BytesIO(client.get(CONSOLE + f"credentials/org-{nihii}.zip").content))
    assert sorted(archive.namelist()) == sorted(f"org-{nihii}/{p.name}" for p in tmp_path.iterdir())
    assert archive.read(f"org-{nihii}/org-{nihii}.cert.pem") == (tmp_path / f"org-{nihii}.cert.pem").read_bytes()


def test_unknown_credentials_are_not_found(client) -> None:
    for path in ("credentials/nobody.zip", "credentials/gp/other.key.pem", "credentials/org-12345678901.zip",
                 "credentials/gp/..%2Fca.key.pem"):
        answer = client.get(CONSOLE + path)
        assert answer.status_code == 404 and b"BEGIN" not in answer.content


def test_an_access_token_from_the_idp_decoded(client, personas) -> None:
    page = client.post(CONSOLE + "token", data={"persona": "patient", "kind": "access"}).text
    claims = dict(cell_texts(page, "claims"))
    assert claims["sub"] == personas["patient"].niss and claims["role"] == "patient"
    assert claims["amr"] == '[&quot;otp&quot;]'  # signed in on the sandbox login page, as a citizen's app does
    assert "<dt>Signature algorithm (alg)</dt><dd><code>RS256</code></dd>" in page
    assert "<dd>verified with the IdP&#x27;s published key (JWKS" in page
    assert "<dt>Valid now (platform clock)</dt><dd>yes</dd>" in page
    assert f"%7C{personas['patient'].niss}" in page  # the snippet asks for the patient's own inclusions (IC-A4)


def test_an_sts_assertion_decoded(client, personas) -> None:
    page = client.post(CONSOLE + "token", data={"persona": "gp", "kind": "saml"}).text
    attributes = {row[1]: row[2] for row in cell_texts(page, "attributes")}
    assert attributes["urn:be:fgov:person:ssin:ehealth:1.0:doctor:nihii11"] == personas["gp"].nihii
    assert "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" in page
    assert "verified as the gateway verifies it" in page
    assert 'href="/sandbox/console/credentials/gp/gp.key.pem"' in page


def test_a_refusal_of_the_sts_is_shown_with_its_code(client) -> None:
    page = client.post(CONSOLE + "token", data={"persona": "expired-visa", "kind": "saml"}).text
    assert re.search(r'<p id="status" class="status refused" role="alert">The STS refused: <code>sts-visa-invalid</code>', page)
    page = client.post(CONSOLE + "token", data={"persona": "deceased-patient", "kind": "saml"}).text
    assert "<code>sts-person-deceased</code>" in page


def test_an_unknown_persona_is_refused(client) -> None:
    answer = client.post(CONSOLE + "token", data={"persona": "nobody", "kind": "access"})
    assert answer.status_code == 400 and "Choose a persona" in answer.text


def test_a_death_and_a_niss_change_announced(client, gw, clock) -> None:
    """IC-R4, IC-R5: the console announces through the register's own methods;
    the feed carries them, the people table shows the register's answer."""
    registries = gw.platform.registries
    cast = {v for v in vars(registries.cast).values() if isinstance(v, str)}
    dead, renamed = [p for p in registries.patients() if p.niss not in cast and p.death_date is None][-2:]
    answer = client.post(CONSOLE + "register", data={"kind": "death", "niss": dead.niss, "date": "2026-06-01"})
    assert answer.status_code == 200
    assert f"Announced: the death of {dead.niss} on 2026-06-01" in answer.text
    new = unused_niss(gw.platform.register, renamed.niss)
    answer = client.post(CONSOLE + "register", data={"kind": "niss-change", "niss": renamed.niss, "new_niss": new})
    assert answer.status_code == 200 and f"{renamed.niss} is now {new}, from {clock.today().isoformat()}" in answer.text
    people = {row[0]: row for row in cell_texts(answer.text, "people")}
    assert people[dead.niss][4] == "2026-06-01"
    assert people[new][1] == renamed.niss
    feed = client.get("/ehealth/consultRN/v1/mutations", params={"after": 0}).json()["mutations"]
    assert [(m["kind"], m["niss"], m["new_niss"]) for m in feed[-2:]] == [
        ("death", dead.niss, None), ("niss-change", renamed.niss, new)]


def unused_niss(register, like: str) -> str:  # type: ignore[no-untyped-def]
    """A valid national number of the same birth date that nobody has."""
    for serial in range(997, 0, -1):
        first9 = f"{like[:6]}{serial:03d}"
        candidate = f"{first9}{97 - int(first9) % 97:02d}"
        if register.person(candidate) is None:
            return candidate
    raise AssertionError(f"no free number born as {like}")


def test_a_refused_announcement_says_why(client, personas) -> None:
    answer = client.post(CONSOLE + "register", data={"kind": "death", "niss": personas["deceased-patient"].niss})
    assert answer.status_code == 400
    assert re.search(r'class="status refused" role="alert">The person with NISS \d+ is already deceased', answer.text)
    answer = client.post(CONSOLE + "register", data={"kind": "death", "niss": personas["patient"].niss, "date": "1-2-3"})
    assert answer.status_code == 400 and "The date must be YYYY-MM-DD" in answer.text


def test_the_calls_the_platform_answered_are_recorded(client, gw) -> None:
    client.post(CONSOLE + "token", data={"persona": "gp", "kind": "access"})
    client.post(CONSOLE + "token", data={"persona": "expired-visa", "kind": "saml"})
    client.post("/ehealth/auth/realms/M2M/protocol/openid-connect/token", data={"grant_type": "password"})
    client.get("/ehealth/TherLink/v1?wsdl")  # a contract, not a call
    calls = client.get(CONSOLE + "calls").json()
    assert [(c["service"], c["operation"], c["caller"], c["outcome"], c["code"]) for c in calls[:2]] == [
        ("auth/realms/M2M/protocol/openid-connect/token", "password", "anonymous", "refused", "unsupported_grant_type"),
        ("IAM/SecurityTokenService/v1", "RequestSecurityToken", "expired-visa", "fault", "sts-visa-invalid"),
    ]
    assert ("auth/realms/M2M/protocol/openid-connect/token", "token-exchange", "gp", "answered") in {
        (c["service"], c["operation"], c["caller"], c["outcome"]) for c in calls}
    assert not any(c["service"] == "TherLink/v1" for c in calls)
    rows = cell_texts(client.get(CONSOLE).text, "calls")
    assert rows[0][1:6] == ["auth/realms/M2M/protocol/openid-connect/token", "password", "anonymous", "refused",
                            "unsupported_grant_type"]


def test_the_gateway_s_own_calls_are_recorded_as_its_organisation(live, personas) -> None:
    """The live gateway asks the attribute authority as its organisation
    (IC-A1) through the platform's app: the console shows that call too."""
    import httpx

    from gateway.ehealth.sandbox_tokens import persona_access_token

    token = persona_access_token(live.base_url, live.platform.pki, personas["gp"], clock=live.clock)
    system = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
    answer = httpx.get(live.url("/fhir/EpisodeOfCare"), params={"patient-identifier": f"{system}|{personas['patient'].niss}"},
                       headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    calls = httpx.get(live.url(CONSOLE + "calls")).json()
    hospital = f"org-{live.platform.registries.cast.hospital}"
    asked = [c for c in calls if c["service"] == "IAM/AttributeAuthority/v1"]
    assert asked and {(c["caller"], c["outcome"]) for c in asked} == {(hospital, "answered")}


def test_the_record_is_bounded() -> None:
    from datetime import datetime, timezone

    log = CallLog(size=3)
    for n in range(5):
        log.add(CallRecord(datetime(2026, 6, 15, tzinfo=timezone.utc), "POST", f"s{n}", "op", "gp", "answered", 200, None))
    assert len(log) == 3 and [c.service for c in log.latest()] == ["s4", "s3", "s2"]


def test_no_console_where_sandbox_actions_are_off(database, clock, tmp_path) -> None:
    from gateway.config import Settings
    from gateway.wiring import build_gateway

    platform = build_platform(PlatformSettings(database_url=f"sqlite:///{tmp_path}/platform.sqlite3",
                                               sandbox_actions=False), clock=clock)
    gw = build_gateway(Settings(database_url=database.url, sandbox_actions=False), clock=clock, db=database,
                       platform=platform)
    client = TestClient(create_app(gw))
    assert client.get(CONSOLE).status_code == 404
    assert client.post(CONSOLE + "token", data={"persona": "gp", "kind": "access"}).status_code == 404
    assert client.get(CONSOLE + "credentials/gp.zip").status_code == 404
    assert client.get("/", headers={"Accept": "application/json"}).json()["platform"]["console"] is None
    alone = TestClient(create_platform_app(platform))
    assert alone.get("/").status_code == 404 and alone.get(CONSOLE).status_code == 404
    alone.post("/ehealth/IAM/SecurityTokenService/v1", content=b"<x/>", headers={"Content-Type": "text/xml"})
    assert platform.calls.latest() == []  # nothing recorded either


def test_the_simulated_platform_alone_has_the_console_at_its_root(platform) -> None:
    client = TestClient(create_platform_app(platform))
    root = client.get("/")
    assert root.status_code == 200 and "<h1>Sandbox console</h1>" in root.text
    assert 'action="/sandbox/console/token"' in root.text and 'href="/sandbox/console/site.css"' in root.text
    assert client.get("/sandbox/console/site.css").headers["content-type"].startswith("text/css")
    page = client.post(CONSOLE + "token", data={"persona": "gp", "kind": "access"}).text
    assert "GATEWAY=http://127.0.0.1:8000" in page and "care-gateway sandbox trust" in page
    assert len(cell_texts(root.text, "people")) == len(platform.registries.people)


def test_a_persona_without_a_certificate_signs_in_only(client, personas) -> None:
    """The auditor signs in at the IdP (IC-R8): no credentials to download, no STS
    assertion to ask for; the access token comes from the sign-in."""
    page = client.get(CONSOLE).text
    row = next(r for r in cell_texts(page, "personas") if r[0].startswith("auditor"))
    assert row[6] == "none: signs in at the identity provider only"
    assert 'id="access-auditor"' in page and 'id="saml-auditor"' not in page
    assert client.get(CONSOLE + "credentials/auditor.zip").status_code == 404
    token = client.post(CONSOLE + "token", data={"persona": "auditor", "kind": "access"}).text
    assert dict(cell_texts(token, "claims"))["role"] == "auditor"
    refused = client.post(CONSOLE + "token", data={"persona": "auditor", "kind": "saml"}).text
    assert "<code>credential-missing</code> auditor has no certificate in the sandbox PKI" in refused


# ---------------------------------------------------------------- return to work (RP-S1)


def rtw_cast(platform):  # type: ignore[no-untyped-def]
    from gateway.ehealth.rtw.personas import rtw_personas
    from gateway.ehealth.rtw.sandbox import rtw_sandbox

    sandbox = rtw_sandbox(platform.settings.seed)
    return sandbox, rtw_personas(sandbox)


def decoded(page: str, term: str) -> str:
    found = re.search(rf"<dt>{re.escape(term)}</dt><dd>(.*?)</dd>", page, re.S)
    assert found, term
    return re.sub(r"<[^>]+>", "", found.group(1))


def test_rp_s1_the_console_lists_every_return_to_work_persona_with_where_it_signs_in(client, gw, personas) -> None:
    """RP-S1: a table of their own, every return-to-work persona with its
    role, NISS, organisation (by CBE), the identity provider it signs in at,
    its credentials and both token buttons; no key is shared with the
    integrated-care personas."""
    sandbox, cast = rtw_cast(gw.platform)
    assert not set(cast) & set(personas)
    page = client.get(CONSOLE).text
    assert '<a href="#rtw-personas-section">Return-to-work personas</a>' in page
    rows = cell_texts(page, "rtw-personas")
    assert [row[0] for row in rows] == [f"{p.key}{p.display_name}" for p in cast.values()]
    for persona, row in zip(cast.values(), rows):
        member = sandbox.staff[persona.key]
        assert row[1] == persona.role.value and row[2] == persona.niss
        assert row[3] == f"{member.organisation.name} ({member.organisation.cbe})".replace("'", "&#x27;")
        bank = member.identity_provider == "bcss"
        assert row[4].startswith("the crossroads bank" if bank else "eHealth")
        assert row[4].endswith("urn:be:ksz-bcss:sts:1_0" if bank else "urn:be:fgov:ehealth:sts:1_0")
        assert f'href="/sandbox/console/credentials/{persona.key}/{persona.key}.p12"' in page
        assert f'id="access-{persona.key}"' in page and f'id="saml-{persona.key}"' in page
    assert {row[4].split("STS")[0] for row in rows} == {"eHealth", "the crossroads bank (KSZ-BCSS)"}


def test_rp_s1_a_regional_counsellor_s_access_token_comes_from_the_crossroads_bank_s_realm(client, gw) -> None:
    """RP-S1: the VDAB counsellor signs in at the crossroads bank's IdP; its
    token's issuer is that realm and its signature is checked with the keys
    that realm publishes. The snippet asks for the dossiers of the person
    registered with VDAB."""
    from gateway.ehealth.rtw.signin import bcss_issuer

    sandbox, cast = rtw_cast(gw.platform)
    page = client.post(CONSOLE + "token", data={"persona": "reg-counsellor", "kind": "access"}).text
    claims = dict(cell_texts(page, "claims"))
    issuer = bcss_issuer(gw.platform.settings.public_url)
    assert claims["iss"] == issuer and issuer.endswith("/ehealth/bcss/auth/realms/UMAN")
    assert claims["urn:be:ksz-bcss:ssin"] == cast["reg-counsellor"].niss
    assert claims["urn:be:ksz-bcss:enterprise-number"] == sandbox.regional["vdab"].cbe
    assert decoded(page, "Signature").startswith("verified with the IdP&#x27;s published key")
    assert decoded(page, "Signature").endswith(f"of the issuer {issuer}")
    assert decoded(page, "Valid now (platform clock)") == "yes"
    assert "crossroads bank" in decoded(page, "How it was obtained")
    assert "rtw-episode-type%7Crtw-dossier" in page and f"%7C{sandbox.cast.insured}" in page


def test_rp_s1_a_regional_counsellor_s_sts_assertion_comes_from_the_crossroads_bank_s_sts(client, gw) -> None:
    """RP-S1: the counsellor's SAML assertion is issued by the crossroads
    bank's STS and verified against that STS's own certificate, paired with
    its Issuer as the gateway pairs them."""
    sandbox, cast = rtw_cast(gw.platform)
    page = client.post(CONSOLE + "token", data={"persona": "reg-counsellor", "kind": "saml"}).text
    assert decoded(page, "Issuer") == "urn:be:ksz-bcss:sts:1_0"
    assert decoded(page, "Signature").startswith("verified as the gateway verifies it: signed by the certificate of "
                                                 "the STS of the crossroads bank")
    attributes = {row[1]: row[2] for row in cell_texts(page, "attributes")}
    assert attributes["urn:be:ksz-bcss:ssin"] == cast["reg-counsellor"].niss
    assert attributes["urn:be:ksz-bcss:rtw-function"] == "reg-counsellor"
    assert f'SearchDossiers(InsuredSsin=&quot;{sandbox.cast.insured}&quot;)' in page
    assert 'href="/sandbox/console/credentials/reg-counsellor/reg-counsellor.key.pem"' in page


def test_rp_s1_the_crossroads_bank_s_assertion_is_not_trusted_as_ehealth_s(gw) -> None:
    """RP-S1: the console verifies each assertion with the certificate paired
    with its own STS's Issuer; checked against eHealth's, the crossroads
    bank's assertion is not verified."""
    from gateway.ehealth.console_tokens import IN_PROCESS, PlatformClient, decode_assertion, signs_in_at
    from gateway.ehealth.rtw.tokens import rtw_sts_token

    xml = rtw_sts_token(IN_PROCESS, gw.platform, "reg-counsellor", http=PlatformClient(gw.platform).get())
    assert decode_assertion(gw.platform, "reg-counsellor", xml, signs_in_at("bcss")).verified.startswith("verified")
    assert decode_assertion(gw.platform, "reg-counsellor", xml).verified.startswith("not verified")


def test_rp_s1_an_insurer_persona_s_tokens_come_from_ehealth(client, gw) -> None:
    """RP-S1: an insurer's physician signs in at eHealth (IdP and STS)."""
    from gateway.ehealth.oauth_keys import issuer_for

    _, cast = rtw_cast(gw.platform)
    page = client.post(CONSOLE + "token", data={"persona": "oa-physician", "kind": "access"}).text
    claims = dict(cell_texts(page, "claims"))
    assert claims["iss"] == issuer_for(gw.platform.settings.public_url) and claims["role"] == "oa-physician"
    assert decoded(page, "Signature").startswith("verified with the IdP&#x27;s published key")
    page = client.post(CONSOLE + "token", data={"persona": "oa-physician", "kind": "saml"}).text
    assert decoded(page, "Issuer") == "urn:be:fgov:ehealth:sts:1_0"
    assert decoded(page, "Signature").startswith("verified as the gateway verifies it: signed by the certificate of "
                                                 "the STS of eHealth")
    assert cast["oa-physician"].niss in decoded(page, "Subject")


def test_rp_s1_a_return_to_work_persona_s_credentials(client, gw) -> None:
    """The credentials of a return-to-work persona are those of the sandbox
    PKI, which its STS request is signed with."""
    key, cert, chain = pkcs12.load_key_and_certificates(
        client.get(CONSOLE + "credentials/reg-counsellor/reg-counsellor.p12").content, b"sandbox")
    assert cert == gw.platform.pki.persona("reg-counsellor").certificate and len(chain) == 1
    archive = zipfile.ZipFile(io.BytesIO(client.get(CONSOLE + "credentials/oa-physician.zip").content))
    assert sorted(archive.namelist()) == sorted(f"oa-physician/{name}" for name in (
        "oa-physician.key.pem", "oa-physician.cert.pem", "oa-physician.p12", "sandbox-ca.cert.pem"))
    assert archive.read("oa-physician/oa-physician.cert.pem") == gw.platform.pki.persona("oa-physician").cert_pem


def test_rp_s1_the_counsellor_s_snippet_is_answered_by_the_live_gateway(live) -> None:
    """The console of a live gateway gets the counsellor's token from the
    crossroads bank's realm; the gateway trusts that realm, and the search
    the snippet makes is answered (a Bundle: no dossier is open yet)."""
    import html as html_lib

    import httpx

    page = httpx.post(live.url(CONSOLE + "token"), data={"persona": "reg-counsellor", "kind": "access"}).text
    snippet = html_lib.unescape(re.search(r'<pre id="curl-snippet"[^>]*>(.*?)</pre>', page, re.S).group(1))
    token = re.search(r"TOKEN='([^']+)'", snippet).group(1)
    path = re.search(r'"\$GATEWAY(/fhir/EpisodeOfCare\?[^"]+)"', snippet).group(1)
    answer = httpx.get(live.url(path), headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["resourceType"] == "Bundle"
