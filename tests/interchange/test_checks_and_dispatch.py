"""The structural content check the bank can reuse, and parse_file / emit dispatch."""

from __future__ import annotations

import pytest

from examsys.interchange import (
    InterchangeError,
    ItemDraft,
    SourceRef,
    count_blanks,
    emit,
    make_content,
    parse_file,
    validate_content,
)
from examsys.interchange.model import ImportIssue

OPTS = [{"label": "A", "text": "甲"}, {"label": "B", "text": "乙"}, {"label": "C", "text": "丙"}]


@pytest.mark.parametrize(
    "qtype,content,expected",
    [
        ("single", make_content("single", "x", options=OPTS, key="B"), []),
        (
            "single",
            make_content("single", "x", options=OPTS, key="AB"),
            [("key", '单选题只能有一个正确答案，实际为 "AB"')],
        ),
        (
            "multi",
            make_content("multi", "x", options=OPTS, key=["A"]),
            [("key", '多选题至少需要两个正确答案，实际为 "A"')],
        ),
        ("multi", make_content("multi", "x", options=OPTS, key=["A", "D"]), [("key", "答案 D 不是已有的选项")]),
        ("single", make_content("single", "x", options=OPTS[:1], key="A"), [("options", "选择题至少需要两个选项")]),
        (
            "single",
            make_content("single", "x", options=[*OPTS[:2], {"label": "C", "text": " "}], key="A"),
            [("options", "选项C 为空")],
        ),
        (
            "single",
            make_content("single", "x", options=[*OPTS[:2], {"label": "C", "text": "甲"}], key="A"),
            [("options", "选项C 与选项A 重复")],
        ),
        ("judge", make_content("judge", "x", key="对"), [("key", "判断题答案必须是“正确”或“错误”")]),
        ("fill", make_content("fill", "a ____ b （ ）", key=[["1"], ["2"]]), []),
        (
            "fill",
            make_content("fill", "no blank", key=[["1"]]),
            [("stem", "填空题题干中没有空（用 ____ 或 （  ） 标出每个空）")],
        ),
        ("fill", make_content("fill", "a ____", key=[["1"], ["2"]]), [("key", "题干有 1 个空，答案有 2 组")]),
        (
            "essay",
            make_content("essay", "x", scoring_points=[{"text": "a", "points": 0}]),
            [("scoring_points", "第 1 条评分要点的分值必须大于 0")],
        ),
        ("short", make_content("short", ""), [("stem", "题干不能为空")]),
        ("oral", {}, [("qtype", "未知题型 'oral'")]),
    ],
)
def test_validate_content(qtype, content, expected):
    assert validate_content(qtype, content) == expected


def test_count_blanks_html_and_fullwidth():
    assert count_blanks("a____b______c（&nbsp;&nbsp;）d（　）e___") == 4


def test_model_formatting():
    assert str(SourceRef("bank.xlsx", 12)) == "bank.xlsx:12"
    assert str(SourceRef("q.zip/a.xml", None, "电压")) == "q.zip/a.xml:电压"
    assert str(ImportIssue("bank.xlsx:12", "答案", "不能为空")) == "bank.xlsx:12: 答案: 不能为空"
    assert str(InterchangeError("bad.zip", "损坏", 3)) == "bad.zip:3: 损坏"


def test_dispatch_by_extension_and_content():
    judge = ItemDraft("judge", make_content("judge", "对吗", key=True))
    for fmt, name in (("xlsx", "a.xlsx"), ("moodle-xml", "a.xml"), ("qti3", "a.zip")):
        data = emit(fmt, [judge])
        assert parse_file(name, data).items[0].content == judge.content
    # Content sniffing when the extension says nothing useful.
    assert parse_file("upload.bin", emit("qti3", [judge])).items[0].qtype == "judge"
    assert parse_file("upload", emit("xlsx", [judge])).items[0].qtype == "judge"
    assert parse_file("quiz", emit("moodle-xml", [judge])).items[0].qtype == "judge"
    assert parse_file("q.txt", "对吗{T}".encode()).items[0].qtype == "judge"


def test_unknown_inputs_and_formats():
    with pytest.raises(InterchangeError, match="不支持的文件类型"):
        parse_file("a.pdf", b"%PDF-1.4")
    with pytest.raises(InterchangeError, match="无法识别的 XML"):
        parse_file("a.xml", b'<html xmlns="http://www.w3.org/1999/xhtml"/>')
    with pytest.raises(ValueError, match="unknown export format"):
        emit("docx", [])
