"""Moodle XML: the conformance export with nested categories, every question type we
hold, unsupported types by name, embedded files, cloze gaps."""

from __future__ import annotations

import base64

import pytest

from examsys.interchange import InterchangeError, parse_file

from .conftest import conformance_dir


def test_nested_categories_conformance_file():
    folder = conformance_dir("moodle-xml")
    name = "nested_categories_with_questions.xml"
    result = parse_file(name, (folder / name).read_bytes())
    assert result.errors == [] and result.unsupported == []
    got = [(i.qtype, i.source.name, i.kp_path, i.content["stem"], i.content["key"]) for i in result.items]
    assert got == [
        ("judge", "Iota Question", ["Iota"], "<p>Testing Iota Question</p>", True),
        ("essay", "Kappa Essay Question", ["Iota", "Kappa"], "Testing Kappa Essay Question", None),
        ("judge", "Kappa Question", ["Iota", "Kappa"], "<p>Testing Kappa Question</p>", True),
        ("judge", "Lambda Question", ["Iota", "Kappa", "Lambda"], "<p>Testing Lambda Question</p>", True),
        ("judge", "Mu Question", ["Iota", "Mu"], "<p>Testing Mu Question</p>", True),
    ]
    assert all(i.points == 1.0 for i in result.items)


PNG = b"\x89PNG\r\n\x1a\nfake"

QUIZ = f"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/电工//电子/安全</text></category></question>
  <question type="multichoice">
    <name><text>MC1</text></name>
    <questiontext format="html"><text><![CDATA[<p>看图 <img src="@@PLUGINFILE@@/a.png"></p>]]></text>
      <file name="a.png" path="/" encoding="base64">{base64.b64encode(PNG).decode()}</file>
    </questiontext>
    <generalfeedback format="html"><text>因为如此</text></generalfeedback>
    <defaultgrade>2.5000000</defaultgrade>
    <idnumber>MC-1</idnumber>
    <single>false</single>
    <answer fraction="50"><text>甲</text></answer>
    <answer fraction="50"><text>乙</text></answer>
    <answer fraction="-100"><text>丙</text></answer>
    <tags><tag><text>重点</text></tag></tags>
  </question>
  <question type="multichoice">
    <name><text>MC2</text></name>
    <questiontext format="plain_text"><text>a &lt; b</text></questiontext>
    <single>true</single>
    <answer fraction="100"><text>是</text></answer>
    <answer fraction="33.33333"><text>近似</text></answer>
    <answer fraction="0"><text>否</text></answer>
  </question>
  <question type="shortanswer">
    <name><text>SA</text></name>
    <questiontext format="html"><text>首都是哪里？</text></questiontext>
    <answer fraction="100"><text>北京</text></answer>
    <answer fraction="100"><text>Beijing</text></answer>
  </question>
  <question type="multianswer">
    <name><text>Cloze</text></name>
    <questiontext format="html"><text>{{1:SHORTANSWER:=红~%50%粉}} 和 {{1:SA:=绿\\}}色}}</text></questiontext>
  </question>
  <question type="multianswer">
    <name><text>ClozeMC</text></name>
    <questiontext format="html"><text>{{1:MULTICHOICE:=a~b}}</text></questiontext>
  </question>
  <question type="matching"><name><text>配对题</text></name>
    <questiontext><text>x</text></questiontext></question>
  <question type="ddwtos"><name><text>拖放</text></name>
    <questiontext><text>x</text></questiontext></question>
  <question type="description"><name><text>说明</text></name>
    <questiontext><text>x</text></questiontext></question>
</quiz>"""


def test_moodle_types_files_and_reports():
    result = parse_file("quiz.xml", QUIZ.encode("utf-8"))
    assert result.errors == []
    mc1, mc2, sa, cloze = result.items
    assert mc1.kp_path == ["电工/电子", "安全"]
    assert (mc1.qtype, mc1.content["key"], mc1.points, mc1.external_id, mc1.tags) == (
        "multi",
        ["A", "B"],
        2.5,
        "MC-1",
        ["重点"],
    )
    assert mc1.content["explanation"] == "因为如此"
    assert [(a.name, a.data) for a in mc1.attachments] == [("a.png", PNG)]
    assert (mc2.qtype, mc2.content["key"], mc2.content["stem"]) == ("single", "A", "a &lt; b")
    assert sa.content == {
        "stem": "首都是哪里？ _____",
        "options": [],
        "key": [["北京", "Beijing"]],
        "reference_answer": "",
        "scoring_points": [],
        "explanation": "",
    }
    assert cloze.content["stem"] == "_____ 和 _____"
    assert cloze.content["key"] == [["红"], ["绿}色"]]
    unsupported = [str(u) for u in result.unsupported]
    assert len(unsupported) == 3
    assert "ClozeMC" in unsupported[0] and "MULTICHOICE" in unsupported[0]
    assert "「配对题」是匹配题（matching）" in unsupported[1]
    assert "「拖放」是拖放填空题（ddwtos）" in unsupported[2]
    notes = " ".join(n.message for n in result.notes)
    assert "近似" in notes and "粉" in notes and "说明" in notes


def test_not_a_quiz_and_broken_xml():
    with pytest.raises(InterchangeError, match=r"^broken.xml:3: XML 格式错误"):
        parse_file("broken.xml", b"<quiz>\n<question>\n</quiz>")
