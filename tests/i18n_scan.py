"""Find user-visible Chinese that is not marked for translation: bare CJK literals in scripts
(outside `_("…")` / `_f("…", …)` and comments) and in templates (outside `_('…')`, trans blocks and
comments). Regex- and tokenizer-based on purpose: small, strict, no JavaScript parser needed."""

from __future__ import annotations

import re
from dataclasses import dataclass

# CJK ideographs, CJK symbols and punctuation (incl. the ideographic space), full-width forms.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

# The code right before a literal that makes it the msgid of a translation call: `_(` or `_f(`.
_CALL_BEFORE = re.compile(r"(?:^|[^\w$])_f?\(\s*$")
_REGEX_AFTER_WORDS = re.compile(r"(?:^|[^\w$])(?:return|typeof|case|in|of|delete|void|throw|new)\s*$")


@dataclass
class Literal:
    kind: str  # "string" or "regex"
    value: str  # as written between the delimiters (escapes not decoded)
    line: int
    translated: bool  # the msgid of a _() / _f() call

    def text(self) -> str:
        """The value with \\uXXXX escapes decoded (for strings: what the browser shows)."""
        if self.kind != "string":
            return self.value
        return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), self.value)


def _regex_may_start(code: str) -> bool:
    tail = code.rstrip()
    return not tail or tail[-1] in "(,=:[!&|?{};+-*%<>~^" or bool(_REGEX_AFTER_WORDS.search(tail))


def js_tokens(src: str) -> tuple[list[Literal], str]:
    """(string and regex literals, the remaining code without literals and comments)."""
    literals: list[Literal] = []
    code: list[str] = []
    i, n, line = 0, len(src), 1
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            end = src.find("\n", i)
            i = n if end < 0 else end
            continue
        if src.startswith("/*", i):
            end = src.index("*/", i + 2) + 2
            line += src.count("\n", i, end)
            i = end
            continue
        before = "".join(code[-80:])
        if c in "'\"`":
            j = i + 1
            while src[j] != c:
                j += 2 if src[j] == "\\" else 1
            literals.append(Literal("string", src[i + 1:j], line, bool(_CALL_BEFORE.search(before))))
            line += src.count("\n", i, j)
            code.append('""')
            i = j + 1
            continue
        if c == "/" and _regex_may_start(before):
            j, in_class = i + 1, False
            while in_class or src[j] != "/":
                if src[j] == "\\":
                    j += 1
                elif src[j] == "[":
                    in_class = True
                elif src[j] == "]":
                    in_class = False
                j += 1
            literals.append(Literal("regex", src[i + 1:j], line, False))
            code.append("/re/")
            i = j + 1
            continue
        if c == "\n":
            line += 1
        code.append(c)
        i += 1
    return literals, "".join(code)


def js_violations(src: str) -> list[str]:
    """Chinese in a script outside translation calls and comments."""
    literals, code = js_tokens(src)
    out = [f"line {lit.line}: {lit.kind} {lit.value!r}" for lit in literals
           if not lit.translated and CJK.search(lit.text())]
    out += [f"code: {line.strip()!r}" for line in code.splitlines() if CJK.search(line)]
    return out


def js_msgids(src: str) -> set[str]:
    """The msgids of the translation calls in a script (as the browser sees them)."""
    literals, _code = js_tokens(src)
    return {lit.text().replace('\\"', '"').replace("\\'", "'") for lit in literals if lit.translated}


_TEMPLATE_STRIP = [
    re.compile(r"\{#.*?#\}", re.S),  # Jinja comments
    re.compile(r"<!--.*?-->", re.S),  # HTML comments
    re.compile(r"\{%-?\s*trans\b.*?%\}.*?\{%-?\s*endtrans\s*-?%\}", re.S),  # trans blocks
    re.compile(r"""(?<![\w.])(?:_|gettext|ngettext)\(\s*(['"])(?:\\.|(?!\1).)*\1""", re.S),  # msgids
]


def template_violations(text: str) -> list[str]:
    """Chinese in a template outside _() msgids, trans blocks and comments."""
    for pattern in _TEMPLATE_STRIP:
        text = pattern.sub("", text)
    return [line.strip() for line in text.splitlines() if CJK.search(line)]
