"""Item HTML for candidates: formulas rendered, bank images inlined (no staff-only URLs left)."""

import io

from PIL import Image

from examsys.bank import assets
from examsys.bank.media import for_candidate
from examsys.bank.richtext import sanitise


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def test_images_and_formulas_become_data_uris(bank, db):
    asset = assets.store_image(bank.writer, bank.org, "circuit.png", _png())
    html = sanitise(f'<p>如图所示 <img src="/assets/{asset.sha256}" alt=""> 功率 \\(P=UI\\)</p>')
    out = for_candidate(html)
    assert "/assets/" not in out
    assert 'src="data:image/png;base64,' in out
    assert "data:image/svg+xml;base64," in out


def test_missing_asset_is_dropped_not_leaked(bank, db):
    out = for_candidate(sanitise(f'<p><img src="/assets/{"0" * 64}" alt=""></p>'))
    assert "/assets/" not in out and 'src=""' in out
