"""The Excel import template users download from the import page: sheet "试题" with the
canonical columns and one example row per question type (the rows import as they stand, given
knowledge-point codes of the chosen standard), and sheet "填写说明" listing, per column, what it
holds and every spelling the importer accepts (`xlsx_fields` is the one source of those).

Pure: bytes out, no database. The explanation sheet has no 题干 header row, so the importer
never takes it for questions.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from . import xlsx_fields as xf
from .model import OPTION_LABELS

COLUMNS = ["题型", "题干", *(f"选项{label}" for label in OPTION_LABELS), "答案", "解析", "难度", "鉴定点",
           "分值", "评分要点"]

# (题型, 题干, options, 答案, 解析, 难度, 分值, 评分要点); the 鉴定点 column is filled per standard.
EXAMPLES: list[tuple] = [
    ("单选题", "我国工频交流电的频率为（  ）Hz。", ["50", "60", "100", "220"], "A",
     "我国电网工频为 50Hz。", "易", 1, ""),
    ("多选题", "下列属于常用绝缘材料的有（  ）。", ["云母", "橡胶", "铜", "陶瓷"], "ABD",
     "铜是导体。", "中等", 2, ""),
    ("判断题", "安全电压的额定值一般不超过36V。", [], "正确", "", "易", 1, ""),
    ("填空题", "三相四线制中，线电压是相电压的____倍，相位超前____度。", [], "√3；1.732|30",
     "每个空用 | 分隔，同一空的多个可接受答案用 ； 分隔。", "较易", 2, ""),
    ("简答题", "简述触电急救的基本原则。", [], "迅速、就地、准确、坚持。", "", "中等", 5,
     "迅速脱离电源（2分）\n就地准确施救（3分）"),
    ("计算题", "某电阻负载接在220V电源上，电流为5A，求其功率。", [], "P=UI=220×5=1100W", "", "较难", 5,
     "写出公式 P=UI（2分）\n计算结果正确（3分）"),
    ("论述题", "论述电气火灾的预防措施。", [], "选用合格电器，规范敷设线路，定期检查维护。", "", "较难", 10,
     "选用合格电器（3分）\n规范敷设线路（3分）\n定期检查维护（4分）"),
    ("案例分析题", "某车间一名工人触电倒地，现场只有你一名电工。请说明应如何处置。", [],
     "先切断电源或用绝缘物使其脱离电源，再判断意识和呼吸，必要时心肺复苏并呼叫急救。", "", "难", 10,
     "正确脱离电源（4分）\n判断伤情（2分）\n心肺复苏与呼救（4分）"),
]

_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def _synonyms(field: str) -> str:
    return "、".join(name for name, f in xf.HEADER_FIELDS.items() if f == field)


def _qtype_names(code: str) -> str:
    return "、".join(name for name, c in xf.QTYPE_NAMES.items() if c == code and not name.isascii())


def _explanations() -> list[tuple[str, str, str]]:
    """(column, what it holds, accepted spellings) for the explanation sheet."""
    judge_true = " ".join(sorted(xf.JUDGE_WORDS[True]))
    judge_false = " ".join(sorted(xf.JUDGE_WORDS[False]))
    difficulty = "、".join(f"{w}={n}" for w, n in xf.DIFFICULTY_WORDS.items())
    rows = [
        ("题型", "必填（工作表名为题型时可省略此列）。", _synonyms("qtype")),
        *((f"  {xf.QTYPE_CELL[c]}", "题型的写法", _qtype_names(c)) for c in xf.QTYPE_CELL),
        ("题干", "必填。填空题用 ____（4个及以上下划线）或 （  ） 标出每个空。以 [html] 开头的单元格按 HTML 读取。",
         _synonyms("stem")),
        ("选项A … 选项H", "单选题、多选题填写，2–8 个，从 A 起连续填写，不能跳过。", "选项A 或 A（B…H 同理）"),
        ("答案", "单选题、多选题：选项字母，如 A、ABD（可用逗号、顿号分隔）。判断题：正确/错误。"
                 "填空题：每个空用 | 分隔，同一空的备选答案用 ； 分隔。主观题：参考答案。", _synonyms("answer")),
        ("  判断题答案", "表示“正确”", judge_true),
        ("  判断题答案", "表示“错误”", judge_false),
        ("解析", "选填。", _synonyms("explanation")),
        ("难度", "选填，默认 中等。", _synonyms("difficulty")),
        ("  难度的取值", "1–5 或文字", difficulty),
        ("鉴定点", "必填，所选职业标准中的鉴定点代码；也可改用“知识点一级、知识点二级…”各列写出知识点路径。",
         _synonyms("kp_code")),
        ("分值", "选填，默认：客观题 1 分，主观题为评分要点分值之和。", _synonyms("points")),
        ("评分要点", "主观题填写，每行一条（或用 ； 分隔），分值写在括号中，如：说明接地原理（2分）。"
                     "可以暂不填写：试题导入为草稿并标为“缺少评分要点”，提交审核前须补全。",
         _synonyms("scoring_points")),
        ("试题编号", "选填，原题库中的编号。", _synonyms("external_id")),
        ("知识点一级 …", "选填，代替鉴定点代码时按层级写出知识点名称。",
         "知识点一级、一级知识点、知识点1级（二级…同理）"),
        ("标签", "选填，用 ； 或 、 分隔。", _synonyms("tags")),
    ]
    return rows


def template_xlsx(point_codes: Sequence[str] = ()) -> bytes:
    """The template workbook; example rows use `point_codes` in turn (empty cells without)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "试题"
    sheet.append(COLUMNS)
    for n, (qtype, stem, options, answer, explanation, difficulty, points, scoring) in enumerate(EXAMPLES):
        code = point_codes[n % len(point_codes)] if point_codes else ""
        cells = [*options, *[""] * (len(OPTION_LABELS) - len(options))]
        sheet.append([qtype, stem, *cells, answer, explanation, difficulty, code, points, scoring])
    for cell in sheet[1]:
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = {"A": 10, "B": 40, "K": 12, "L": 24, "M": 8, "N": 12, "O": 8, "P": 30}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "C2"

    notes = book.create_sheet("填写说明")
    notes.append(["列", "说明", "可接受的写法"])
    for row in _explanations():
        notes.append(list(row))
    for cell in notes[1]:
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
    for letter, width in {"A": 16, "B": 70, "C": 50}.items():
        notes.column_dimensions[letter].width = width
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
