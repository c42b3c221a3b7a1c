"""A large roster import's confirm step runs as a job: the preview still shows every error in the
request; the confirmed import is checked again and written by the worker with its progress, all
or nothing (a file that fails then leaves no candidate, roster entry or event of its own), and
only the batch's managers see the job."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from examsys import clock, transaction
from examsys.audit.actions import AuditAction
from examsys.audit.models import AuditEvent
from examsys.delivery import import_jobs
from examsys.jobs import queue
from examsys.jobs import services as jobs
from examsys.jobs.models import Job, JobState
from examsys.permissions import Role
from tests import factories
from tests.delivery.test_batches import batch_world, roster_xlsx
from tests.factories import valid_id_number
from tests.jobs.pdfs import job_id_of


@pytest.fixture
def w(make, db, monkeypatch):
    monkeypatch.setattr(import_jobs, "LARGE_ROWS", 2)  # three rows count as a large file here
    w = batch_world(make, db, candidates=0)
    db.session.commit()
    yield w
    clock.freeze(None)


def login(client, user):
    client.post("/logout")
    client.post("/login", data={"username": user.username, "password": factories.PASSWORD})


def token_of(html: str) -> str:
    tag = re.search(r'<input[^>]*name="token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def _events(db, action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action.value)))


def test_a_large_roster_is_previewed_in_the_request_and_imported_by_a_job(w, client, db, make, monkeypatch):
    seen: list[tuple[int, str]] = []
    put = queue.put_progress
    monkeypatch.setattr(jobs, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(queue, "put_progress", lambda j, p, s: (seen.append((p, s)), put(j, p, s)))
    login(client, w.admin)
    url = f"/delivery/batches/{w.batch.id}/roster"
    rows = [("张一", valid_id_number(9601)), ("李二", valid_id_number(9602)), ("王三", valid_id_number(9603))]
    preview = client.post(url, data={"file": (io.BytesIO(roster_xlsx(rows)), "名单.xlsx")},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert "预检结果" in preview and "在后台导入" in preview
    db.session.expire_all()
    assert w.batch.roster == [] and db.session.scalar(select(func.count()).select_from(Job)) == 0
    token = token_of(preview)
    job_id = job_id_of(client.post(url, data={"token": token, "confirm": "1"}))
    job = db.session.get(Job, job_id)
    assert job.kind == import_jobs.KIND and job.state == JobState.DONE and job.progress == 100
    assert job.params["imported"] == 3
    db.session.expire_all()
    assert sorted(e.candidate.name for e in w.batch.roster) == ["张一", "李二", "王三"]
    imported = _events(db, AuditAction.BATCH_ROSTER_IMPORTED)
    assert [(e.actor_user_id, e.data["candidates"]) for e in imported] == [(w.admin.id, 3)]
    assert {e.actor_user_id for e in _events(db, AuditAction.CANDIDATE_CREATED)} == {w.admin.id}
    assert any(s.startswith("正在登记考生") for _, s in seen)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "考生名单导入" in page and f"/jobs/{job_id}/result" in page
    table = list(csv.reader(io.StringIO(client.get(f"/jobs/{job_id}/result").get_data().decode("utf-8-sig"))))
    assert table[0][:2] == ["准考证号", "姓名"] and sorted(r[1] for r in table[1:]) == ["张一", "李二", "王三"]
    assert all(r[0] == e for r, e in zip(sorted(table[1:]), sorted(e.ticket_no for e in w.batch.roster), strict=True))
    assert not list(import_jobs.staging_dir().glob(f"*{token}*"))  # the staged upload is gone
    login(client, make.user(roles=Role.EXAM_ADMIN))  # another organisation
    assert client.get(f"/jobs/{job_id}").status_code == 404


def test_a_roster_that_fails_in_the_worker_writes_nothing_and_says_where(w, app, db):
    staged = f"roster-{w.admin.id}-{'x' * 24}"
    base = import_jobs.staging_dir() / staged
    base.with_suffix(".xlsx").write_bytes(roster_xlsx([("张一", valid_id_number(9701)), ("坏", "123"),
                                                        ("王三", valid_id_number(9703))]))
    job = import_jobs.request_import(w.admin, w.batch, staged, "名单.xlsx", None, 3)
    transaction.commit()
    db.session.refresh(job)
    assert job.state == JobState.FAILED
    assert "名单有 1 处错误，未导入任何考生" in job.error and "名单.xlsx:3" in job.error and "身份证" in job.error
    db.session.expire_all()
    assert w.batch.roster == []
    assert _events(db, AuditAction.BATCH_ROSTER_IMPORTED) == [] and _events(db, AuditAction.CANDIDATE_CREATED) == []
    assert [e.data["kind"] for e in _events(db, AuditAction.JOB_FAILED)] == [import_jobs.KIND]
    assert not base.with_suffix(".xlsx").exists()


def test_a_small_roster_is_still_imported_in_the_request(w, client, db, monkeypatch):
    monkeypatch.setattr(import_jobs, "LARGE_ROWS", 500)
    login(client, w.admin)
    url = f"/delivery/batches/{w.batch.id}/roster"
    preview = client.post(url, data={"file": (io.BytesIO(roster_xlsx([("赵四", valid_id_number(9801))])), "名单.xlsx")},
                          content_type="multipart/form-data").get_data(as_text=True)
    token = token_of(preview)
    resp = client.post(url, data={"token": token, "confirm": "1"})
    assert resp.status_code == 302 and "/jobs/" not in resp.headers["Location"]
    db.session.expire_all()
    assert [e.candidate.name for e in w.batch.roster] == ["赵四"]
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
