"""The item editor in a real browser: live preview draws formulas, "插入图片" uploads an image and
inserts it at the cursor, and the saved item shows both, with no console (CSP) errors.

Set EXAMSYS_SCREENSHOTS=<dir> to keep screenshots of the editor and the item page."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

FORMULA = r"\(P=\sqrt{3}UI\cos\varphi\)"


def _shot(page, name: str, **kwargs) -> None:
    folder = os.environ.get("EXAMSYS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), **kwargs)


def _writer(demo) -> dict:
    return next(u for u in demo["users"] if u["username"] == "writer")


def test_formula_preview_image_upload_and_saved_item(live_server, page, tmp_path):
    base, demo = live_server
    writer = _writer(demo)
    picture = tmp_path / "circuit.png"
    image = Image.new("RGB", (120, 60), (255, 255, 255))
    for x in range(10, 110):
        image.putpixel((x, 30), (200, 30, 30))
    image.save(picture)

    login(page, base, writer["username"], writer["password"])
    page.goto(base + "/bank/items/new?standard_id=1")
    page.select_option("#qtype", "single")
    page.select_option("#point_id", index=1)

    stem = page.locator("#stem")
    stem.click()
    page.keyboard.type(f"三相对称负载的有功功率 {FORMULA}，电路如图：")
    # The preview (debounced, POST /bank/preview) shows the formula drawn as an image.
    preview_formula = page.locator(".preview-body img.math")
    preview_formula.wait_for(timeout=10_000)
    assert preview_formula.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert preview_formula.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator(".media-bar").first.locator("[data-role=media-target]").inner_text() == "插入到：题干"

    # Upload through "插入图片": the <img> goes in at the cursor (end of the stem), the preview follows.
    page.set_input_files("#media-stem", str(picture))
    # (Playwright's expect() polls without eval: the page's CSP has no 'unsafe-eval'.)
    expect(stem).to_have_value(re.compile(r'电路如图：<img src="/assets/[0-9a-f]{64}" alt="">$'), timeout=10_000)
    value = stem.input_value()
    page.locator(".preview-body img[src^='/assets/']").wait_for(timeout=10_000)
    _shot(page, "editor-preview.png", full_page=True)

    # A wrong file type gets the server's Chinese message next to the button.
    bogus = tmp_path / "notes.png"
    bogus.write_bytes(b"this is not an image")
    page.set_input_files("#media-stem", str(bogus))
    error = page.locator(".media-bar").first.locator("[data-role=media-error]")
    expect(error).to_contain_text("不是支持的图片格式", timeout=10_000)
    assert stem.input_value() == value  # nothing inserted

    for label, text in zip("abcd", ("4.5 kW", "7.8 kW", "13.5 kW", "2.6 kW"), strict=True):
        page.fill(f"#option_{label}", text)
    page.check("input[name=choice_key][value=B]")
    page.fill("#note", "新建含公式和图片的试题")
    page.click("button[name=save]")
    page.wait_for_url(re.compile(r".*/bank/items/\d+$"))

    formula = page.locator(".item-body .stem img.math")
    picture_img = page.locator(".item-body .stem img[src^='/assets/']")
    assert formula.count() == 1 and picture_img.count() == 1
    assert formula.get_attribute("alt") == r"P=\sqrt{3}UI\cos\varphi"
    for img in (formula, picture_img):
        assert img.evaluate("img => img.complete && img.naturalWidth > 0")
    _shot(page, "item-page.png", full_page=True)
    # The one refused upload logs its 422; nothing else (no CSP violation, no script error).
    refused = [e for e in page.console_errors if "status of 422" in e]
    assert len(refused) == 1 and [e for e in page.console_errors if e not in refused] == []
