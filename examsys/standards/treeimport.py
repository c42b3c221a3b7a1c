"""The knowledge tree (鉴定要素细目表) in Excel: reading it from the template
(docs/knowledge-tree-template.md) or an edition-mapping sheet, and writing the template.

Pure functions, no database. The Excel reader reports its errors as `FILE:ROW: 列名: message` by
mapping every tree problem (from `treecheck.validate_tree`) back to the row that defined the code.
Hostile workbooks are refused by `interchange.safety.open_zip` (entry count, declared uncompressed
size, compression ratio) before openpyxl inflates anything.

Checking and walking the tree dict lives in `treecheck`; its names are re-exported here so that
`treeimport.validate_tree` and friends keep working.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from examsys.interchange.model import InterchangeError
from examsys.interchange.safety import Limits, check_sheet_rows, open_zip
from examsys.interchange.xlsx import cell_text
from examsys.standards.treecheck import (
    F_CODE,
    F_IMPORTANCE,
    F_LEVELS,
    F_NAME,
    F_PARENT,
    F_TYPE,
    IMPORTANCES,
    LEVEL_NAMES,
    MAX_DEPTH,
    MAX_NODES,
    WEIGHT_COLUMNS,
    WEIGHT_TOLERANCE,
    TreeIssue,
    _number,
    _tidy,
    iter_points,
    iter_ranges,
    parse_levels,
    validate_tree,
    weight_field,
)

MAX_TREE_BYTES = 5 * 1024 * 1024

__all__ = [
    "CHANGE_WORDS", "F_CODE", "F_IMPORTANCE", "F_LEVELS", "F_NAME", "F_PARENT", "F_TYPE", "HEADER",
    "IMPORTANCES", "LEVEL_NAMES", "MAX_DEPTH", "MAX_NODES", "MAX_TREE_BYTES", "WEIGHT_COLUMNS",
    "WEIGHT_TOLERANCE", "TreeIssue", "TreeParse", "emit_tree_xlsx", "iter_points", "iter_ranges",
    "parse_levels", "parse_mapping_xlsx", "parse_tree_xlsx", "validate_tree", "weight_field",
]


# --- the Excel template --------------------------------------------------------------------------


@dataclass
class TreeParse:
    """What a file held: the tree (None unless there are no errors) and every error, formatted
    `FILE:ROW: 列名: message`."""

    filename: str
    tree: dict | None = None
    errors: list[str] = field(default_factory=list)
    rows: int = 0


def _read_sheet(filename: str, data: bytes, errors: list[str], required: tuple[str, ...],
                preferred: str) -> tuple[list, int, dict[str, int]] | None:
    """(rows, header_index, columns) of the sheet holding the template's header (the sheet named
    `preferred` first, so a 说明 sheet in front of it does no harm), after the safety checks.
    None (with the reason in `errors`) when the file is refused or has no such sheet."""
    from openpyxl import load_workbook  # heavy: loaded only when a tree file is read

    if data[:4] == b"\xd0\xcf\x11\xe0":
        errors.append(f"{filename}: 这是旧版 Excel（.xls）文件，请另存为 .xlsx 后再导入")
        return None
    try:
        archive = open_zip(filename, data, Limits(max_file_bytes=MAX_TREE_BYTES))
    except InterchangeError as exc:
        errors.append(str(exc))
        return None
    if "xl/workbook.xml" not in archive.namelist():
        errors.append(f"{filename}: 不是 Excel（.xlsx）文件")
        return None
    try:
        check_sheet_rows(filename, archive)
    except InterchangeError as exc:
        errors.append(str(exc))
        return None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for broken files
        errors.append(f"{filename}: 无法读取 Excel 文件（{type(exc).__name__}）")
        return None
    try:
        sheets = sorted(book.worksheets, key=lambda ws: ws.title.strip() != preferred)
        for ws in sheets:
            ws.reset_dimensions()  # dimensions written by other tools are often wrong
            rows_iter = ws.iter_rows(values_only=True)
            rows = [row for _, row in zip(range(10), rows_iter, strict=False)]
            found = _find_header(rows, required)
            if found is None:
                continue
            for row in rows_iter:
                rows.append(row)
                if len(rows) > MAX_NODES + 20:
                    errors.append(f"{filename}: 行数超过上限 {MAX_NODES}")
                    return None
            return rows, found[0], found[1]
    except Exception as exc:  # noqa: BLE001
        errors.append(f"{filename}: 无法读取 Excel 文件（{type(exc).__name__}）")
        return None
    finally:
        book.close()
    errors.append(f"{filename}: 没有找到表头（需要“{'、'.join(required)}”等列，见模板说明）")
    return None


def _find_header(rows, required: tuple[str, ...]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:10]):
        columns = {}
        for col, value in enumerate(row):
            name = re.sub(r"\s+", "", cell_text(value)).replace("（", "(").split("(")[0]
            if name and name not in columns:
                columns[name] = col
        if all(r in columns for r in required):
            return index, columns
    return None


def parse_tree_xlsx(filename: str, data: bytes, standard_levels: list[int] | None = None) -> TreeParse:
    """Read the knowledge-tree template: one row per range (层级类型 范围) or point (鉴定点), linked by
    上级代码. All-or-nothing: `tree` is set only when there is no error at all."""
    result = TreeParse(filename)
    sheet = _read_sheet(filename, data, result.errors, (F_TYPE, F_CODE, F_NAME, F_PARENT), "鉴定要素细目表")
    if sheet is None:
        return result
    rows, header_index, cols = sheet

    def get(row, name):
        col = cols.get(name)
        return row[col] if col is not None and col < len(row) else None

    def err(row_no, column, message):
        result.errors.append(f"{filename}:{row_no}: {column + ': ' if column else ''}{message}")

    ranges: dict[str, dict] = {}
    parents: dict[str, str] = {}
    points: list[tuple[int, str, dict]] = []
    row_of: dict[str, int] = {}
    order: list[str] = []
    for row_no, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        if not any(cell_text(v) for v in row):
            continue
        result.rows += 1
        kind_text = cell_text(get(row, F_TYPE))
        code, parent = cell_text(get(row, F_CODE)), cell_text(get(row, F_PARENT))
        if kind_text in ("范围", "鉴定范围"):
            weights = {}
            for column, level in WEIGHT_COLUMNS.items():
                value = get(row, column)
                if cell_text(value) == "":
                    continue
                number = _number(value)
                if number is None:
                    err(row_no, column, f"比重应为数字，而不是“{cell_text(value)}”")
                    continue
                weights[str(level)] = _tidy(number)
            node = {"code": code, "name": cell_text(get(row, F_NAME)), "weights": weights,
                    "children": [], "points": []}
            if code in row_of:
                err(row_no, F_CODE, f"代码 {code} 重复（第 {row_of[code]} 行已使用）")
                continue
            if code:
                row_of[code] = row_no
                ranges[code] = node
                order.append(code)
                if parent:
                    parents[code] = parent
            else:
                err(row_no, F_CODE, "代码不能为空")
        elif kind_text in ("鉴定点", "点", "要素", "鉴定要素"):
            node = {"code": code, "name": cell_text(get(row, F_NAME)),
                    "importance": cell_text(get(row, F_IMPORTANCE)), "levels": cell_text(get(row, F_LEVELS))}
            if code in row_of:
                err(row_no, F_CODE, f"代码 {code} 重复（第 {row_of[code]} 行已使用）")
                continue
            if not code:
                err(row_no, F_CODE, "代码不能为空")
                continue
            row_of[code] = row_no
            points.append((row_no, parent, node))
        else:
            err(row_no, F_TYPE, f"层级类型应为“范围”或“鉴定点”，而不是“{kind_text or '空'}”")
    if not ranges and not result.errors:
        result.errors.append(f"{filename}: 没有任何“范围”行")
    for code, parent in parents.items():
        if parent not in ranges:
            err(row_of[code], F_PARENT, f"上级代码 {parent} 不是本表中的鉴定范围")
        elif _is_ancestor(code, parent, parents):
            err(row_of[code], F_PARENT, f"上级代码 {parent} 形成了循环")
    for row_no, parent, node in points:
        if not parent:
            err(row_no, F_PARENT, "鉴定点必须填写所属鉴定范围的代码")
        elif parent not in ranges:
            err(row_no, F_PARENT, f"上级代码 {parent} 不是本表中的鉴定范围")
        else:
            ranges[parent]["points"].append(node)
    if result.errors:
        return result
    for code in order:
        if code in parents:
            ranges[parents[code]]["children"].append(ranges[code])
    tree, issues = validate_tree({"ranges": [ranges[c] for c in order if c not in parents]},
                                 standard_levels)
    for issue in issues:
        row_no = row_of.get(issue.code) if issue.code else None
        message = issue.message
        where = f"{filename}:{row_no}" if row_no else filename
        result.errors.append(f"{where}: {issue.field + ': ' if issue.field else ''}{message}")
    if not result.errors:
        result.tree = tree
    else:
        result.errors.sort(key=_row_number)  # read top to bottom, as the user fixes the sheet
    return result


def _row_number(error: str) -> int:
    match = re.match(r"^[^:]*:(\d+):", error)
    return int(match.group(1)) if match else 0


def _is_ancestor(code: str, parent: str, parents: dict[str, str]) -> bool:
    seen = set()
    while parent and parent not in seen:
        if parent == code:
            return True
        seen.add(parent)
        parent = parents.get(parent, "")
    return False


# --- the edition mapping sheet -------------------------------------------------------------------

CHANGE_WORDS = {"same": "same", "相同": "same", "未变": "same", "不变": "same", "沿用": "same",
                "changed": "changed", "变更": "changed", "修改": "changed", "已变更": "changed",
                "removed": "removed", "删除": "removed", "已删除": "removed", "取消": "removed"}


def parse_mapping_xlsx(filename: str, data: bytes) -> tuple[dict[str, dict], list[str]]:
    """Read a mapping sheet: 原鉴定点代码, 新鉴定点代码, 变更类型 (相同/变更/删除), 说明.
    Returns ({old_code: {"new", "change", "note"}}, errors)."""
    errors: list[str] = []
    sheet = _read_sheet(filename, data, errors, ("原鉴定点代码", "新鉴定点代码", "变更类型"), "对应关系")
    if sheet is None:
        return {}, errors
    rows, header_index, cols = sheet
    mapping: dict[str, dict] = {}
    for row_no, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        def get(name, row=row):
            col = cols.get(name)
            return cell_text(row[col]) if col is not None and col < len(row) else ""

        old, new, change_text = get("原鉴定点代码"), get("新鉴定点代码"), get("变更类型")
        if not (old or new or change_text):
            continue
        change = CHANGE_WORDS.get(change_text.lower())
        if not old:
            errors.append(f"{filename}:{row_no}: 原鉴定点代码: 不能为空")
        elif change is None:
            errors.append(f"{filename}:{row_no}: 变更类型: 应为“相同”“变更”或“删除”，而不是“{change_text or '空'}”")
        elif old in mapping:
            errors.append(f"{filename}:{row_no}: 原鉴定点代码: {old} 重复")
        else:
            mapping[old] = {"new": new or None, "change": change, "note": get("说明")}
    return mapping, errors


# --- writing the template ------------------------------------------------------------------------

HEADER = [F_TYPE, F_CODE, F_NAME, F_PARENT, *WEIGHT_COLUMNS, F_IMPORTANCE, F_LEVELS]


def emit_tree_xlsx(tree: dict) -> bytes:
    """The tree in the import template (an empty `ranges` gives the bare template); reading the
    result back with parse_tree_xlsx gives the same tree."""
    from openpyxl import Workbook  # heavy: loaded only when the template is asked for
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    ws.title = "鉴定要素细目表"
    ws.append(HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for parent, _, node in iter_ranges(tree.get("ranges", [])):
        ws.append(["范围", node["code"], node["name"], parent or "",
                   *[node["weights"].get(str(lv)) for lv in WEIGHT_COLUMNS.values()], "", ""])
        for p in node["points"]:
            ws.append(["鉴定点", p["code"], p["name"], node["code"], *[None] * len(WEIGHT_COLUMNS),
                       p["importance"], ",".join(map(str, p["levels"]))])
    for letter, width in zip("ABCDEFGHIJK", (10, 14, 40, 12, 9, 9, 9, 9, 9, 10, 12), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
