"""The knowledge tree (鉴定要素细目表) as a dict: checking and normalising it (`validate_tree`,
what `services.load_tree` trusts), reading level lists, and walking its ranges and points.

Pure functions, no database and no Excel (that is `treeimport`). Field names are the Excel
template's column names, so that `treeimport` can map every problem back to a cell.

The tree dict:
    {"standard": {...optional...},
     "ranges": [{"code", "name", "weights": {"4": 30}, "children": [...],
                 "points": [{"code", "name", "importance": "X", "levels": [5, 4]}]}]}
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEVEL_NAMES = {5: "五级", 4: "四级", 3: "三级", 2: "二级", 1: "一级"}
WEIGHT_COLUMNS = {f"比重-{name}": level for level, name in LEVEL_NAMES.items()}
IMPORTANCES = ("X", "Y", "Z")
MAX_NODES = 5000  # a real 细目表 has a few hundred points; more is a mistake or an attack
MAX_DEPTH = 6
WEIGHT_TOLERANCE = 0.1  # rounding slack when children's weights must sum to their parent's

# Field names are the template's column names, so a tree problem maps onto a cell.
F_CODE, F_NAME, F_PARENT, F_IMPORTANCE, F_LEVELS, F_TYPE = (
    "代码", "名称", "上级代码", "重要程度", "适用等级", "层级类型")


def weight_field(level: int) -> str:
    return f"比重-{LEVEL_NAMES.get(level, level)}"


@dataclass(frozen=True)
class TreeIssue:
    """One problem of a tree; `code` is the range or point it is about (None: the whole tree)."""

    code: str | None
    field: str | None
    message: str
    kind: str = "range"  # range | point

    def __str__(self) -> str:
        where = "" if self.code is None else (
            f"鉴定点 {self.code}: " if self.kind == "point" else f"鉴定范围 {self.code}: ")
        return f"{where}{self.field + ': ' if self.field else ''}{self.message}"


# --- checking a tree dict ------------------------------------------------------------------------


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().rstrip("%％").strip()
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _tidy(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 4)


def parse_levels(value) -> list[int] | None:
    """Levels as written in practice: [5, 4], "5,4,3", "5，4、3", "五级 四级". None if unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, str):
        text = value
        for level, name in LEVEL_NAMES.items():
            text = text.replace(name, str(level))
        items = [p for p in re.split(r"[\s,，、;；/]+", text.strip()) if p]
    else:
        return None
    out: set[int] = set()
    for item in items:
        number = _number(item) if not isinstance(item, int) else float(item)
        if number is None or not number.is_integer():
            return None
        out.add(int(number))
    return sorted(out, reverse=True)


def validate_tree(tree: dict, standard_levels: list[int] | None = None) -> tuple[dict, list[TreeIssue]]:
    """Check a tree dict; return it normalised (weights {"4": 30}, levels sorted high→low,
    importance upper-case) and every problem found. The tree is usable only when the list is empty.

    Checks: codes present and unique (ranges and points share one code space), a point's code
    starts with its range's code (and a child range's with its parent's), importance X/Y/Z,
    levels 1..5 (and within `standard_levels` when given), weights 0..100, children's weights sum
    to their parent's per level, top-level weights sum to 100 per level that has weights."""
    issues: list[TreeIssue] = []
    seen: set[str] = set()
    count = [0]
    allowed = set(standard_levels or range(1, 6))

    def code_of(node: dict, kind: str) -> str | None:
        code = str(node.get("code") or "").strip()
        if not code:
            issues.append(TreeIssue(None, F_CODE, f"有{'鉴定点' if kind == 'point' else '鉴定范围'}缺少代码"
                                    f"（名称：{str(node.get('name') or '')[:40] or '空'}）", kind))
            return None
        if len(code) > 32:
            issues.append(TreeIssue(code, F_CODE, "代码不能超过32个字符", kind))
        if code in seen:
            issues.append(TreeIssue(code, F_CODE, f"代码 {code} 重复", kind))
        seen.add(code)
        return code

    def name_of(node: dict, code: str, kind: str, limit: int) -> str:
        name = str(node.get("name") or "").strip()
        if not name:
            issues.append(TreeIssue(code, F_NAME, "名称不能为空", kind))
        elif len(name) > limit:
            issues.append(TreeIssue(code, F_NAME, f"名称不能超过{limit}个字符", kind))
        return name

    def norm_point(node: dict, parent_code: str) -> dict:
        code = code_of(node, "point") or ""
        name = name_of(node, code, "point", 300)
        if code and parent_code and not code.startswith(parent_code):
            issues.append(TreeIssue(code, F_CODE, f"鉴定点代码应以所属鉴定范围的代码 {parent_code} 开头", "point"))
        importance = str(node.get("importance") or "").strip().upper()
        if importance not in IMPORTANCES:
            shown = node.get("importance") or "空"
            issues.append(TreeIssue(code, F_IMPORTANCE,
                                    f"重要程度应为 X（核心）、Y（一般）或 Z（辅助），而不是“{shown}”", "point"))
        levels = parse_levels(node.get("levels"))
        if not levels:
            issues.append(TreeIssue(code, F_LEVELS, "适用等级不能为空，应为 1–5 的等级，如“5,4,3”", "point"))
            levels = []
        elif bad := [lv for lv in levels if lv not in allowed]:
            issues.append(TreeIssue(code, F_LEVELS, f"等级 {','.join(map(str, bad))} 不是该标准的等级"
                                    f"（{','.join(map(str, sorted(allowed, reverse=True)))}）", "point"))
        return {"code": code, "name": name, "importance": importance, "levels": levels}

    def norm_range(node: dict, parent_code: str | None, depth: int) -> dict:
        count[0] += 1
        if not isinstance(node, dict):
            issues.append(TreeIssue(None, None, "鉴定范围的格式不正确"))
            return {"code": "", "name": "", "weights": {}, "children": [], "points": []}
        code = code_of(node, "range") or ""
        name = name_of(node, code, "range", 200)
        if code and parent_code and not code.startswith(parent_code):
            issues.append(TreeIssue(code, F_CODE, f"下级范围代码应以上级范围的代码 {parent_code} 开头"))
        if depth > MAX_DEPTH:
            issues.append(TreeIssue(code, F_PARENT, f"鉴定范围层级不能超过{MAX_DEPTH}层"))
        weights: dict[str, int | float] = {}
        for key, raw in (node.get("weights") or {}).items():
            level = _number(key)
            value = _number(raw)
            if level is None or int(level) not in allowed:
                issues.append(TreeIssue(code, "比重", f"等级 {key} 不是该标准的等级"))
                continue
            if value is None or not 0 <= value <= 100:
                issues.append(TreeIssue(code, weight_field(int(level)), f"比重应为 0–100 的数字，而不是“{raw}”"))
                continue
            weights[str(int(level))] = _tidy(value)
        children = [norm_range(c, code, depth + 1) for c in node.get("children") or []]
        points = []
        for p in node.get("points") or []:
            count[0] += 1
            points.append(norm_point(p if isinstance(p, dict) else {}, code))
            if weights and points[-1]["levels"] and not {str(lv) for lv in points[-1]["levels"]} & set(weights):
                issues.append(TreeIssue(points[-1]["code"], F_LEVELS, f"适用等级中没有一个等级在所属范围 {code} "
                                        "的比重列中有值", "point"))
        out = {"code": code, "name": name, "weights": weights, "children": children, "points": points}
        if children:
            _check_sum(code, weights, children, issues)
        return out

    raw_ranges = tree.get("ranges") if isinstance(tree, dict) else None
    if not isinstance(raw_ranges, list) or not raw_ranges:
        return {"ranges": []}, [TreeIssue(None, None, "细目表中没有任何鉴定范围")]
    ranges = [norm_range(r, None, 1) for r in raw_ranges]
    if count[0] > MAX_NODES:
        issues.append(TreeIssue(None, None, f"鉴定范围和鉴定点合计 {count[0]} 个，超过上限 {MAX_NODES}"))
    levels_with_weights = {lv for r in ranges for lv in r["weights"]}
    for lv in sorted(levels_with_weights, key=int, reverse=True):
        total = sum(float(r["weights"].get(lv, 0)) for r in ranges)
        if abs(total - 100) > WEIGHT_TOLERANCE:
            issues.append(TreeIssue(None, weight_field(int(lv)),
                                    f"一级鉴定范围的{LEVEL_NAMES[int(lv)]}比重之和为 {_tidy(total)}，应为 100"))
    out = {"ranges": ranges}
    if isinstance(tree.get("standard"), dict):
        out["standard"] = tree["standard"]
    return out, issues


def _check_sum(code: str, weights: dict, children: list[dict], issues: list[TreeIssue]) -> None:
    levels = set(weights) | {lv for c in children for lv in c["weights"]}
    for lv in sorted(levels, key=int, reverse=True):
        total = sum(float(c["weights"].get(lv, 0)) for c in children)
        own = weights.get(lv)
        if own is None:
            issues.append(TreeIssue(code, weight_field(int(lv)),
                                    f"下级范围设有{LEVEL_NAMES[int(lv)]}比重（合计 {_tidy(total)}），本范围却未设置"))
        elif abs(total - float(own)) > WEIGHT_TOLERANCE:
            issues.append(TreeIssue(code, weight_field(int(lv)),
                                    f"下级范围的{LEVEL_NAMES[int(lv)]}比重之和为 {_tidy(total)}，"
                                    f"不等于本范围的比重 {_tidy(float(own))}"))


def iter_points(tree: dict):
    """(range_code, point) for every point of a (validated) tree, in order."""
    def walk(nodes):
        for node in nodes:
            for point in node["points"]:
                yield node["code"], point
            yield from walk(node["children"])
    yield from walk(tree.get("ranges", []))


def iter_ranges(nodes: list[dict], parent: str | None = None, depth: int = 0):
    """(parent_code, depth, range) for every range of `nodes` (e.g. tree["ranges"]), depth first."""
    for node in nodes:
        yield parent, depth, node
        yield from iter_ranges(node["children"], node["code"], depth + 1)

