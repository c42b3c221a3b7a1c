"""Formulas and uploaded images in a printed paper: formulas arrive in the PDF as the same SVG
images the screen shows (never as TeX source), uploaded images as raster images, and the PDF's
URL fetcher loads both without reaching outside the system."""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from examsys.assembly import services
from examsys.assembly.queries import form_view
from examsys.bank import assets
from examsys.bank.mathrender import render_math
from examsys.bank.richtext import sanitise
from examsys.permissions import Role
from examsys.reports import papers as reports
from examsys.reports import pdf as pdf_module
from tests.assembly.app_factories import blueprint_data, content_for, make_item, make_standard

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfimages") is None,
                                   reason="poppler-utils not installed")
FORMULA = r"\(P=\sqrt{3}UI\cos\varphi\)"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 30), (20, 120, 60)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def paper_with_formulas(db, make):
    org = make.org()
    admin = make.user(roles=Role.EXAM_ADMIN, org=org)
    standard = make_standard()
    asset = assets.store_image(admin, org, "电路图.png", _png())
    # The same bank as make_bank() (judge 4, single 6, multi 2 per point), with formulas.
    for ap in standard.points:
        for qtype, n in (("judge", 4), ("single", 6), ("multi", 2)):
            for i in range(n):
                content = content_for(qtype, i)
                if qtype == "judge":
                    content["stem"] = sanitise(f'<p>判断公式 {FORMULA} 与电路图 <img src="/assets/{asset.sha256}"></p>')
                else:
                    content["stem"] = sanitise(rf"<p>电阻串联 \(R=R_{{1}}+R_{{{i}}}\) 的总电阻（  ）。</p>")
                    content["options"] = [dict(o, text=sanitise(rf"\(I_{{{o['label']}}}=\frac{{U}}{{R_{i}}}\)"))
                                          for o in content["options"]]
                make_item(org, standard, admin, ap.code, qtype, difficulty=1 + i % 5, content=content)
    pb = services.save_blueprint(admin, org, standard, blueprint_data(standard))
    paper = services.assemble(admin, pb, seed=3)
    db.session.commit()
    return paper, standard


@needs_poppler
def test_formulas_print_as_images(paper_with_formulas, app, monkeypatch, caplog):
    paper, standard = paper_with_formulas
    fetched: list[str] = []
    original = pdf_module._resource

    def recording(url):
        result = original(url)
        fetched.append(result[1])
        return result

    monkeypatch.setattr(pdf_module, "_resource", recording)
    caplog.set_level(logging.WARNING, logger="weasyprint")
    with app.test_request_context():
        pdf = reports.paper_pdf(paper, form_view(paper, paper.forms[0]), standard)
    assert pdf.startswith(b"%PDF")
    if os.environ.get("EXAMSYS_SCREENSHOTS"):  # keep the PDF to look at
        Path(os.environ["EXAMSYS_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        (Path(os.environ["EXAMSYS_SCREENSHOTS"]) / "paper-math.pdf").write_bytes(pdf)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]

    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    assert "判断公式" in flat and "电阻串联" in flat and "的总电阻" in flat
    # The TeX source never reaches the page: the formula is drawn, not typeset as text.
    assert "sqrt" not in text and "frac" not in text and "varphi" not in text and "\\(" not in text
    # Every formula was loaded as an SVG image (vector outlines, so pdfimages does not list it),
    # and the uploaded picture as a raster image.
    assert fetched.count("image/svg+xml") >= 3 and "image/png" in fetched
    listing = subprocess.run(["pdfimages", "-list", "-"], input=pdf, capture_output=True, check=False)
    if listing.returncode != 0:  # older pdfimages cannot read stdin
        path = app.config["EXAMSYS_UPLOAD_DIR"] + "/paper-math.pdf"
        with open(path, "wb") as fh:
            fh.write(pdf)
        listing = subprocess.run(["pdfimages", "-list", path], capture_output=True, check=True)
    rows = [line.split() for line in listing.stdout.decode().splitlines()[2:] if line.strip()]
    assert any(row[3:5] == ["60", "30"] for row in rows), listing.stdout.decode()


def test_the_pdf_fetcher_decodes_data_uris_and_refuses_the_network(app):
    uri = re.search(r'src="([^"]+)"', str(render_math(sanitise(FORMULA)))).group(1)
    with app.app_context():
        data, mime = pdf_module._resource(uri)
        assert mime == "image/svg+xml" and data.startswith(b"<svg ")
        assert pdf_module._resource("data:text/plain,a%20b") == (b"a b", "text/plain")
        for url in ("https://example.com/x.png", "file:///etc/passwd", "/assets/../../etc/passwd"):
            with pytest.raises(ValueError):
                pdf_module._resource(url)
