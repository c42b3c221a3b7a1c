"""Formulas in item content, drawn once as SVG and shown the same on screen and in PDF.

`richtext.sanitise` keeps LaTeX as escaped text in `<span class="math">\\(...\\)</span>`.
`render_math(html)` replaces each such span with
`<img class="math" alt="TeX" src="data:image/svg+xml;base64,...">`: the same data URI goes to
the browser and to WeasyPrint, so a formula looks identical in both (the page's CSP allows
`img-src data:`; the PDF fetcher lets WeasyPrint decode `data:` itself).

The SVG is made by matplotlib's mathtext: `TextToPath` lays the formula out with the
DejaVu Sans math font set and returns glyph *outlines*, which are written as one `<path>` (the
equivalent of `svg.fonttype: path`): no font, no text, no style sheet, no id, no script, so
nothing in the image depends on fonts installed where it is viewed. No pyplot, no GUI backend
and no global rcParams are touched.

Safety: mathtext is a parser for a TeX subset that only lays out symbols; it never evaluates
code, reads files or expands user macros (there is no `\\def`, `\\input` or `\\write`). Input is
still limited before it reaches the parser: at most `MAX_TEX` characters and `MAX_DEPTH` levels of
`{}` nesting (deep nesting drives the recursive parser towards RecursionError and long run
times). Anything refused, unparsable, or with characters the math fonts lack (Chinese inside a
formula) stays as escaped text in `<span class="math math-error">` so the writer sees it in the
preview and the reader still sees the source. Results, good and bad, are cached by TeX string.
"""

from __future__ import annotations

import base64
import html as _html
import logging
import re
import threading
from functools import lru_cache

from markupsafe import Markup

MAX_TEX = 300
MAX_DEPTH = 6
MAX_FORMULAS = 100  # per fragment; any further ones stay as source text
FONT_SIZE = 11.0  # pt; screen text is 15px (11.25pt), printed papers 10.5pt
_AXIS = 0.25  # the height, in em, that CSS `vertical-align: middle` lines up with the image centre
_PAD = 1.0  # pt of air around the ink, so anti-aliasing is not clipped

_SPAN = re.compile(r'<span class="math">(.*?)</span>', re.S)
_DELIMITED = re.compile(r"\\\((?P<a>.*)\\\)|\\\[(?P<b>.*)\\\]|\$\$(?P<c>.*)\$\$|\$(?P<d>.*)\$", re.S)
# One lock for matplotlib (not thread-safe) and for the log filter that spots missing glyphs.
_lock = threading.Lock()
_log = logging.getLogger("matplotlib.mathtext")


class MathError(ValueError):
    """A formula that is refused or cannot be drawn."""


def split_delimiters(text: str) -> tuple[str, bool]:
    """(TeX without its `\\( \\)`, `\\[ \\]`, `$$ $$` or `$ $` delimiters, is display math)."""
    text = text.strip()
    match = _DELIMITED.fullmatch(text)
    if match is None:
        return text, False
    tex = next(g for g in match.groups() if g is not None)
    return tex.strip(), match.group("b") is not None or match.group("c") is not None


def check(tex: str) -> None:
    """Refuse formulas that are too long, too deeply nested, or empty. Raises MathError."""
    if not tex.strip():
        raise MathError("公式为空")
    if len(tex) > MAX_TEX:
        raise MathError(f"公式超过 {MAX_TEX} 个字符")
    if "$" in tex:
        raise MathError("公式中不能再含有 $")
    depth = deepest = 0
    for ch in tex.replace(r"\{", "").replace(r"\}", ""):
        if ch == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise MathError("公式中的花括号不配对")
    if depth:
        raise MathError("公式中的花括号不配对")
    if deepest > MAX_DEPTH:
        raise MathError(f"公式嵌套超过 {MAX_DEPTH} 层")


class _MissingGlyphs(logging.Filter):
    def __init__(self):
        super().__init__()
        self.missing = False

    def filter(self, record):
        if "does not have a glyph" in record.getMessage():
            self.missing = True
            return False
        return True


def _num(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _svg(tex: str) -> str:
    from matplotlib.font_manager import FontProperties  # heavy: loaded on the first formula
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=text_to_path.FONT_SCALE, math_fontfamily="dejavusans")
    source = f"${tex}$"
    spotter = _MissingGlyphs()
    with _lock:
        _log.addFilter(spotter)
        try:
            width, height, depth, _, _ = text_to_path.mathtext_parser.parse(source, text_to_path.DPI, prop)
            verts, codes = text_to_path.get_text_path(prop, source, ismath=True)
        except (ValueError, RecursionError) as exc:
            raise MathError("无法识别的公式") from exc
        finally:
            _log.removeFilter(spotter)
    if spotter.missing:
        raise MathError("公式中含有无法显示的字符（文字请写在公式外）")
    scale = FONT_SIZE / text_to_path.FONT_SCALE
    width, height, depth = float(width) * scale, float(height) * scale, float(depth) * scale
    ascent = height - depth
    # Pad above or below so the image's centre sits on the text's middle: then CSS
    # `vertical-align: middle` puts the formula's baseline on the line's baseline.
    axis = _AXIS * FONT_SIZE
    half = max(ascent - axis, depth + axis) + _PAD
    top = axis + half  # distance from baseline up to the image's top edge
    total = 2 * half
    w, h = _num(width + 2 * _PAD), _num(total)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" viewBox="0 0 {w} {h}">'
            f'<path fill="#000" d="{_path_data(verts, codes, scale, top)}"/></svg>')


def _path_data(verts, codes, scale: float, top: float) -> str:
    from matplotlib.path import Path  # heavy: loaded on the first formula

    # Quadratic and cubic segments arrive as runs of control points; the command letter goes
    # before the first point of each segment (CURVE3 = 2 points, CURVE4 = 3 points).
    out: list[str] = []
    pending = 0
    for (x, y), code in zip(verts, codes, strict=True):
        point = f"{_num(float(x) * scale + _PAD)} {_num(top - float(y) * scale)}"
        if code == Path.CLOSEPOLY:
            out.append("Z")
            pending = 0
        elif pending:
            out.append(point)
            pending -= 1
        elif code == Path.MOVETO:
            out.append("M" + point)
        elif code == Path.LINETO:
            out.append("L" + point)
        elif code == Path.CURVE3:
            out.append("Q" + point)
            pending = 1
        elif code == Path.CURVE4:
            out.append("C" + point)
            pending = 2
    return " ".join(out)


@lru_cache(maxsize=1024)
def formula_image(tex: str) -> str:
    """The `data:` URI of the SVG drawing of `tex` (TeX without delimiters). Raises MathError."""
    check(tex)
    svg = _svg(tex)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("ascii")).decode("ascii")


@lru_cache(maxsize=1024)  # ~5 kB per entry: bounded at a few MB
def _replacement(escaped: str) -> str:
    text = _html.unescape(escaped)
    tex, display = split_delimiters(text)
    try:
        uri = formula_image(tex)
    except MathError as exc:
        return (f'<span class="math math-error" title="{_html.escape(str(exc))}">'
                f"{_html.escape(text, quote=False)}</span>")
    css = "math math-display" if display else "math"
    return f'<img class="{css}" alt="{_html.escape(tex)}" src="{uri}">'


def render_math(fragment) -> Markup:
    """Sanitised HTML with every `<span class="math">TeX</span>` drawn as an SVG image.
    The input must already be sanitised (stored content or `richtext.sanitise` output): it is
    trusted as HTML, as `|safe` trusted it before."""
    if not fragment:
        return Markup("")
    text = str(fragment)
    # Trusted on purpose: the input is sanitised content, and every replacement is built here
    # from escaped parts.
    if 'class="math"' not in text:
        return Markup(text)  # noqa: S704
    seen = 0

    def replace(match: re.Match) -> str:
        nonlocal seen
        seen += 1
        if seen > MAX_FORMULAS:
            return f'<span class="math math-error" title="公式过多">{match.group(1)}</span>'
        return _replacement(match.group(1))

    return Markup(_SPAN.sub(replace, text))  # noqa: S704
