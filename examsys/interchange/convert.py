"""Small conversions several formats share: weighted answers to a key, Moodle-style
category paths to knowledge-point paths, and decoding of text files."""

from __future__ import annotations

import re

from .model import InterchangeError

_FULL = 100.0
_EPS = 1e-6
_CATEGORY_ROOTS = re.compile(r"^\$(course|system|module|cat\d*)\$$")


def pick_correct(weights: list[float], single: bool | None = None) -> tuple[list[int], list[int]]:
    """Which answers are correct, given percentage weights (Moodle fractions x 100).

    Full-credit answers win when there are any; otherwise (a Moodle multi-answer
    question whose credit is split) every positive answer is correct. Positive
    answers below full credit that are left out are returned as `dropped` so the
    caller can say so: this system has no partial credit per option.
    `single=False` (Moodle's own flag) means split credit even when one is 100%.
    """
    positive = [i for i, w in enumerate(weights) if w > _EPS]
    full = [i for i, w in enumerate(weights) if abs(w - _FULL) < _EPS or w > _FULL]
    if single is False or not full:
        return positive, []
    return full, [i for i in positive if i not in full]


def category_to_path(category: str) -> list[str]:
    """`$course$/top/A/B` -> ["A", "B"]; Moodle writes a '/' inside a name as '//'."""
    parts = re.split(r"(?<!/)/(?!/)", category.strip())
    names = [p.replace("//", "/").strip() for p in parts]
    if names and _CATEGORY_ROOTS.match(names[0]):
        names = names[1:]
    if names and names[0] == "top":
        names = names[1:]
    return [n for n in names if n]


def path_to_category(path: list[str]) -> str:
    return "/".join(["$course$", "top", *(name.replace("/", "//") for name in path)])


def decode_text(filename: str, data: bytes) -> str:
    """Text files from Chinese Windows are often GB18030; UTF-8 (with or without BOM)
    is tried first because it is self-validating."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InterchangeError(filename, "无法识别文件编码（请使用 UTF-8）")
