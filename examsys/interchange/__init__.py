"""Parsing and emitting of question files: pure functions from bytes to drafts and
back. No database, no Flask; the bank validates, sanitises (nh3) and stores.

    parse_file(filename, data) -> ParseResult      raises InterchangeError
    emit(format, items) -> bytes                   format: xlsx | moodle-xml | qti3

Formats: .xlsx (canonical template and synonyms), .gift/.txt (GIFT), .xml (Moodle XML
or a QTI 2.x/3.0 item, told apart by the root element), .zip (QTI content package).
"""

from __future__ import annotations

from .checks import BLANK_RE, count_blanks, validate_content
from .gift import parse_gift
from .model import (
    QTYPE_LABELS,
    QTYPES,
    Attachment,
    HostileInputError,
    ImportIssue,
    InterchangeError,
    ItemDraft,
    ParseResult,
    SourceRef,
    make_content,
)
from .moodle_xml import emit_moodle_xml, parse_moodle_xml
from .qti import emit_qti3_package, parse_qti_item, parse_qti_package
from .qti.common import VERSIONS, namespace
from .safety import DEFAULT_LIMITS, Limits, check_size, open_zip, parse_xml
from .xlsx import parse_xlsx
from .xlsx_export import emit_xlsx

__all__ = [
    "BLANK_RE",
    "DEFAULT_LIMITS",
    "QTYPES",
    "QTYPE_LABELS",
    "Attachment",
    "HostileInputError",
    "ImportIssue",
    "InterchangeError",
    "ItemDraft",
    "Limits",
    "ParseResult",
    "SourceRef",
    "count_blanks",
    "emit",
    "emit_moodle_xml",
    "emit_qti3_package",
    "emit_xlsx",
    "make_content",
    "parse_file",
    "parse_gift",
    "parse_moodle_xml",
    "parse_qti_item",
    "parse_qti_package",
    "parse_xlsx",
    "validate_content",
]

EMITTERS = {"xlsx": emit_xlsx, "moodle-xml": emit_moodle_xml, "qti3": emit_qti3_package}
_ZIP_MAGIC = b"PK\x03\x04"


def parse_file(filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParseResult:
    """Parse one uploaded file. Raises InterchangeError (HostileInputError for
    refusals on safety grounds) when the file as a whole cannot be used."""
    check_size(filename, data, limits)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext == "xlsx" or ext == "xls":
        return parse_xlsx(filename, data, limits)
    if ext == "zip" or (ext not in ("xml", "gift", "txt") and data.startswith(_ZIP_MAGIC)):
        return _parse_zip(filename, data, limits)
    if ext in ("gift", "txt"):
        return parse_gift(filename, data)
    if ext == "xml" or data.lstrip()[:1] == b"<":
        return _parse_xml(filename, data)
    shown = f"「.{ext}」" if ext else "（没有扩展名）"
    raise InterchangeError(filename, f"不支持的文件类型{shown}：请上传 Excel（.xlsx，可下载导入模板）、"
                                     "GIFT（.gift 或 .txt）、Moodle XML 或 QTI（.xml，或 .zip 内容包）文件")


def _parse_zip(filename: str, data: bytes, limits: Limits) -> ParseResult:
    try:
        archive = open_zip(filename, data, limits)
    except HostileInputError:
        raise
    except InterchangeError as exc:
        if not exc.message.startswith("不是有效的 zip"):
            raise
        raise InterchangeError(filename, "不是有效的 zip 压缩包：文件已损坏、不完整或并非 .zip 文件。"
                                         "请重新导出 QTI 内容包（或重新压缩）后再上传") from exc
    if "xl/workbook.xml" in archive.namelist():
        return parse_xlsx(filename, data, limits)
    return parse_qti_package(filename, data, limits)


def _parse_xml(filename: str, data: bytes) -> ParseResult:
    root = parse_xml(filename, data)
    if root.tag == "quiz":
        return parse_moodle_xml(filename, data, root)
    if namespace(root.tag) in VERSIONS or "assessmentItem" in root.tag:
        return parse_qti_item(filename, data)
    if namespace(root.tag) == "":
        # No namespace and not a quiz: let the QTI reader explain what is missing.
        return parse_qti_item(filename, data)
    raise InterchangeError(filename, f"无法识别的 XML 文件（根元素 {root.tag}）")


def emit(fmt: str, items: list[ItemDraft]) -> bytes:
    """Serialise drafts; fmt is "xlsx", "moodle-xml" or "qti3"."""
    try:
        emitter = EMITTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r}; use one of {sorted(EMITTERS)}") from None
    return emitter(list(items))
