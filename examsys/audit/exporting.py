"""The process record as a file: readable events (examsys.audit.presenting) written as an xlsx
workbook or a CSV that Excel opens with its Chinese intact (UTF-8 with a byte-order mark).
Pure: rows in, bytes out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from examsys.audit.presenting import EXPORT_HEADER, PresentedEvent, flatten

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
BOM = "\ufeff"
# Column widths (characters) of the workbook, in EXPORT_HEADER's order.
WIDTHS = (20, 18, 22, 14, 22, 12, 30, 80, 16, 14, 8, 66)
# Spreadsheet programs run cells starting with these as formulas; such values are kept as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[PresentedEvent]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    for p in rows:
        writer.writerow([_safe(v) for v in flatten(p)])
    return out.getvalue().encode("utf-8")


def to_xlsx(rows: Iterable[PresentedEvent]) -> bytes:
    from openpyxl import Workbook  # heavy: loaded only when someone exports a workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("过程记录")
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.freeze_panes = "A2"
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    header = []
    for title in EXPORT_HEADER:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for p in rows:
        cells = []
        for value in flatten(p):
            cell = WriteOnlyCell(sheet, value=_safe(value))
            cell.alignment = wrap
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def build(fmt: str, rows: Iterable[PresentedEvent]) -> bytes:
    return to_xlsx(rows) if fmt == "xlsx" else to_csv(rows)
