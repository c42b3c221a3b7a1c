"""Formulas drawn as SVG data-URI images: stable output, escaped fallback for bad TeX, no script,
limits on length and nesting, and fast enough to draw a page of formulas cold."""

from __future__ import annotations

import base64
import contextlib
import re
import time
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest

from examsys.bank import mathrender
from examsys.bank.mathrender import MAX_TEX, MathError, formula_image, render_math
from examsys.bank.richtext import sanitise

SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_of(html: str) -> ElementTree.Element:
    uri = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', html).group(1)
    return ElementTree.fromstring(base64.b64decode(uri))


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def test_a_formula_becomes_an_svg_data_uri_image():
    html = str(render_math(sanitise(r"三相功率 \(P=\sqrt{3}UI\cos\varphi\) 。")))
    assert html.startswith("三相功率 <img ") and html.endswith(" 。")
    assert 'class="math"' in html and r'alt="P=\sqrt{3}UI\cos\varphi"' in html
    assert "<span" not in html
    svg = svg_of(html)
    assert svg.tag == SVG_NS + "svg" and svg.get("width").endswith("pt")
    # Outlines only: one filled path, no text (so no font is needed where it is shown).
    assert [child.tag for child in svg] == [SVG_NS + "path"]
    assert len(svg[0].get("d")) > 200


def test_each_delimiter_and_display_math():
    for source in (r"\(x^2\)", r"$x^2$", r"$$x^2$$", r"\[x^2\]"):
        html = str(render_math(sanitise(source)))
        assert 'alt="x^2"' in html, source
    assert 'class="math math-display"' in str(render_math(sanitise(r"\[I=\frac{U}{R}\]")))


def test_the_same_formula_gives_the_same_output():
    text = sanitise(r"<p>\(I=\frac{U}{R}\)</p>")
    first = str(render_math(text))
    formula_image.cache_clear()
    mathrender._replacement.cache_clear()
    assert str(render_math(text)) == first
    assert str(render_math(text)) == first


@pytest.mark.parametrize("tex", [r"\(\unknowncommand x\)", r"\(a^b^c\)", r"\(\frac{1}{\)",
                                 r"\(\text{电压}=U\)", r"\(x}{\)"])
def test_bad_tex_stays_escaped_text_marked_as_error(tex):
    html = str(render_math(sanitise(tex)))
    assert "<img" not in html
    assert 'class="math math-error"' in html
    assert html.count("<span") == 1 and html.endswith("</span>")


def test_no_script_ever():
    hostile = [r'\(\frac{<script>alert(1)</script>}{2}\)', r'\(x" onerror="alert(1)\)',
               r"\(\text{</span><script>alert(1)</script>}\)", r"\(x\) <img src=x onerror=alert(1)>",
               r"$\def\x{1}\x$", r"\(\input{/etc/passwd}\)", r"\(-->\)"]
    for source in hostile:
        html = str(render_math(sanitise(source)))
        tags = tags_of(html)
        assert {tag for tag, _ in tags} <= {"img", "span"}, source
        assert not [a for _, attrs in tags for a in attrs if a.startswith("on")], source
        assert all(attrs["src"].startswith(("data:image/svg+xml;base64,", "/assets/"))
                   for tag, attrs in tags if tag == "img"), source
        for uri in re.findall(r"base64,([^\"]+)", html):
            svg = base64.b64decode(uri).decode()
            assert "<script" not in svg and "<!--" not in svg and "href" not in svg
    # The alt text of a drawn formula is escaped.
    html = str(render_math(sanitise(r"\(x &lt; y &amp; z\)")))
    assert 'alt="x &lt; y &amp; z"' in html


def test_length_and_nesting_are_capped():
    long = "x+" * (MAX_TEX // 2) + "y"
    html = str(render_math(sanitise(rf"\({long}\)")))
    assert "math-error" in html and "<img" not in html
    with pytest.raises(MathError):
        formula_image(long)
    nested = r"\frac{1}{" * 12 + "x" + "}" * 12
    with pytest.raises(MathError):
        formula_image(nested)
    assert formula_image(r"\frac{1}{\frac{1}{\frac{1}{x}}}").startswith("data:image/svg+xml;base64,")


def test_too_many_formulas_in_one_fragment_leave_the_rest_as_source():
    text = sanitise(" ".join(rf"\(x_{{{i}}}\)" for i in range(mathrender.MAX_FORMULAS + 3)))
    html = str(render_math(text))
    assert html.count("<img") == mathrender.MAX_FORMULAS and html.count("math-error") == 3


def test_content_without_formulas_is_unchanged():
    text = sanitise("<p>不含公式的<strong>题干</strong></p>")
    assert str(render_math(text)) == text
    assert str(render_math(None)) == "" and str(render_math("")) == ""


def test_a_hundred_typical_formulas_render():
    formula_image("x")
    templates = [r"P_{%d}=\sqrt{3}U_{L}I_{L}\cos\varphi", r"I_{%d}=\frac{U}{R_{1}+R_{2}}",
                 r"X_{L}=2\pi fL+%d", r"S=\sqrt{P^{2}+Q^{%d}}", r"\eta=\frac{P_{2}}{P_{1}}\times %d\%%"]
    formulas = [templates[i % len(templates)] % i for i in range(100)]
    formula_image.cache_clear()
    images = [formula_image(tex) for tex in formulas]
    assert len(set(images)) == len(formulas)  # every formula its own picture


def test_pathological_input_is_refused_quickly():
    formula_image("x")
    worst = [r"\frac{" * 40 + "}" * 40, "{" * 150 + "}" * 150, r"\sqrt{" * 7 + "x" + "}" * 7,
             "x^{y_{" * 4 + "z" + "}}" * 4, r"\left(" * 60]
    for tex in worst:
        start = time.perf_counter()
        with contextlib.suppress(MathError):
            formula_image(tex)
        assert time.perf_counter() - start < 2.0, tex  # refused, not chewed on (a hang guard)
