"""Structural checks of item content (CONTENT_FORMAT.md), shared by every parser and
reusable by the bank's type registry: is the key valid for the type, are options
present, distinct and non-empty, does a fill item have one answer list per blank.

`validate_content` returns `(field, message)` pairs; `field` is a content key
("stem", "options", "key", ...). Messages are for users, in Chinese.
"""

from __future__ import annotations

import re

from .model import CHOICE_QTYPES, OPEN_QTYPES, OPTION_LABELS, QTYPES

# A blank is 4+ underscores or full-width parentheses holding only spaces
# (ASCII, ideographic, or &nbsp; since stems are HTML).
BLANK_RE = re.compile(r"_{4,}|（(?:[ \t\u3000\u00a0]|&nbsp;)*）")

_TAG_RE = re.compile(r"<[^>]*>")


def count_blanks(stem: str) -> int:
    return len(BLANK_RE.findall(stem or ""))


def _blank_text(value) -> bool:
    """True when an HTML fragment shows nothing (no text, no image)."""
    if not isinstance(value, str):
        return True
    if "<img" in value.lower():
        return False
    return not _TAG_RE.sub("", value).replace("&nbsp;", "").strip()


def _norm_option(text: str) -> str:
    return " ".join(_TAG_RE.sub(" ", text).split()) if "<img" not in text else text.strip()


def validate_content(qtype: str, content: dict) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if qtype not in QTYPES:
        return [("qtype", f"未知题型 {qtype!r}")]
    if not isinstance(content, dict):
        return [("content", "试题内容格式错误")]
    if _blank_text(content.get("stem")):
        problems.append(("stem", "题干不能为空"))
    if not isinstance(content.get("explanation", ""), str):
        problems.append(("explanation", "解析必须是文本"))
    key = content.get("key")
    if qtype in CHOICE_QTYPES:
        problems += _check_choice(qtype, content.get("options"), key)
    elif qtype == "judge":
        if key is None:
            problems.append(("key", "请选择正确答案：正确或错误"))
        elif not isinstance(key, bool):
            problems.append(("key", "判断题答案必须是“正确”或“错误”"))
    elif qtype == "fill":
        problems += _check_fill(content.get("stem") or "", key)
    elif qtype in OPEN_QTYPES:
        problems += _check_open(content)
    return problems


def _check_choice(qtype: str, options, key) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not isinstance(options, list) or len(options) < 2:
        return [("options", "选择题至少需要两个选项")]
    if len(options) > len(OPTION_LABELS):
        return [("options", f"选项最多 {len(OPTION_LABELS)} 个，实际 {len(options)} 个")]
    labels = []
    seen: dict[str, str] = {}
    for i, opt in enumerate(options):
        expected = OPTION_LABELS[i]
        label = opt.get("label") if isinstance(opt, dict) else None
        text = opt.get("text") if isinstance(opt, dict) else None
        if label != expected:
            problems.append(("options", f"第 {i + 1} 个选项的标号应为 {expected}"))
        labels.append(label)
        if _blank_text(text):
            problems.append(("options", f"选项{expected} 为空"))
            continue
        norm = _norm_option(text)
        if norm in seen:
            problems.append(("options", f"选项{expected} 与选项{seen[norm]} 重复"))
        else:
            seen[norm] = expected
    if key in (None, "", []):
        problems.append(("key", "请选择正确答案（单选题选一个选项）" if qtype == "single"
                         else "请选择正确答案（多选题至少选两个选项）"))
    elif qtype == "single":
        if not isinstance(key, str) or len(key) != 1:
            problems.append(("key", f"单选题只能有一个正确答案，实际为 {_show(key)}"))
        elif key not in labels:
            problems.append(("key", f"答案 {key} 不是已有的选项"))
    else:
        if not isinstance(key, list) or len(key) < 2:
            problems.append(("key", f"多选题至少需要两个正确答案，实际为 {_show(key)}"))
        elif any(k not in labels for k in key):
            missing = "".join(k for k in key if k not in labels)
            problems.append(("key", f"答案 {missing} 不是已有的选项"))
        elif key != sorted(set(key)):
            problems.append(("key", "多选题答案应按字母顺序排列且不重复"))
    return problems


def _check_fill(stem: str, key) -> list[tuple[str, str]]:
    blanks = count_blanks(stem)
    if blanks == 0:
        return [("stem", "填空题题干中没有空（用 ____ 或 （  ） 标出每个空）")]
    if not key:
        return [("key", f"请填写填空答案：题干有 {blanks} 个空，每个空写一行")]
    if not isinstance(key, list) or not all(isinstance(k, list) for k in key):
        return [("key", "填空题答案格式错误")]
    if len(key) != blanks:
        return [("key", f"题干有 {blanks} 个空，答案有 {len(key)} 组")]
    problems = []
    for i, alts in enumerate(key, 1):
        if not alts or any(not isinstance(a, str) or not a.strip() for a in alts):
            problems.append(("key", f"第 {i} 个空的答案为空"))
        elif len(set(alts)) != len(alts):
            problems.append(("key", f"第 {i} 个空的备选答案重复"))
    return problems


def _check_open(content: dict) -> list[tuple[str, str]]:
    problems = []
    if content.get("key") is not None:
        problems.append(("key", "主观题不设标准答案键"))
    if not isinstance(content.get("reference_answer", ""), str):
        problems.append(("reference_answer", "参考答案必须是文本"))
    points = content.get("scoring_points", [])
    if not isinstance(points, list):
        return problems + [("scoring_points", "评分要点格式错误")]
    for i, sp in enumerate(points, 1):
        if not isinstance(sp, dict) or not str(sp.get("text", "")).strip():
            problems.append(("scoring_points", f"第 {i} 条评分要点为空"))
            continue
        pts = sp.get("points")
        if isinstance(pts, bool) or not isinstance(pts, int | float) or pts <= 0:
            problems.append(("scoring_points", f"第 {i} 条评分要点的分值必须大于 0"))
    return problems


def _show(key) -> str:
    if isinstance(key, list):
        return f'"{"".join(map(str, key))}"'
    return f'"{key}"' if key is not None else "空"
