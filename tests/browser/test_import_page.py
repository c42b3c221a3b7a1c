"""The import page in a real browser on the demo: the size limit stated, the Excel template
downloadable for the chosen standard, and every refusal in Chinese on the same page (no file, a
file that is not Excel, malformed XML, a file over the limit refused before it is uploaded),
with no console (CSP) errors.

Set EXAMSYS_SCREENSHOTS=<dir> to keep screenshots of the page with an error."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_item_editor import _shot, _writer

pytestmark = pytest.mark.browser


def test_import_page_template_and_errors(live_server, page, tmp_path):
    base, demo = live_server
    writer = _writer(demo)
    login(page, base, writer["username"], writer["password"])
    page.goto(base + "/bank/import")
    expect(page.locator("main")).to_contain_text("每个文件不超过 50 MB")

    # The template, for the standard chosen on the page.
    with page.expect_download() as info:
        page.click("[data-role=template-link]")
    book = load_workbook(io.BytesIO(info.value.path().read_bytes()))
    assert book.sheetnames == ["试题", "填写说明"] and book["试题"].max_row == 9

    # 预检 with no file: an error on the page, not a silent reload.
    page.click("button[name=preview]")
    page.wait_for_load_state()
    expect(page.locator(".field.has-error")).to_contain_text("请先选择要导入的题库文件")

    # A text file named .xlsx.
    fake = tmp_path / "题库.xlsx"
    fake.write_text("题型,题干\n单选题,电流的单位\n", encoding="utf-8")
    page.set_input_files("#file", str(fake))
    page.click("button[name=preview]")
    page.wait_for_load_state()
    errors = page.locator("table.table").last
    expect(errors).to_contain_text("题库.xlsx")
    expect(errors).to_contain_text("不是 Excel（.xlsx）文件")
    assert "zip" not in errors.inner_text()
    _shot(page, "import-not-excel.png", full_page=True)

    # Malformed XML: Chinese, with line and column.
    page.goto(base + "/bank/import")
    broken = tmp_path / "quiz.xml"
    broken.write_bytes(b"<quiz>\n<question type=\"essay\">a & b</question>\n</quiz>")
    page.set_input_files("#file", str(broken))
    page.click("button[name=preview]")
    page.wait_for_load_state()
    errors = page.locator("table.table").last
    expect(errors).to_contain_text("第 2 行第 27 列")
    assert "not well-formed" not in errors.inner_text()
    _shot(page, "import-bad-xml.png", full_page=True)

    # Over the limit: refused before upload, on the same page, the form kept.
    page.goto(base + "/bank/import")
    big = tmp_path / "big.xlsx"
    with open(big, "wb") as f:
        f.truncate(51 * 1024 * 1024)
    page.set_input_files("#file", str(big))
    alert = page.locator("[data-role=file-error]")
    expect(alert).to_contain_text("超过 50 MB 的上限")
    expect(alert).to_contain_text("big.xlsx")
    assert page.input_value("#file") == ""
    _shot(page, "import-too-big.png", full_page=True)
    assert page.console_errors == []
