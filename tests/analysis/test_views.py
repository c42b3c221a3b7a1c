"""The statistics pages: reachable from the batch and results pages, charts drawn as SVG, flags
sent to the bank, the reviewer's key confirmation and the second person's preview and apply."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from examsys.analysis.models import KeyFix, KeyFixStatus
from examsys.bank.models import FaultReport
from examsys.delivery.scoring import services as scoring
from examsys.permissions import Role
from tests import factories
from tests.analysis.world import WRONG_KEY, StatsWorld


@pytest.fixture
def world(make, db, frozen_clock):
    w = StatsWorld(make, db)
    scoring.compute_results(w.batch, w.admin)
    db.session.commit()
    return w


def login(client, user):
    client.post("/logout")
    resp = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert resp.status_code == 302


def compute(client, batch_id):
    """Ask for the statistics job (it runs right after the request commits, as tests configure)."""
    assert client.post(f"/analysis/batches/{batch_id}/compute").status_code == 302


def test_statistics_page_with_charts_and_flags(world, client):
    login(client, world.admin)
    assert f"/analysis/batches/{world.batch.id}" in client.get(f"/delivery/batches/{world.batch.id}").text
    assert f"/analysis/batches/{world.batch.id}" in client.get(f"/delivery/batches/{world.batch.id}/results").text
    before = client.get(f"/analysis/batches/{world.batch.id}")
    assert before.status_code == 200 and "<svg" not in before.text and "计算统计" in before.text
    compute(client, world.batch.id)
    page = client.get(f"/analysis/batches/{world.batch.id}")
    assert page.status_code == 200
    html = page.text
    assert "统计计算于" in html and "用时中位数" in html
    assert html.count("<svg") >= 1 + 8  # the histogram and one distractor chart per item
    assert "疑似答案错误" in html and "干扰项无人选" in html
    fi = world.form.items[WRONG_KEY]
    resp = client.post(f"/analysis/batches/{world.batch.id}/flags", data={"flag": [f"{fi.id}:likely_wrong_key"]})
    assert resp.status_code == 302
    assert world.db.session.scalar(select(FaultReport).where(FaultReport.item_id == world.items[WRONG_KEY].id))


def test_reviewer_confirms_and_second_person_applies(world, client, db):
    fi = world.form.items[WRONG_KEY]
    login(client, world.admin)
    compute(client, world.batch.id)
    login(client, world.reviewer)
    key_url = f"/analysis/batches/{world.batch.id}/items/{fi.id}/key"
    page = client.get(key_url)
    assert page.status_code == 200 and "<svg" in page.text and "高分组" in page.text
    assert client.post(key_url, data={"key": "B", "reason": "教材：正确答案为 B"}).status_code == 302
    fix = db.session.scalar(select(KeyFix))
    assert client.get(f"/analysis/key-fixes/{fix.id}").status_code == 403  # reviewers do not apply
    login(client, world.admin)
    preview = client.get(f"/analysis/key-fixes/{fix.id}")
    assert preview.status_code == 200
    assert "不合格 → 合格" in preview.text or "合格 → 不合格" in preview.text
    assert client.post(f"/analysis/key-fixes/{fix.id}/apply").status_code == 302
    db.session.refresh(fix)
    assert fix.status == KeyFixStatus.APPLIED and fix.affected > 0


def test_item_page_shows_pooled_statistics(world, client):
    login(client, world.reviewer)
    html = client.get(f"/bank/items/{world.items[3].id}").text
    assert "考试统计" in html and "80" in html and "核对答案" in html
    assert "Rasch 难度 b" in html and "需至少 200 名考生" in html  # 80 candidates: Rasch, not yet 2PL


def test_other_organisations_and_roles_are_refused(world, client, make, db):
    outsider = make.user(roles=Role.EXAM_ADMIN, org=make.org())
    proctor = make.user(roles=Role.PROCTOR, org=world.org)
    db.session.commit()
    login(client, outsider)
    assert client.get(f"/analysis/batches/{world.batch.id}").status_code == 404
    login(client, proctor)
    assert client.get(f"/analysis/batches/{world.batch.id}").status_code == 403


def test_statistics_pdf(world, client):
    login(client, world.admin)
    assert client.get(f"/analysis/batches/{world.batch.id}/statistics.pdf").status_code == 404  # not computed yet
    compute(client, world.batch.id)
    resp = client.get(f"/analysis/batches/{world.batch.id}/statistics.pdf", follow_redirects=True)
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert "attachment" in resp.headers["Content-Disposition"]
