"""Excel import: the canonical template, synonyms, the national bank template, the
answer spellings people actually write, row-numbered errors; and safe export."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from examsys.interchange import ItemDraft, emit_xlsx, make_content, parse_file

CANONICAL = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "难度", "鉴定点", "分值"]


def xlsx(*sheets) -> bytes:
    """sheets: (title, rows) pairs; rows are lists of cell values."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def parse_rows(rows, header=CANONICAL, name="bank.xlsx"):
    return parse_file(name, xlsx(("Sheet1", [header, *rows])))


def test_canonical_template_all_types():
    rows = [
        ["判断题", "安全帽必须系好下颏带。", None, None, None, None, "正确", "常识", 1, "01.02.003", 1],
        ["单选题", "电压的单位是", "安培", "伏特", "欧姆", "瓦特", "B", "", "较易", "01.02.004", 2],
        ["多选题", "属于导体的有", "铜", "铝", "橡胶", "玻璃", "A,B", "", "中等", "", 2.5],
        ["填空题", "我国的首都是____，最大城市是____。", None, None, None, None, "北京；Beijing|上海", "", 3, "", 2],
        ["简答题", "简述触电急救步骤。\n要求分点作答", None, None, None, None, "先断电，后施救", "", "难", "", 10],
    ]
    result = parse_rows(rows)
    assert result.errors == []
    judge, single, multi, fill, short = result.items
    assert (judge.qtype, judge.content["key"], judge.difficulty, judge.kp_code, judge.points) == (
        "judge",
        True,
        1,
        "01.02.003",
        1.0,
    )
    assert judge.content["explanation"] == "常识"
    assert single.content["options"][1] == {"label": "B", "text": "伏特"}
    assert (single.qtype, single.content["key"], single.difficulty) == ("single", "B", 2)
    assert (multi.qtype, multi.content["key"], multi.points) == ("multi", ["A", "B"], 2.5)
    assert fill.content["key"] == [["北京", "Beijing"], ["上海"]]
    assert short.qtype == "short"
    assert short.content["stem"] == "简述触电急救步骤。<br>要求分点作答"
    assert short.content["reference_answer"] == "先断电，后施救"
    assert short.content["key"] is None and short.content["options"] == []
    assert [str(d.source) for d in result.items] == [f"bank.xlsx:{n}" for n in range(2, 7)]


def test_synonym_headers_and_bare_option_letters():
    header = ["题目类型", "题目", "A", "B", "C", "正确答案", "答案解析", "难易程度", "知识点", "分数"]
    result = parse_rows([["单项选择题", "1+1=?", "1", "2", "3", "b", "略", "易", "K1", "3"]], header)
    assert result.errors == []
    item = result.items[0]
    assert (item.qtype, item.content["key"], item.difficulty, item.kp_code, item.points) == (
        "single",
        "B",
        1,
        "K1",
        3.0,
    )
    assert [o["text"] for o in item.content["options"]] == ["1", "2", "3"]


def test_national_bank_template_headers():
    header = [
        "试题GUID",
        "题型",
        "题干",
        "选项A",
        "选项B",
        "答案",
        "知识点一级",
        "知识点二级",
        "知识点三级",
        "一致性",
        "出处",
        "难度",
    ]
    row = [
        "3F2504E0-4F89-11D3",
        "判断",
        "接地线应先接导体端。",
        None,
        None,
        "×",
        "安全",
        "接地",
        None,
        "一致",
        "《电工》P12",
        3,
    ]
    result = parse_rows([row], header)
    assert result.errors == []
    item = result.items[0]
    assert item.external_id == "3F2504E0-4F89-11D3"
    assert item.kp_path == ["安全", "接地"]
    assert item.meta == {"consistency": "一致", "origin": "《电工》P12"}
    assert item.content["key"] is False


@pytest.mark.parametrize(
    "written,key",
    [
        ("正确", True),
        ("错误", False),
        ("对", True),
        ("错", False),
        ("√", True),
        ("×", False),
        ("T", True),
        ("F", False),
        ("True", True),
        ("false", False),
        ("是", True),
        ("否", False),
        (True, True),
        (False, False),
    ],
)
def test_judge_answer_spellings(written, key):
    result = parse_rows([["判断题", "题干", None, None, None, None, written]])
    assert result.errors == []
    assert result.items[0].content["key"] is key


def test_judge_answered_by_option_letter():
    result = parse_rows([["判断题", "题干", "正确", "错误", None, None, "B"]])
    assert result.errors == [] and result.items[0].content["key"] is False


@pytest.mark.parametrize("written", ["ABD", "A,B,D", "A、B、D", "A，B，D", "a b d", "ＡＢＤ", "DBA"])
def test_multi_answer_spellings(written):
    result = parse_rows([["多选题", "题干", "甲", "乙", "丙", "丁", written]])
    assert result.errors == []
    assert result.items[0].content["key"] == ["A", "B", "D"]


@pytest.mark.parametrize("word,level", [("易", 1), ("较易", 2), ("中等", 3), ("较难", 4), ("难", 5), (4, 4), ("2", 2)])
def test_difficulty_words_and_numbers(word, level):
    result = parse_rows([["判断题", "题干", None, None, None, None, "对", "", word]])
    assert result.items[0].difficulty == level


def test_scoring_points_one_per_line_or_semicolons():
    header = ["题型", "题干", "答案", "评分要点"]
    rows = [
        ["计算题", "求电流", "I=U/R", "写出公式（2分）\n代入数据(3分)"],
        ["论述题", "论述安全", "", "要点一（1.5分）；要点二（2分）"],
    ]
    result = parse_rows(rows, header)
    assert result.errors == []
    assert result.items[0].content["scoring_points"] == [
        {"text": "写出公式", "points": 2},
        {"text": "代入数据", "points": 3},
    ]
    assert result.items[0].content["reference_answer"] == "I=U/R"
    assert result.items[1].content["scoring_points"] == [
        {"text": "要点一", "points": 1.5},
        {"text": "要点二", "points": 2},
    ]


def test_row_numbered_errors_per_field():
    rows = [
        ["单选题", "题干", "甲", "乙", None, None, "AB"],
        ["判断题", "题干", None, None, None, None, "也许"],
        ["多选题", "题干", "甲", "乙", "丙", None, "A"],
        ["单选题", "", "甲", "乙", None, None, "A"],
        ["未知题", "题干", None, None, None, None, "A"],
        ["单选题", "题干", "甲", None, "丙", None, "A"],
        ["单选题", "题干", "甲", "甲", None, None, "A"],
        ["填空题", "有两个空____和____", None, None, None, None, "一"],
        ["单选题", "题干", "甲", "乙", None, None, "E"],
        ["判断题", "题干", None, None, None, None, "对", "", "很难"],
    ]
    result = parse_rows(rows)
    assert result.items == []
    messages = [str(e) for e in result.errors]
    assert messages == [
        'bank.xlsx:2: 答案: 单选题只能有一个正确答案，实际为 "AB"',
        'bank.xlsx:3: 答案: 判断题答案应为 正确/错误（或 对/错、√/×、T/F），实际为 "也许"',
        'bank.xlsx:4: 答案: 多选题至少需要两个正确答案，实际为 "A"',
        "bank.xlsx:5: 题干: 不能为空",
        'bank.xlsx:6: 题型: 无法识别的题型 "未知题"',
        "bank.xlsx:7: 选项B: 为空，但其后的选项C 有内容",
        "bank.xlsx:8: 选项: 选项B 与选项A 重复",
        "bank.xlsx:9: 答案: 题干有 2 个空，答案有 1 组",
        "bank.xlsx:10: 答案: 答案 E 不是已有的选项",
        'bank.xlsx:11: 难度: 应为 1–5 或 易/较易/中等/较难/难，实际为 "很难"',
    ]


def test_empty_rows_are_skipped_and_row_numbers_stay_true():
    rows = [
        ["判断题", "一", None, None, None, None, "对"],
        [],
        [None, "  "],
        ["判断题", "二", None, None, None, None, "错"],
    ]
    result = parse_rows(rows)
    assert [str(i.source) for i in result.items] == ["bank.xlsx:2", "bank.xlsx:5"]


def test_title_rows_above_header_and_sheets_typed_by_name():
    data = xlsx(
        ("说明", [["本模板用于导入试题"]]),
        ("单选题", [["职业技能等级认定试题"], ["题干", "A", "B", "答案"], ["x?", "1", "2", "A"]]),
        ("判断题", [["题干", "答案"], ["y.", "错"]]),
    )
    result = parse_file("multi.xlsx", data)
    assert result.errors == []
    assert [(i.qtype, str(i.source)) for i in result.items] == [
        ("single", "multi.xlsx[单选题]:3"),
        ("judge", "multi.xlsx[判断题]:2"),
    ]


def test_formula_cells_are_an_error_never_evaluated():
    result = parse_rows([["判断题", "=1+1", None, None, None, None, "对"]])
    assert [str(e) for e in result.errors] == ["bank.xlsx:2: 题干: 单元格是公式，请改为文本或数值后再导入"]


def test_sheet_without_header_is_refused():
    with pytest.raises(Exception, match="没有找到表头"):
        parse_file("x.xlsx", xlsx(("Sheet1", [["a", "b"], [1, 2]])))


def test_html_cells_and_escaping():
    rows = [["单选题", "a < b & c", "[html]<b>粗</b>", "x", None, None, "A"]]
    item = parse_rows(rows).items[0]
    assert item.content["stem"] == "a &lt; b &amp; c"
    assert item.content["options"][0]["text"] == "<b>粗</b>"


def test_export_neutralises_formula_like_cells():
    dangerous = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"]
    item = ItemDraft(
        "single",
        make_content(
            "single", dangerous[0], options=[{"label": "ABCD"[i], "text": t} for i, t in enumerate(dangerous)], key="A"
        ),
    )
    data = emit_xlsx([item])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[2]][1:6] == [dangerous[0], *dangerous]
    assert all(c.data_type == "s" and c.quotePrefix for c in ws[2][1:6])
    assert parse_file("out.xlsx", data).items[0].content == item.content


def test_export_writes_canonical_headers_first():
    data = emit_xlsx([ItemDraft("judge", make_content("judge", "x", key=True), kp_path=["a"])])
    headers = [c.value for c in load_workbook(io.BytesIO(data)).active[1]]
    assert headers[:14] == ["题型", "题干", *(f"选项{c}" for c in "ABCDEFGH"), "答案", "解析", "难度", "鉴定点"]
    assert "分值" in headers and "知识点一级" in headers
