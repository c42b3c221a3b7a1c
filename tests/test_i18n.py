"""The candidate exam UI is translatable: no bare Chinese in its templates and scripts, every msgid
of the `js` domain and of templates/exam has an English translation, and the pages follow the
chosen language (Simplified Chinese by default, English on request)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from examsys.i18n import js_translations
from tests.i18n_scan import CJK, js_msgids, js_violations, template_violations

ROOT = Path(__file__).resolve().parents[1]
EXAM_TEMPLATES = sorted((ROOT / "templates" / "exam").glob("*.html"))
SCRIPTS = sorted((ROOT / "static" / "js").rglob("*.js"))
PO = ROOT / "translations" / "en" / "LC_MESSAGES"
DATA_BLOCK = re.compile(r'<script type="application/json" id="i18n-js">(.*?)</script>', re.S)
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalogue(domain: str):
    with open(PO / f"{domain}.po", "rb") as f:
        return read_po(f)


def _assert_translated(catalogue, msgids, where: str) -> None:
    problems = []
    for msgid in sorted(msgids):
        message = catalogue.get(msgid)
        if message is None:
            problems.append(f"missing: {msgid!r}")
        elif not message.string or message.fuzzy:
            problems.append(f"untranslated or fuzzy: {msgid!r}")
        elif not set(PLACEHOLDER.findall(message.string)) <= set(PLACEHOLDER.findall(msgid)):
            problems.append(f"unknown placeholder in {message.string!r}")
    assert not problems, f"{where}: " + "; ".join(problems[:10])


# --- (a) nothing Chinese outside translation calls ----------------------------------------------


def test_scanner_finds_bare_chinese():
    src = ('var a = "中文"; // 注释\n/* 块 */ x = _("好") + _f(\'格式 %(n)s\', {n: 1});\n'
           'y = /（/; z = a / 2 / "\\u4e09"; w = X._("也好");')
    assert js_violations(src) == ["line 1: string '中文'", "line 3: regex '（'", "line 3: string '\\\\u4e09'"]
    assert template_violations("{# 注释 #}<p>{{ _('好') }}</p>{% trans %}好{% endtrans %}<b>坏</b>") == [
        "<p>{{ ) }}</p><b>坏</b>"]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scripts_have_no_bare_chinese(path):
    assert js_violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", EXAM_TEMPLATES, ids=lambda p: p.name)
def test_exam_templates_have_no_bare_chinese(path):
    assert template_violations(path.read_text(encoding="utf-8")) == []


# --- (b) every msgid has an English translation --------------------------------------------------


def test_js_catalogue_is_complete_and_current():
    catalogue = _catalogue("js")
    in_catalogue = {m.id for m in catalogue if m.id}
    _assert_translated(catalogue, in_catalogue, "js.po")
    used = set().union(*(js_msgids(p.read_text(encoding="utf-8")) for p in SCRIPTS))
    assert used, "no translation calls found in static/js"
    # A call the catalogue lacks (e.g. one pybabel missed, or a `make messages` not run yet).
    assert used <= in_catalogue, sorted(used - in_catalogue)[:10]


def test_exam_template_msgids_are_translated():
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    used = {msg for path in EXAM_TEMPLATES
            for _line, msg, _comments, _ctx in extract_from_file(babel_extract, str(path), keywords=keywords)}
    assert len(used) > 60
    _assert_translated(_catalogue("messages"), used, "messages.po (templates/exam)")


def test_no_fuzzy_entries():
    for domain in ("messages", "js"):
        assert not [m.id for m in _catalogue(domain) if m.id and m.fuzzy], domain


# --- (c) the pages follow the language ------------------------------------------------------------


def _table(html: str) -> dict:
    match = DATA_BLOCK.search(html)
    assert match, "no translations data block"
    return json.loads(match.group(1))


def _visible(html: str) -> str:
    """Markup minus the data block and the language switch (each language names itself)."""
    html = DATA_BLOCK.sub("", html)
    html = re.sub(r'<span class="exam-lang".*?</span>', "", html, flags=re.S)
    return html


def test_js_translations_per_locale(app):
    with app.test_request_context():
        assert js_translations("zh_CN") == {}  # the source language: msgids show as written
        english = js_translations("en")
        assert english["第 %(n)s 题"] == "Question %(n)s"
        assert english == _js_catalogue_from_po()
        assert js_translations("fr") == {}  # no catalogue: the Chinese source texts


def _js_catalogue_from_po() -> dict:
    return {m.id: m.string for m in _catalogue("js") if m.id}


def test_exam_pages_are_chinese_by_default(app):
    client = app.test_client()
    html = client.get("/exam/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "考生登录" in html and "准考证号" in html
    assert _table(html) == {}
    assert 'action="/lang/en"' in html and 'name="csrf_token"' in html
    assert _table(client.get("/exam/app").get_data(as_text=True)) == {}


def test_exam_login_in_english(app):
    client = app.test_client()
    resp = client.post("/lang/en", headers={"Referer": "http://localhost/exam/"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/exam/")
    html = client.get("/exam/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Candidate sign-in" in html and "Admission ticket no." in html and "ID number" in html
    table = _table(html)
    assert table["开始考试"] == "Start exam" and table["判断题"] == "True/false"
    assert all(isinstance(v, str) and v for v in table.values())
    assert not CJK.search(_visible(html)), CJK.findall(_visible(html))[:10]
    assert '<button type="submit" class="exam-lang-btn" lang="en" aria-current="true">English</button>' in html


def test_exam_app_page_follows_the_language(app):
    client = app.test_client()
    client.post("/lang/en")
    html = client.get("/exam/app").get_data(as_text=True)
    assert '<html lang="en">' in html and "Answer card" in html and "Submit" in html
    assert _table(html)["已答 %(done)s 题 / 共 %(total)s 题"] == "Answered %(done)s of %(total)s"
    assert not CJK.search(_visible(html)), CJK.findall(_visible(html))[:10]
    client.post("/lang/zh_CN")
    html = client.get("/exam/app").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "答题卡" in html and _table(html) == {}


def test_staff_pages_carry_the_table_too(app):
    """item_editor.js and proctor.js run on base.html pages: the same data block is there."""
    client = app.test_client()
    assert _table(client.get("/login").get_data(as_text=True)) == {}
    client.post("/lang/en")
    html = client.get("/login").get_data(as_text=True)
    assert _table(html)["正在上传…"] == "Uploading…"
    assert "/static/js/i18n.js" in html
