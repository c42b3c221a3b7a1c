"""Excel (.xlsx) question sheets, export of the canonical template (import: examsys.interchange.xlsx).

One sheet "试题" with the canonical columns first and then the columns needed to carry
everything else, so export -> import loses nothing. Cells that would start with = + - @ are
written as quote-prefixed text, never as formulas; C0 control characters, which Excel cannot
hold, are dropped.
"""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Font

from . import xlsx_fields as xf
from .model import OPTION_LABELS, ItemDraft, number
from .richtext import html_to_plain
from .xlsx import HTML_PREFIX

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(fragment: str) -> str:
    plain = html_to_plain(fragment)
    if plain is not None and not plain.startswith(HTML_PREFIX):
        return plain
    return HTML_PREFIX + fragment


def _row_values(item: ItemDraft, depth: int) -> list:
    c = item.content
    options = {o["label"]: _cell_text(o["text"]) for o in c.get("options", [])}
    if item.qtype == "judge":
        answer = "正确" if c["key"] else "错误"
    elif item.qtype == "single":
        answer = c["key"]
    elif item.qtype == "multi":
        answer = "".join(c["key"])
    elif item.qtype == "fill":
        answer = xf.format_fill(c["key"])
    else:
        answer = _cell_text(c.get("reference_answer", ""))
    path = list(item.kp_path) + [""] * (depth - len(item.kp_path))
    return [
        xf.QTYPE_CELL[item.qtype],
        _cell_text(c["stem"]),
        *(options.get(label, "") for label in OPTION_LABELS),
        answer,
        _cell_text(c.get("explanation", "")),
        item.difficulty,
        item.kp_code or "",
        number(item.points) if item.points is not None else None,
        xf.format_scoring_points(c.get("scoring_points", [])),
        item.external_id or "",
        *path,
        "；".join(item.tags),
        item.meta.get("consistency", ""),
        item.meta.get("origin", ""),
    ]


def emit_xlsx(items: list[ItemDraft]) -> bytes:
    depth = max((len(i.kp_path) for i in items), default=0)
    if depth > 10:
        raise ValueError("knowledge-point paths deeper than 10 levels cannot be written")
    headers = [
        "题型",
        "题干",
        *(f"选项{label}" for label in OPTION_LABELS),
        "答案",
        "解析",
        "难度",
        "鉴定点",
        "分值",
        "评分要点",
        "试题编号",
        *(xf.level_header(n) for n in range(1, depth + 1)),
        "标签",
        "一致性",
        "出处",
    ]
    book = Workbook()
    ws = book.active
    ws.title = "试题"
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for item in items:
        values = _row_values(item, depth)
        ws.append([_strip_illegal(v) if isinstance(v, str) else v for v in values])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_START):
                # Text, not a formula: Excel's own "leading apostrophe" (quotePrefix).
                cell.data_type = "s"
                cell.quotePrefix = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _strip_illegal(text: str) -> str | None:
    """Excel cannot hold C0 control characters; an empty string is an empty cell."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text) or None


__all__ = ["emit_xlsx"]
