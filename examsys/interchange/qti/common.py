"""What QTI 2.x and 3.0 share once names are normalised: versions by namespace, the
renaming of QTI 3 kebab-case names (`qti-choice-interaction`, `response-identifier`)
to the QTI 2 camelCase ones, and the attributes each declaration element may carry."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

NS_V3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
VERSIONS = {
    "http://www.imsglobal.org/xsd/imsqti_v2p0": "2.0",
    "http://www.imsglobal.org/xsd/imsqti_v2p1": "2.1",
    "http://www.imsglobal.org/xsd/imsqti_v2p2": "2.2",
    NS_V3: "3.0",
}
EXT_NS = "urn:examsys:interchange:1"
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")

# Attributes allowed by the QTI schemas on the elements whose meaning we rely on;
# anything else there means the file is not valid QTI. Namespaced ones always pass.
ALLOWED_ATTRIBUTES = {
    "assessmentItem": {"identifier", "title", "label", "adaptive", "timeDependent", "toolName", "toolVersion"},
    "responseDeclaration": {"identifier", "cardinality", "baseType"},
    "outcomeDeclaration": {
        "identifier",
        "cardinality",
        "baseType",
        "view",
        "interpretation",
        "longInterpretation",
        "normalMaximum",
        "normalMinimum",
        "masteryValue",
        "externalScored",
        "variableIdentifierRef",
    },
    "correctResponse": {"interpretation"},
    "defaultValue": {"interpretation"},
    "mapping": {"lowerBound", "upperBound", "defaultValue"},
    "mapEntry": {"mapKey", "mappedValue", "caseSensitive"},
    "value": {"fieldIdentifier", "baseType"},
}

UNSUPPORTED_INTERACTIONS = {
    "orderInteraction": "排序题",
    "matchInteraction": "匹配题",
    "associateInteraction": "关联题",
    "gapMatchInteraction": "拖放填空题",
    "hottextInteraction": "热文本题",
    "inlineChoiceInteraction": "下拉选词题",
    "hotspotInteraction": "热点题",
    "graphicOrderInteraction": "图形排序题",
    "graphicAssociateInteraction": "图形关联题",
    "graphicGapMatchInteraction": "图形拖放题",
    "selectPointInteraction": "选点题",
    "positionObjectInteraction": "放置对象题",
    "sliderInteraction": "滑块题",
    "drawingInteraction": "绘图题",
    "uploadInteraction": "文件上传题",
    "mediaInteraction": "媒体题",
    "customInteraction": "自定义交互",
    "portableCustomInteraction": "可移植自定义交互",
    "endAttemptInteraction": "结束作答交互",
}


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def normalise(root: ET.Element) -> None:
    """Drop namespaces and rename QTI 3 names to their QTI 2 spelling, in place.
    data-* and aria-* attributes keep their names."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = el.tag.rsplit("}", 1)[-1]
        if local.startswith("qti-"):
            el.tag = _camel(local[4:])
            renamed = {
                (k if "}" in k or k.startswith(("data-", "aria-")) else _camel(k)): v for k, v in el.attrib.items()
            }
            el.attrib.clear()
            el.attrib.update(renamed)
        else:
            el.tag = local
