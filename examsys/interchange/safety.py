"""Refusing hostile input before it costs anything: file size, zip archives (checked
on the central directory, before a single byte is inflated) and XML (defusedxml only:
no DTDs, no entities, no external references).

Every refusal is an `InterchangeError` naming the file, with a Chinese message.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from xml.parsers.expat import errors as expat_errors

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .model import HostileInputError, InterchangeError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 50 * MB
    max_zip_entries: int = 10_000
    max_zip_total_bytes: int = 200 * MB
    max_zip_ratio: int = 100
    # A high ratio only matters when inflating could cost memory: small members
    # (a repetitive 40 KB manifest) are exempt.
    ratio_floor_bytes: int = 1 * MB
    # Rows of one worksheet. Rows cost time, not memory: a 1 MB xlsx can hold 200,000 small rows,
    # and reading them keeps a web worker busy for a minute before any other check could refuse.
    max_sheet_rows: int = 20_000


DEFAULT_LIMITS = Limits()


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB"


def check_size(filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    if len(data) > limits.max_file_bytes:
        raise HostileInputError(filename, f"文件大小 {_mb(len(data))} 超过上限 {_mb(limits.max_file_bytes)}，"
                                          "请删去图片或拆分成几个文件后分别导入")
    if not data:
        raise InterchangeError(filename, "文件为空，请检查是否选错了文件")


# ---------------------------------------------------------------- zip archives

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def _declared_entries(filename: str, data: bytes) -> tuple[int, int, int]:
    """Entry count, central directory size and offset as the end record declares
    them, read without parsing the central directory itself."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if pos < 0 or pos + _EOCD.size > len(data):
        raise InterchangeError(filename, "不是有效的 zip 压缩包")
    _, _, _, _, entries, cd_size, cd_offset, _ = _EOCD.unpack_from(data, pos)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        loc = pos - _ZIP64_LOCATOR.size
        if loc >= 0 and data[loc : loc + 4] == b"PK\x06\x07":
            _, _, z64_offset, _ = _ZIP64_LOCATOR.unpack_from(data, loc)
            if z64_offset + _ZIP64_EOCD.size <= len(data):
                fields = _ZIP64_EOCD.unpack_from(data, z64_offset)
                if fields[0] == b"PK\x06\x06":
                    entries, cd_size, cd_offset = fields[7], fields[8], fields[9]
    return entries, cd_size, cd_offset


def unsafe_member_reason(name: str) -> str | None:
    """Why a member name may not be used as a path, or None when it is safe."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return "使用了绝对路径"
    if any(part == ".." for part in norm.split("/")):
        return "包含 ../ 路径穿越"
    if "\x00" in norm:
        return "文件名含有非法字符"
    return None


def open_zip(filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """Check an archive's directory and return it opened; nothing has been inflated.
    Nested archives are never opened by anything in this package."""
    check_size(filename, data, limits)
    entries, cd_size, cd_offset = _declared_entries(filename, data)
    # The end record can lie (or say 0xFFFF, "see zip64"); the directory cannot hide
    # its records, and counting signatures costs no parsing.
    directory = data[cd_offset : cd_offset + cd_size] if cd_offset < len(data) else b""
    records = directory.count(b"PK\x01\x02")
    count = records if entries == 0xFFFF else max(entries, records)
    if count > limits.max_zip_entries:
        raise HostileInputError(filename, f"压缩包条目数 {count} 超过上限 {limits.max_zip_entries}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, struct.error) as exc:
        raise InterchangeError(filename, f"不是有效的 zip 压缩包（{exc}）") from exc
    _check_members(filename, archive, limits)
    return archive


def _check_members(filename: str, archive: zipfile.ZipFile, limits: Limits) -> None:
    infos = archive.infolist()
    if len(infos) > limits.max_zip_entries:
        raise HostileInputError(filename, f"压缩包条目数 {len(infos)} 超过上限 {limits.max_zip_entries}")
    total = 0
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if reason := unsafe_member_reason(name):
            raise HostileInputError(filename, f"压缩包条目 {name!r} {reason}，拒绝处理")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise HostileInputError(filename, f"压缩包条目 {name!r} 是符号链接，拒绝处理")
        if info.flag_bits & 0x1:
            raise InterchangeError(filename, f"压缩包条目 {name!r} 已加密，无法读取")
        if name in seen:
            raise InterchangeError(filename, f"压缩包中有重复的条目 {name!r}")
        seen.add(name)
        size = info.file_size
        total += size
        if total > limits.max_zip_total_bytes:
            raise HostileInputError(
                filename,
                f"压缩包解压后总大小超过上限 {_mb(limits.max_zip_total_bytes)}（条目 {name!r} 为 {_mb(size)}）",
            )
        ratio = size / max(info.compress_size, 1)
        if size > limits.ratio_floor_bytes and ratio > limits.max_zip_ratio:
            raise HostileInputError(
                filename,
                f"压缩包条目 {name!r} 压缩比 {ratio:.0f}:1 超过上限 {limits.max_zip_ratio}:1，疑似压缩炸弹",
            )


def read_member(filename: str, archive: zipfile.ZipFile, name: str) -> bytes:
    """Inflate one checked member; never more than its declared size."""
    info = archive.getinfo(name)
    try:
        with archive.open(info) as fh:
            content = fh.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        # A forged size ends the read early and fails the CRC check; a truncated or corrupt
        # stream fails inflation: either way the member is not what the directory says.
        raise HostileInputError(filename, f"压缩包条目 {name!r} 已损坏或与声明的大小不符，拒绝处理") from exc
    if len(content) > info.file_size:
        raise HostileInputError(filename, f"压缩包条目 {name!r} 的实际大小与声明不符")
    return content


_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


def check_sheet_rows(filename: str, archive: zipfile.ZipFile, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a workbook with a worksheet of more than `limits.max_sheet_rows` rows, counted by
    streaming each (already size-checked) sheet part through a pattern: no XML parsing, no
    spreadsheet library, a few milliseconds per megabyte."""
    for info in archive.infolist():
        name = info.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        rows = 0
        tail = b""
        try:
            with archive.open(info) as fh:
                while chunk := fh.read(1 << 20):
                    block = tail + chunk
                    rows += len(_ROW.findall(block))
                    # keep the last bytes that could start a tag cut by the chunk boundary
                    cut = block.rfind(b"<", max(0, len(block) - 64))
                    tail = block[cut:] if cut >= 0 else b""
                    if cut >= 0 and _ROW.match(tail):
                        rows -= 1  # counted in this block, will be counted again with the next
                    if rows > limits.max_sheet_rows:
                        number = re.sub(r"\D", "", name.rsplit("/", 1)[-1]) or "1"
                        raise HostileInputError(filename, f"第 {number} 个工作表超过 {limits.max_sheet_rows} 行，"
                                                          "请拆分成几个文件后分别导入")
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise HostileInputError(filename, f"压缩包条目 {name!r} 已损坏或与声明的大小不符，拒绝处理") from exc


# ---------------------------------------------------------------- XML


class LineElement(ET.Element):
    """An element that remembers the line it started on, for error messages."""

    __slots__ = ("line",)


class _LineBuilder(ET.TreeBuilder):
    def __init__(self):
        super().__init__(element_factory=LineElement)
        self.parser: DefusedXMLParser | None = None

    def start(self, tag, attrs):
        el = super().start(tag, attrs)
        el.line = self.parser.parser.CurrentLineNumber if self.parser else None
        return el


_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9_.\-]+)[\"']")
_EXPAT_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "iso-8859-1", "latin-1", "us-ascii"}


def _recode(data: bytes) -> bytes:
    """expat knows no Chinese encodings; files declared GBK/GB2312/GB18030 are
    decoded here and handed over as UTF-8."""
    m = _DECL_ENCODING.match(data[:200])
    if not m or m.group(1).decode().lower() in _EXPAT_ENCODINGS:
        return data
    enc = m.group(1).decode().lower()
    if enc in ("gbk", "gb2312", "gb18030", "cp936"):
        text = data.decode("gb18030", errors="replace")
        text = re.sub(r"encoding=[\"'][^\"']+[\"']", 'encoding="utf-8"', text, count=1)
        return text.encode("utf-8")
    return data


def parse_xml(filename: str, data: bytes) -> LineElement:
    """Parse XML safely; each element carries `.line`. Raises InterchangeError."""
    if not data.strip():
        raise InterchangeError(filename, "文件为空")
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(_recode(data))
        return parser.close()
    except DefusedXmlException as exc:
        line = parser.parser.CurrentLineNumber
        raise HostileInputError(filename, "XML 含有 DTD、实体声明或外部引用，出于安全原因拒绝处理", line) from exc
    except ET.ParseError as exc:
        line, col = exc.position
        raise InterchangeError(filename, xml_error_message(exc.code, line, col), line) from exc


# expat's error messages (English) by their code → what a user can act on, in Chinese.
_EXPAT_REASONS = {
    "XML_ERROR_NO_ELEMENTS": "文件中没有任何 XML 元素（内容为空或不完整）",
    "XML_ERROR_INVALID_TOKEN": "此处有不能出现在 XML 中的字符或标记（常见原因：文字中的 & 或 < 没有写成 &amp; 或 &lt;，"
                               "或文件不是 UTF-8 编码）",
    "XML_ERROR_UNCLOSED_TOKEN": "标记没有结束（文件可能不完整）",
    "XML_ERROR_PARTIAL_CHAR": "字符不完整（文件编码有误，请另存为 UTF-8）",
    "XML_ERROR_TAG_MISMATCH": "结束标签与开始标签不匹配（标签没有正确闭合）",
    "XML_ERROR_DUPLICATE_ATTRIBUTE": "同一元素中有重复的属性",
    "XML_ERROR_JUNK_AFTER_DOC_ELEMENT": "根元素结束之后还有多余内容",
    "XML_ERROR_UNDEFINED_ENTITY": "使用了未定义的实体（如 &nbsp; 请写作 &#160;）",
    "XML_ERROR_BAD_CHAR_REF": "字符引用无效（&#…; 指向不允许的字符）",
    "XML_ERROR_UNCLOSED_CDATA_SECTION": "CDATA 段没有结束（缺少 ]]>）",
    "XML_ERROR_UNKNOWN_ENCODING": "无法识别文件声明的编码，请另存为 UTF-8",
    "XML_ERROR_INCORRECT_ENCODING": "文件内容与声明的编码不符，请另存为 UTF-8",
    "XML_ERROR_MISPLACED_XML_PI": "XML 声明（<?xml …?>）必须位于文件最开头",
    "XML_ERROR_XML_DECL": "XML 声明（<?xml …?>）格式错误",
    "XML_ERROR_SYNTAX": "语法错误",
}
_REASON_BY_CODE = {expat_errors.codes[getattr(expat_errors, name)]: reason
                   for name, reason in _EXPAT_REASONS.items() if hasattr(expat_errors, name)}


def xml_error_message(code: int | None, line: int, column: int) -> str:
    """A parse error for people: what is wrong, where (line and 1-based column), what to do.
    expat counts columns from 0; editors count from 1."""
    reason = _REASON_BY_CODE.get(code, "无法解析")
    return (f"XML 格式错误（第 {line} 行第 {column + 1} 列）：{reason}。"
            "请用文本编辑器打开文件检查该处，修正后重新上传")
