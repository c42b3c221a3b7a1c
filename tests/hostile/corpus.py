"""The XSS corpus: a few hundred hostile strings, generated here (nothing is downloaded), each
carrying a unique marker so that anything that runs or turns into a live attribute can be traced
back to the one payload that did it.

The families follow the classic catalogues: the OWASP "XSS Filter Evasion Cheat Sheet" (script and
event-handler tags, `javascript:` URLs with entity/tab/newline obfuscation, case and separator
tricks, malformed tags), the OWASP "XSS Prevention Cheat Sheet" contexts (HTML body, quoted and
unquoted attributes, JavaScript strings, URLs, CSS), PortSwigger's XSS cheat sheet (auto-firing
events: onload, onerror, onfocus+autofocus, ontoggle, onbegin, onanimationstart), mutation XSS
(Heiderich et al., "mXSS Attacks": noscript/style/svg/math namespace confusion that a sanitiser's
parse and the browser's re-parse disagree on) and server-side template injection probes
(`{{7*7}}`, `{{config}}`, `${7*7}`). Every family is crossed with context breakouts (`">`, `'>`,
`</textarea>`, `</title>`, `</script>`, `-->`) and with Chinese text around it, because the real
fields hold Chinese.

Every payload's script is `alert('<marker>')` (or a variant that evaluates to it), the marker being
`xss<NNNN>z`. A test's oracle: no dialog or hooked call with a marker, no element whose event
handler, URL or script body contains a marker, and no `xss<NNNN>z49` (a template that computed
7*7) in the page text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

MARKER_RE = re.compile(r"xss\d{4}z")
TEMPLATE_HIT_RE = re.compile(r"xss\d{4}z49")


@dataclass(frozen=True)
class Payload:
    marker: str
    family: str
    text: str


# (family, template); {M} is the marker, {J} the JavaScript that reports it.
_BASES: list[tuple[str, str]] = [
    # <script> in its many spellings
    ("script", "<script>{J}</script>"),
    ("script", "<ScRiPt>{J}</sCrIpT>"),
    ("script", "<script/x>{J}</script>"),
    ("script", "<script src=data:,{J}></script>"),
    ("script", "<script>/*{M}*/{J}//</script>"),
    ("script", "<<script>{J}//<</script>"),
    ("script", "<scr<script>ipt>{J}</scr</script>ipt>"),
    # auto-firing event handlers
    ("event", "<img src=x onerror={J}>"),
    ("event", "<img src=x onerror=\"{J}\">"),
    ("event", "<IMG SRC=x OnErRoR='{J}'>"),
    ("event", "<img/src=x/onerror={J}>"),
    ("event", "<img src=x onerror=`{J}`>"),
    ("event", "<img src onerror\n=\n{J}>"),
    ("event", "<svg onload={J}>"),
    ("event", "<svg/onload={J}>"),
    ("event", "<body onload={J}>"),
    ("event", "<input autofocus onfocus={J}>"),
    ("event", "<select autofocus onfocus={J}></select>"),
    ("event", "<textarea autofocus onfocus={J}></textarea>"),
    ("event", "<details open ontoggle={J}>"),
    ("event", "<video><source onerror={J}></video>"),
    ("event", "<audio src=x onerror={J}>"),
    ("event", "<iframe onload={J}></iframe>"),
    ("event", "<marquee onstart={J}>{M}</marquee>"),
    ("event", "<div style=\"animation-name:spin\" onanimationstart={J}></div>"),
    ("event", "<p onmouseover={J} style=\"position:fixed;inset:0\">{M}</p>"),
    ("event", "<object data=x onerror={J}></object>"),
    ("event", "<link rel=stylesheet href=x onerror={J}>"),
    ("event", "<image src=x onerror={J}>"),
    # javascript: and other dangerous URLs
    ("url", "<a href=\"javascript:{J}\">{M}点击</a>"),
    ("url", "<a href=\"JaVaScRiPt:{J}\">{M}</a>"),
    ("url", "<a href=\"&#106;avascript:{J}\">{M}</a>"),
    ("url", "<a href=\"jav&#x09;ascript:{J}\">{M}</a>"),
    ("url", "<a href=\"jav&#x0A;ascript:{J}\">{M}</a>"),
    ("url", "<a href=\" &#14; javascript:{J}\">{M}</a>"),
    ("url", "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112"
            "&#0000116&#0000058{J}\">{M}</a>"),
    ("url", "<iframe src=\"javascript:{J}\"></iframe>"),
    ("url", "<iframe srcdoc=\"&lt;script&gt;parent.{J}&lt;/script&gt;\"></iframe>"),
    ("url", "<embed src=\"javascript:{J}\">"),
    ("url", "<object data=\"data:text/html,<script>{J}</script>\"></object>"),
    ("url", "<form action=\"javascript:{J}\"><button>{M}</button></form>"),
    ("url", "<button formaction=\"javascript:{J}\">{M}</button>"),
    ("url", "<math><a xlink:href=\"javascript:{J}\">{M}</a></math>"),
    ("url", "<base href=\"javascript:{J}//\">"),
    ("url", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:{J}\">"),
    ("url", "<img src=\"data:image/svg+xml,<svg onload={J}>\">"),
    ("url", "[{M}](javascript:{J})"),
    # SVG
    ("svg", "<svg><script>{J}</script></svg>"),
    ("svg", "<svg><a xlink:href=\"javascript:{J}\"><text x=20 y=20>{M}</text></a></svg>"),
    ("svg", "<svg><animate onbegin={J} attributeName=x dur=1s>"),
    ("svg", "<svg><set attributeName=onmouseover to={J}>"),
    ("svg", "<svg><foreignObject><img src=x onerror={J}></foreignObject></svg>"),
    ("svg", "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'>"
            "<image href='1' onerror='{J}'/></svg>#x\"/></svg>"),
    # CSS
    ("css", "<div style=\"background:url(javascript:{J})\">{M}</div>"),
    ("css", "<div style=\"width:expression({J})\">{M}</div>"),
    ("css", "<style>@import 'javascript:{J}';</style>"),
    ("css", "<style>*{{background:url(\"javascript:{J}\")}}</style>"),
    # mutation XSS: parser disagreements
    ("mxss", "<noscript><p title=\"</noscript><img src=x onerror={J}>\">"),
    ("mxss", "<svg><style><img src=x onerror={J}></style></svg>"),
    ("mxss", "<math><mtext><table><mglyph><style><img src=x onerror={J}></style></mglyph></table></mtext></math>"),
    ("mxss", "<form><math><mtext></form><form><mglyph><style></math><img src onerror={J}>"),
    ("mxss", "<svg></p><style><a id=\"</style><img src=1 onerror={J}>\">"),
    ("mxss", "<math><style><img src=x onerror={J}></style></math>"),
    ("mxss", "<table><td><xmp></td><img src=x onerror={J}></xmp></table>"),
    ("mxss", "<!--><img src=x onerror={J}>-->"),
    ("mxss", "<![CDATA[><img src=x onerror={J}>]]>"),
    ("mxss", "<a title=\"`\"><img src=x onerror={J}>`\">{M}</a>"),
    ("mxss", "<span class=\"math\">\\text{{</span><img src=x onerror={J}>}}</span>"),
    ("mxss", "<span class=\"math\">\" onerror=\"{J}</span>"),
    # encodings: what a double decoder would turn into markup
    ("encoding", "&lt;img src=x onerror={J}&gt;"),
    ("encoding", "&amp;lt;script&amp;gt;{J}&amp;lt;/script&amp;gt;"),
    ("encoding", "%3Cscript%3E{J}%3C/script%3E"),
    ("encoding", "\\u003cimg src=x onerror={J}\\u003e"),
    ("encoding", "\\x3cscript\\x3e{J}\\x3c/script\\x3e"),
    ("encoding", "＜script＞{J}＜/script＞"),
    ("encoding", "+ADw-script+AD4-{J}+ADw-/script+AD4-"),
    ("encoding", "<scr\u0000ipt>{J}</scr\u0000ipt>"),
    ("encoding", "<img src=x on\u200berror={J}>"),
    ("encoding", "\u202e<img src=x onerror={J}>"),
    # template injection (server and client side)
    ("template", "{M}{{{{7*7}}}}"),
    ("template", "{M}{{{{ config }}}}{{{{ config.SECRET_KEY }}}}"),
    ("template", "{M}{{% raw %}}{{{{7*7}}}}{{% endraw %}}"),
    ("template", "{M}${{7*7}}"),
    ("template", "{M}#{{7*7}}"),
    ("template", "{M}<%= 7*7 %>"),
    ("template", "{M}{{{{constructor.constructor('{J}')()}}}}"),
    ("template", "{M}{{{{ ''.__class__.__mro__[1].__subclasses__() }}}}"),
    ("template", "{M}%(x)s%s%n{{0}}"),
]

# Where the payload lands inside a page: break out of each context a field is shown in.
_BREAKOUTS: list[tuple[str, str]] = [
    ("", ""),
    ("\">", ""),
    ("'>", ""),
    ("</textarea>", ""),
    ("</title>", ""),
    ("</script>", ""),
    ("-->", ""),
    ("\" autofocus onfocus=\"{J}\" x=\"", ""),
    ("';{J};//", ""),
    ("\\\";{J};//", ""),
    ("</style>", ""),
    ("]]>", ""),
]

_CHINESE = ["", "考生张三", "电工四级：", "（含特殊字符）", "备注：现场秩序良好"]


def _js(marker: str, n: int) -> str:
    """Equivalent ways of calling alert with the marker, so filters keyed on `alert(` are tested."""
    forms = [f"alert('{marker}')", f"alert(\"{marker}\")", f"alert(/{marker}/.source)",
             f"window['al'+'ert']('{marker}')", f"top.alert('{marker}')", f"(alert)('{marker}')",
             f"self[`alert`](`{marker}`)", f"confirm('{marker}')"]
    return forms[n % len(forms)]


def generate() -> list[Payload]:
    """The full corpus, in a fixed order (same markers on every run)."""
    out: list[Payload] = []
    seen: set[str] = set()

    def add(family: str, template: str, prefix: str = "", chinese: str = "") -> None:
        n = len(out)
        marker = f"xss{n:04d}z"
        js = _js(marker, n)
        body = prefix.replace("{J}", js) + template.format(M=marker, J=js)
        text = f"{chinese}{marker}{body}" if chinese else f"{marker}{body}"
        if text in seen:
            return
        seen.add(text)
        out.append(Payload(marker, family, text))

    # Every base on its own, with Chinese around it in turn.
    for i, (family, template) in enumerate(_BASES):
        add(family, template, chinese=_CHINESE[i % len(_CHINESE)])
    # Every breakout with every family's first few members.
    by_family: dict[str, list[str]] = {}
    for family, template in _BASES:
        by_family.setdefault(family, []).append(template)
    for b, (prefix, _) in enumerate(_BREAKOUTS[1:], 1):
        for family, templates in by_family.items():
            for k in range(3):
                t = templates[(b + k) % len(templates)]
                add(f"breakout+{family}", t, prefix=prefix, chinese=_CHINESE[(b + k) % len(_CHINESE)])
    return out


def reduced(n: int = 40) -> list[Payload]:
    """A CI-sized sample: every family present, spread across the corpus."""
    corpus = generate()
    families: dict[str, list[Payload]] = {}
    for p in corpus:
        families.setdefault(p.family, []).append(p)
    picked: dict[str, Payload] = {}
    rounds = 0
    while len(picked) < n and rounds < 50:
        for members in families.values():
            if len(picked) < n:
                p = members[(rounds * 7) % len(members)]
                picked[p.marker] = p
        rounds += 1
    return sorted(picked.values(), key=lambda p: p.marker)


def selected() -> list[Payload]:
    """The full corpus with EXAMSYS_HOSTILE_FULL=1, else the reduced one."""
    return generate() if os.environ.get("EXAMSYS_HOSTILE_FULL") == "1" else reduced()
