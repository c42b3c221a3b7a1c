"""Pages are served with a style policy that blocks inline styles (examsys.web.CSP: style-src
'self'), so an inline `style=` attribute in a page template is a console error and a broken layout
(issue 14, point 4). PDF templates (templates/reports) are rendered by WeasyPrint, not served."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INLINE_STYLE = re.compile(r"""<[^>]*\sstyle\s*=""", re.I)
INLINE_SCRIPT = re.compile(r"""<[^>]*\son[a-z]+\s*=|<script(?![^>]*\ssrc=)(?![^>]*type="application/json")""", re.I)


def _pages():
    return [p for p in (ROOT / "templates").rglob("*.html") if "reports" not in p.relative_to(ROOT).parts]


def test_no_inline_styles_or_scripts_in_page_templates():
    found = [f"{p.relative_to(ROOT)}:{n}" for p in _pages()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if INLINE_STYLE.search(line) or INLINE_SCRIPT.search(line)]
    assert found == []
