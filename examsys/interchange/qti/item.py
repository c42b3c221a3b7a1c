"""One QTI 2.x/3.0 assessment item -> drafts or issues.

choiceInteraction -> single (maxChoices=1) or multi; textEntryInteraction(s) -> fill,
one blank per interaction, alternatives from correctResponse plus full-credit mapping
entries; extendedTextInteraction -> essay (or the open type named by the package's
examsys metadata). Other interactions are unsupported by name. Files that cannot be
read as a QTI item raise InterchangeError; problems inside an item become issues.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

from ..checks import validate_content
from ..model import (
    OPEN_QTYPES,
    OPTION_LABELS,
    ImportIssue,
    InterchangeError,
    ItemDraft,
    ParseResult,
    SourceRef,
    make_content,
)
from ..richtext import element_to_html, html_to_text, plain_to_html
from ..safety import parse_xml
from .common import (
    ALLOWED_ATTRIBUTES,
    IDENTIFIER,
    UNSUPPORTED_INTERACTIONS,
    VERSIONS,
    namespace,
    normalise,
)

BLANK = "_____"
_BLOCK_TAGS = {"p", "div", "ul", "ol", "table", "blockquote", "pre", "h1", "h2", "h3"}
_HIDDEN = {"feedbackBlock", "feedbackInline", "templateBlock", "templateInline"}
_FIELDS = {"stem": "itemBody", "options": "simpleChoice", "key": "correctResponse"}


def read_item_root(display: str, data: bytes) -> tuple[ET.Element, str]:
    root = parse_xml(display, data)
    ns = namespace(root.tag)
    version = VERSIONS.get(ns)
    if version is None:
        detail = f"命名空间 {ns}" if ns else "缺少 QTI 命名空间"
        raise InterchangeError(display, f"无法识别的 QTI 版本（{detail}）", getattr(root, "line", None))
    normalise(root)
    if root.tag != "assessmentItem":
        raise InterchangeError(
            display, f"根元素是 {root.tag}，不是单个试题（assessmentItem）", getattr(root, "line", None)
        )
    return root, version


def parse_qti_item(display: str, data: bytes, ext: dict | None = None, attachments=()) -> ParseResult:
    root, _version = read_item_root(display, data)
    return _Item(display, root, ext, list(attachments)).parse()


class _Item:
    def __init__(self, display: str, root: ET.Element, ext: dict | None, attachments: list):
        self.display = display
        self.root = root
        self.ext = ext
        self.attachments = attachments
        self.title = root.get("title") or root.get("identifier")
        self.result = ParseResult()

    def _where(self, el: ET.Element | None) -> str:
        line = getattr(el, "line", None) if el is not None else None
        return f"{self.display}:{line}" if line else self.display

    def error(self, el, fld: str | None, message: str) -> None:
        self.result.errors.append(ImportIssue(self._where(el), fld, message))

    def parse(self) -> ParseResult:
        if not self._valid_declarations():
            return self.result
        body = self.root.find("itemBody")
        if body is None:
            self.error(self.root, "itemBody", "缺少 itemBody")
            return self.result
        interactions = [el for el in body.iter() if el.tag.endswith("Interaction")]
        unsupported = [el for el in interactions if el.tag not in _SUPPORTED]
        if unsupported:
            for el in unsupported:
                kind = UNSUPPORTED_INTERACTIONS.get(el.tag, "未知交互")
                self.result.unsupported.append(
                    ImportIssue(self._where(el), None, f"「{self.title}」含有 {el.tag}（{kind}），本系统暂不支持")
                )
            return self.result
        kinds = {el.tag for el in interactions}
        if not interactions:
            self.error(body, "itemBody", "没有任何交互（interaction），无法确定题型")
        elif kinds == {"textEntryInteraction"}:
            self._fill(body, interactions)
        elif len(interactions) == 1 and kinds == {"choiceInteraction"}:
            self._choice(body, interactions[0])
        elif len(interactions) == 1:
            self._open(body, interactions[0])
        else:
            self.result.unsupported.append(
                ImportIssue(self._where(body), None, f"「{self.title}」是含有多个交互的组合题，本系统暂不支持")
            )
        return self.result

    def _valid_declarations(self) -> bool:
        ok = True
        for el in self.root.iter():
            allowed = ALLOWED_ATTRIBUTES.get(el.tag)
            if allowed is None:
                continue
            for name in el.attrib:
                if "}" not in name and name not in allowed:
                    self.error(el, el.tag, f"含有规范之外的属性 {name!r}")
                    ok = False
        self.responses: dict[str, ET.Element] = {}
        for decl in self.root.findall("responseDeclaration"):
            ident = decl.get("identifier", "")
            if not IDENTIFIER.match(ident):
                self.error(decl, "responseDeclaration", f"identifier {ident!r} 不是有效的标识符")
                ok = False
            self.responses[ident] = decl
        return ok

    def _declaration(self, interaction: ET.Element) -> ET.Element | None:
        ident = interaction.get("responseIdentifier", "")
        decl = self.responses.get(ident)
        if decl is None:
            self.error(interaction, interaction.tag, f"引用的 responseDeclaration {ident!r} 不存在")
        return decl

    def _stem(self, body: ET.Element) -> str:
        def replace(child):
            if child.tag == "textEntryInteraction":
                return html.escape(child.get("data-blank") or BLANK, quote=False)
            if child.tag in _SUPPORTED:
                prompt = child.find("prompt")
                if prompt is None:
                    return ""
                inner = element_to_html(prompt).strip()
                block = any(c.tag in _BLOCK_TAGS for c in prompt)
                return "" if not inner else (inner if block else f"<p>{inner}</p>")
            return None

        def skip(child):
            return child.tag in _HIDDEN or (
                child.tag == "rubricBlock" and child.get("view", "candidate") != "candidate"
            )

        stem = element_to_html(body, skip, replace).strip()
        if self.ext is None and "<pre" not in stem:
            # Third-party bodies are pretty-printed; their indentation means nothing.
            stem = re.sub(r"[ \t]*\n\s*", "\n", stem)
        return stem

    def _choice(self, body: ET.Element, interaction: ET.Element) -> None:
        decl = self._declaration(interaction)
        if decl is None:
            return
        choices = interaction.findall("simpleChoice")
        if len(choices) > len(OPTION_LABELS):
            self.error(interaction, "choiceInteraction", f"选项最多 {len(OPTION_LABELS)} 个，实际 {len(choices)} 个")
            return
        labels = {c.get("identifier"): OPTION_LABELS[i] for i, c in enumerate(choices)}
        options = [
            {"label": OPTION_LABELS[i], "text": element_to_html(c, skip=lambda ch: ch.tag in _HIDDEN).strip()}
            for i, c in enumerate(choices)
        ]
        correct, _partial = self._correct_values(decl)
        if not correct:
            self.error(decl, "correctResponse", "没有给出正确答案")
            return
        unknown = [v for v in correct if v not in labels]
        if unknown:
            self.error(decl, "correctResponse", f"正确答案 {', '.join(unknown)} 不是已有的选项")
            return
        keys = sorted(labels[v] for v in correct)
        try:
            max_choices = int(interaction.get("maxChoices", "1"))
        except ValueError:
            max_choices = 1
        stem = self._stem(body)
        if self.ext and self.ext.get("qtype") == "judge" and len(options) == 2 and len(keys) == 1:
            self._emit("judge", make_content("judge", stem, key=keys == ["A"], explanation=self._explanation()))
            return
        qtype = "single" if max_choices == 1 else "multi"
        key = "".join(keys) if qtype == "single" else keys
        self._emit(qtype, make_content(qtype, stem, options=options, key=key, explanation=self._explanation()))

    def _correct_values(self, decl: ET.Element) -> tuple[list[str], list[str]]:
        """correctResponse values, then full-credit mapping keys; partial ones apart."""
        values = [(v.text or "").strip() for v in decl.findall("correctResponse/value")]
        entries = []
        for entry in decl.findall("mapping/mapEntry"):
            try:
                entries.append((entry.get("mapKey", ""), float(entry.get("mappedValue", "0"))))
            except ValueError:
                continue
        best = max((w for _, w in entries), default=0.0)
        full = [k for k, w in entries if w > 0 and w == best and k not in values]
        partial = [k for k, w in entries if 0 < w < best and k not in values]
        if not values:
            return full, partial
        return values + [k for k in full if best > 0], partial

    def _fill(self, body: ET.Element, interactions: list[ET.Element]) -> None:
        key, dropped = [], []
        for interaction in interactions:
            decl = self._declaration(interaction)
            if decl is None:
                return
            alternatives, partial = self._correct_values(decl)
            if not alternatives:
                self.error(decl, "correctResponse", "填空没有给出正确答案")
                return
            key.append(alternatives)
            dropped += partial
        stem = self._stem(body)
        if dropped:
            self.result.notes.append(
                ImportIssue(
                    self._where(body),
                    None,
                    f"「{self.title}」中部分得分的答案（{'、'.join(dropped)}）未导入：本系统不支持部分给分",
                )
            )
        self._emit("fill", make_content("fill", stem, key=key, explanation=self._explanation()))

    def _open(self, body: ET.Element, interaction: ET.Element) -> None:
        decl = self._declaration(interaction)
        if decl is None:
            return
        qtype = (self.ext or {}).get("qtype")
        qtype = qtype if qtype in OPEN_QTYPES else "essay"
        values = [v.text or "" for v in decl.findall("correctResponse/value")]
        reference = values[0].strip() if values else ""
        if reference and self.ext is None:  # third-party exemplar answers are plain text
            reference = plain_to_html(reference)
        content = make_content(
            qtype,
            self._stem(body),
            reference_answer=reference,
            scoring_points=(self.ext or {}).get("scoring_points", []),
            explanation=self._explanation(),
        )
        self._emit(qtype, content)

    def _explanation(self) -> str:
        parts = []
        for fb in self.root.findall("modalFeedback"):
            if "EXPLANATION" not in (fb.get("outcomeIdentifier"), fb.get("identifier")):
                continue
            holder = fb.find("contentBody")
            parts.append(element_to_html(holder if holder is not None else fb).strip())
        return "".join(parts)

    def _points(self) -> float | None:
        for decl in self.root.findall("outcomeDeclaration"):
            if decl.get("identifier") == "MAXSCORE":
                value = decl.find("defaultValue/value")
                try:
                    return float((value.text or "").strip()) if value is not None else None
                except ValueError:
                    self.error(decl, "MAXSCORE", "分值不是数字")
        return None

    def _emit(self, qtype: str, content: dict) -> None:
        for fld, message in validate_content(qtype, content):
            self.error(self.root, _FIELDS.get(fld, fld), message)
        points = self._points()
        if self.result.errors:
            return
        ext = self.ext or {}
        draft = ItemDraft(
            qtype=qtype,
            content=content,
            points=points,
            external_id=ext.get("external_id") if self.ext is not None else self.root.get("identifier"),
            source=SourceRef(self.display, None, self.title or html_to_text(content["stem"])[:30]),
            attachments=self.attachments,
            difficulty=ext.get("difficulty"),
            kp_code=ext.get("kp_code"),
            kp_path=list(ext.get("kp_path", [])),
            tags=list(ext.get("tags", [])),
            meta=dict(ext.get("meta", {})),
        )
        self.result.items.append(draft)


_SUPPORTED = {"choiceInteraction", "textEntryInteraction", "extendedTextInteraction"}
