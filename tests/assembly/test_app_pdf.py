"""PDFs of a paper: the paper per form, its answer key and the compliance report render with the
form label and the expected text (read back with pdftotext), and download as no-store PDFs."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from examsys.assembly import services
from examsys.assembly.queries import form_view
from examsys.permissions import Role
from examsys.reports import papers as reports
from tests.assembly.app_factories import blueprint_data, make_bank, make_standard
from tests.jobs.pdfs import pdf_via_job

pdftotext = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(pdftotext is None, reason="poppler-utils (pdftotext) not installed")


def text_of(pdf: bytes) -> str:
    out = subprocess.run([pdftotext, "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


@pytest.fixture
def paper(db, make):
    org = make.org()
    admin = make.user(roles=Role.EXAM_ADMIN, org=org)
    standard = make_standard()
    make_bank(org, standard, admin)
    pb = services.save_blueprint(admin, org, standard, blueprint_data(standard, partial_credit=True))
    paper = services.assemble(admin, pb, seed=9)
    db.session.commit()
    return paper


@needs_pdftotext
def test_pdfs_render_with_the_expected_text(paper, app, db):
    from examsys.standards.models import Standard

    standard = db.session.get(Standard, paper.standard_id)
    with app.test_request_context():
        pdf = reports.paper_pdf(paper, form_view(paper, paper.forms[1]), standard)
        key = reports.answer_key_pdf(paper, form_view(paper, paper.forms[0]), standard)
        compliance = reports.compliance_pdf(paper, standard, None)
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    pages = text.split("\f")
    flat = re.sub(r"\s+", "", text)  # letter-spaced headings and wrapped lines read back whole
    assert "职业技能等级认定理论知识考试试卷" in flat and "电工" in flat and "四级/中级工" in flat
    assert "注意事项" in flat and "统分人" in flat and "考试时间：90分钟" in flat
    assert "一、判断题（第1题～第4题。将判断结果填入括号中。" in flat
    assert "二、单项选择题（第5题～第10题。" in flat
    assert "少选按所选正确选项比例得分" in flat
    non_empty = [p for p in pages if p.strip()]
    assert len(non_empty) >= 2
    assert all("B卷" in p for p in non_empty)  # the form label on every page
    assert all(f"共{len(non_empty)}页" in re.sub(r"\s+", "", p) for p in non_empty)

    assert key.startswith(b"%PDF")
    key_text = text_of(key)
    assert "参考答案" in key_text and "A卷" in key_text

    assert compliance.startswith(b"%PDF")
    ctext = text_of(compliance)
    assert "组卷合规报告" in ctext and "鉴定范围 B-01" in ctext and "✓" in ctext


@needs_pdftotext
def test_pdf_downloads_are_no_store_and_tenancy_bound(client, login_as, make, db):
    org = make.org()
    admin = login_as(Role.EXAM_ADMIN, org=org)
    standard = make_standard()
    make_bank(org, standard, admin)
    pb = services.save_blueprint(admin, org, standard, blueprint_data(standard))
    paper = services.assemble(admin, pb, seed=4)
    db.session.commit()
    for path in ("forms/A/paper.pdf", "forms/B/key.pdf", "compliance.pdf"):
        resp = pdf_via_job(client, f"/assembly/papers/{paper.id}/{path}")
        assert resp.status_code == 200, path
        assert resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
        assert resp.headers["Cache-Control"] == "no-store"
    assert "A卷" in text_of(pdf_via_job(client, f"/assembly/papers/{paper.id}/forms/A/paper.pdf").data)
    assert client.post(f"/assembly/papers/{paper.id}/forms/C/paper.pdf").status_code == 404


def _row(options, key, position=3):
    from types import SimpleNamespace

    return SimpleNamespace(version=SimpleNamespace(content={"options": options, "key": key}),
                           form_item=SimpleNamespace(position=position))


def test_printed_options_follow_a_recorded_order_and_the_key_follows_them():
    from types import SimpleNamespace

    paper = SimpleNamespace(seed=42)
    options = [{"label": x, "text": f"选项{x}"} for x in "ABCDE"]
    orders = set()
    for position in range(1, 30):
        printed, key = reports.printed_options(paper, "A", _row(options, ["A", "C"], position))
        assert [o["label"] for o in printed] == list("ABCDE")
        assert sorted(o["text"] for o in printed if o["label"] in key) == ["选项A", "选项C"]
        assert reports.printed_options(paper, "A", _row(options, ["A", "C"], position)) == (printed, key)
        orders.add(tuple(o["text"] for o in printed))
    assert len(orders) > 10  # not always the bank's order
    fixed = options[:3] + [{"label": "D", "text": "以上都对"}]
    printed, key = reports.printed_options(paper, "B", _row(fixed, "D"))
    assert [o["text"] for o in printed] == [o["text"] for o in fixed] and key == "D"
