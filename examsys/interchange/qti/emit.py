"""Export of drafts as a QTI 3.0 content package: imsmanifest.xml plus one item
file per draft (and its attachments). Stems, options, keys, points (MAXSCORE) and
explanations (modal feedback) are plain QTI; what QTI has no place for (judge vs
single, open type, difficulty, knowledge points, tags, scoring points) travels in an
examsys block of the resource metadata so that export -> import is lossless."""

from __future__ import annotations

import html
import io
import posixpath
import xml.etree.ElementTree as ET
import zipfile

from ..checks import BLANK_RE
from ..model import OPEN_QTYPES, ItemDraft
from ..richtext import fill_element
from .common import EXT_NS, NS_V3

CP_NS = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
_RP = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"


def _q(tag: str) -> str:
    # Unqualified names plus a literal xmlns attribute: ElementTree's
    # default_namespace option refuses unqualified attributes.
    return f"qti-{tag}"


def _sub(parent: ET.Element, tag: str, attrs: dict | None = None, text: str | None = None):
    el = ET.SubElement(parent, _q(tag), attrs or {})
    if text is not None:
        el.text = text
    return el


def _response(root, ident: str, cardinality: str, base_type: str, values: list[str], mapped=()):
    decl = _sub(root, "response-declaration", {"identifier": ident, "cardinality": cardinality, "base-type": base_type})
    if values:
        correct = _sub(decl, "correct-response")
        for v in values:
            _sub(correct, "value", text=v)
    if mapped:
        mapping = _sub(decl, "mapping", {"default-value": "0"})
        for key in mapped:
            _sub(mapping, "map-entry", {"map-key": key, "mapped-value": "1"})


def item_xml(item: ItemDraft, ident: str) -> bytes:
    c = item.content
    root = ET.Element(
        _q("assessment-item"),
        {"identifier": ident, "title": ident, "adaptive": "false", "time-dependent": "false", "xmlns": NS_V3},
    )
    body_html = c["stem"]
    if item.qtype == "fill":
        blanks = iter(range(1, len(c["key"]) + 1))

        def entry(m):
            n = next(blanks)
            extra = "" if m.group(0) == "_____" else f' data-blank="{html.escape(m.group(0))}"'
            return f'<qti-text-entry-interaction response-identifier="RESPONSE_{n}"{extra}/>'

        body_html = BLANK_RE.sub(entry, body_html)
        for n, alts in enumerate(c["key"], 1):
            _response(root, f"RESPONSE_{n}", "single", "string", alts[:1], alts)
    elif item.qtype in ("single", "multi", "judge"):
        if item.qtype == "judge":
            keys = ["A" if c["key"] else "B"]
        else:
            keys = [c["key"]] if item.qtype == "single" else c["key"]
        card = "multiple" if item.qtype == "multi" else "single"
        _response(root, "RESPONSE", card, "identifier", keys)
    else:
        ref = c.get("reference_answer", "")
        _response(root, "RESPONSE", "single", "string", [ref] if ref else [])
    _sub(root, "outcome-declaration", {"identifier": "SCORE", "cardinality": "single", "base-type": "float"})
    if item.points is not None:
        maxscore = _sub(
            root, "outcome-declaration", {"identifier": "MAXSCORE", "cardinality": "single", "base-type": "float"}
        )
        _sub(_sub(maxscore, "default-value"), "value", text=repr(float(item.points)))
    if c.get("explanation"):
        _sub(
            root,
            "outcome-declaration",
            {"identifier": "EXPLANATION", "cardinality": "single", "base-type": "identifier"},
        )
    body = _sub(root, "item-body")
    fill_element(body, body_html)
    if item.qtype in ("single", "multi", "judge"):
        max_choices = "1" if item.qtype != "multi" else str(len(c["options"]))
        interaction = _sub(
            body,
            "choice-interaction",
            {"response-identifier": "RESPONSE", "shuffle": "false", "max-choices": max_choices},
        )
        options = (
            c["options"] if item.qtype != "judge" else [{"label": "A", "text": "正确"}, {"label": "B", "text": "错误"}]
        )
        for opt in options:
            fill_element(_sub(interaction, "simple-choice", {"identifier": opt["label"]}), opt["text"])
    elif item.qtype in OPEN_QTYPES:
        _sub(body, "extended-text-interaction", {"response-identifier": "RESPONSE"})
    if item.qtype in ("single", "judge"):
        _sub(root, "response-processing", {"template": _RP})
    if c.get("explanation"):
        fb = _sub(
            root,
            "modal-feedback",
            {"outcome-identifier": "EXPLANATION", "identifier": "EXPLANATION", "show-hide": "show"},
        )
        fill_element(_sub(fb, "content-body"), c["explanation"])
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _ext_block(parent: ET.Element, item: ItemDraft) -> None:
    block = ET.SubElement(parent, f"{{{EXT_NS}}}item")

    def add(tag: str, text: str, **attrs):
        ET.SubElement(block, f"{{{EXT_NS}}}{tag}", attrs).text = text

    add("qtype", item.qtype)
    if item.difficulty is not None:
        add("difficulty", str(item.difficulty))
    if item.kp_code is not None:
        add("kpCode", item.kp_code)
    if item.external_id is not None:
        add("externalId", item.external_id)
    for name in item.kp_path:
        add("kpLevel", name)
    for tag in item.tags:
        add("tag", tag)
    for key, value in item.meta.items():
        add("meta", value, key=key)
    for sp in item.content.get("scoring_points", []):
        add("scoringPoint", sp["text"], points=str(sp["points"]))


def emit_qti3_package(items: list[ItemDraft]) -> bytes:
    ET.register_namespace("examsys", EXT_NS)
    manifest = ET.Element("manifest", {"identifier": "MANIFEST-examsys", "xmlns": CP_NS})
    meta = ET.SubElement(manifest, "metadata")
    ET.SubElement(meta, "schema").text = "QTI Package"
    ET.SubElement(meta, "schemaversion").text = "3.0.0"
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, item in enumerate(items, 1):
            ident = f"item-{n:04d}"
            href = f"items/{ident}.xml"
            archive.writestr(href, item_xml(item, ident))
            res = ET.SubElement(
                resources, "resource", {"identifier": ident, "type": "imsqti_item_xmlv3p0", "href": href}
            )
            _ext_block(ET.SubElement(res, "metadata"), item)
            ET.SubElement(res, "file", {"href": href})
            for att in item.attachments:
                path = f"items/{ident}/{posixpath.basename(att.name) or 'file'}"
                archive.writestr(path, att.data)
                ET.SubElement(res, "file", {"href": path})
        ET.indent(manifest)
        archive.writestr("imsmanifest.xml", ET.tostring(manifest, encoding="utf-8", xml_declaration=True))
    return out.getvalue()
