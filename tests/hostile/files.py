"""Hostile files, built in memory: XML entity attacks, zip and xlsx bombs, traversal and symlink
entries, pixel floods, mislabelled images, empty and truncated files. Each builder returns bytes;
none of them is bigger than a few megabytes on disk, whatever it claims to hold."""

from __future__ import annotations

import functools
import io
import stat
import struct
import zipfile
import zlib

from openpyxl import Workbook
from PIL import Image

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

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE quiz SYSTEM "http://127.0.0.1:9/evil.dtd">
<quiz><question type="essay"><questiontext><text>x</text></questiontext></question></quiz>"""

QUADRATIC = (b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "' + b"a" * 100_000 + b'">]><quiz>'
             + b"&a;" * 20_000 + b"</quiz>")

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<quiz/>"""

XML_ATTACKS = {"billion-laughs": BILLION_LAUGHS, "external-entity": EXTERNAL_ENTITY,
               "external-dtd": EXTERNAL_DTD, "quadratic-blowup": QUADRATIC,
               "parameter-entity": PARAMETER_ENTITY}


def zip_of(entries: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """`entries`: name or ZipInfo → bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


def zip_bomb_ratio(first: str = "bomb.bin") -> bytes:
    return zip_of({first: b"\0" * (40 * 1024 * 1024)})


def zip_many_entries(n: int = 60_000) -> bytes:
    """n empty entries, written by hand (zipfile would take a minute)."""
    local, central = io.BytesIO(), io.BytesIO()
    for i in range(n):
        name = f"{i}.png".encode()
        offset = local.tell()
        local.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0))
        local.write(name)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name),
                                  0, 0, 0, 0, 0, offset))
        central.write(name)
    cd = central.getvalue()
    count = min(n, 0xFFFF)
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(cd), local.tell(), 0)
    return local.getvalue() + cd + eocd


def zip_forged_size(name: str = "photo.png") -> bytes:
    """A member that declares 1 kB and inflates to 30 MB."""
    data = bytearray(zip_of({name: b"\0" * (30 * 1024 * 1024)}))
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = data.find(sig)
        struct.pack_into("<L", data, pos + off, 1024)
    return bytes(data)


def zip_traversal(name: str = "../../evil.png", extra: dict | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for k, v in (extra or {}).items():
            zf.writestr(k, v)
        zf.writestr(zipfile.ZipInfo(name), png())
    return out.getvalue()


def zip_symlink(name: str = "link.png", extra: dict | None = None) -> bytes:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for k, v in (extra or {}).items():
            zf.writestr(k, v)
        zf.writestr(info, b"/etc/passwd")
    return out.getvalue()


def _xlsx_base(header=("姓名", "身份证号")) -> dict[str, bytes]:
    book = Workbook()
    book.active.append(list(header))
    buf = io.BytesIO()
    book.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    return {i.filename: src.read(i.filename) for i in src.infolist()}


def _xlsx_with(parts: dict[str, bytes], header=("姓名", "身份证号")) -> bytes:
    return zip_of({**_xlsx_base(header), **parts})


def xlsx_shared_strings_bomb(header=("姓名", "身份证号")) -> bytes:
    shared = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              + b"<si><t>x</t></si>" * 1_500_000 + b"</sst>")
    return _xlsx_with({"xl/sharedStrings.xml": shared}, header)


def xlsx_huge_dimension(header=("姓名", "身份证号")) -> bytes:
    """A sheet that claims A1:XFD1048576 and holds one header row, plus 200,000 empty rows."""
    parts = _xlsx_base(header)
    sheet = parts["xl/worksheets/sheet1.xml"]
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (i, i)
                    for i in range(2, 200_002))
    sheet = sheet.replace(b'<dimension ref="A1:B1"/>', b'<dimension ref="A1:XFD1048576"/>')
    sheet = sheet.replace(b"</sheetData>", rows + b"</sheetData>")
    parts["xl/worksheets/sheet1.xml"] = sheet
    return zip_of(parts)


def xlsx_entities(header=("姓名", "身份证号")) -> bytes:
    parts = _xlsx_base(header)
    dtd = BILLION_LAUGHS.split(b"<quiz>")[0].split(b"?>")[1]
    parts["xl/workbook.xml"] = dtd.strip() + b"\n" + parts["xl/workbook.xml"]
    return zip_of(parts)


def xlsx_external_entity(header=("姓名", "身份证号")) -> bytes:
    parts = _xlsx_base(header)
    sheet = parts["xl/worksheets/sheet1.xml"]
    head, _, rest = sheet.partition(b"?>")
    parts["xl/worksheets/sheet1.xml"] = (head + b'?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                         + rest.replace(b"</sheetData>", b'<row r="2"><c r="A2" t="inlineStr">'
                                                        b"<is><t>&x;</t></is></c></row></sheetData>"))
    return zip_of(parts)


def xlsx_traversal(header=("姓名", "身份证号")) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for k, v in _xlsx_base(header).items():
            zf.writestr(k, v)
        zf.writestr(zipfile.ZipInfo("../../xl/evil.xml"), b"x")
    return out.getvalue()


def xlsx_symlink(header=("姓名", "身份证号")) -> bytes:
    return zip_symlink("xl/link.xml", _xlsx_base(header))


# ---------------------------------------------------------------- images


def png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_flood(width=100_000, height=100_000) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _chunk(b"IEND", b""))


@functools.lru_cache(maxsize=1)
def png_decompression_bomb() -> bytes:
    """A real, valid 6000×6000 RGBA PNG of one colour (36 M pixels, 144 MB decoded) in ~150 kB."""
    width = height = 6000
    comp = zlib.compressobj(9)
    row = b"\0" + b"\0" * (width * 4)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@functools.lru_cache(maxsize=1)
def png_bomb_under_pixel_limit() -> bytes:
    """A real, valid 5000×5000 RGBA PNG (exactly the 25 M-pixel limit; 95 MB decoded) in ~100 kB,
    compressed row by row so that building it costs no memory either."""
    width = height = 5000
    comp = zlib.compressobj(9)
    row = b"\0" + b"\0" * (width * 4)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def jpeg_flood() -> bytes:
    """A small JPEG whose frame header is rewritten to claim 65000×65000 pixels."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 0, 0)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 65000, 65000)
    return bytes(data)


def gif_flood() -> bytes:
    out = io.BytesIO()
    Image.new("L", (4, 4)).save(out, "GIF")
    data = bytearray(out.getvalue())
    struct.pack_into("<HH", data, 6, 65535, 65535)  # logical screen
    pos = data.find(b"\x2c")  # image descriptor
    struct.pack_into("<HH", data, pos + 5, 65535, 65535)
    return bytes(data)


def gif_animated_many_frames() -> bytes:
    frames = [Image.new("L", (200, 200), i % 255) for i in range(50)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    return out.getvalue()


HTML_AS_PNG = b"<html><body><script>alert('xss-file')</script></body></html>"
SVG_AS_PNG = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'xss-file\')">'
              b"<script>alert('xss-file')</script></svg>")
PDF_AS_JPG = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"


def gif_js_polyglot() -> bytes:
    """GIF89a header that is also JavaScript (`GIF89a/*…*/=alert(…)`), plus HTML appended."""
    body = bytearray(b"GIF89a/*\x0a\x00\x0a\x00\x00\x00\x00*/=alert('xss-file');/*")
    body += b"\x2c\x00\x00\x00\x00\x0a\x00\x0a\x00\x00\x02\x02\x44\x01\x00\x3b"
    return bytes(body) + b"*/<script>alert('xss-file')</script>"


def png_with_html_tail() -> bytes:
    return png() + b"<html><script>alert('xss-file')</script></html>"


def truncated_png() -> bytes:
    return png((200, 200))[:60]


IMAGE_ATTACKS = {
    "pixel-flood-png": png_flood, "pixel-flood-jpeg": jpeg_flood, "pixel-flood-gif": gif_flood,
    "decompression-bomb-png": png_decompression_bomb, "bomb-under-pixel-limit": png_bomb_under_pixel_limit,
    "animated-gif": gif_animated_many_frames,
    "html-named-png": lambda: HTML_AS_PNG, "svg-named-png": lambda: SVG_AS_PNG,
    "pdf-named-jpg": lambda: PDF_AS_JPG, "empty": lambda: b"", "truncated-png": truncated_png,
}
# Accepted, but only as the re-encoded image: nothing of the script survives.
IMAGE_POLYGLOTS = {"gif-js-polyglot": gif_js_polyglot, "png-html-tail": png_with_html_tail}
