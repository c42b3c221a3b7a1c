"""Rich text of item content: the one sanitiser every stem, option, explanation and reference
answer passes through on the way into the bank, and the plain-text view used for search,
similarity and diffs.

`sanitise(html)` keeps a small, fixed set of formatting tags; images only from this system's
own asset store (`/assets/<sha256>`), never `data:` or remote URLs (a remote image in an exam
paper leaks who is sitting it and when); `class` only as `class="math"` on a span. LaTeX written
between `\\(...\\)`, `\\[...\\]`, `$$...$$` or `$...$` is wrapped in `<span class="math">` and
kept as escaped text: rendering formulas to SVG happens later, the same for screen and PDF.

The output is a fixed point: `sanitise(sanitise(x)) == sanitise(x)`, so storing sanitised text
and sanitising again on export or re-import never drifts (and content hashes stay stable).
"""

from __future__ import annotations

import html as _html
import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = frozenset({
    "p", "br", "strong", "em", "u", "sub", "sup", "ul", "ol", "li",
    "table", "thead", "tbody", "tr", "td", "th", "span", "img",
})
ALLOWED_ATTRIBUTES = {
    "img": {"src", "alt", "width", "height"},
    "span": {"class"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
ASSET_SRC = re.compile(r"/assets/[0-9a-f]{64}")
_DIMENSION = re.compile(r"[0-9]{1,4}")
_SPAN_NUMBER = re.compile(r"[1-9][0-9]?")

# Display math first so `$$x$$` is not read as two empty inline formulas. An inline `$...$`
# must hug its content and not be followed by a digit, so "5 $ 和 6 $" (money) stays text.
_MATH = re.compile(
    r"\\\((?P<a>.+?)\\\)"
    r"|\\\[(?P<b>.+?)\\\]"
    r"|\$\$(?P<c>[^$]+?)\$\$"
    r"|\$(?=[^\s$])(?P<d>[^$]*?[^\s$\\])\$(?![0-9])",
    re.S,
)
_TAG = re.compile(r"<[^>]*>")
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
MATH_OPEN = '<span class="math">'


def _filter_attribute(tag: str, attr: str, value: str) -> str | None:
    """nh3 attribute filter: returning None drops the attribute."""
    if tag == "img" and attr == "src":
        return value if ASSET_SRC.fullmatch(value) else None
    if tag == "img" and attr in ("width", "height"):
        return value if _DIMENSION.fullmatch(value) else None
    if tag == "img" and attr == "alt":
        # Angle brackets are not escaped inside serialised attributes; dropping them keeps
        # the tokeniser below (and any later regex-based reader) unambiguous.
        return value.replace("<", "").replace(">", "")[:200]
    if tag == "span" and attr == "class":
        return "math" if value.strip() == "math" else None
    if tag in ("td", "th"):
        return value if _SPAN_NUMBER.fullmatch(value) else None
    return value


def _clean(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        url_schemes=set(),
        strip_comments=True,
        link_rel=None,
    )


def _wrap_math(cleaned: str) -> str:
    """Wrap LaTeX in text nodes in math spans; flatten anything nested inside a math span to
    its text, so a formula is always one escaped string."""
    out: list[str] = []
    span_depth = 0  # open <span> elements, counted only while inside a math span
    pos = 0
    for match in _TAG.finditer(cleaned):
        text = cleaned[pos:match.start()]
        tag = match.group()
        pos = match.end()
        if span_depth:
            out.append(text)
            if tag.startswith("<span"):
                span_depth += 1
            elif tag == "</span>":
                span_depth -= 1
                if span_depth == 0:
                    out.append(tag)
            continue
        out.append(_MATH.sub(lambda m: f"{MATH_OPEN}{m.group()}</span>", text))
        if tag == MATH_OPEN:
            span_depth = 1
        out.append(tag)
    out.append(_MATH.sub(lambda m: f"{MATH_OPEN}{m.group()}</span>", cleaned[pos:]))
    return "".join(out)


# Text with none of these characters is its own sanitised form (no markup, nothing to escape,
# nothing the HTML parser would normalise, no formula delimiter): imports are mostly such text.
_SURROGATE = re.compile("[\ud800-\udfff]")
_NEEDS_PARSING = re.compile(r"[<>&$\\\x00-\x08\x0b-\x1f\x7f\u00a0]")


def sanitise(fragment: str | None) -> str:
    """The safe form of an HTML fragment (see the module docstring). Never raises on odd
    input: anything not allowed is dropped, the text inside it kept."""
    if not fragment:
        return ""
    # Lone surrogates (possible from JSON "\\ud800" escapes) can't be encoded: replace them.
    fragment = _SURROGATE.sub("\ufffd", str(fragment)).replace("\x00", "")  # NUL: never text
    if not _NEEDS_PARSING.search(fragment):
        return fragment.strip()
    # Images whose source was refused go before formulas are found: removing one joins the
    # text around it, and a formula spanning that join must be seen on the first pass.
    cleaned = _IMG_WITHOUT_SRC.sub("", _clean(fragment))
    wrapped = _wrap_math(cleaned)
    if wrapped != cleaned:
        # The wrapper only adds allowed spans around escaped text; one more pass through nh3
        # keeps the serialisation canonical, which is what makes sanitise idempotent.
        wrapped = _clean(wrapped)
    return wrapped.strip()


class _PlainText(HTMLParser):
    BLOCK = frozenset({"p", "br", "li", "tr", "table", "ul", "ol", "div"})

    def __init__(self, images: bool):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images = images

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "img" and self.images:
            src = dict(attrs).get("src") or ""
            self.parts.append(f"[图片 {src.rsplit('/', 1)[-1][:12]}]")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def to_lines(fragment: str | None, *, images: bool = True) -> list[str]:
    """Visible text of a fragment, one entry per line (block elements break lines); images
    appear as `[图片 <hash prefix>]` so that diffs show an image change."""
    if not fragment:
        return []
    if "<" not in fragment and "&" not in fragment:
        lines = (" ".join(line.split()) for line in fragment.split("\n"))
        return [line for line in lines if line]
    parser = _PlainText(images)
    parser.feed(fragment)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return [line for line in lines if line]


def to_plain(fragment: str | None) -> str:
    """Visible text of a fragment on one line (tags dropped, entities decoded, whitespace
    collapsed): the input of search and similarity."""
    return " ".join(to_lines(fragment, images=False))


def escape(text: str) -> str:
    """Plain text to an HTML fragment (for values typed as text, e.g. scoring points)."""
    return _html.escape(text, quote=False)
