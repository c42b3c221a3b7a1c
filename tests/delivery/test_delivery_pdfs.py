"""The batch's PDFs read back with pdftotext: admission tickets (准考证) with names, masked ID
numbers and photos, never a full ID number; the filing pack; the room's exam record."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile

import pytest
from PIL import Image

from examsys import clock
from examsys.delivery.batches import rosters
from examsys.delivery.batches import services as svc
from examsys.reports import delivery as reports
from tests.delivery.test_batches import batch_world, roster_xlsx
from tests.factories import valid_id_number

pdftotext = shutil.which("pdftotext")
pytestmark = pytest.mark.skipif(pdftotext is None, reason="poppler-utils (pdftotext) not installed")


def text_of(pdf: bytes) -> str:
    out = subprocess.run([pdftotext, "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"[ \t]+", " ", out.stdout.decode("utf-8"))


@pytest.fixture
def w(make, db):
    w = batch_world(make, db, candidates=0)
    w.ids = [valid_id_number(9100 + i) for i in range(3)]
    photo = io.BytesIO()
    Image.new("RGB", (90, 120), (90, 120, 200)).save(photo, "PNG")
    photos = io.BytesIO()
    with zipfile.ZipFile(photos, "w") as z:
        z.writestr(f"{w.ids[0]}.png", photo.getvalue())
    result = rosters.import_roster(w.admin, w.batch, "r.xlsx",
                                   roster_xlsx([("张晓明", w.ids[0]), ("李红", w.ids[1]), ("王刚", w.ids[2])]),
                                   "p.zip", photos.getvalue())
    assert result.ok
    yield w
    clock.freeze(None)


def test_admission_tickets(w, app):
    with app.test_request_context():
        pdf = reports.tickets_pdf(w.batch)
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    flat = re.sub(r"\s+", "", text)
    assert flat.count("准考证") >= 3 and "考场规则" in flat
    for name, number, entry in zip(("张晓明", "李红", "王刚"), w.ids, sorted(w.batch.roster, key=lambda e: e.id),
                                   strict=True):
        assert name in flat and number[:6] + "********" + number[-4:] in flat
        assert number not in flat and entry.ticket_no in flat
    assert "第1考场" in flat and "2026-11-2510:00～13:00（北京时间）" in flat
    assert len([p for p in text.split("\f") if p.strip()]) == 2  # two tickets per page


def test_filing_pack_and_room_record(w, app):
    svc.file_batch(w.admin, w.batch)
    with app.test_request_context():
        pack = text_of(reports.filing_pack_pdf(w.batch))
        record = text_of(reports.room_record_pdf(w.batch, w.batch.rooms[0]))
    flat = re.sub(r"\s+", "", pack)
    for heading in ("职业技能等级认定计划申报表", "考务实施方案", "考场与考务人员安排", "考生名单"):
        assert heading in flat
    assert w.supervisor.display_name in flat and w.proctors[0].display_name in flat and "考评员证" in flat
    assert all(n not in flat for n in w.ids) and w.ids[1][:6] + "********" in flat
    flat = re.sub(r"\s+", "", record)
    assert "考场记录" in flat and "应考人数" in flat and "违纪人数" in flat and "考评员签字" in flat
    assert "本考场无异常情况" in flat
