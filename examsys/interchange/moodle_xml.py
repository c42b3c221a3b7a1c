"""Moodle XML (`<quiz><question type=...>`) import and export.

Import: category -> kp_path; truefalse -> judge; multichoice -> single/multi (by the
full-credit answers, or every positive fraction when credit is split); shortanswer ->
fill with one blank; multianswer (cloze) made only of short-answer gaps -> fill; essay
-> essay (graderinfo is the reference answer); description is skipped with a note;
every other type is reported as unsupported by name. generalfeedback becomes the
explanation; embedded `<file>`s become attachments. An `<examsys>` element (ignored by
Moodle) carries what Moodle has no place for, so export -> import loses nothing.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET

from .checks import BLANK_RE, count_blanks, validate_content
from .convert import category_to_path, path_to_category, pick_correct
from .model import (
    OPEN_QTYPES,
    OPTION_LABELS,
    QTYPES,
    Attachment,
    ImportIssue,
    InterchangeError,
    ItemDraft,
    ParseResult,
    SourceRef,
    make_content,
)
from .moodle_cloze import emit_cloze, parse_cloze
from .richtext import html_to_text, plain_to_html
from .safety import parse_xml

BLANK = "_____"
UNSUPPORTED_NAMES = {
    "numerical": "数值题（numerical）",
    "matching": "匹配题（matching）",
    "ddwtos": "拖放填空题（ddwtos）",
    "gapselect": "下拉选词填空题（gapselect）",
    "calculated": "计算公式题（calculated）",
    "calculatedsimple": "简单计算公式题（calculatedsimple）",
    "calculatedmulti": "计算公式选择题（calculatedmulti）",
    "ddimageortext": "图片拖放题（ddimageortext）",
    "ddmarker": "标记拖放题（ddmarker）",
    "randomsamatch": "随机简答匹配题（randomsamatch）",
    "ordering": "排序题（ordering）",
    "random": "随机抽题（random）",
}
_FIELD_NAMES = {"stem": "questiontext", "options": "answer", "key": "answer"}


def _text(el: ET.Element | None, path: str = "text") -> str:
    found = el.find(path) if el is not None else None
    return (found.text or "") if found is not None else ""


def _rich(el: ET.Element | None) -> str:
    """A Moodle text element (format attribute + <text>) as an HTML fragment."""
    if el is None:
        return ""
    text = _text(el).strip()
    fmt = el.get("format", "html")
    if fmt == "html":
        return text
    if fmt == "moodle_auto_format" and re.search(r"</?[a-zA-Z][^>]*>", text):
        return text.replace("\r\n", "\n").replace("\n", "<br>")
    return plain_to_html(text)


def parse_moodle_xml(filename: str, data: bytes, root: ET.Element | None = None) -> ParseResult:
    root = parse_xml(filename, data) if root is None else root
    if root.tag != "quiz":
        raise InterchangeError(filename, f"不是 Moodle XML 文件（根元素为 {root.tag}，应为 quiz）")
    result = ParseResult()
    category: list[str] = []
    for q in root.findall("question"):
        qtype = q.get("type", "")
        if qtype == "category":
            category = category_to_path(_text(q, "category/text"))
            continue
        _Question(filename, q, list(category), result).parse(qtype)
    return result


class _Question:
    def __init__(self, filename: str, el: ET.Element, category: list[str], result: ParseResult):
        self.el = el
        self.result = result
        self.category = category
        self.name = _text(el, "name/text").strip() or None
        self.source = SourceRef(filename, getattr(el, "line", None), self.name)
        self.ext = el.find("examsys")
        self.stem = _rich(el.find("questiontext"))

    def _issue(self, message: str, fld: str | None = None) -> ImportIssue:
        return ImportIssue(str(self.source), fld, message)

    def _label(self) -> str:
        return self.name or html_to_text(self.stem)[:30] or "（无名称）"

    def parse(self, qtype: str) -> None:
        handler = {
            "truefalse": self._truefalse,
            "multichoice": self._multichoice,
            "shortanswer": self._shortanswer,
            "multianswer": self._cloze,
            "essay": self._essay,
        }.get(qtype)
        if qtype == "description":
            self.result.notes.append(self._issue(f"「{self._label()}」是说明文字（description），已跳过"))
        elif handler is None:
            kind = UNSUPPORTED_NAMES.get(qtype, f"{qtype} 类型")
            self.result.unsupported.append(self._issue(f"「{self._label()}」是{kind}，本系统暂不支持"))
        else:
            handler()

    def _answers(self) -> list[tuple[float, ET.Element]]:
        out = []
        for ans in self.el.findall("answer"):
            try:
                out.append((float(ans.get("fraction", "0")), ans))
            except ValueError:
                self.result.errors.append(self._issue(f"无效的得分比例 {ans.get('fraction')!r}", "answer"))
        return out

    def _truefalse(self) -> None:
        answers = self._answers()
        correct = [i for i, (w, _) in enumerate(answers) if w > 0]
        if len(answers) != 2 or len(correct) != 1:
            self.result.errors.append(self._issue("判断题应有两个答案且只有一个正确", "answer"))
            return
        word = _text(answers[correct[0]][1]).strip().lower()
        key = word == "true" if word in ("true", "false") else correct[0] == 0
        self._emit("judge", make_content("judge", self.stem, key=key, explanation=self._explanation()))

    def _multichoice(self) -> None:
        answers = self._answers()
        if len(answers) > len(OPTION_LABELS):
            self.result.errors.append(
                self._issue(f"选项最多 {len(OPTION_LABELS)} 个，实际 {len(answers)} 个", "answer")
            )
            return
        single = _text(self.el, "single").strip().lower() in ("true", "1")
        correct, dropped = pick_correct([w for w, _ in answers], single)
        options = [{"label": OPTION_LABELS[i], "text": _rich(a)} for i, (_, a) in enumerate(answers)]
        self._note_dropped([options[i]["text"] for i in dropped])
        labels = [OPTION_LABELS[i] for i in correct]
        if single and len(labels) > 1:
            self.result.notes.append(self._issue(f"「{self._label()}」是单选题但有多个满分答案，已按多选题导入"))
        qtype = "single" if len(labels) == 1 else "multi"
        key = labels[0] if qtype == "single" else labels
        content = make_content(qtype, self.stem, options=options, key=key, explanation=self._explanation())
        self._emit(qtype, content)

    def _shortanswer(self) -> None:
        answers = self._answers()
        correct, dropped = pick_correct([w for w, _ in answers])
        # Short-answer answers are plain text, whatever their format attribute says.
        self._note_dropped([plain_to_html(_text(answers[i][1])) for i in dropped])
        alternatives = [" ".join(_text(answers[i][1]).split()) for i in correct]
        stem = self.stem
        blanks = count_blanks(stem)
        if blanks == 0:
            stem = f"{stem} {BLANK}"
        elif blanks > 1:
            self.result.errors.append(self._issue(f"题干中有 {blanks} 个空，但简答题只有一组答案", "questiontext"))
            return
        content = make_content("fill", stem, key=[alternatives], explanation=self._explanation())
        self._emit("fill", content)

    def _cloze(self) -> None:
        try:
            pieces, key, dropped = parse_cloze(self.stem)
        except ValueError as exc:
            self.result.unsupported.append(self._issue(f"「{self._label()}」是完形填空题（cloze），{exc}"))
            return
        self._note_dropped([plain_to_html(d) for d in dropped])
        # Between the pieces: the author's blank marks (our own export), else "_____". Joined only
        # here, so text next to a gap (an underscore, say) stays on its side of the blank.
        markers = [b.text or "" for b in self.ext.findall("blank")] if self.ext is not None else []
        if len(markers) != len(key):
            markers = [BLANK] * len(key)
        stem = pieces[0] + "".join(m + rest for m, rest in zip(markers, pieces[1:], strict=True))
        self._emit("fill", make_content("fill", stem, key=key, explanation=self._explanation()))

    def _essay(self) -> None:
        qtype = _text(self.ext, "qtype").strip() if self.ext is not None else ""
        qtype = qtype if qtype in OPEN_QTYPES else "essay"
        points = []
        for sp in self.ext.findall("scoringpoint") if self.ext is not None else []:
            try:
                value = float(sp.get("points", ""))
            except ValueError:
                value = 0.0
            points.append({"text": sp.text or "", "points": int(value) if value.is_integer() else value})
        content = make_content(
            qtype,
            self.stem,
            reference_answer=_rich(self.el.find("graderinfo")),
            scoring_points=points,
            explanation=self._explanation(),
        )
        self._emit(qtype, content)

    def _explanation(self) -> str:
        return _rich(self.el.find("generalfeedback"))

    def _note_dropped(self, texts: list[str]) -> None:
        if texts:
            shown = "、".join(html_to_text(t) for t in texts)
            self.result.notes.append(
                self._issue(f"「{self._label()}」中部分得分的答案（{shown}）未导入：本系统不支持按选项部分给分")
            )

    def _attachments(self) -> list[Attachment] | None:
        found: dict[str, Attachment] = {}
        for f in self.el.iter("file"):
            name = (f.get("name") or "").strip()
            try:
                payload = base64.b64decode((f.text or "").strip(), validate=True)
            except (binascii.Error, ValueError):
                self.result.errors.append(self._issue(f"内嵌文件 {name!r} 的 base64 编码无效", "file"))
                return None
            if name:
                found.setdefault(name, Attachment(name, payload))
        return list(found.values())

    def _emit(self, qtype: str, content: dict) -> None:
        problems = validate_content(qtype, content)
        attachments = self._attachments()
        for fld, message in problems:
            self.result.errors.append(self._issue(message, _FIELD_NAMES.get(fld, fld)))
        if problems or attachments is None:
            return
        draft = ItemDraft(
            qtype=qtype,
            content=content,
            kp_path=self.category,
            external_id=_text(self.el, "idnumber").strip() or None,
            tags=[t.text.strip() for t in self.el.findall("tags/tag/text") if t.text and t.text.strip()],
            source=self.source,
            attachments=attachments,
        )
        grade = _text(self.el, "defaultgrade").strip()
        if grade:
            try:
                draft.points = float(grade)
            except ValueError:
                self.result.errors.append(self._issue(f"无效的分值 {grade!r}", "defaultgrade"))
                return
        if self.ext is not None and not self._apply_ext(draft):
            return
        self.result.items.append(draft)

    def _apply_ext(self, draft: ItemDraft) -> bool:
        difficulty = _text(self.ext, "difficulty").strip()
        if difficulty:
            if difficulty not in {"1", "2", "3", "4", "5"}:
                self.result.errors.append(self._issue(f"无效的难度 {difficulty!r}", "difficulty"))
                return False
            draft.difficulty = int(difficulty)
        draft.kp_code = _text(self.ext, "kpcode").strip() or None
        draft.meta = {m.get("key", ""): m.text or "" for m in self.ext.findall("meta") if m.get("key")}
        return True


# ---------------------------------------------------------------- export


def _text_el(parent: ET.Element, tag: str, text: str, fmt: str | None = "html") -> ET.Element:
    el = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(el, "text").text = text
    return el


def _fraction(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")


def emit_moodle_xml(items: list[ItemDraft]) -> bytes:
    quiz = ET.Element("quiz")
    current: list[str] | None = None
    for number, item in enumerate(items, 1):
        if item.qtype not in QTYPES:
            raise ValueError(f"unknown qtype {item.qtype!r}")
        if item.kp_path != current:
            cat = ET.SubElement(quiz, "question", type="category")
            ET.SubElement(ET.SubElement(cat, "category"), "text").text = path_to_category(item.kp_path)
            current = list(item.kp_path)
        _emit_question(quiz, item, number)
    ET.indent(quiz, space="  ")
    return ET.tostring(quiz, encoding="utf-8", xml_declaration=True)


def _emit_question(quiz: ET.Element, item: ItemDraft, number: int) -> None:
    c = item.content
    moodle_type = {
        "judge": "truefalse",
        "single": "multichoice",
        "multi": "multichoice",
        "fill": "shortanswer" if count_blanks(c["stem"]) == 1 else "multianswer",
    }.get(item.qtype, "essay")
    q = ET.SubElement(quiz, "question", type=moodle_type)
    name = item.external_id or html_to_text(c["stem"])[:40].strip() or f"Q{number}"
    ET.SubElement(ET.SubElement(q, "name"), "text").text = name
    stem = emit_cloze(c["stem"], c["key"]) if moodle_type == "multianswer" else c["stem"]
    qtext = _text_el(q, "questiontext", stem)
    for att in item.attachments:
        f = ET.SubElement(qtext, "file", name=att.name, path="/", encoding="base64")
        f.text = base64.b64encode(att.data).decode("ascii")
    _text_el(q, "generalfeedback", c.get("explanation", ""))
    if item.points is not None:
        ET.SubElement(q, "defaultgrade").text = repr(float(item.points))
    if item.external_id:
        ET.SubElement(q, "idnumber").text = item.external_id
    if item.qtype == "judge":
        for word in ("true", "false"):
            ans = _text_el(q, "answer", word, "moodle_auto_format")
            ans.set("fraction", "100" if (word == "true") == c["key"] else "0")
    elif item.qtype in ("single", "multi"):
        ET.SubElement(q, "single").text = "true" if item.qtype == "single" else "false"
        ET.SubElement(q, "shuffleanswers").text = "0"
        ET.SubElement(q, "answernumbering").text = "ABCD"
        keys = [c["key"]] if item.qtype == "single" else c["key"]
        for opt in c["options"]:
            ans = _text_el(q, "answer", opt["text"])
            ans.set("fraction", _fraction(100 / len(keys)) if opt["label"] in keys else "0")
    elif moodle_type == "shortanswer":
        ET.SubElement(q, "usecase").text = "0"
        for alt in c["key"][0]:
            _text_el(q, "answer", alt, "moodle_auto_format").set("fraction", "100")
    elif item.qtype in OPEN_QTYPES:
        ET.SubElement(q, "responseformat").text = "editor"
        _text_el(q, "graderinfo", c.get("reference_answer", ""))
    if item.tags:
        tags = ET.SubElement(q, "tags")
        for tag in item.tags:
            ET.SubElement(ET.SubElement(tags, "tag"), "text").text = tag
    _emit_ext(q, item, moodle_type)


def _emit_ext(q: ET.Element, item: ItemDraft, moodle_type: str) -> None:
    ext = ET.SubElement(q, "examsys")
    ET.SubElement(ext, "qtype").text = item.qtype
    if item.difficulty is not None:
        ET.SubElement(ext, "difficulty").text = str(item.difficulty)
    if item.kp_code:
        ET.SubElement(ext, "kpcode").text = item.kp_code
    for sp in item.content.get("scoring_points", []):
        ET.SubElement(ext, "scoringpoint", points=str(sp["points"])).text = sp["text"]
    for key, value in item.meta.items():
        ET.SubElement(ext, "meta", key=key).text = value
    if moodle_type == "multianswer":
        for marker in BLANK_RE.findall(item.content["stem"]):
            ET.SubElement(ext, "blank").text = marker
