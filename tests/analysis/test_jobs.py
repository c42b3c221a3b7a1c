"""Statistics as a job: the page asks for it, shows its progress while it runs, then the snapshot
the job kept (with its PDF as the job's file); a regrade after the snapshot says it is stale; the
median time per item comes from the answer history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from examsys import clock, transaction
from examsys.analysis import jobs as stats_jobs
from examsys.analysis import services as stats
from examsys.audit.actions import AuditAction
from examsys.audit.models import AnswerHistory, AuditEvent
from examsys.delivery.scoring import services as scoring
from examsys.errors import NotFound, PermissionDenied
from examsys.jobs.models import Job, JobState
from examsys.permissions import Role
from tests.analysis.test_views import login
from tests.analysis.world import WRONG_KEY, StatsWorld


@pytest.fixture
def world(make, db, frozen_clock):
    w = StatsWorld(make, db)
    scoring.compute_results(w.batch, w.admin)
    db.session.commit()
    return w


def test_the_job_keeps_a_snapshot_its_pdf_and_a_record(world, db):
    job = stats_jobs.request_statistics(world.admin, world.batch)
    assert stats_jobs.request_statistics(world.admin, world.batch) is job  # one at a time per batch
    transaction.commit()
    db.session.refresh(job)
    assert job.state == JobState.DONE and job.result_name == f"试题统计-{world.batch.id}.pdf"
    job_, snap = stats_jobs.latest_snapshot(world.batch)
    assert job_ is job
    [form] = snap["forms"]
    [report] = stats.batch_statistics(world.batch)
    assert form["stats"]["n"] == 80 and form["stats"]["mean"] == pytest.approx(report.stats.mean)
    assert [row["p"] for row in form["items"]] == pytest.approx([row.p for row in report.items])
    assert "likely_wrong_key" in {f["kind"] for f in form["items"][WRONG_KEY]["flags"]}
    computed = AuditAction.BATCH_STATISTICS_COMPUTED.value
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == computed))
    assert event is not None and event.data["candidates"] == 80 and event.data["job"] == job.id


def test_only_result_reviewers_of_the_organisation_may_ask(world, make, db):
    with pytest.raises(PermissionDenied):
        stats_jobs.request_statistics(make.user(roles=Role.EXAM_ADMIN, org=make.org()), world.batch)
    with pytest.raises(PermissionDenied):
        stats_jobs.request_statistics(world.reviewer, world.batch)


def test_not_before_marking(world, db):
    from examsys.delivery.models import BatchState

    world.batch.state = BatchState.CLOSED
    with pytest.raises(NotFound):
        stats_jobs.request_statistics(world.admin, world.batch)


def test_the_page_shows_progress_while_the_job_runs(world, client, db):
    job = Job(kind=stats_jobs.KIND, state=JobState.RUNNING, requested_by_id=world.admin.id,
              organisation_id=world.org.id, object_type="batch", object_id=world.batch.id, progress=40,
              stage="A 卷", params={})
    db.session.add(job)
    db.session.commit()
    login(client, world.admin)
    html = client.get(f"/analysis/batches/{world.batch.id}").text
    assert '<progress class="job-progress" max="100" value="40">' in html
    assert 'http-equiv="refresh"' in html and "正在计算：A 卷" in html and "计算统计</button>" not in html


def test_a_regrade_after_the_snapshot_marks_it_stale(world, client, db):
    from examsys.analysis import keyfix

    login(client, world.admin)
    assert client.post(f"/analysis/batches/{world.batch.id}/compute").status_code == 302
    assert "请重新计算" not in client.get(f"/analysis/batches/{world.batch.id}").text
    clock.advance(timedelta(minutes=5))
    fi = world.form.items[WRONG_KEY]
    fix = keyfix.confirm_key(world.reviewer, world.batch, fi, "B", "教材：正确答案为 B")
    keyfix.apply_fix(world.admin2, fix)
    db.session.commit()
    html = client.get(f"/analysis/batches/{world.batch.id}").text
    assert "此后有成绩更正" in html


def test_median_time_per_item_from_the_answer_history(world, db):
    """Each save's time is the gap since the candidate's previous save (or the start); an item's time
    sums its saves; the median is over the candidates with a save of it."""
    first, second = world.form.items[0], world.form.items[1]
    gaps = {0: (30, 90), 1: (60, 30), 2: (120, 10)}  # attempt → (seconds to item 1, then to item 2)
    for i, (g1, g2) in gaps.items():
        att = world.attempts[i]
        t = att.started_at + timedelta(seconds=g1)
        db.session.add(AnswerHistory(attempt_id=att.id, form_item_id=first.id, seq=1, answer="A", saved_at=t))
        db.session.add(AnswerHistory(attempt_id=att.id, form_item_id=second.id, seq=1, answer="A",
                                     saved_at=t + timedelta(seconds=g2)))
    # a second save of item 1 by the first candidate, 15 s after the save of item 2: counts for item 1
    att = world.attempts[0]
    db.session.add(AnswerHistory(attempt_id=att.id, form_item_id=first.id, seq=2, answer="B",
                                 saved_at=att.started_at + timedelta(seconds=30 + 90 + 15)))
    db.session.flush()
    times = stats.time_on_items([a.id for a in world.attempts])
    assert sorted(times[first.id]) == [45, 60, 120] and sorted(times[second.id]) == [10, 30, 90]
    [report] = stats.batch_statistics(world.batch)
    assert report.items[0].median_seconds == 60 and report.items[1].median_seconds == 30
    assert report.items[2].median_seconds is None
