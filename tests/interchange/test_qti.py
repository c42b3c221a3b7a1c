"""QTI 2.1 / 2.2 conformance samples, QTI 3.0 items, content packages, invalid files."""

from __future__ import annotations

import io
import zipfile

import pytest

from examsys.interchange import InterchangeError, parse_file

from .conftest import conformance_dir

EXPECTED = {
    "choice.xml": (
        "single",
        [
            "You must stay with your luggage at all times.",
            "Do not let someone else look after your luggage.",
            "Remember your luggage when you leave.",
        ],
        "A",
    ),
    "choice_fixed.xml": ("single", None, "A"),
    "choice_multiple.xml": ("multi", ["Hydrogen", "Helium", "Carbon", "Oxygen", "Nitrogen", "Chlorine"], ["A", "D"]),
    "text_entry.xml": ("fill", [], [["York"]]),
    "extended_text.xml": ("essay", [], None),
    "essay.xml": ("essay", [], None),
}
UNSUPPORTED = {
    "associate.xml": "associateInteraction",
    "gap_match.xml": "gapMatchInteraction",
    "hottext.xml": "hottextInteraction",
    "inline_choice.xml": "inlineChoiceInteraction",
    "match.xml": "matchInteraction",
    "order.xml": "orderInteraction",
}
STEM_SNIPPETS = {
    "choice.xml": "What does it say?",
    "choice_fixed.xml": "What does it say?",
    "choice_multiple.xml": "Which of the following elements",
    "text_entry.xml": "Made glorious summer by this sun of\n_____;",
    "extended_text.xml": "Write Sam a postcard.",
    "essay.xml": "Write an abstract",
}


@pytest.mark.parametrize("version", ["qti21", "qti22"])
def test_qti2_samples(version):
    folder = conformance_dir(version)
    for name in sorted(p.name for p in folder.glob("*.xml")):
        result = parse_file(name, (folder / name).read_bytes())
        assert result.errors == [], name
        if name in UNSUPPORTED:
            assert result.items == []
            assert len(result.unsupported) == 1
            assert UNSUPPORTED[name] in result.unsupported[0].message
            assert str(result.unsupported[0]).startswith(f"{name}:")
            continue
        qtype, options, key = EXPECTED[name]
        (item,) = result.items
        assert item.qtype == qtype, name
        if options is not None:
            assert [o["text"] for o in item.content["options"]] == options
        assert item.content["key"] == key
        assert STEM_SNIPPETS[name] in item.content["stem"]


@pytest.mark.parametrize(
    "name,message",
    [
        ("empty.xml", "empty.xml: 文件为空"),
        ("malformed.xml", "malformed.xml:28: XML 格式错误"),
        ("noversion.xml", "noversion.xml:2: 无法识别的 QTI 版本（缺少 QTI 命名空间）"),
    ],
)
def test_unreadable_qti_files_are_refused_with_file_and_line(name, message):
    folder = conformance_dir("qti-invalid")
    with pytest.raises(InterchangeError) as info:
        parse_file(name, (folder / name).read_bytes())
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    "name,message",
    [
        (
            "invalidresponseidentifier.xml",
            "invalidresponseidentifier.xml:7: responseDeclaration: identifier ' RESPONSE' 不是有效的标识符",
        ),
        ("xsdinvalid.xml", "xsdinvalid.xml:9: responseDeclaration: 含有规范之外的属性 'foo'"),
    ],
)
def test_invalid_qti_items_import_nothing(name, message):
    folder = conformance_dir("qti-invalid")
    result = parse_file(name, (folder / name).read_bytes())
    assert result.items == []
    assert [str(e) for e in result.errors] == [message]


def test_all_invalid_files_are_covered():
    folder = conformance_dir("qti-invalid")
    assert {p.name for p in folder.glob("*.xml")} <= {
        "empty.xml",
        "malformed.xml",
        "noversion.xml",
        "invalidresponseidentifier.xml",
        "xsdinvalid.xml",
    }


QTI3_CHOICE = """<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
    identifier="q3" title="电压" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="identifier">
    <qti-correct-response><qti-value>c1</qti-value><qti-value>c3</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-item-body>
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="0">
      <qti-prompt>哪些是<b>导体</b>？</qti-prompt>
      <qti-simple-choice identifier="c1">铜</qti-simple-choice>
      <qti-simple-choice identifier="c2">橡胶</qti-simple-choice>
      <qti-simple-choice identifier="c3">铝</qti-simple-choice>
    </qti-choice-interaction>
  </qti-item-body>
</qti-assessment-item>"""

QTI3_TEXT = """<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="t">
  <qti-response-declaration identifier="R1" cardinality="single" base-type="string">
    <qti-correct-response><qti-value>北京</qti-value></qti-correct-response>
    <qti-mapping default-value="0"><qti-map-entry map-key="北京" mapped-value="1"/>
      <qti-map-entry map-key="Beijing" mapped-value="1"/></qti-mapping>
  </qti-response-declaration>
  <qti-item-body><p>首都是<qti-text-entry-interaction response-identifier="R1"/>。</p>
    <p>大陆：<qti-text-entry-interaction response-identifier="MISSING"/></p></qti-item-body>
</qti-assessment-item>"""


def test_qti3_choice_item():
    (item,) = parse_file("q3.xml", QTI3_CHOICE.encode()).items
    assert item.qtype == "multi"
    assert item.content["stem"] == "<p>哪些是<b>导体</b>？</p>"
    assert [o["text"] for o in item.content["options"]] == ["铜", "橡胶", "铝"]
    assert item.content["key"] == ["A", "C"]
    assert (item.external_id, item.source.name) == ("q3", "电压")


def test_qti3_text_entry_needs_its_response_declaration():
    result = parse_file("t.xml", QTI3_TEXT.encode())
    assert result.items == []
    assert [str(e) for e in result.errors] == [
        "t.xml:8: textEntryInteraction: 引用的 responseDeclaration 'MISSING' 不存在"
    ]
    fixed = QTI3_TEXT.replace('<p>大陆：<qti-text-entry-interaction response-identifier="MISSING"/></p>', "")
    (item,) = parse_file("t.xml", fixed.encode()).items
    assert item.content["key"] == [["北京", "Beijing"]]
    assert item.content["stem"] == "<p>首都是_____。</p>"


def _package(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_ims_content_package_with_qti21_items():
    folder = conformance_dir("qti21")
    manifest = b"""<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="m">
      <resources>
        <resource identifier="a" type="imsqti_item_xmlv2p1" href="items/choice.xml">
          <file href="items/choice.xml"/><file href="items/images/sign.png"/></resource>
        <resource identifier="b" type="imsqti_item_xmlv2p1" href="items/order.xml"/>
        <resource identifier="c" type="imsqti_item_xmlv2p1" href="items/missing.xml"/>
        <resource identifier="d" type="webcontent" href="items/images/sign.png"/>
      </resources></manifest>"""
    data = _package(
        {
            "imsmanifest.xml": manifest,
            "items/choice.xml": (folder / "choice.xml").read_bytes(),
            "items/order.xml": (folder / "order.xml").read_bytes(),
            "items/images/sign.png": b"PNG",
        }
    )
    result = parse_file("pkg.zip", data)
    (item,) = result.items
    assert item.qtype == "single" and item.content["key"] == "A"
    assert str(item.source) == "pkg.zip/items/choice.xml:Unattended Luggage"
    assert [(a.name, a.data) for a in item.attachments] == [("sign.png", b"PNG")]
    assert [u.where for u in result.unsupported] == ["pkg.zip/items/order.xml:15"]
    assert [str(e) for e in result.errors] == ["pkg.zip/items/missing.xml: 清单中引用的文件在内容包中不存在"]


def test_package_without_manifest_is_refused():
    with pytest.raises(InterchangeError, match="imsmanifest.xml"):
        parse_file("x.zip", _package({"a.xml": b"<a/>"}))
