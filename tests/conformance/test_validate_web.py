"""The validator page in a real headless Chromium (Selenium, Debian's
chromium + chromium-driver) against the live gateway: a person pastes a
message, presses Validate and reads the verdict and the findings; uploads an
envelope with an instant; and a hostile message stays text."""

from __future__ import annotations

import shutil
import tempfile
from typing import Any, Iterator

import pytest

from tests.conformance.corpus import Message, messages

CORPUS = messages()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Chromium is not installed (Debian packages chromium and chromium-driver; .ci/run installs them)",
)


def by_name(name: str) -> Message:
    return next(m for m in CORPUS if m.path.name == name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="care-gateway-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)  # no driver download
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, live):
    browser.get(live.url("/conformance/validator"))
    assert browser.title == "Message validator · care-gateway"
    return browser


def submit_and_wait(driver: Any) -> tuple[str, str]:
    """Press Validate; return (status text, the report section's verdict)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.ID, "validate").click()
    section = WebDriverWait(driver, 30).until(ready.presence_of_element_located((By.CSS_SELECTOR, "#result section.verdict")))
    return driver.find_element(By.ID, "status").text, section.get_attribute("data-verdict")


def rows(driver: Any) -> list[dict[str, str]]:
    from selenium.webdriver.common.by import By

    found = []
    for row in driver.find_elements(By.CSS_SELECTOR, "#result tr.finding"):
        cells = {c.get_attribute("class"): c.text for c in row.find_elements(By.TAG_NAME, "td")}
        found.append(cells)
    return found


def test_a_pasted_invalid_resource_shows_its_findings(page) -> None:
    from selenium.webdriver.common.by import By

    message = by_name("inclusion-niss-check-digits.json")
    page.find_element(By.ID, "message").send_keys(message.path.read_text())  # typed, as a paste arrives
    status, verdict = submit_and_wait(page)
    assert verdict == "invalid" and status == "Invalid: see the findings below."
    errors = [r for r in rows(page) if r["severity"] == "error"]
    assert [(r["rule"], r["path"]) for r in errors] == [("cg-niss-1", "EpisodeOfCare.patient.identifier")]
    assert '"value": "85073003329"' in errors[0]["snippet"]
    assert "check digits" in errors[0]["message"]
    assert page.find_element(By.CSS_SELECTOR, "#result code.source").text == "pasted message"


def test_a_pasted_valid_resource_is_valid(page) -> None:
    from selenium.webdriver.common.by import By

    page.find_element(By.ID, "message").send_keys(by_name("inclusion.xml").path.read_text())
    status, verdict = submit_and_wait(page)
    assert verdict == "valid" and status == "Valid: no errors."
    assert all(r["severity"] == "information" for r in rows(page))


def test_an_uploaded_envelope_judged_at_an_instant(page) -> None:
    from selenium.webdriver.common.by import By

    message = by_name("tampered-body.xml")
    page.find_element(By.ID, "file").send_keys(str(message.path))
    page.find_element(By.ID, "at").send_keys(message.at_text)
    status, verdict = submit_and_wait(page)
    assert verdict == "invalid"
    assert [(r["rule"], r["path"]) for r in rows(page)] == [("message-digest-mismatch", "/Envelope/Header/Security/Signature")]
    assert page.find_element(By.CSS_SELECTOR, "#result code.source").text == "tampered-body.xml"


def test_a_hostile_message_is_shown_as_text(page) -> None:
    from selenium.webdriver.common.by import By

    hostile = ('{"resourceType": "EpisodeOfCare", "status": "<img src=x onerror=document.title=\'owned\'>", '
               '"statusReason": "<script>document.title=\'owned\'</script>"}')
    page.find_element(By.ID, "message").send_keys(hostile)
    _, verdict = submit_and_wait(page)
    assert verdict == "invalid"
    assert page.find_elements(By.CSS_SELECTOR, "#result img, #result script") == []
    snippets = " ".join(r["snippet"] for r in rows(page))
    assert "<img src=x onerror=" in snippets  # shown literally
    assert page.title == "Message validator · care-gateway"


def test_an_empty_paste_asks_for_a_message(page) -> None:
    from selenium.webdriver.common.by import By

    page.find_element(By.ID, "validate").click()
    assert page.find_element(By.ID, "status").text == "Paste a message or choose a file first."
    assert page.find_elements(By.CSS_SELECTOR, "#result section") == []


def test_the_page_logged_no_error(page) -> None:
    from selenium.webdriver.common.by import By

    page.find_element(By.ID, "message").send_keys(by_name("inclusion.xml").path.read_text())
    submit_and_wait(page)
    logs = [entry["message"] for entry in page.get_log("browser")
            if entry["level"] == "SEVERE" and "/favicon.ico" not in entry["message"]]  # the site has no icon
    assert logs == []  # e.g. no CSP violation, no failed asset, no script error
