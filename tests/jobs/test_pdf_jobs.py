"""The PDFs that web requests used to render now run as jobs: the button posts, the job's page
shows the progress and then the download, the download is a PDF with the right pages, and only
who may read the document on its own page sees the job (another organisation gets 404)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from examsys import clock
from examsys.assembly import services
from examsys.delivery import pdf_jobs
from examsys.jobs import queue
from examsys.jobs import services as jobs
from examsys.jobs.models import Job, JobState
from examsys.permissions import Role
from examsys.reports import delivery as delivery_pdf
from examsys.reports.pdf import write_in_parts
from tests import factories
from tests.assembly.app_factories import blueprint_data, make_bank, make_standard
from tests.delivery.test_batches import batch_world
from tests.jobs.pdfs import job_id_of, pdf_via_job


@pytest.fixture
def w(make, db):
    w = batch_world(make, db, candidates=5, rooms=1)
    db.session.commit()
    yield w
    clock.freeze(None)


@pytest.fixture
def progress_log(monkeypatch):
    """Every progress report a job makes (none dropped by the half-second throttle)."""
    seen: list[tuple[int, int, str]] = []
    put = queue.put_progress
    monkeypatch.setattr(jobs, "PROGRESS_EVERY_S", 0.0)

    def record(job_id, percent, stage):
        seen.append((job_id, percent, stage))
        put(job_id, percent, stage)

    monkeypatch.setattr(queue, "put_progress", record)
    return seen


def login(client, user):
    client.post("/logout")
    client.post("/login", data={"username": user.username, "password": factories.PASSWORD})


def pages(data: bytes) -> int:
    assert data.startswith(b"%PDF")
    return len(PdfReader(io.BytesIO(data)).pages)


def test_tickets_render_in_parts_with_progress_per_part(w, client, db, monkeypatch, progress_log):
    monkeypatch.setattr(pdf_jobs, "TICKETS_PART", 2)  # 5 tickets: parts of 2, 2 and 1
    login(client, w.admin)
    resp = pdf_via_job(client, f"/delivery/batches/{w.batch.id}/tickets.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    assert pages(resp.data) == 3  # two tickets to a page, the parts merged into one document
    job = db.session.scalar(select(Job).where(Job.kind == pdf_jobs.TICKETS))
    assert job.state == JobState.DONE and job.progress == 100 and job.params["pages"] == 3
    stages = [stage for job_id, _, stage in progress_log if job_id == job.id]
    assert [s for s in stages if s.startswith("已生成准考证")] == [
        "已生成准考证 2 / 5 张", "已生成准考证 4 / 5 张", "已生成准考证 5 / 5 张"]
    percents = [p for job_id, p, _ in progress_log if job_id == job.id]
    assert percents == sorted(percents) and percents[-1] >= 90
    assert not list(jobs.job_dir().glob(f"job-{job.id}.out.part*"))  # the parts are gone


def test_a_batch_pdf_job_is_not_found_for_another_organisation(w, client, db, make):
    login(client, w.admin)
    job_id = job_id_of(client.post(f"/delivery/batches/{w.batch.id}/filing.pdf"))
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "备案材料 PDF" in page and "已完成" in page and f"/jobs/{job_id}/result" in page
    stranger = make.user(roles=Role.EXAM_ADMIN)  # another organisation
    login(client, stranger)
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.get(f"/jobs/{job_id}/result").status_code == 404
    assert client.post(f"/delivery/batches/{w.batch.id}/tickets.pdf").status_code == 404
    colleague = make.user(roles=Role.EXAM_ADMIN, org=w.org)  # the same organisation reads the batch
    login(client, colleague)
    assert client.get(f"/jobs/{job_id}/result").data.startswith(b"%PDF")


def test_filing_pack_and_room_record_have_the_pages_of_a_direct_render(w, client, app, db):
    login(client, w.admin)
    filing = pdf_via_job(client, f"/delivery/batches/{w.batch.id}/filing.pdf")
    room = w.batch.rooms[0]
    record = pdf_via_job(client, f"/delivery/batches/{w.batch.id}/rooms/{room.id}/record.pdf")
    with app.test_request_context():
        assert pages(filing.data) == pages(delivery_pdf.filing_pack_pdf(w.batch))
        assert pages(record.data) == pages(delivery_pdf.room_record_pdf(w.batch, room))
    kinds = [j.kind for j in db.session.scalars(select(Job).order_by(Job.id))]
    assert kinds == [pdf_jobs.FILING, pdf_jobs.ROOM_RECORD]


def test_tickets_for_an_empty_roster_are_refused_with_a_message(make, db, client):
    w = batch_world(make, db, candidates=0)
    db.session.commit()
    login(client, w.admin)
    resp = client.post(f"/delivery/batches/{w.batch.id}/tickets.pdf", follow_redirects=True)
    assert "请先导入考生名单" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Job).where(Job.kind == pdf_jobs.TICKETS)) is None
    clock.freeze(None)


def test_paper_pdfs_are_jobs_seen_by_the_papers_readers_only(client, db, make):
    org = make.org()
    admin = make.user(roles=Role.EXAM_ADMIN, org=org)
    standard = make_standard()
    make_bank(org, standard, admin)
    pb = services.save_blueprint(admin, org, standard, blueprint_data(standard))
    paper = services.assemble(admin, pb, seed=4)
    db.session.commit()
    login(client, admin)
    for path, kind in (("forms/A/paper.pdf", "paper.form_pdf"), ("forms/B/key.pdf", "paper.key_pdf"),
                       ("compliance.pdf", "paper.compliance_pdf")):
        resp = pdf_via_job(client, f"/assembly/papers/{paper.id}/{path}")
        assert pages(resp.data) >= 1, path
        job = db.session.scalar(select(Job).where(Job.kind == kind))
        assert job.state == JobState.DONE and job.progress == 100
    job = db.session.scalar(select(Job).where(Job.kind == "paper.form_pdf"))
    assert job.result_name == f"试卷-{paper.id}-A卷.pdf"
    login(client, make.user(roles=Role.EXAM_ADMIN))  # another organisation
    assert client.get(f"/jobs/{job.id}").status_code == 404
    assert client.get(f"/jobs/{job.id}/result").status_code == 404
    login(client, make.user(roles=Role.ORG_ADMIN, org=org))  # reads the organisation's papers
    assert client.get(f"/jobs/{job.id}/result").data.startswith(b"%PDF")
    login(client, make.user(roles=Role.WRITER, org=org))  # no PAPER_VIEW
    assert client.get(f"/jobs/{job.id}").status_code == 404


def test_a_running_pdf_job_shows_a_progress_bar_that_refreshes(w, client, db):
    job = Job(kind=pdf_jobs.TICKETS, requested_by_id=w.admin.id, state=JobState.RUNNING, params={},
              object_type="batch", object_id=w.batch.id, organisation_id=w.org.id)
    db.session.add(job)
    db.session.commit()
    queue.put_progress(job.id, 40, "已生成准考证 200 / 500 张")
    login(client, w.admin)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "准考证 PDF" in page and '<progress class="job-progress" max="100" value="40"' in page
    assert "已生成准考证 200 / 500 张" in page and 'http-equiv="refresh"' in page
    assert f"/jobs/{job.id}/result" not in page


def test_write_in_parts_merges_and_cleans_up(app, tmp_path):
    from examsys.reports.pdf import render_pdf

    calls = []
    with app.test_request_context():
        parts = [lambda n=n: render_pdf("reports/_base.html", n=n) for n in range(3)]
        count = write_in_parts(tmp_path / "out.pdf", parts, progress=lambda d, c: calls.append((d, c)), count=3)
    assert count == len(PdfReader(tmp_path / "out.pdf").pages) == 3
    assert calls == [(1, 3), (2, 3), (3, 3)] and sorted(p.name for p in tmp_path.iterdir()) == ["out.pdf"]
