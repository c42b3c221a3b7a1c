"""The editor's image upload and live preview endpoints, with CSRF on (the editor's script sends
the token from the page's <meta name="csrf-token"> in the X-CSRFToken header)."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from examsys.permissions import Role
from tests.factories import PASSWORD


def png(size=(24, 16), colour=(30, 90, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def _login(client, user):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302


def _editor_token(client, bank) -> str:
    page = client.get(f"/bank/items/new?standard_id={bank.standard.id}").get_data(as_text=True)
    assert 'data-role="media-file"' in page and 'data-preview-source="stem"' in page
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match, "editor page has no csrf-token meta tag"
    return match.group(1)


def test_upload_with_the_csrf_header(client, bank, db, csrf_on):
    db.session.commit()
    _login(client, bank.writer)
    token = _editor_token(client, bank)
    data = png()
    resp = client.post("/bank/assets", data={"file": (io.BytesIO(data), "电路图.png")},
                       headers={"X-CSRFToken": token, "Accept": "application/json"},
                       content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert re.fullmatch(r"[0-9a-f]{64}", body["sha256"]) and body["url"] == f"/assets/{body['sha256']}"
    image = client.get(body["url"])
    assert image.status_code == 200 and image.mimetype == "image/png"

    # Without the token the upload is refused.
    refused = client.post("/bank/assets", data={"file": (io.BytesIO(data), "a.png")},
                          headers={"Accept": "application/json"}, content_type="multipart/form-data")
    assert refused.status_code == 400


def test_upload_error_is_a_chinese_message(client, bank, db, csrf_on):
    db.session.commit()
    _login(client, bank.writer)
    token = _editor_token(client, bank)
    resp = client.post("/bank/assets", data={"file": (io.BytesIO(b"%PDF-1.4 not an image"), "x.png")},
                       headers={"X-CSRFToken": token, "Accept": "application/json"},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "不是支持的图片格式" in resp.get_json()["error"]["message"]


def test_preview_sanitises_and_renders_math(client, bank, db, csrf_on):
    db.session.commit()
    _login(client, bank.writer)
    token = _editor_token(client, bank)
    stem = (r'<p onclick="x()">功率 \(P=\sqrt{3}UI\cos\varphi\)<script>alert(1)</script>'
            r'<img src="https://evil.example/x.png"><img src="/assets/' + "a" * 64 + '"></p>')
    resp = client.post("/bank/preview", data={"html": stem},
                       headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert resp.status_code == 200
    html = resp.get_json()["html"]
    assert "<script" not in html and "onclick" not in html and "evil.example" not in html
    assert 'class="math"' in html and "data:image/svg+xml;base64," in html
    assert f'<img src="/assets/{"a" * 64}">' in html
    assert html.startswith("<p>功率 <img")

    # JSON bodies are accepted too; bad TeX comes back marked, not dropped.
    resp = client.post("/bank/preview", json={"html": r"\(\nosuchmacro\)"},
                       headers={"X-CSRFToken": token})
    assert "math-error" in resp.get_json()["html"]

    # CSRF applies, and GET is not a way in.
    assert client.post("/bank/preview", data={"html": "x"}).status_code == 400
    assert client.get("/bank/preview?html=x").status_code == 405


def test_preview_refuses_oversized_content(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    resp = client.post("/bank/preview", data={"html": "题" * 20001})
    assert resp.status_code == 422 and "无法预览" in resp.get_json()["error"]["message"]


def test_reviewer_only_user_gets_403(client, bank, db, make):
    reviewer = make.user(roles=Role.REVIEWER, org=bank.org)
    db.session.commit()
    _login(client, reviewer)
    assert client.post("/bank/preview", data={"html": "x"}).status_code == 403
    assert client.post("/bank/assets", data={"file": (io.BytesIO(png()), "a.png")},
                       content_type="multipart/form-data").status_code == 403


def test_item_page_shows_formulas_as_images(client, bank, db):
    item = bank.item("single", content=bank.content(
        "single", stem=r"<p>三相有功功率 \(P=\sqrt{3}UI\cos\varphi\)（  ）。</p>",
        explanation=r"由 \(S=\sqrt{P^2+Q^2}\) 得。"))
    db.session.commit()
    _login(client, bank.writer)
    page = client.get(f"/bank/items/{item.id}").get_data(as_text=True)
    assert page.count('<img class="math"') == 2
    assert r"\sqrt{3}UI" not in page.replace(r'alt="P=\sqrt{3}UI\cos\varphi"', "")
