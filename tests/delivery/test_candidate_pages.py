"""The candidate shell pages (/exam/, /exam/app): public, CSP-clean (no inline script or style,
no third-party assets), never cached, and free of anything an answer key is made of."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from examsys.permissions import PUBLIC_ENDPOINTS, declared_access

ROOT = Path(__file__).resolve().parents[2]
ITEMS = ROOT / "examsys" / "demo" / "data" / "electrician_6-31-01-03_items.json"
PAGES = ["/exam/", "/exam/app"]


@pytest.fixture(scope="module")
def shell_client(app):
    """The pages touch no database: a client of the shared test app is enough."""
    assert "exam" in app.blueprints
    return app.test_client()


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        # A JSON data block (the translations table) is data, never executed: CSP has no say in it.
        self._in_script = tag == "script" and dict(attrs).get("type") != "application/json"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text += data


def _parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    return p


@pytest.mark.parametrize("path", PAGES)
def test_shell_renders_in_chinese_and_is_not_cached(shell_client, path):
    resp = shell_client.get(path)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "考" in html


@pytest.mark.parametrize("path", PAGES)
def test_shell_has_no_inline_script_or_style(shell_client, path):
    html = shell_client.get(path).get_data(as_text=True)
    page = _parse(html)
    assert page.script_text.strip() == ""
    for tag, attrs in page.tags:
        assert tag != "style", "inline <style> violates style-src 'self'"
        assert "style" not in attrs, f"style attribute on <{tag}>"
        assert not any(name.startswith("on") for name in attrs), f"inline handler on <{tag}>"
        if tag == "script" and attrs.get("type") == "application/json":
            assert "src" not in attrs and attrs.get("id") == "i18n-js", attrs
        elif tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs
        if tag == "link" and attrs.get("rel") == "stylesheet":
            assert attrs["href"].startswith("/static/"), attrs
    assert "javascript:" not in html


def test_login_page_asks_for_ticket_and_id_only(shell_client):
    html = shell_client.get("/exam/").get_data(as_text=True)
    for label in ("准考证号", "身份证号", "考场口令"):
        assert label in html
    assert 'type="password"' not in html
    # The exam token lives in sessionStorage, never in a cookie. The only cookie is Flask's session
    # (HttpOnly), which holds the CSRF token of the language switch and the chosen language.
    cookies = shell_client.application.test_client().get("/exam/").headers.getlist("Set-Cookie")
    assert all(c.startswith("examsys_session=") and "HttpOnly" in c for c in cookies), cookies


def test_shell_endpoints_are_declared_public(shell_client):
    app = shell_client.application
    for endpoint in ("exam.login", "exam.app"):
        assert endpoint in PUBLIC_ENDPOINTS
        assert declared_access(app.view_functions[endpoint])[0] == "public"


def _key_strings() -> set[str]:
    """Answer keys, explanations, reference answers and scoring points of the demo bank, long
    enough to be unmistakable."""
    out: set[str] = set()
    for item in json.loads(ITEMS.read_text(encoding="utf-8"))["items"]:
        content = item["content"]
        for field in ("explanation", "reference_answer"):
            text = re.sub(r"<[^>]+>", "", content.get(field) or "")
            if len(text) >= 10:
                out.add(text[:24])
        for point in content.get("scoring_points") or []:
            if len(point.get("text", "")) >= 8:
                out.add(point["text"])
        key = content.get("key")
        if item["qtype"] == "fill" and key:
            # Short or purely numeric answers ("1500") would match ordinary code, not a leak.
            out.update(a for blank in key for a in blank if len(a) >= 4 and re.search(r"[^\d.]", a))
    return out


def test_no_answer_key_in_pages_or_exam_assets(shell_client):
    keys = _key_strings()
    assert len(keys) > 100
    texts = [shell_client.get(p).get_data(as_text=True) for p in PAGES]
    assets = sorted((ROOT / "static" / "js" / "exam").glob("*.js")) + [ROOT / "static" / "css" / "exam.css"]
    texts += [a.read_text(encoding="utf-8") for a in assets]
    for text in texts:
        leaked = [k for k in keys if k in text]
        assert not leaked, leaked[:3]
    # The page never asks the API for keys: no such words in the client code.
    js = "\n".join(a.read_text(encoding="utf-8") for a in assets if a.suffix == ".js")
    for word in ("explanation", "reference_answer", "scoring_points", '"key"'):
        assert word not in js, word
