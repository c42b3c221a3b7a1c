"""Hostile files are refused quickly, by name, and before anything is inflated."""

from __future__ import annotations

import io
import stat
import struct
import time
import zipfile

import pytest
from openpyxl import Workbook

from examsys.interchange import HostileInputError, InterchangeError, Limits, parse_file
from examsys.interchange.qti import parse_qti_package

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<quiz><question type="truefalse"><name><text>&lol9;</text></name></question></quiz>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<quiz><question type="essay"><questiontext><text>&xxe;</text></questiontext></question></quiz>"""


@pytest.fixture
def no_inflate(monkeypatch):
    """Call it once the fixture file is built: from then on, opening a zip member for
    reading fails the test."""
    original = zipfile.ZipFile.open

    def guarded(self, name, mode="r", *args, **kwargs):
        if mode == "r":
            raise AssertionError("a zip member was opened before the archive was refused")
        return original(self, name, mode, *args, **kwargs)

    return lambda: monkeypatch.setattr(zipfile.ZipFile, "open", guarded)


def refused(filename: str, data: bytes, **kwargs) -> HostileInputError:
    start = time.perf_counter()
    with pytest.raises(HostileInputError) as info:
        parse_file(filename, data, **kwargs)
    assert time.perf_counter() - start < 1.0
    assert str(info.value).startswith(filename)
    return info.value


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_xml_with_dtd_is_refused(payload):
    err = refused("evil.xml", payload)
    assert "DTD" in err.message


def test_dtd_inside_a_qti_package_refuses_the_whole_package():
    manifest = (
        b'<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
        b'<resource identifier="i" type="imsqti_item_xmlv2p1" href="i.xml"/>'
        b"</resources></manifest>"
    )
    data = _zip({"imsmanifest.xml": manifest, "i.xml": BILLION_LAUGHS})
    refused("pkg.zip", data)


def test_zip_bomb_with_high_ratio_is_refused(no_inflate):
    data = _zip({"imsmanifest.xml": b"<manifest/>", "bomb.xml": b"\0" * (30 * 1024 * 1024)})
    assert len(data) < 100_000
    no_inflate()
    err = refused("bomb.zip", data)
    assert "压缩比" in err.message and "bomb.xml" in err.message


def test_zip_over_total_size_is_refused(no_inflate):
    data = _zip({f"part{i}.xml": b"x" * 600_000 for i in range(4)})
    no_inflate()
    err = refused("big.zip", data, limits=Limits(max_zip_total_bytes=2 * 1024 * 1024))
    assert "总大小" in err.message


def test_zip_with_too_many_entries_is_refused(no_inflate):
    # A real 100k-entry directory, written by hand: one header and one record each.
    local, central = io.BytesIO(), io.BytesIO()
    for i in range(100_000):
        name = f"{i}.txt".encode()
        offset = local.tell()
        local.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0))
        local.write(name)
        central.write(
            struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, offset)
        )
        central.write(name)
    cd = central.getvalue()
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(cd), local.tell(), 0)
    data = local.getvalue() + cd + eocd
    no_inflate()
    err = refused("many.zip", data)
    assert err.message == "压缩包条目数 100000 超过上限 10000"


def test_forged_entry_count_is_refused_from_the_end_record(no_inflate):
    data = bytearray(_zip({"a.txt": b"a"}))
    pos = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, pos + 8, 65000, 65000)
    no_inflate()
    err = refused("bad.zip", bytes(data), limits=Limits(max_zip_entries=10_000))
    assert str(err) == "bad.zip: 压缩包条目数 65000 超过上限 10000"


@pytest.mark.parametrize("name", ["../evil.xml", "a/../../evil.xml", "/etc/evil.xml", "C:/evil.xml", "..\\evil.xml"])
def test_path_traversal_and_absolute_entries_are_refused(no_inflate, name):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("imsmanifest.xml", b"<manifest/>")
        zf.writestr(zipfile.ZipInfo(name), b"x")  # zipfile keeps the name verbatim
    no_inflate()
    err = refused("trav.zip", out.getvalue())
    assert "路径" in err.message


def test_symlink_entry_is_refused(no_inflate):
    info = zipfile.ZipInfo("link.xml")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("imsmanifest.xml", b"<manifest/>")
        zf.writestr(info, b"/etc/passwd")
    no_inflate()
    err = refused("link.zip", out.getvalue())
    assert "符号链接" in err.message


def test_manifest_href_traversal_is_refused():
    manifest = (
        b'<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
        b'<resource identifier="i" type="imsqti_item_xmlv2p1" href="../outside.xml"/>'
        b"</resources></manifest>"
    )
    with pytest.raises(HostileInputError, match="越出了内容包"):
        parse_qti_package("pkg.zip", _zip({"imsmanifest.xml": manifest}))


def test_nested_zip_is_never_opened():
    manifest = (
        b'<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
        b'<resource identifier="i" type="imsqti_item_xmlv2p1" href="inner.zip"/>'
        b"</resources></manifest>"
    )
    inner = _zip({"imsmanifest.xml": manifest})
    result = parse_qti_package("outer.zip", _zip({"imsmanifest.xml": manifest, "inner.zip": inner}))
    assert result.items == []
    assert result.errors  # the "item" is not XML: reported, and the inner archive untouched


def _xlsx_with_shared_strings(shared: bytes) -> bytes:
    book = Workbook()
    book.active.append(["题型", "题干"])
    buf = io.BytesIO()
    book.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            zf.writestr(info.filename, src.read(info.filename))
        zf.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


def test_xlsx_with_oversized_shared_strings_is_refused(no_inflate):
    shared = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"<si><t>x</t></si>" * 1_500_000
        + b"</sst>"
    )
    data = _xlsx_with_shared_strings(shared)
    no_inflate()
    err = refused("bank.xlsx", data)
    assert "xl/sharedStrings.xml" in err.message


def test_xlsx_with_forged_shared_strings_size_is_refused(no_inflate):
    data = bytearray(_xlsx_with_shared_strings(b"<sst/>"))
    # Claim 300 MB in the central directory record of sharedStrings.xml.
    pos = data.rfind(b"PK\x01\x02", 0, data.rfind(b"xl/sharedStrings.xml"))
    struct.pack_into("<L", data, pos + 24, 300 * 1024 * 1024)
    no_inflate()
    err = refused("bank.xlsx", bytes(data))
    assert "xl/sharedStrings.xml" in err.message


def test_xlsx_with_entity_expansion_in_a_part_is_refused():
    book = Workbook()
    book.active.append(["题型", "题干"])
    buf = io.BytesIO()
    book.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                dtd = BILLION_LAUGHS.split(b"<quiz>")[0].split(b"?>")[1]
                content = dtd.strip() + b"\n" + content
            zf.writestr(info.filename, content)
    err = refused("lol.xlsx", out.getvalue())
    assert "实体" in err.message


def test_file_over_size_limit_is_refused():
    err = refused("big.gift", b"x" * 2048, limits=Limits(max_file_bytes=1024))
    assert "超过上限" in err.message


def test_empty_and_garbage_files_are_refused_cleanly():
    with pytest.raises(InterchangeError, match="文件为空"):
        parse_file("empty.xlsx", b"")
    with pytest.raises(InterchangeError, match="不是有效的 zip"):
        parse_file("junk.zip", b"PK\x03\x04 not really a zip")
    with pytest.raises(InterchangeError, match=r"\.xls"):
        parse_file("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)
