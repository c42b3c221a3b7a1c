"""The vocabulary of question spreadsheets: header names (canonical template, common
synonyms, the national bank template), question type names, and how answers,
difficulty, points and scoring points are written in cells.

Rules chosen here (and documented for users):
- fill answers: `|` or `｜` separates blanks, `;` or `；` separates the accepted
  alternatives of one blank: `北京；Beijing|上海`.
- scoring points (评分要点): one per line, or separated by `；` when the cell has no
  line break; each ends with its points in parentheses: `要点一（2分）`.
- a cell starting with `[html]` holds an HTML fragment; any other cell is plain text.
"""

from __future__ import annotations

import re
import unicodedata

from .model import OPTION_LABELS, number

_LEVEL_DIGITS = "一二三四五六七八九十"

HEADER_FIELDS: dict[str, str] = {}
for _field, _names in {
    "qtype": "题型 题目类型 试题类型 类型",
    "stem": "题干 题目 试题内容 题目内容 试题题干",
    "answer": "答案 正确答案 标准答案 参考答案",
    "explanation": "解析 答案解析 试题解析",
    "difficulty": "难度 难易程度 难易度 难度等级",
    "kp_code": "鉴定点 知识点 鉴定点代码 鉴定点编码 知识点代码 知识点编码",
    "points": "分值 分数",
    "scoring_points": "评分要点 评分标准",
    "external_id": "试题GUID 试题编号 题目编号 外部编号 GUID 试题ID",
    "tags": "标签",
    "meta:consistency": "一致性",
    "meta:origin": "出处",
}.items():
    for _name in _names.split():
        HEADER_FIELDS[_name] = _field
for _label in OPTION_LABELS:
    HEADER_FIELDS[f"选项{_label}"] = f"option:{_label}"
    HEADER_FIELDS[_label] = f"option:{_label}"
for _i, _digit in enumerate(_LEVEL_DIGITS, 1):
    HEADER_FIELDS[f"知识点{_digit}级"] = f"level:{_i}"
    HEADER_FIELDS[f"知识点{_i}级"] = f"level:{_i}"
    HEADER_FIELDS[f"{_digit}级知识点"] = f"level:{_i}"

FIELD_HEADERS = {
    "qtype": "题型",
    "stem": "题干",
    "answer": "答案",
    "explanation": "解析",
    "difficulty": "难度",
    "kp_code": "鉴定点",
    "points": "分值",
    "scoring_points": "评分要点",
    "external_id": "试题编号",
    "tags": "标签",
    "meta:consistency": "一致性",
    "meta:origin": "出处",
}


def level_header(level: int) -> str:
    return f"知识点{_LEVEL_DIGITS[level - 1]}级"


def normalise(text: str) -> str:
    """Full-width to ASCII, no spaces, no required-marks (*), no (notes) in headers."""
    s = unicodedata.normalize("NFKC", str(text))
    s = re.sub(r"\(.*?\)|\[.*?\]|【.*?】", "", s)
    return re.sub(r"[\s*:：]", "", s).upper()


def header_field(text) -> str | None:
    return HEADER_FIELDS.get(normalise(text)) if text is not None else None


QTYPE_NAMES: dict[str, str] = {}
for _code, _names in {
    "judge": "判断题 判断 是非题",
    "single": "单选题 单项选择题 单选 单项选择 单项选择题目",
    "multi": "多选题 多项选择题 多选 多项选择 多项选择题目",
    "fill": "填空题 填空",
    "short": "简答题 简答 问答题",
    "calc": "计算题 计算",
    "essay": "论述题 论述",
    "case": "案例分析题 案例分析 案例题",
}.items():
    QTYPE_NAMES[_code.upper()] = _code
    for _name in _names.split():
        QTYPE_NAMES[_name] = _code

QTYPE_CELL = {
    "judge": "判断题",
    "single": "单选题",
    "multi": "多选题",
    "fill": "填空题",
    "short": "简答题",
    "calc": "计算题",
    "essay": "论述题",
    "case": "案例分析题",
}


def parse_qtype(text: str) -> str | None:
    return QTYPE_NAMES.get(normalise(text))


_JUDGE = {
    True: {"正确", "对", "√", "✓", "✔", "T", "TRUE", "是", "Y", "YES"},
    False: {"错误", "错", "×", "✗", "✘", "X", "F", "FALSE", "否", "N", "NO"},
}


JUDGE_WORDS = _JUDGE


def parse_judge(text: str) -> bool | None:
    s = normalise(text)
    for value, words in _JUDGE.items():
        if s in words:
            return value
    return None


def parse_letters(text: str) -> list[str] | None:
    """`ABD`, `A,B,D`, `A、B、D`, `A，B，D`, `a b d` -> ["A", "B", "D"]; None if not letters."""
    s = re.sub(r"[\s,，、;；/]", "", unicodedata.normalize("NFKC", text)).upper()
    if not s or any(ch not in OPTION_LABELS for ch in s):
        return None
    return list(s)


_DIFFICULTY_WORDS = {"易": 1, "容易": 1, "较易": 2, "中": 3, "中等": 3, "一般": 3, "较难": 4, "难": 5, "困难": 5}


DIFFICULTY_WORDS = _DIFFICULTY_WORDS


def parse_difficulty(text: str) -> int | None:
    s = normalise(text)
    if s in _DIFFICULTY_WORDS:
        return _DIFFICULTY_WORDS[s]
    try:
        value = float(s)
    except ValueError:
        return None
    return int(value) if value.is_integer() and 1 <= value <= 5 else None


def parse_points(text: str) -> float | None:
    s = normalise(text).removesuffix("分")
    try:
        value = float(s)
    except ValueError:
        return None
    return value if value > 0 else None


def parse_fill(text: str) -> list[list[str]]:
    blanks = re.split(r"[|｜]", text)
    return [[a.strip() for a in re.split(r"[;；]", b) if a.strip()] for b in blanks]


def format_fill(key: list[list[str]]) -> str:
    return "|".join("；".join(alts) for alts in key)


_POINT = re.compile(r"^(.*?)[(（]\s*(\d+(?:\.\d+)?)\s*分?\s*[)）]\s*[。.;；]?$", re.S)


def parse_scoring_points(text: str) -> tuple[list[dict], list[str]]:
    """Points and the pieces that could not be read."""
    pieces = text.splitlines() if "\n" in text else re.split(r"[;；]", text)
    points, bad = [], []
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        m = _POINT.match(piece)
        if m and m.group(1).strip() and float(m.group(2)) > 0:
            points.append({"text": m.group(1).strip(), "points": number(float(m.group(2)))})
        else:
            bad.append(piece)
    return points, bad


def format_scoring_points(points: list[dict]) -> str:
    return "\n".join(f"{p['text']}（{p['points']}分）" for p in points)


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in re.split(r"[;；,，、]", text) if t.strip()]
