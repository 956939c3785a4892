"""The home page and the console's pages as plain HTML: every control is a
native one with a label (usable with the keyboard and a screen reader), and
nothing is loaded from elsewhere (these machines have no internet)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from gateway.app import create_app
from gateway.ehealth.platform import create_platform_app
from gateway.web.html import WEB

ASSETS = {"link": "href", "script": "src", "img": "src", "iframe": "src", "object": "data", "embed": "src",
          "source": "src", "video": "src", "audio": "src", "track": "src"}


def pages(client: TestClient, platform_client: TestClient) -> dict[str, str]:
    token = "/sandbox/console/token"
    return {
        "home": client.get("/").text,
        "console": client.get("/sandbox/console/").text,
        "access token": client.post(token, data={"persona": "gp", "kind": "access"}).text,
        "sts assertion": client.post(token, data={"persona": "pharmacist", "kind": "saml"}).text,
        "refusal": client.post(token, data={"persona": "expired-visa", "kind": "saml"}).text,
        "crossroads bank access token": client.post(token, data={"persona": "reg-counsellor", "kind": "access"}).text,
        "crossroads bank sts assertion": client.post(token, data={"persona": "reg-counsellor", "kind": "saml"}).text,
        "announcement refused": client.post("/sandbox/console/register", data={"kind": "death", "niss": "1"}).text,
        "platform root": platform_client.get("/").text,
    }


@pytest.fixture
def all_pages(gw) -> dict[str, str]:
    return pages(TestClient(create_app(gw)), TestClient(create_platform_app(gw.platform)))


def test_every_control_is_native_labelled_and_reachable_by_keyboard(all_pages) -> None:
    for name, text in all_pages.items():
        tree = lxml_html.fromstring(text)
        assert tree.get("lang") == "en" and tree.findtext(".//title"), name
        assert len(tree.findall(".//h1")) == 1, name
        labels = {label.get("for") for label in tree.iter("label")}
        for control in tree.xpath("//input[not(@type='hidden')] | //select | //textarea"):
            assert control.get("id") in labels or control.get("aria-label"), (name, lxml_html.tostring(control))
        for button in tree.iter("button"):
            visible = button.text_content().strip()
            assert visible and button.get("type") == "submit", (name, lxml_html.tostring(button))
            assert (button.get("aria-label") or visible).startswith(visible), name  # the label contains what is seen
        assert tree.xpath("//*[@tabindex > 0] | //*[@role='button'] | //*[@role='link']") == [], name
        assert [a for e in tree.iter() if isinstance(e.tag, str) for a in e.attrib if a.startswith("on")] == [], name
        for anchor in tree.iter("a"):
            assert anchor.get("href") and anchor.text_content().strip(), (name, lxml_html.tostring(anchor))
        for table in tree.iter("table"):
            assert table.find("caption") is not None and all(th.get("scope") == "col" for th in table.iter("th")), name


def test_nothing_is_loaded_from_elsewhere(all_pages) -> None:
    for name, text in all_pages.items():
        tree = lxml_html.fromstring(text)
        assert tree.findall(".//script") == [] and tree.findall(".//style") == [], name  # the policy allows neither
        for tag, attribute in ASSETS.items():
            for element in tree.iter(tag):
                url = element.get(attribute, "")
                assert url.startswith("/") and not url.startswith("//"), (name, tag, url)  # this server's own path
        for anchor in tree.iter("a"):
            parts = urlsplit(anchor.get("href", ""))
            assert parts.netloc in ("", "testserver"), (name, anchor.get("href"))  # links stay on this server
        for form in tree.iter("form"):
            assert form.get("method") == "post" and form.get("action", "").startswith("/sandbox/console/"), name
    css = (WEB / "site.css").read_text()
    assert "url(" not in css and "@import" not in css


def test_the_pages_forbid_scripts_and_other_origins(gw) -> None:
    client = TestClient(create_app(gw))
    for path in ("/", "/sandbox/console/"):
        policy = client.get(path).headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "style-src 'self'" in policy and "form-action 'self'" in policy and "frame-ancestors 'none'" in policy
    assert client.get("/web/site.css").content == (WEB / "site.css").read_bytes()
    assert client.get("/sandbox/console/site.css").content == (WEB / "site.css").read_bytes()


def test_values_are_shown_as_text(gw) -> None:
    client = TestClient(create_app(gw))
    hostile = '<script>alert(1)</script>"><img src=x>'
    page = client.post("/sandbox/console/register", data={"kind": hostile, "niss": "85073003328"}).text
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x&gt;" in page
