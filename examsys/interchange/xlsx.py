"""Excel (.xlsx) question sheets: import of the canonical template, its common
synonyms and the national bank template; export of the canonical template.

Import reads every sheet that has a recognisable header row (within its first ten
rows); a sheet without a 题型 column takes the type from its name (e.g. "单选题").
Each row becomes one draft or one or more row-numbered errors; empty rows are skipped.
The archive is checked by `safety.open_zip` before openpyxl sees it, and formulas are
never evaluated: a formula cell is an error.

Export: examsys.interchange.xlsx_export.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time

from defusedxml import DefusedXmlException
from openpyxl import load_workbook

from . import xlsx_fields as xf
from .checks import validate_content
from .model import (
    CHOICE_QTYPES,
    META_KEYS,
    OPEN_QTYPES,
    OPTION_LABELS,
    HostileInputError,
    ImportIssue,
    InterchangeError,
    ItemDraft,
    ParseResult,
    SourceRef,
    make_content,
)
from .richtext import plain_to_html
from .safety import DEFAULT_LIMITS, Limits, check_sheet_rows, open_zip

HTML_PREFIX = "[html]"
_OPTION_FIELDS = {f"选项{label}" for label in OPTION_LABELS}
_CONTENT_FIELDS = {
    "stem": "题干",
    "options": "选项",
    "key": "答案",
    "reference_answer": "答案",
    "scoring_points": "评分要点",
    "explanation": "解析",
}


def cell_text(value) -> str:
    """A cell as trimmed text: empty for None, whole floats without ".0" (Excel stores 2 as 2.0).
    Shared by every spreadsheet reader (questions, rosters, knowledge trees)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _cell_str(value) -> str:
    if isinstance(value, bool):
        return "正确" if value else "错误"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return cell_text(value)


def _cell_html(text: str) -> str:
    if text.startswith(HTML_PREFIX):
        return text[len(HTML_PREFIX) :].strip()
    return plain_to_html(text)


SAVE_AS_XLSX = "请在 Excel 中打开并“另存为”Excel 工作簿（.xlsx）后再导入，或下载导入模板按模板填写"


def _not_a_workbook(data: bytes) -> str:
    """What a file named .xlsx that is no workbook seems to be, for the refusal."""
    head = data[:8]
    if head.startswith(b"%PDF"):
        return "这是 PDF 文件，不是 Excel（.xlsx）文件"
    if head.startswith((b"<", b"\xef\xbb\xbf<")) or b"<html" in data[:512].lower():
        return "这是网页或 XML 文件（可能是从网站导出的“Excel”），不是 Excel（.xlsx）文件"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        try:
            data[:4096].decode("gb18030")
        except UnicodeDecodeError:
            return "不是 Excel（.xlsx）文件，也无法识别其格式"
    return "这是文本（如 CSV）文件，不是 Excel（.xlsx）文件"


def parse_xlsx(filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParseResult:
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise InterchangeError(filename, "这是旧版 Excel（.xls）文件，请另存为 .xlsx 后再导入")
    if data and not data.startswith(b"PK"):
        raise InterchangeError(filename, f"{_not_a_workbook(data)}。{SAVE_AS_XLSX}")
    try:
        archive = open_zip(filename, data, limits)
    except HostileInputError:
        raise
    except InterchangeError as exc:
        if not data:
            raise
        raise InterchangeError(filename, f"Excel 文件已损坏或不完整，无法读取。{SAVE_AS_XLSX}") from exc
    if "xl/workbook.xml" not in archive.namelist():
        raise InterchangeError(filename, f"这是压缩包（如 Word 文档或 .zip），不是 Excel（.xlsx）文件。{SAVE_AS_XLSX}")
    check_sheet_rows(filename, archive, limits)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise unreadable(filename, exc) from exc
    try:
        return _parse_book(filename, book)
    except InterchangeError:
        raise
    except Exception as exc:
        raise unreadable(filename, exc) from exc
    finally:
        book.close()


def unreadable(filename: str, exc: BaseException) -> InterchangeError:
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, DefusedXmlException):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:  # openpyxl parses through defusedxml and wraps its refusals
        return HostileInputError(filename, "Excel 文件中的 XML 含有实体声明或外部引用，出于安全原因拒绝处理")
    return InterchangeError(filename, f"无法读取 Excel 文件，文件可能已损坏（{type(exc).__name__}）。{SAVE_AS_XLSX}")


def _parse_book(filename: str, book) -> ParseResult:
    sheets = []
    for ws in book.worksheets:
        ws.reset_dimensions()  # dimensions written by other tools are often wrong
        rows = ws.iter_rows()
        header = _find_header(rows)
        if header is not None:
            sheets.append((ws.title, header, rows))
            # iter_rows is a generator: keep it positioned right after the header
    if not sheets:
        raise InterchangeError(filename, "没有找到表头（需要“题干”等列，见导入模板）")
    result = ParseResult()
    for title, (header_row, columns), rows in sheets:
        display = filename if len(sheets) == 1 else f"{filename}[{title}]"
        _SheetParser(display, title, columns, result).parse(rows, header_row)
    return result


def _find_header(rows) -> tuple[int, dict[str, int]] | None:
    for number_, row in enumerate(rows, 1):
        columns: dict[str, int] = {}
        for idx, cell in enumerate(row):
            fld = xf.header_field(cell.value)
            if fld and fld not in columns:
                columns[fld] = idx
        if "stem" in columns and len(columns) >= 2:
            return number_, columns
        if number_ >= 10:
            return None
    return None


class _SheetParser:
    def __init__(self, display: str, title: str, columns: dict[str, int], result: ParseResult):
        self.display = display
        self.sheet_qtype = xf.parse_qtype(title)
        self.columns = columns
        self.result = result

    def parse(self, rows, header_row: int) -> None:
        for row_number, row in enumerate(rows, header_row + 1):
            cells = list(row)
            if all(_cell_str(c.value) == "" for c in cells):
                continue
            _Row(self, row_number, cells).parse()


class _Row:
    def __init__(self, sheet: _SheetParser, row_number: int, cells):
        self.sheet = sheet
        self.source = SourceRef(sheet.display, row_number)
        self.cells = cells
        self.errors: list[ImportIssue] = []

    def get(self, fld: str) -> str:
        idx = self.sheet.columns.get(fld)
        if idx is None or idx >= len(self.cells):
            return ""
        cell = self.cells[idx]
        if getattr(cell, "data_type", None) == "f":
            self.error(self._header(fld), "单元格是公式，请改为文本或数值后再导入")
            return ""
        return _cell_str(cell.value)

    def _header(self, fld: str) -> str:
        if fld.startswith("option:"):
            return f"选项{fld[7:]}"
        if fld.startswith("level:"):
            return xf.level_header(int(fld[6:]))
        return xf.FIELD_HEADERS.get(fld, fld)

    def error(self, fld: str | None, message: str) -> None:
        self.errors.append(ImportIssue(str(self.source), fld, message))

    def parse(self) -> None:
        qtype = self._qtype()
        stem = _cell_html(self.get("stem"))
        if not stem and not any(e.field == "题干" for e in self.errors):
            self.error("题干", "不能为空")
        options = self._options()
        answer = self.get("answer")
        content = None
        if qtype is not None:
            content = self._content(qtype, stem, options, answer)
        draft = self._draft(qtype, content)
        if content is not None:
            reported = {e.field for e in self.errors}
            for fld, message in validate_content(qtype, content):
                name = _CONTENT_FIELDS.get(fld, fld)
                if name not in reported and not (name == "选项" and reported & _OPTION_FIELDS):
                    self.error(name, message)
        if self.errors:
            self.sheet.result.errors.extend(self.errors)
        else:
            self.sheet.result.items.append(draft)

    def _qtype(self) -> str | None:
        raw = self.get("qtype")
        if not raw:
            if self.sheet.sheet_qtype:
                return self.sheet.sheet_qtype
            self.error("题型", "不能为空")
            return None
        qtype = xf.parse_qtype(raw)
        if qtype is None:
            self.error("题型", f'无法识别的题型 "{raw}"')
        return qtype

    def _options(self) -> list[dict]:
        texts = [self.get(f"option:{label}") for label in OPTION_LABELS]
        while texts and not texts[-1]:
            texts.pop()
        for i, text in enumerate(texts):
            if not text:
                self.error(f"选项{OPTION_LABELS[i]}", f"为空，但其后的选项{OPTION_LABELS[len(texts) - 1]} 有内容")
                return []
        return [{"label": OPTION_LABELS[i], "text": _cell_html(t)} for i, t in enumerate(texts)]

    def _content(self, qtype: str, stem: str, options: list[dict], answer: str) -> dict | None:
        explanation = _cell_html(self.get("explanation"))
        if qtype in OPEN_QTYPES:
            points, bad = xf.parse_scoring_points(self.get("scoring_points"))
            for piece in bad:
                self.error("评分要点", f'无法识别 "{piece}"（应写作 要点内容（2分），每行一条）')
            return make_content(
                qtype, stem, reference_answer=_cell_html(answer), scoring_points=points, explanation=explanation
            )
        if not answer:
            self.error("答案", "不能为空")
            return None
        if qtype == "judge":
            key = xf.parse_judge(answer)
            if key is None and options and xf.parse_letters(answer) in (["A"], ["B"]):
                # Templates that list 正确/错误 as options A/B and answer with a letter.
                chosen = options[OPTION_LABELS.index(answer.strip().upper())]["text"]
                key = xf.parse_judge(chosen)
            if key is None:
                self.error("答案", f'判断题答案应为 正确/错误（或 对/错、√/×、T/F），实际为 "{answer}"')
                return None
            return make_content(qtype, stem, key=key, explanation=explanation)
        if qtype in CHOICE_QTYPES:
            letters = xf.parse_letters(answer)
            if letters is None:
                self.error("答案", f'无法识别的答案 "{answer}"（应为选项字母，如 ABD）')
                return None
            if len(set(letters)) != len(letters):
                self.error("答案", f'答案 "{answer}" 中有重复的选项')
                return None
            key = "".join(letters) if qtype == "single" else sorted(letters)
            return make_content(qtype, stem, options=options, key=key, explanation=explanation)
        key = xf.parse_fill(answer)
        if any(not alts for alts in key):
            self.error("答案", f'"{answer}" 中有空的答案（用 | 分隔各空，用 ； 分隔同一空的备选答案）')
            return None
        return make_content(qtype, stem, key=key, explanation=explanation)

    def _draft(self, qtype: str | None, content: dict | None) -> ItemDraft:
        draft = ItemDraft(qtype=qtype or "", content=content or {}, source=self.source)
        if raw := self.get("difficulty"):
            draft.difficulty = xf.parse_difficulty(raw)
            if draft.difficulty is None:
                self.error("难度", f'应为 1–5 或 易/较易/中等/较难/难，实际为 "{raw}"')
        if raw := self.get("points"):
            draft.points = xf.parse_points(raw)
            if draft.points is None:
                self.error("分值", f'应为大于 0 的数，实际为 "{raw}"')
        draft.kp_code = self.get("kp_code") or None
        draft.external_id = self.get("external_id") or None
        draft.tags = xf.split_tags(self.get("tags"))
        levels = sorted(int(f[6:]) for f in self.sheet.columns if f.startswith("level:"))
        draft.kp_path = [v for v in (self.get(f"level:{n}") for n in levels) if v]
        for key in META_KEYS:
            if value := self.get(f"meta:{key}"):
                draft.meta[key] = value
        return draft
