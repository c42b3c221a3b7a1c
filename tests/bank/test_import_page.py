"""The import page for a first-time user: a template to download (one example row per type, the
accepted spellings on a second sheet), and every refusal in Chinese on the same page, naming the
file and saying what to do: no file chosen, a file that is not Excel, malformed XML, a file over
the size limit (with the limit stated on the page)."""

import io

from openpyxl import load_workbook

from examsys.interchange import InterchangeError, parse_file
from examsys.interchange.xlsx_template import template_xlsx
from tests.factories import PASSWORD


def _login(client, user):
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


def _preview(client, bank, filename, data):
    resp = client.post("/bank/import", data={"standard_id": bank.standard.id, "preview": "1",
                                             "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")
    return resp.status_code, resp.get_data(as_text=True)


def test_template_has_an_example_per_type_and_the_spellings(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    page = client.get("/bank/import").get_data(as_text=True)
    assert f"/bank/import/template.xlsx?standard_id={bank.standard.id}" in page
    assert "50 MB" in page
    resp = client.get(f"/bank/import/template.xlsx?standard_id={bank.standard.id}")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    assert "attachment" in resp.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["试题", "填写说明"]
    spellings = " ".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    for word in ("单项选择题", "是非题", "标准答案", "难易程度", "√", "较难=4"):
        assert word in spellings
    parsed = parse_file("template.xlsx", resp.data)
    assert parsed.errors == []
    assert sorted(d.qtype for d in parsed.items) == sorted(
        ["judge", "single", "multi", "fill", "short", "calc", "essay", "case"])
    # The example rows import as they stand on the chosen standard.
    status, html = _preview(client, bank, "template.xlsx", resp.data)
    assert status == 200 and "可导入 8 道" in html, html


def test_template_without_a_standard_is_still_a_workbook():
    book = load_workbook(io.BytesIO(template_xlsx()))
    assert book["试题"].max_row == 9


def test_preview_without_a_file_says_so(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    resp = client.post("/bank/import", data={"standard_id": bank.standard.id, "preview": "1"},
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "请先选择要导入的题库文件" in html


def test_a_text_file_named_xlsx_is_reported_in_chinese(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    status, html = _preview(client, bank, "题库.xlsx", "题型,题干\n单选题,电流的单位\n".encode())
    assert "压缩包" not in html and "题库.xlsx" in html
    assert "不是 Excel（.xlsx）文件" in html and "另存为" in html
    # Nothing to confirm in a file refused whole: the page asks for a file again.
    assert 'name="confirm"' not in html and 'type="file"' in html and "文件无法读取" in html


def test_malformed_xml_in_chinese_with_line_and_column():
    try:
        parse_file("quiz.xml", b"<quiz>\n<question type=\"essay\">a & b</question>\n</quiz>")
    except InterchangeError as exc:
        message = str(exc)
    assert message.startswith("quiz.xml:2: XML 格式错误（第 2 行第 27 列）")
    assert "not well-formed" not in message and "&amp;" in message and "修正后重新上传" in message
    try:
        parse_file("quiz.xml", b"<quiz>")
    except InterchangeError as exc:
        message = str(exc)
    assert "第 0 列" not in message and "第 1 行第 7 列" in message


def test_a_file_over_the_limit_answers_on_the_import_page(app, client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    app.config["MAX_CONTENT_LENGTH"] = 200 * 1024
    try:
        status, html = _preview(client, bank, "big.xlsx", b"PK" + b"\0" * 300 * 1024)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 50 * 1024 * 1024
    assert status == 413
    assert "导入试题" in html and 'name="standard_id"' in html and 'type="file"' in html
    assert "超过" in html and "拆分" in html


def test_a_broken_zip_says_what_to_do():
    try:
        parse_file("package.zip", b"PK\x03\x04 truncated")
    except InterchangeError as exc:
        message = str(exc)
    assert message.startswith("package.zip: 不是有效的 zip 压缩包") and "重新" in message
    assert "File is not a zip file" not in message
