"""A large question file's confirm step runs as a job: the preview still shows every error in the
request; the confirmed import is parsed and checked again and written by the worker with its
progress; its result lists what was imported and from which row; a file that fails then writes no
item and no import event; only its requester and reviewers of the same organisation see it."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from examsys import transaction
from examsys.audit.models import AuditEvent
from examsys.bank import import_jobs
from examsys.bank.models import Item, ItemStatus
from examsys.interchange.xlsx_template import template_xlsx
from examsys.jobs import queue
from examsys.jobs import services as jobs
from examsys.jobs.models import Job, JobState
from examsys.permissions import Role
from tests.factories import PASSWORD
from tests.jobs.pdfs import job_id_of


@pytest.fixture
def large(monkeypatch):
    monkeypatch.setattr(import_jobs, "LARGE_ITEMS", 2)  # the template's 8 questions count as large here


def _login(client, user):
    client.post("/logout")
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


def _token(html: str) -> str:
    tag = re.search(r'<input[^>]*name="token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def _items(db, bank) -> int:
    return db.session.scalar(select(func.count()).select_from(Item).where(Item.organisation_id == bank.org.id))


def _imports(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "standard.items_imported"))


def test_a_large_file_is_previewed_in_the_request_and_imported_by_a_job(client, bank, db, make, large,
                                                                          monkeypatch):
    db.session.commit()
    seen: list[tuple[int, str]] = []
    put = queue.put_progress
    monkeypatch.setattr(jobs, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(queue, "put_progress", lambda j, p, s: (seen.append((p, s)), put(j, p, s)))
    _login(client, bank.writer)
    codes = [p.code for p in bank.points.values()][:2]
    preview = client.post("/bank/import", data={"standard_id": bank.standard.id, "preview": "1",
                                                "file": (io.BytesIO(template_xlsx(codes)), "题库.xlsx")},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert "可导入 8 道" in preview and "在后台进行" in preview
    assert _items(db, bank) == 0 and db.session.scalar(select(func.count()).select_from(Job)) == 0
    token = _token(preview)
    job_id = job_id_of(client.post("/bank/import", data={"standard_id": bank.standard.id, "token": token,
                                                         "confirm": "1"}))
    job = db.session.get(Job, job_id)
    assert job.kind == import_jobs.KIND and job.state == JobState.DONE and job.progress == 100, job.error
    assert job.params["imported"] == 8
    db.session.expire_all()
    assert _items(db, bank) == 8 and _imports(db) == 1
    assert set(db.session.scalars(select(Item.status).where(Item.organisation_id == bank.org.id))) == {
        ItemStatus.DRAFT}
    assert any(s.startswith("正在检查试题") for _, s in seen) and any(s.startswith("正在写入试题") for _, s in seen)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "试题导入" in page and f"/jobs/{job_id}/result" in page and "查看导入的试题" in page
    table = list(csv.reader(io.StringIO(client.get(f"/jobs/{job_id}/result").get_data().decode("utf-8-sig"))))
    assert table[0] == ["结果", "试题编号", "题型", "来源（文件:行）", "说明"]
    assert [r[0] for r in table[1:]] == ["已导入"] * 8
    assert sorted(r[3] for r in table[1:]) == sorted(f"题库.xlsx:{n}" for n in range(2, 10))
    assert "单项选择题" in {r[2] for r in table[1:]}
    assert not list(import_jobs.staging_dir().glob(f"*{token}*"))  # the staged upload is gone
    _login(client, bank.reviewer)  # a reviewer of the same organisation may follow it
    assert client.get(f"/jobs/{job_id}").status_code == 200
    _login(client, make.user(roles=Role.REVIEWER))  # another organisation's may not
    assert client.get(f"/jobs/{job_id}").status_code == 404


def test_a_file_that_fails_in_the_worker_writes_nothing_and_says_why(app, bank, db, large):
    db.session.commit()
    token = "t" * 24
    base = import_jobs.staged_base(bank.writer.id, token)
    base.with_suffix(".bin").write_bytes("题型,题干\n单选题,电流的单位\n".encode())
    base.with_suffix(".name").write_text("题库.xlsx")
    job = import_jobs.request_import(bank.writer, bank.standard, token, level=None, partial=False,
                                     approve=False, category_map={})
    transaction.commit()
    db.session.refresh(job)
    assert job.state == JobState.FAILED
    assert "未导入任何试题" in job.error and "题库.xlsx" in job.error and "Excel" in job.error
    assert _items(db, bank) == 0 and _imports(db) == 0
    assert not base.with_suffix(".bin").exists()


def test_a_small_file_is_still_imported_in_the_request(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    codes = [p.code for p in bank.points.values()][:2]
    preview = client.post("/bank/import", data={"standard_id": bank.standard.id, "preview": "1",
                                                "file": (io.BytesIO(template_xlsx(codes)), "题库.xlsx")},
                          content_type="multipart/form-data").get_data(as_text=True)
    resp = client.post("/bank/import", data={"standard_id": bank.standard.id, "token": _token(preview),
                                             "confirm": "1"})
    assert resp.status_code == 302 and "/jobs/" not in resp.headers["Location"]
    assert _items(db, bank) == 8 and db.session.scalar(select(func.count()).select_from(Job)) == 0
