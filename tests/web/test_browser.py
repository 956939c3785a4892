"""The home page and the sandbox console in a real headless Chromium against
the live embedded gateway: a person finds the FHIR base from the home page;
gets a token for the sandbox GP from the console and runs the snippet the
page shows against the gateway; announces a death; and finds no console
where sandbox actions are off."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest


def wait_for(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 60).until(ready.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_for_text(driver: Any, css: str, text: str) -> Any:
    """The element once it shows ``text``: a form's answer page may replace the
    page found first, so the search is repeated until the text is there."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 60).until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return driver.find_element(By.CSS_SELECTOR, css)


def severe_logs(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "/favicon.ico" not in entry["message"]]  # the site has no icon


@pytest.fixture
def console(browser, live):
    browser.get(live.url("/sandbox/console/"))
    assert browser.title == "Sandbox console · simulated eHealth platform"
    return browser


def test_a_person_finds_the_fhir_base_from_the_home_page(browser, live) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live.url("/"))
    assert browser.title == "care-gateway"
    base = browser.find_element(By.ID, "fhir-base")
    assert base.text == live.url("/fhir")
    browser.find_element(By.ID, "capability-statement").click()
    statement = json.loads(wait_for(browser, "pre").text)  # Chromium shows the JSON as text
    assert statement["resourceType"] == "CapabilityStatement"
    assert {"EpisodeOfCare", "Consent"} <= {r["type"] for r in statement["rest"][0]["resource"]}
    browser.back()
    assert severe_logs(browser) == []  # no CSP violation, no missing asset


def test_the_home_page_leads_to_the_console_and_the_validator(browser, live) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live.url("/"))
    assert browser.find_element(By.ID, "validator-link").get_attribute("href") == live.url("/conformance/validator")
    browser.find_element(By.ID, "console-link").click()
    wait_for(browser, "#personas")
    assert browser.title == "Sandbox console · simulated eHealth platform"


def test_the_gp_gets_an_access_token_and_the_curl_snippet_works(console, live) -> None:
    from selenium.webdriver.common.by import By

    console.find_element(By.ID, "access-gp").click()
    snippet = wait_for(console, "#curl-snippet").text
    assert console.find_element(By.ID, "status").text == "Issued."
    claims = {row.find_elements(By.TAG_NAME, "td")[0].text: row.find_elements(By.TAG_NAME, "td")[1].text
              for row in console.find_elements(By.CSS_SELECTOR, "#claims tbody tr")}
    assert claims["role"] == "provider" and claims["nihii"] == "15461602004" and claims["aud"] == "care-gateway"
    assert "RS256" in console.find_element(By.TAG_NAME, "main").text
    assert snippet.startswith(f"GATEWAY={live.base_url}\n")

    ran = subprocess.run(["bash", "-c", snippet], capture_output=True, text=True, timeout=60)  # pasted into a shell
    assert ran.returncode == 0, ran.stdout + ran.stderr
    bundle = json.loads(ran.stdout)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"

    python = console.find_element(By.ID, "httpx-snippet").text
    ran = subprocess.run([sys.executable, "-c", python], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.startswith("200 ")


def test_the_gp_gets_an_sts_assertion_and_the_zeep_snippet_works(console, live, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    console.find_element(By.ID, "saml-gp").click()
    snippet = wait_for(console, "#zeep-snippet").text
    attributes = console.find_element(By.ID, "attributes").text
    assert "urn:be:fgov:person:ssin:ehealth:1.0:doctor:nihii11" in attributes and "15461602004" in attributes
    assert "rsa-sha256" in console.find_element(By.TAG_NAME, "main").text

    creds = tmp_path / "creds"  # the credentials the page offers, as a person downloads them
    creds.mkdir()
    for anchor in console.find_elements(By.CSS_SELECTOR, "#credentials a"):
        if anchor.text in ("gp.key.pem", "gp.cert.pem"):
            (creds / anchor.text).write_bytes(httpx.get(anchor.get_attribute("href")).content)
    assert sorted(p.name for p in creds.iterdir()) == ["gp.cert.pem", "gp.key.pem"]

    live.clock.set(datetime.now(timezone.utc))  # the snippet stamps its message with the wall clock
    ran = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "urn:be:fgov:ehealth:2.0:status:Success" in ran.stdout
    assert live.platform.registries.cast.patient in ran.stdout


def test_the_console_shows_the_calls_the_platform_answered(console, live) -> None:
    from selenium.webdriver.common.by import By

    console.find_element(By.ID, "saml-expired-visa").click()
    status = wait_for_text(console, "#status", "sts-visa-invalid")
    assert "sts-visa-invalid" in status.text and status.get_attribute("role") == "alert"
    console.get(live.url("/sandbox/console/"))
    rows = [[td.text for td in row.find_elements(By.TAG_NAME, "td")]
            for row in console.find_elements(By.CSS_SELECTOR, "#calls tbody tr")]
    latest = rows[0]  # newest first: the refused STS call
    assert latest[1:7] == ["IAM/SecurityTokenService/v1", "RequestSecurityToken", "expired-visa", "fault",
                           "sts-visa-invalid", "500"]


def test_a_token_button_works_from_the_keyboard(console) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    button = console.find_element(By.ID, "access-patient")
    assert button.get_attribute("aria-label") == "Get an access token as patient"
    button.send_keys(Keys.ENTER)  # a native button: focusable and activated by the keyboard
    wait_for(console, "#curl-snippet")
    assert console.find_element(By.TAG_NAME, "h1").text == "Access token for patient"


def test_a_death_announced_in_the_console(console, live) -> None:
    """IC-R4: the register announces the death; the people table shows it."""
    from selenium.webdriver.common.by import By

    cast_numbers = {p for p in vars(live.platform.registries.cast).values() if isinstance(p, str)}
    person = next(p for p in reversed(live.platform.registries.patients())
                  if p.niss not in cast_numbers and p.death_date is None)
    console.find_element(By.ID, "death-niss").send_keys(person.niss)
    day = live.clock.today().isoformat()
    console.execute_script("arguments[0].value = arguments[1]", console.find_element(By.ID, "death-date"), day)
    console.find_element(By.ID, "announce-death").click()
    status = wait_for_text(console, "#status.ok", "Announced")
    assert status.text.startswith(f"Announced: the death of {person.niss} on {day}")
    row = next(r for r in console.find_elements(By.CSS_SELECTOR, "#people tbody tr")
               if r.find_elements(By.TAG_NAME, "td")[0].text == person.niss)
    assert row.find_elements(By.TAG_NAME, "td")[4].text == day
    assert live.platform.register.person(person.niss).death_date.isoformat() == day


def test_the_console_logged_no_error(console) -> None:
    assert severe_logs(console) == []


def test_no_console_where_sandbox_actions_are_off(browser, live_without_actions) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_without_actions.url("/sandbox/console/"))
    assert json.loads(browser.find_element(By.TAG_NAME, "body").text) == {"detail": "Not Found"}
    assert [m.split(" - ")[0] for m in severe_logs(browser)] == [live_without_actions.url("/sandbox/console/")]
    browser.get(live_without_actions.url("/"))
    assert browser.find_element(By.ID, "fhir-base").text == live_without_actions.url("/fhir")
    assert browser.find_elements(By.ID, "console-link") == []


def test_the_simulated_platform_alone_answers_its_console_at_the_root(browser, tmp_path) -> None:
    """`care-gateway sandbox serve`'s app: the console is its home page."""
    from selenium.webdriver.common.by import By

    from gateway.domain.clock import SystemClock
    from gateway.ehealth.platform import PlatformSettings, build_platform, create_platform_app
    from tests.web.serving import Served, free_port

    port = free_port()
    platform = build_platform(PlatformSettings(database_url=f"sqlite:///{tmp_path / 'platform.sqlite3'}",
                                               public_url=f"http://127.0.0.1:{port}"), clock=SystemClock())
    served = Served(create_platform_app(platform), port)
    try:
        browser.get(served.url("/"))
        assert browser.title == "Sandbox console · simulated eHealth platform"
        browser.find_element(By.ID, "access-gp").click()
        snippet = wait_for(browser, "#curl-snippet").text
        assert snippet.startswith("GATEWAY=http://127.0.0.1:8000\n")  # a separate gateway: where `serve` listens
        assert "care-gateway sandbox trust" in browser.find_element(By.TAG_NAME, "main").text
        assert severe_logs(browser) == []
    finally:
        served.stop()
        platform.db.dispose()
