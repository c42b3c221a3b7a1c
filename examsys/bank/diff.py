"""Field-by-field comparison of two item versions, as data a template renders side by side.

Each field is turned into lines of visible text (images appear as `[图片 <hash>]`, formulas as
their LaTeX), lines are aligned with difflib, and within a replaced pair of lines the changed
characters are marked, which is what makes a one-character fix in a Chinese stem visible.
A change of markup only (e.g. bold added) shows as `format_only`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from examsys.bank import richtext
from examsys.bank.models import ItemVersion
from examsys.bank.qtypes import show_number
from examsys.extensions import db
from examsys.standards.models import LEVELS, AssessmentPoint

Segment = tuple[str, bool]  # (text, changed)


@dataclass
class DiffRow:
    """One aligned row: kind is equal | replace | insert | delete; a side is None when absent."""

    kind: str
    old: list[Segment] | None
    new: list[Segment] | None


@dataclass
class FieldDiff:
    field: str  # stem, option:A, key, explanation, reference_answer, scoring_points, point, ...
    label: str  # shown to people: 题干, 选项A, 答案 ...
    old: list[str]
    new: list[str]
    changed: bool
    format_only: bool = False
    rows: list[DiffRow] = field(default_factory=list)


def _chars(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    left: list[Segment] = []
    right: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if old[i1:i2]:
            left.append((old[i1:i2], tag != "equal"))
        if new[j1:j2]:
            right.append((new[j1:j2], tag != "equal"))
    return left, right


def _rows(old: list[str], new: list[str]) -> list[DiffRow]:
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [DiffRow("equal", [(a, False)], [(a, False)]) for a in old[i1:i2]]
            continue
        left, right = old[i1:i2], new[j1:j2]
        for k in range(max(len(left), len(right))):
            a = left[k] if k < len(left) else None
            b = right[k] if k < len(right) else None
            if a is not None and b is not None:
                rows.append(DiffRow("replace", *_chars(a, b)))
            elif a is not None:
                rows.append(DiffRow("delete", [(a, True)], None))
            else:
                rows.append(DiffRow("insert", None, [(b, True)]))
    return rows


def _key_lines(version: ItemVersion) -> list[str]:
    key = version.content.get("key")
    if isinstance(key, bool):
        return ["正确" if key else "错误"]
    if isinstance(key, str):
        return [key]
    if isinstance(key, list) and all(isinstance(k, str) for k in key):
        return ["".join(key)]
    if isinstance(key, list):
        return [f"第{i}空：{' | '.join(map(str, alts))}" for i, alts in enumerate(key, 1)]
    return []


def _point_lines(point_id: int | None) -> list[str]:
    point = db.session.get(AssessmentPoint, point_id) if point_id else None
    return [f"{point.code} {point.name}"] if point else []


def _fields(version: ItemVersion) -> list[tuple[str, str, list[str], str]]:
    """(field, label, lines, raw) for every compared field; raw catches markup-only changes."""
    c = version.content
    out = [("stem", "题干", richtext.to_lines(c.get("stem")), c.get("stem") or "")]
    for opt in c.get("options") or []:
        out.append((f"option:{opt['label']}", f"选项{opt['label']}", richtext.to_lines(opt["text"]),
                    opt["text"]))
    key = _key_lines(version)
    out += [
        ("key", "答案", key, "\n".join(key)),
        ("explanation", "解析", richtext.to_lines(c.get("explanation")), c.get("explanation") or ""),
        ("reference_answer", "参考答案", richtext.to_lines(c.get("reference_answer")),
         c.get("reference_answer") or ""),
    ]
    scoring = [f"{sp.get('text', '')}（{show_number(sp['points'])}分）" if isinstance(sp.get("points"), int | float)
               else str(sp.get("text", "")) for sp in c.get("scoring_points") or []]
    point = _point_lines(version.point_id)
    levels = ["、".join(LEVELS.get(lv, str(lv)) for lv in version.levels)] if version.levels else []
    out += [
        ("scoring_points", "评分要点", scoring, "\n".join(scoring)),
        ("point", "鉴定点", point, "\n".join(point)),
        ("levels", "等级", levels, "\n".join(levels)),
        ("difficulty", "难度", [_difficulty(version.difficulty)], _difficulty(version.difficulty)),
        ("points", "分值", [show_number(version.points)], show_number(version.points)),
    ]
    return out


def version_diff(a: ItemVersion, b: ItemVersion, *, only_changed: bool = False) -> list[FieldDiff]:
    """Compare version `a` (old, left) with `b` (new, right), field by field, in display order.
    Options are matched by label; an option present on one side only shows as all inserted or
    all deleted. Raises nothing."""
    left = {f: (label, lines, raw) for f, label, lines, raw in _fields(a)}
    right = {f: (label, lines, raw) for f, label, lines, raw in _fields(b)}
    order = list(left)
    order += [f for f in right if f not in left]
    # Options of the new version that the old one lacked belong after the old options.
    order.sort(key=lambda f: (0, f) if f.startswith("option:") else (-1, "") if f == "stem" else (1, ""))
    diffs = []
    for f in order:
        label, old_lines, old_raw = left.get(f, (right[f][0], [], ""))
        _, new_lines, new_raw = right.get(f, (label, [], ""))
        changed = old_lines != new_lines
        format_only = not changed and old_raw != new_raw
        if only_changed and not (changed or format_only):
            continue
        diffs.append(FieldDiff(field=f, label=label, old=old_lines, new=new_lines, changed=changed,
                               format_only=format_only, rows=_rows(old_lines, new_lines)))
    return diffs


_DIFFICULTY_WORDS = {1: "易", 2: "较易", 3: "中等", 4: "较难", 5: "难"}


def _difficulty(value) -> str:
    """Difficulty as the word writers use (the editor's words), not the stored number."""
    return _DIFFICULTY_WORDS.get(value, str(value))
