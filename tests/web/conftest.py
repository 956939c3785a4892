"""Fixtures of the pages' tests: a headless Chromium (Debian's chromium and
chromium-driver, as tests/conformance/test_validate_web.py drives it), any
ASGI app served over real HTTP, and a live embedded gateway whose sandbox
actions are off."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timezone
from typing import Any, Iterator

import pytest

from tests.web.serving import Served, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.fail("Chromium is not installed: install the Debian packages chromium and chromium-driver (.ci/run does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="care-gateway-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)  # no driver download
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def live_without_actions(tmp_path_factory) -> Iterator[Served]:
    """The embedded default over HTTP with CARE_GATEWAY_SANDBOX_ACTIONS off."""
    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.domain.clock import FixedClock
    from gateway.domain.database import Database
    from gateway.ehealth.platform import PlatformSettings, build_platform
    from gateway.schema import stamp_head
    from gateway.wiring import build_gateway
    from tests.plaintext_niss import remember

    directory = tmp_path_factory.mktemp("no-actions")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    clock = FixedClock(datetime.now(timezone.utc).replace(microsecond=0))
    db = Database(f"sqlite:///{directory / 'gateway.sqlite3'}")
    db.create_schema()
    stamp_head(db.url)
    remember(db.url)
    platform = build_platform(PlatformSettings(database_url=f"sqlite:///{directory / 'platform.sqlite3'}",
                                               public_url=base_url, sandbox_actions=False), clock=clock)
    gw = build_gateway(Settings(database_url=db.url, public_url=base_url, sandbox_actions=False), clock=clock, db=db,
                       platform=platform)
    served = Served(create_app(gw), port)
    yield served
    served.stop()
    platform.db.dispose()
    db.dispose()
