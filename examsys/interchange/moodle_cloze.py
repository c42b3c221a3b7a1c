"""Moodle "embedded answers" (cloze, multianswer) text: only the short-answer gaps a
fill item can hold, e.g. `{1:SHORTANSWER:=Berlin~=berlin}`. Anything else in a cloze
question (choice or numerical gaps) makes the whole question unsupported."""

from __future__ import annotations

import html
import re

from .checks import BLANK_RE
from .convert import pick_correct

_GAP = re.compile(r"\{(\d*):([A-Za-z_]+):((?:\\.|[^\\}])*)\}")
_SHORT = {"SHORTANSWER", "SA", "MW", "SHORTANSWER_C", "SAC", "MWC"}
_SPECIAL = '\\}~#/"'
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, i = [], [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if text[i] == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(text[i])
        i += 1
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_cloze(stem: str) -> tuple[list[str], list[list[str]], list[str]]:
    """The stem's text around its gaps (one piece more than gaps: the caller puts its blank marks
    between them), the key, and dropped partial answers. Raises ValueError (with a Chinese
    reason) when a gap is not a short answer."""
    key: list[list[str]] = []
    dropped: list[str] = []
    pieces: list[str] = []
    last = 0
    for m in _GAP.finditer(stem):
        kind = m.group(2).upper()
        if kind not in _SHORT:
            raise ValueError(f"含有 {kind} 类型的空，本系统只支持填空（SHORTANSWER）")
        answers = []
        for raw in _split_unescaped(m.group(3), "~"):
            raw = raw.strip()
            weight = 0.0
            if raw.startswith("="):
                weight, raw = 100.0, raw[1:]
            elif w := _WEIGHT.match(raw):
                weight, raw = float(w.group(1)), raw[w.end() :]
            text = _split_unescaped(raw, "#")[0]
            answers.append((weight, " ".join(html.unescape(_unescape(text)).split())))
        correct, partial = pick_correct([w for w, _ in answers])
        key.append([answers[i][1] for i in correct])
        dropped += [answers[i][1] for i in partial]
        pieces.append(stem[last : m.start()])
        last = m.end()
    if not key:
        raise ValueError("没有可识别的空")
    pieces.append(stem[last:])
    return pieces, key, dropped


def _escape(alt: str) -> str:
    text = html.escape(alt, quote=False)
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in text)


def emit_cloze(stem: str, key: list[list[str]]) -> str:
    """Replace each blank of a fill stem by its short-answer gap."""
    gaps = iter(key)

    def gap(_m: re.Match) -> str:
        alts = next(gaps)
        return "{1:SHORTANSWER:" + "~".join("=" + _escape(a) for a in alts) + "}"

    return BLANK_RE.sub(gap, stem)
