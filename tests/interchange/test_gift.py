"""GIFT specifics beyond the conformance corpus: categories, escapes, HTML escaping of
plain text, notes and unsupported reports, errors with line numbers."""

from __future__ import annotations

from examsys.interchange import parse_file

SAMPLE = """// 电工题库
$CATEGORY: $course$/top/电工基础/安全 // 用电

::Q1:: 安全电压不高于 36V。{T}

// [id:E-002]
// [tag:必考] [tag:安全]
::Q2::下列属于绝缘材料的是 { =橡胶 ~铜 ~铝 }。

::Q3:: 电流单位 {
  =安培
  =A
}

$CATEGORY: $course$/top/电工基础

::Q4:: a < b & c?{
  ~%50%甲
  ~%50%乙
  ~%-100%丙
  #### 选甲和乙
}

::Q5:: 描述电路。{}

::说明:: 以下为计算题。

::Q6:: 1+1? {#2}

::Q7:: 配对 { =甲 -> 1 =乙 -> 2 }
"""


def test_gift_sample_end_to_end():
    result = parse_file("dg.gift", SAMPLE.encode("utf-8"))
    assert result.errors == []
    q1, q2, q3, q4, q5 = result.items
    assert (q1.qtype, q1.content["key"], q1.kp_path) == ("judge", True, ["电工基础", "安全 / 用电"])  # "//" escapes "/"
    assert str(q1.source) == "dg.gift:4"
    assert q2.qtype == "single" and q2.content["key"] == "A"
    assert q2.content["stem"] == "下列属于绝缘材料的是 _____ 。"
    assert (q2.external_id, q2.tags) == ("E-002", ["必考", "安全"])
    assert q3.qtype == "fill" and q3.content["key"] == [["安培", "A"]]
    assert q3.content["stem"] == "电流单位 _____"
    assert q4.qtype == "multi" and q4.content["key"] == ["A", "B"]
    assert q4.kp_path == ["电工基础"]
    assert q4.content["stem"] == "a &lt; b &amp; c?"
    assert q4.content["explanation"] == "选甲和乙"
    assert q5.qtype == "essay" and q5.content["key"] is None
    assert [str(u) for u in result.unsupported] == [
        "dg.gift:28: 「Q6」是数值题（numerical），本系统暂不支持",
        "dg.gift:30: 「Q7」是匹配题（matching），本系统暂不支持",
    ]
    assert [str(n) for n in result.notes] == ["dg.gift:26: 「说明」是说明文字（description），不是试题，已跳过"]


def test_partial_credit_answers_are_dropped_with_a_note():
    result = parse_file("p.gift", "Q {=对 =%50%半对 ~错}".encode())
    assert result.items[0].qtype == "single"
    assert result.items[0].content["key"] == "A"
    assert "半对" in result.notes[0].message


def test_gift_errors_carry_line_numbers():
    text = "ok {T}\n\n\n::bad:: unclosed {=a ~b\n"
    result = parse_file("e.gift", text.encode())
    assert [str(e) for e in result.errors] == ["e.gift:4: 答案: 答案缺少结束的 }"]
    assert len(result.items) == 1


def test_gb18030_text_file():
    result = parse_file("cn.txt", "中文判断题。{F}".encode("gb18030"))
    assert result.items[0].content == {
        "stem": "中文判断题。",
        "options": [],
        "key": False,
        "reference_answer": "",
        "scoring_points": [],
        "explanation": "",
    }
