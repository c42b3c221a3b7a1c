"""Item HTML made self-contained for candidates: formulas drawn as SVG and the bank's images
inlined as data: URIs.

Candidates authenticate with a Bearer token that an <img> request cannot carry, and the bank's
/assets route is for staff; so the paper a candidate receives embeds its images. They were
re-encoded and size-limited on upload, and an attempt's paper is fetched once."""

from __future__ import annotations

import base64
import re
from functools import lru_cache

from examsys.bank import assets
from examsys.bank.mathrender import render_math
from examsys.bank.models import Asset
from examsys.extensions import db

_ASSET_SRC = re.compile(r'src="/assets/([0-9a-f]{64})"')


@lru_cache(maxsize=256)
def _data_uri(sha256: str) -> str | None:
    row = db.session.get(Asset, sha256)
    if row is None:
        return None
    path = assets.asset_path(sha256, dict(assets.FORMATS.values())[row.mime])
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return f"data:{row.mime};base64,{base64.b64encode(data).decode()}"


def for_candidate(html: str | None) -> str:
    """The fragment with formulas rendered and /assets images inlined (missing ones dropped)."""
    if not html:
        return ""
    rendered = str(render_math(html))

    def inline(match: re.Match) -> str:
        uri = _data_uri(match.group(1))
        return f'src="{uri}"' if uri else 'src=""'

    return _ASSET_SRC.sub(inline, rendered)
