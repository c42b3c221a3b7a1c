"""The item editor as a question writer expects it, in a real browser on the demo: radio buttons
where one answer is right, checkboxes for multiple choice, options added and removed (2–8), a
searchable knowledge-point picker showing the tree path, levels as checkboxes defaulting to the
level being worked on, difficulty as words, every missing field flagged at once; the same editor
without JavaScript; no console (CSP) errors.

Set EXAMSYS_SCREENSHOTS=<dir> to keep screenshots of the editor for each type."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_item_editor import _shot, _writer

pytestmark = pytest.mark.browser

QTYPES = ["single", "multi", "judge", "fill", "short", "calc", "essay", "case"]


def _visible_rows(page):
    return page.locator("[data-role=option-row]:visible")


def test_editor_fields_for_each_type(live_server, page):
    base, demo = live_server
    writer = _writer(demo)
    login(page, base, writer["username"], writer["password"])
    page.goto(base + "/bank/items/new?standard_id=1&level=4")

    # Levels: checkboxes, only the level worked on (?level=4) ticked.
    levels = page.locator("input[name=levels]")
    assert levels.count() >= 2
    assert [levels.nth(i).get_attribute("value") for i in range(levels.count()) if levels.nth(i).is_checked()] == ["4"]
    # Difficulty in words.
    assert page.locator("#difficulty option").all_inner_texts() == ["易", "较易", "中等", "较难", "难"]

    # Single choice: one radio per option, four rows to start with.
    assert _visible_rows(page).count() == 4
    assert page.locator("[data-role=option-row]:visible input[name=choice_key]").first.get_attribute("type") == "radio"
    for qtype in QTYPES:
        page.select_option("#qtype", qtype)
        _shot(page, f"editor-new-{qtype}.png", full_page=True)
        if qtype == "multi":
            assert page.locator("[data-role=option-row]:visible input[name=choice_key]").first.get_attribute(
                "type") == "checkbox"
            expect(page.locator("[data-role=key-hint]")).to_contain_text("至少两个")
        if qtype == "judge":
            assert page.locator("#judge_key input[type=radio]:visible").count() == 2
            assert page.locator("#section-options").is_hidden()
        if qtype in ("short", "calc", "essay", "case"):
            assert page.locator("#scoring_points").is_visible() and page.locator("#section-options").is_hidden()
    page.select_option("#qtype", "single")

    # Picking a key with radios leaves exactly one chosen.
    page.check("[data-role=option-row] input[value=A]")
    page.check("[data-role=option-row] input[value=C]")
    assert page.locator("input[name=choice_key]:checked").count() == 1

    # Options: add up to 8, remove down to 2; later rows (and the key mark) move up.
    for label, text in zip("abcd", ("甲", "乙", "丙", "丁"), strict=True):
        page.fill(f"#option_{label}", text)
    page.click("[data-role=option-add]")
    assert _visible_rows(page).count() == 5
    expect(page.locator("#option_e")).to_be_focused()
    page.fill("#option_e", "戊")
    page.click("button[data-role=option-remove][value=remove-B]")
    assert _visible_rows(page).count() == 4
    assert [page.input_value(f"#option_{c}") for c in "abcd"] == ["甲", "丙", "丁", "戊"]
    assert page.locator("input[name=choice_key]:checked").get_attribute("value") == "B"  # 丙 moved up from C
    assert page.input_value("input[name=option_count]") == "4"
    for _ in range(4):
        page.click("[data-role=option-add]")
    assert _visible_rows(page).count() == 8 and page.locator("[data-role=option-add]").is_disabled()
    for _ in range(6):
        page.locator("[data-role=option-row]:visible button[data-role=option-remove]").last.click()
    assert _visible_rows(page).count() == 2
    assert page.locator("[data-role=option-row]:visible button[data-role=option-remove]").first.is_disabled()

    # Knowledge point: a search box filters the grouped list; the tree path of the choice shows.
    search = page.locator("[data-role=point-search]")
    assert "鉴定点" in search.get_attribute("placeholder")
    total = page.locator("#point_id option[value]:not([value=''])").count()
    first_name = page.locator("#point_id option[value]:not([value=''])").first.inner_text().split(" ")[1]
    search.fill(first_name[:3])
    matches = page.locator("#point_id option:not([hidden]):not([value=''])").count()
    assert 0 < matches < total
    search.press("Enter")
    assert page.input_value("#point_id") != ""
    expect(page.locator("[data-role=point-path]")).to_contain_text("已选：")
    assert " / " in page.locator("[data-role=point-path]").inner_text() or "›" in page.locator(
        "[data-role=point-path]").inner_text()
    _shot(page, "editor-picker.png", full_page=True)
    assert page.console_errors == []


def test_every_missing_field_is_flagged_at_once(live_server, page):
    base, demo = live_server
    writer = _writer(demo)
    login(page, base, writer["username"], writer["password"])
    page.goto(base + "/bank/items/new?standard_id=1")
    for box in page.locator("input[name=levels]:checked").all():
        box.uncheck()
    page.fill("#note", "")
    page.click("button[name=save]")
    page.wait_for_load_state()
    summary = page.locator("[data-role=error-summary]")
    expect(summary).to_be_visible()
    text = summary.inner_text()
    for expected in ("请填写题干", "请选择鉴定点", "请至少选择一个适用等级", "请填写修改说明", "选项A 为空",
                     "请选择正确答案（单选题选一个选项）"):
        assert expected in text, text
    assert '实际为 ""' not in page.content()
    assert page.locator(".has-error").count() >= 5
    _shot(page, "editor-errors.png", full_page=True)
    assert page.console_errors == []


def test_a_single_choice_item_written_and_saved(live_server, page):
    base, demo = live_server
    writer = _writer(demo)
    login(page, base, writer["username"], writer["password"])
    page.goto(base + "/bank/items/new?standard_id=1&level=3")
    page.fill("#stem", "电流的单位是（  ）。")
    page.locator("[data-role=point-search]").fill("")
    page.select_option("#point_id", index=1)
    for label, text in zip("abc", ("安培", "伏特", "欧姆"), strict=True):
        page.fill(f"#option_{label}", text)
    page.locator("[data-role=option-row]:visible button[data-role=option-remove]").last.click()
    page.check("[data-role=option-row] input[value=A]")
    page.select_option("#difficulty", label="较易")
    page.click("button[name=save]")
    page.wait_for_url(re.compile(r".*/bank/items/\d+$"))
    props = page.locator("dl.props").inner_text()
    assert "较易" in props and "三级" in props
    assert page.locator(".item-body .options li").count() == 3
    _shot(page, "item-page-words.png", full_page=True)
    # The next new item defaults to the level just worked on.
    page.goto(base + "/bank/items/new?standard_id=1")
    assert [b.get_attribute("value") for b in page.locator("input[name=levels]:checked").all()] == ["3"]
    assert page.console_errors == []


def test_the_editor_without_javascript(live_server, browser):
    base, demo = live_server
    writer = _writer(demo)
    context = browser.new_context(locale="zh-CN", java_script_enabled=False, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    try:
        login(page, base, writer["username"], writer["password"])
        page.goto(base + "/bank/items/new?standard_id=1&qtype=single&level=4")
        assert page.locator("[data-role=option-row]:visible").count() == 4
        page.fill("#option_a", "安培")
        page.fill("#option_b", "伏特")
        page.check("[data-role=option-row] input[value=B]")
        page.click("[data-role=option-add]")
        page.wait_for_load_state()
        assert page.locator("[data-role=option-row]:visible").count() == 5
        assert page.input_value("#option_b") == "伏特" and page.is_checked("input[name=choice_key][value=B]")
        page.click("button[data-role=option-remove][value=remove-A]")
        page.wait_for_load_state()
        assert page.locator("[data-role=option-row]:visible").count() == 4
        assert page.input_value("#option_a") == "伏特" and page.is_checked("input[name=choice_key][value=A]")
        assert page.locator("[data-role=option-row] input[name=choice_key]").first.get_attribute("type") == "radio"
        page.fill("#stem", "电压的单位是（  ）。")
        page.fill("#option_b", "安培")
        page.click("[data-role=option-row]:visible >> nth=3 >> button[data-role=option-remove]")
        page.click("[data-role=option-row]:visible >> nth=2 >> button[data-role=option-remove]")
        page.select_option("#point_id", index=1)
        page.click("button[name=save]")
        page.wait_for_url(re.compile(r".*/bank/items/\d+$"))
        assert "电压的单位" in page.locator(".item-body").inner_text()
    finally:
        context.close()


def test_editing_a_multiple_choice_item_keeps_its_key_point_and_levels(live_server, page):
    base, demo = live_server
    writer = _writer(demo)
    login(page, base, writer["username"], writer["password"])
    page.goto(base + "/bank/items?qtype=multi")
    page.locator("table.table tbody tr td.mono a").first.click()
    page.wait_for_url(re.compile(r".*/bank/items/\d+$"))
    difficulty = page.locator("dl.props dd").nth(2).inner_text()
    assert difficulty in ("易", "较易", "中等", "较难", "难")
    page.click("a.btn-primary:has-text('编辑')")
    page.wait_for_url(re.compile(r".*/edit$"))
    keys = page.locator("[data-role=option-row]:visible input[name=choice_key]")
    assert keys.first.get_attribute("type") == "checkbox"
    assert page.locator("input[name=choice_key]:checked").count() >= 2
    assert page.input_value("#point_id") != ""
    expect(page.locator("[data-role=point-path]")).to_contain_text("已选：")
    assert page.locator("input[name=levels]:checked").count() >= 1
    assert page.locator("#qtype").count() == 0  # an item keeps its type
    _shot(page, "editor-edit-multi.png", full_page=True)
    assert page.console_errors == []
