"""The job queue (examsys.jobs): a job reaches the queue only once the request that asked for it
committed; the worker runs it once, keeps what it recorded with its result, or fails it with a
Chinese message and nothing of its half-done work; a worker's start fails jobs left running and
queues again the queued ones; only its requester, or whom its kind admits, sees a job."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from examsys import audit, transaction
from examsys.accounts.models import OrgKind
from examsys.audit.actions import AuditAction
from examsys.audit.models import AuditEvent
from examsys.errors import Conflict, NotFound
from examsys.jobs import queue, registry
from examsys.jobs import services as jobs
from examsys.jobs.models import Job, JobState
from examsys.permissions import Role

RUNS: list[int] = []


def _run_ok(job, progress, *, context):
    RUNS.append(job.id)
    progress(0.5, "半程")
    path = jobs.result_path(job)
    path.write_bytes(b"result of " + str(job.params.get("n")).encode())
    audit.record(AuditAction.USER_UPDATED, obj=job.requested_by, data={"by_job": job.id}, context=context)
    return registry.Result(path, "结果.txt", "text/plain")


def _run_fails(job, progress, *, context):
    RUNS.append(job.id)
    audit.record(AuditAction.USER_UPDATED, obj=job.requested_by, data={"half_done": job.id}, context=context)
    if job.params.get("domain"):
        raise Conflict("批次已被删除")
    raise RuntimeError("boom")


registry.register(registry.JobKind("test.ok", "测试任务", _run_ok, may_view=lambda user, job: user.has_role(
    Role.PROVINCIAL_ADMIN)))
registry.register(registry.JobKind("test.fails", "失败的测试任务", _run_fails, may_view=lambda user, job: False))


@pytest.fixture(autouse=True)
def _clear_runs():
    RUNS.clear()


def _events(action: AuditAction) -> list[AuditEvent]:
    return list(db_session().scalars(select(AuditEvent).where(AuditEvent.action == action.value)))


def db_session():
    from examsys.extensions import db

    return db.session


def test_a_job_is_queued_after_its_request_commits_and_runs_once(app, db, make):
    user = make.user(roles=Role.EXAM_ADMIN)
    job = jobs.submit(user, "test.ok", obj=user, params={"n": 7})
    assert RUNS == []  # not before the commit: the worker must find the row
    transaction.commit()
    assert [job.id] == RUNS
    db.session.refresh(job)
    assert job.state == JobState.DONE and job.progress == 100 and job.result_name == "结果.txt"
    assert jobs.result_path(job).read_bytes() == b"result of 7" and job.result_size == 11
    assert [e.data["by_job"] for e in _events(AuditAction.USER_UPDATED)] == [job.id]
    assert _events(AuditAction.JOB_REQUESTED)[0].actor_user_id == user.id
    jobs.run(job.id)  # handed over twice (a requeue): runs once
    assert [job.id] == RUNS


def test_a_rolled_back_request_queues_nothing(app, db, make):
    user = make.user(roles=Role.EXAM_ADMIN)
    jobs.submit(user, "test.ok", obj=user)
    transaction.fail(RuntimeError("the view failed"))
    transaction.commit()
    assert RUNS == [] and db.session.scalar(select(func.count()).select_from(Job)) == 0


@pytest.mark.parametrize(("domain", "message"), [(True, "批次已被删除"), (False, "任务执行出错")])
def test_a_failing_job_keeps_its_failure_and_nothing_of_its_work(app, db, make, domain, message):
    user = make.user(roles=Role.EXAM_ADMIN)
    job = jobs.submit(user, "test.fails", obj=user, params={"domain": domain})
    transaction.commit()
    db.session.refresh(job)
    assert job.state == JobState.FAILED and message in job.error
    assert _events(AuditAction.USER_UPDATED) == []  # the half-done work was rolled back
    failed = _events(AuditAction.JOB_FAILED)
    assert [(e.actor_user_id, e.data["kind"]) for e in failed] == [(user.id, "test.fails")]
    with pytest.raises(Conflict):
        jobs.take_result(user, job)


def test_a_worker_start_fails_interrupted_jobs_and_requeues_queued_ones(app, db, make):
    user = make.user(roles=Role.EXAM_ADMIN)
    running = Job(kind="test.ok", requested_by_id=user.id, state=JobState.RUNNING, params={})
    queued = Job(kind="test.ok", requested_by_id=user.id, state=JobState.QUEUED, params={"n": 1})
    db.session.add_all([running, queued])
    db.session.commit()
    assert jobs.requeue_unfinished() == (1, 1)
    db.session.refresh(running)
    db.session.refresh(queued)
    assert running.state == JobState.FAILED and "中断" in running.error
    assert queued.state == JobState.DONE and [queued.id] == RUNS


def test_only_the_requester_and_whom_the_kind_admits_see_a_job(app, db, make, client):
    org = make.org()
    user = make.user(roles=Role.EXAM_ADMIN, org=org)
    other = make.user(roles=Role.EXAM_ADMIN, org=org)
    province = make.user(roles=Role.PROVINCIAL_ADMIN, org=make.org(OrgKind.AUTHORITY))
    job = jobs.submit(user, "test.ok", obj=user)
    transaction.commit()
    assert jobs.get_visible(job.id, user) is job and jobs.get_visible(job.id, province) is job
    with pytest.raises(NotFound):
        jobs.get_visible(job.id, other)
    from tests import factories

    client.post("/login", data={"username": other.username, "password": factories.PASSWORD})
    assert client.get(f"/jobs/{job.id}").status_code == 404
    assert client.get(f"/jobs/{job.id}/result").status_code == 404
    client.post("/logout")
    client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "已完成" in page and "结果.txt" in page and 'http-equiv="refresh"' not in page
    got = client.get(f"/jobs/{job.id}/result")
    assert got.status_code == 200 and got.get_data() == b"result of None"
    assert f"/jobs/{job.id}" in client.get("/jobs/").get_data(as_text=True)


def test_a_running_jobs_page_shows_its_progress_and_refreshes(app, db, make, client):
    user = make.user(roles=Role.EXAM_ADMIN)
    job = Job(kind="test.ok", requested_by_id=user.id, state=JobState.RUNNING, params={})
    db.session.add(job)
    db.session.commit()
    queue.put_progress(job.id, 42, "正在生成考生答卷（1–50）")
    from tests import factories

    client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'value="42"' in page and "正在生成考生答卷（1–50）" in page and 'http-equiv="refresh"' in page


def test_the_sqlite_store_carries_a_job_to_a_worker(app, db, make, tmp_path: Path):
    """Without Redis the queue is a SQLite file: what one process enqueues, a worker dequeues."""
    from huey import SqliteHuey

    user = make.user(roles=Role.EXAM_ADMIN)
    job = Job(kind="test.ok", requested_by_id=user.id, state=JobState.QUEUED, params={"n": 3})
    db.session.add(job)
    db.session.commit()
    state = app.extensions[queue.EXTENSION]
    saved = dict(state)
    app.config["EXAMSYS_JOBS_IMMEDIATE"], app.config["EXAMSYS_JOB_DIR"] = False, str(tmp_path)
    state.pop("huey", None)
    try:
        huey = queue.huey_of(app)
        assert isinstance(huey, SqliteHuey) and (tmp_path / "queue.db").exists()
        queue.enqueue(job.id)
        assert RUNS == [] and huey.pending_count() == 1
        task = huey.dequeue()  # what the consumer does
        huey.execute(task)
    finally:
        app.config["EXAMSYS_JOBS_IMMEDIATE"] = True
        state.clear()
        state.update(saved)
    assert [job.id] == RUNS
    db.session.refresh(job)
    assert job.state == JobState.DONE
