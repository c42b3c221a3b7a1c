"""IMS content packages (zip + imsmanifest.xml) of QTI items, read safely: the
archive is checked before anything is inflated, every href is resolved inside the
package (traversal refuses the whole package), nested archives are never opened.
Our own export adds an examsys metadata block per resource, read back here."""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET

from ..model import (
    Attachment,
    HostileInputError,
    ImportIssue,
    InterchangeError,
    ParseResult,
    number,
)
from ..safety import DEFAULT_LIMITS, Limits, open_zip, parse_xml, read_member, unsafe_member_reason
from .common import EXT_NS
from .item import parse_qti_item


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _find_manifest(names: list[str]) -> str | None:
    candidates = [n for n in names if posixpath.basename(n) == "imsmanifest.xml"]
    return min(candidates, key=lambda n: n.count("/")) if candidates else None


def _resolve(filename: str, base: str, href: str) -> str:
    if unsafe_member_reason(href):
        raise HostileInputError(filename, f"清单引用的路径 {href!r} 越出了内容包，拒绝处理")
    path = posixpath.normpath(posixpath.join(base, href.split("#")[0]))
    if path.startswith("../") or path == "..":
        raise HostileInputError(filename, f"清单引用的路径 {href!r} 越出了内容包，拒绝处理")
    return path


def parse_qti_package(filename: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParseResult:
    archive = open_zip(filename, data, limits)
    names = archive.namelist()
    manifest_name = _find_manifest(names)
    if manifest_name is None:
        raise InterchangeError(filename, "压缩包中没有 imsmanifest.xml，不是 QTI 内容包")
    base = posixpath.dirname(manifest_name)
    manifest = parse_xml(f"{filename}/{manifest_name}", read_member(filename, archive, manifest_name))
    result = ParseResult()
    resources = [r for r in manifest.iter() if _local(r.tag) == "resource"]
    items = [r for r in resources if (r.get("type") or "").startswith("imsqti_item")]
    if not items:
        raise InterchangeError(filename, "内容包的清单中没有 QTI 试题资源")
    for res in items:
        hrefs = [res.get("href")] + [f.get("href") for f in res if _local(f.tag) == "file"]
        hrefs = [h for h in hrefs if h]
        if not hrefs:
            result.errors.append(ImportIssue(f"{filename}/{manifest_name}:{res.line}", None, "试题资源没有 href"))
            continue
        paths = list(dict.fromkeys(_resolve(filename, base, h) for h in hrefs))
        item_path, others = paths[0], paths[1:]
        display = f"{filename}/{item_path}"
        if item_path not in names:
            result.errors.append(ImportIssue(display, None, "清单中引用的文件在内容包中不存在"))
            continue
        attachments = [
            Attachment(posixpath.basename(p), read_member(filename, archive, p))
            for p in others
            if p in names and not p.lower().endswith(".zip")
        ]
        try:
            parsed = parse_qti_item(display, read_member(filename, archive, item_path), _read_ext(res), attachments)
        except HostileInputError:
            raise
        except InterchangeError as exc:
            where = f"{exc.file}:{exc.line}" if exc.line else exc.file
            result.errors.append(ImportIssue(where, None, exc.message))
            continue
        result.extend(parsed)
    return result


def _read_ext(resource: ET.Element) -> dict | None:
    block = resource.find(f"*/{{{EXT_NS}}}item")
    if block is None:
        return None

    def texts(tag: str) -> list[str]:
        return [el.text or "" for el in block.findall(f"{{{EXT_NS}}}{tag}")]

    ext: dict = {"qtype": next(iter(texts("qtype")), None)}
    difficulty = next(iter(texts("difficulty")), "")
    ext["difficulty"] = int(difficulty) if difficulty.isdigit() else None
    ext["kp_code"] = next(iter(texts("kpCode")), None)
    ext["external_id"] = next(iter(texts("externalId")), None)
    ext["kp_path"] = texts("kpLevel")
    ext["tags"] = texts("tag")
    ext["meta"] = {el.get("key"): el.text or "" for el in block.findall(f"{{{EXT_NS}}}meta")}
    points = []
    for el in block.findall(f"{{{EXT_NS}}}scoringPoint"):
        try:
            points.append({"text": el.text or "", "points": number(float(el.get("points", "")))})
        except ValueError:
            continue
    ext["scoring_points"] = points
    return ext
