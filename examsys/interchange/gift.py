"""Moodle GIFT parser.

Supported: true/false -> judge; multiple choice -> single (one full-credit answer) or
multi (several full-credit answers, or credit split over several positive weights);
short answer -> fill with one blank whose alternatives are the full-credit answers;
essay `{}` -> essay. Descriptions (no braces) are skipped with a note. Numerical and
matching questions are reported as unsupported, one by one.

Text handling: escapes `\\~ \\= \\# \\{ \\} \\: \\\\` and `\\n` are decoded; `[html]` text is
kept as HTML, `[moodle]`/`[plain]`/`[markdown]` text is escaped (markdown is not
rendered). Answers embedded mid-stem leave a `_____` blank. `$CATEGORY:` sets kp_path;
`// [id:X]` and `// [tag:Y]` comment lines give external_id and tags.
Per-answer feedback is dropped; the general feedback (`####`) becomes the explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .checks import count_blanks, validate_content
from .convert import category_to_path, decode_text, pick_correct
from .model import (
    OPTION_LABELS,
    ImportIssue,
    ItemDraft,
    ParseResult,
    SourceRef,
    make_content,
)
from .richtext import html_to_text, plain_to_html

BLANK = "_____"
_ESCAPABLE = "~=#{}:\\"
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]")
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_META = re.compile(r"\[(id|tag):([^\]]*)\]")
_TRUE = {"T", "TRUE"}
_FALSE = {"F", "FALSE"}


def unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPABLE:
                out.append(nxt)
                i += 2
                continue
            if nxt == "n":
                out.append("\n")
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def find_unescaped(text: str, target: str, start: int = 0) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(target, i):
            return i
        i += 1
    return -1


def _brace_delta(line: str) -> int:
    depth, i = 0, 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(line[i], 0)
        i += 1
    return depth


@dataclass
class _Block:
    line: int
    text: str
    ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def _blocks(text: str) -> list[_Block]:
    """Split on blank lines (outside braces), dropping `//` comment lines but keeping
    the [id:]/[tag:] they carry for the next question."""
    blocks: list[_Block] = []
    current: _Block | None = None
    lines: list[str] = []
    depth = 0
    pending: list[tuple[str, str]] = []
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        stripped = line.strip()
        if stripped.startswith("//"):
            pending += _META.findall(stripped)
            continue
        if not stripped and depth == 0:
            if current is not None:
                current.text = "\n".join(lines)
                blocks.append(current)
                current, lines = None, []
            continue
        if current is None:
            current = _Block(number, "")
            current.ids = [v.strip() for k, v in pending if k == "id"]
            current.tags = [v.strip() for k, v in pending if k == "tag"]
            pending = []
        lines.append(line)
        depth = max(0, depth + _brace_delta(line))
    if current is not None:
        current.text = "\n".join(lines)
        blocks.append(current)
    return blocks


def _take_format(text: str, default: str) -> tuple[str, str]:
    m = _FORMAT.match(text)
    return (m.group(1), text[m.end() :]) if m else (default, text)


def to_html(raw: str, fmt: str) -> str:
    """GIFT text (still escaped) in a format -> HTML fragment."""
    text = unescape(raw)
    if fmt == "html":
        return text.strip()
    lines = [line.strip() for line in text.split("\n")]
    return plain_to_html("\n".join(lines).strip())


@dataclass
class _Answer:
    marker: str
    weight: float
    text: str  # raw GIFT text, escapes intact, format prefix removed
    fmt: str


def parse_gift(filename: str, data: bytes) -> ParseResult:
    result = ParseResult()
    category: list[str] = []
    for block in _blocks(decode_text(filename, data)):
        text = block.text.strip()
        if text.startswith("$CATEGORY:"):
            first, _, rest = text.partition("\n")
            category = category_to_path(first[len("$CATEGORY:") :])
            if not rest.strip():
                continue
            text = rest.strip()
        _Question(filename, block, text, list(category), result).parse()
    return result


class _Question:
    def __init__(self, filename, block: _Block, text: str, category, result: ParseResult):
        self.file = filename
        self.block = block
        self.text = text
        self.category = category
        self.result = result
        self.title: str | None = None

    @property
    def source(self) -> SourceRef:
        return SourceRef(self.file, self.block.line, self.title)

    def _issue(self, message: str, fld: str | None = None) -> ImportIssue:
        return ImportIssue(str(self.source), fld, message)

    def _named(self, stem_html: str) -> str:
        return self.title or html_to_text(stem_html)[:30] or "（无标题）"

    def parse(self) -> None:
        s = self.text
        if s.startswith("::"):
            end = find_unescaped(s, "::", 2)
            if end < 0:
                self.result.errors.append(self._issue("标题缺少结束的 ::", "标题"))
                return
            self.title = unescape(s[2:end]).strip() or None
            s = s[end + 2 :]
        fmt, s = _take_format(s, "moodle")
        open_ = find_unescaped(s, "{")
        if open_ < 0:
            stem = to_html(s, fmt)
            self.result.notes.append(self._issue(f"「{self._named(stem)}」是说明文字（description），不是试题，已跳过"))
            return
        close = find_unescaped(s, "}", open_ + 1)
        if close < 0:
            self.result.errors.append(self._issue("答案缺少结束的 }", "答案"))
            return
        before, body, after = s[:open_], s[open_ + 1 : close], s[close + 1 :]
        if find_unescaped(after, "{") >= 0:
            self.result.errors.append(self._issue("一道题只能有一组答案 {…}", "答案"))
            return
        embedded = bool(after.strip())
        # Answers in mid-stem ("missing word") leave a blank where they stood.
        raw_stem = before.rstrip() + f" {BLANK} " + after.lstrip() if embedded else before
        self._answers(to_html(raw_stem, fmt), body, fmt, embedded=embedded)

    def _answers(self, stem: str, body: str, fmt: str, embedded: bool) -> None:
        b = body.strip()
        if b.startswith("#"):
            self._unsupported(stem, "数值题（numerical）")
            return
        explanation = ""
        gf = find_unescaped(b, "####")
        if gf >= 0:
            gf_fmt, gf_raw = _take_format(b[gf + 4 :], fmt)
            explanation = to_html(gf_raw, gf_fmt)
            b = b[:gf].strip()
        if not b:
            self._emit("essay", make_content("essay", stem, explanation=explanation))
            return
        cut = find_unescaped(b, "#")  # {TRUE#feedback#feedback}
        head = unescape(b[:cut] if cut >= 0 else b)
        if head.strip().upper() in _TRUE | _FALSE:
            key = head.strip().upper() in _TRUE
            self._emit("judge", make_content("judge", stem, key=key, explanation=explanation))
            return
        answers = self._split_answers(b, fmt)
        if answers is None:
            return
        if all(a.marker == "=" and find_unescaped(a.text, "->") >= 0 for a in answers):
            self._unsupported(stem, "匹配题（matching）")
            return
        if any(a.marker == "~" for a in answers):
            self._choice(stem, answers, explanation)
        else:
            self._short(stem, answers, explanation, embedded)

    def _split_answers(self, body: str, fmt: str) -> list[_Answer] | None:
        starts = []
        i = 0
        while i < len(body):
            if body[i] == "\\":
                i += 2
                continue
            if body[i] in "=~":
                starts.append(i)
            i += 1
        if not starts:  # "{One}": a single short answer needs no '='
            return [_Answer("=", 100.0, *_split_fmt(body, fmt))]
        if body[: starts[0]].strip():
            self.result.errors.append(self._issue("答案必须以 = 或 ~ 开头", "答案"))
            return None
        answers = []
        for pos, end in zip(starts, [*starts[1:], len(body)], strict=True):
            marker, raw = body[pos], body[pos + 1 : end].strip()
            weight = 100.0 if marker == "=" else 0.0
            if m := _WEIGHT.match(raw):
                weight, raw = float(m.group(1)), raw[m.end() :]
            answers.append(_Answer(marker, weight, *_split_fmt(raw, fmt)))
        return answers

    def _choice(self, stem: str, answers: list[_Answer], explanation: str) -> None:
        if len(answers) > len(OPTION_LABELS):
            self.result.errors.append(self._issue(f"选项最多 {len(OPTION_LABELS)} 个，实际 {len(answers)} 个", "选项"))
            return
        correct, dropped = pick_correct([a.weight for a in answers])
        options = [{"label": OPTION_LABELS[i], "text": to_html(a.text, a.fmt)} for i, a in enumerate(answers)]
        self._note_dropped(stem, [options[i]["text"] for i in dropped])
        labels = [OPTION_LABELS[i] for i in correct]
        if len(labels) == 1:
            content = make_content("single", stem, options=options, key=labels[0], explanation=explanation)
            self._emit("single", content)
        else:
            content = make_content("multi", stem, options=options, key=labels, explanation=explanation)
            self._emit("multi", content)

    def _short(self, stem: str, answers: list[_Answer], explanation: str, embedded: bool) -> None:
        correct, dropped = pick_correct([a.weight for a in answers])
        # Alternatives are typed into a one-line box: whitespace is collapsed.
        alternatives = [" ".join(html_to_text(to_html(answers[i].text, answers[i].fmt)).split()) for i in correct]
        self._note_dropped(stem, [html_to_text(to_html(answers[i].text, "plain")) for i in dropped])
        if not embedded and count_blanks(stem) == 0:
            stem = f"{stem} {BLANK}"
        content = make_content("fill", stem, key=[alternatives], explanation=explanation)
        self._emit("fill", content)

    def _note_dropped(self, stem: str, texts: list[str]) -> None:
        if texts:
            shown = "、".join(html_to_text(t) for t in texts)
            self.result.notes.append(
                self._issue(f"「{self._named(stem)}」中部分得分的答案（{shown}）未导入：本系统不支持按选项部分给分")
            )

    def _unsupported(self, stem: str, kind: str) -> None:
        self.result.unsupported.append(self._issue(f"「{self._named(stem)}」是{kind}，本系统暂不支持"))

    def _emit(self, qtype: str, content: dict) -> None:
        problems = validate_content(qtype, content)
        if problems:
            for fld, message in problems:
                self.result.errors.append(self._issue(message, _FIELD_NAMES.get(fld, fld)))
            return
        self.result.items.append(
            ItemDraft(
                qtype=qtype,
                content=content,
                kp_path=self.category,
                external_id=self.block.ids[-1] if self.block.ids else None,
                tags=[t for t in self.block.tags if t],
                source=self.source,
            )
        )


def _split_fmt(raw: str, default: str) -> tuple[str, str]:
    """Answer text and its format; the per-answer feedback after '#' is dropped."""
    cut = find_unescaped(raw, "#")
    text = raw[:cut] if cut >= 0 else raw
    fmt, text = _take_format(text.strip(), default)
    return text.strip(), fmt


_FIELD_NAMES = {"stem": "题干", "options": "选项", "key": "答案", "explanation": "解析"}
