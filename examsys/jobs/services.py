"""The jobs' operations: submit (from a request), run (in the worker), progress, and the result.

`submit` only flushes the Job row and its JOB_REQUESTED event; the job reaches the queue after the
request commits (transaction.after_commit), so the worker always finds its row. `run` is the
worker's unit of work: it claims the job, runs its kind, and commits the result together with
whatever the kind recorded; a failure rolls that back and keeps only the job's failure and its
JOB_FAILED event. Progress travels through the queue's store (queue.put_progress), so the page
sees it while the job's own transaction is still open."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import current_app, g
from sqlalchemy import select, update

from examsys import audit, clock, transaction
from examsys.audit.actions import AuditAction
from examsys.audit.services import AuditContext, context_for
from examsys.errors import Conflict, DomainError, NotFound
from examsys.extensions import db
from examsys.jobs import queue, registry
from examsys.jobs.models import Job, JobState

INTERRUPTED = "任务在执行中被中断（服务重启），请重新提交"
INTERNAL = "任务执行出错，已记录；请稍后重试，或联系系统管理员（任务编号 {id}）"
PROGRESS_EVERY_S = 0.5


def job_dir() -> Path:
    folder = Path(current_app.config["EXAMSYS_JOB_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def staging_dir() -> Path:
    """Where an upload waits, between its preview and the import job that reads it (roster and
    question-file imports; each names its files so that only its uploader can confirm them)."""
    path = Path(current_app.config["EXAMSYS_UPLOAD_DIR"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def result_path(job: Job) -> Path:
    """Where a job writes its result: named by the job's id, never by anything a user typed."""
    return job_dir() / f"job-{job.id}.out"


def submit(actor: Any, kind: str, *, obj: Any = None, organisation_id: int | None = None,
           params: dict | None = None) -> Job:
    """Ask for a job of a registered kind about `obj` (flushes; queued once the request commits).
    Raises KeyError for an unregistered kind (a programming error)."""
    job_kind = registry.kind_of(kind)
    job = Job(kind=kind, requested_by_id=actor.id, params=params or {}, state=JobState.QUEUED,
              organisation_id=organisation_id if organisation_id is not None else getattr(obj, "organisation_id", None),
              object_type=getattr(obj, "__audit_type__", None) or getattr(obj, "__tablename__", None),
              object_id=getattr(obj, "id", None), created_at=clock.now())
    db.session.add(job)
    db.session.flush()
    audit.record(AuditAction.JOB_REQUESTED, obj=job,
                 data={"kind": kind, "label": job_kind.label, "object_type": job.object_type,
                       "object_id": job.object_id}, context=context_for(actor))
    job_id = job.id
    transaction.after_commit(lambda: queue.enqueue(job_id))
    return job


def get_visible(job_id: int, user: Any) -> Job:
    """The job, for its requester or whoever its kind lets see it. Raises NotFound otherwise."""
    job = db.session.get(Job, job_id)
    if job is None or not _may_view(user, job):
        raise NotFound("未找到该任务")
    return job


def _may_view(user: Any, job: Job) -> bool:
    if job.requested_by_id == getattr(user, "id", None):
        return True
    return registry.known(job.kind) and bool(registry.kind_of(job.kind).may_view(user, job))


def recent(user: Any, *, limit: int = 20) -> list[Job]:
    """The user's own latest jobs, newest first."""
    query = select(Job).where(Job.requested_by_id == user.id).order_by(Job.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def take_result(actor: Any, job: Job) -> tuple[Path, str, str]:
    """(file, download name, mimetype) of a finished job, recording the download as its kind says
    (flushes). Raises Conflict when the job has no result (yet)."""
    path = result_path(job)
    if job.state != JobState.DONE or not path.exists():
        raise Conflict("该任务尚未完成，或其结果已被清理；请重新提交")
    kind = registry.kind_of(job.kind)
    if kind.on_download is not None:
        kind.on_download(job)
    return path, job.result_name or path.name, job.params.get("_mimetype", "application/octet-stream")


# --- the worker's side -----------------------------------------------------------------------------


class _Progress:
    """Hands a job's progress to the queue's store, at most every PROGRESS_EVERY_S."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, fraction: float, stage: str) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        try:
            queue.put_progress(self.job_id, max(0, min(99, int(fraction * 100))), stage[:200])
        except Exception:  # noqa: BLE001 - progress is a courtesy; the job goes on without it
            current_app.logger.warning("job %s: progress not written", self.job_id, exc_info=True)


def progress(job: Job) -> tuple[int, str | None]:
    """(per cent, what it is doing) of a job, as far as the page can know."""
    if job.state == JobState.RUNNING:
        return queue.progress_of(job.id) or (job.progress, job.stage)
    return job.progress, job.stage


def run(job_id: int) -> None:
    """Run a queued job to its end (the worker's unit of work; commits). A job that is not
    queued (already run, or claimed by another worker) is left alone."""
    claimed = db.session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED)
                                 .values(state=JobState.RUNNING, started_at=clock.now(), progress=0)).rowcount
    transaction.commit()
    if not claimed:
        return
    job = db.session.get(Job, job_id)
    ctx = context_for(job.requested_by)
    try:
        kind = registry.kind_of(job.kind)
        if kind.writes_early:
            end_read()  # its unit of work writes from the start: take the write lock first
            job = db.session.get(Job, job_id)
        with _acting(ctx):
            result = kind.run(job, _Progress(job_id), context=ctx)
        digest, size = _digest(result.path)
        if kind.read_only:
            # A long read on SQLite cannot become a write once another writer committed since it
            # began (WAL snapshot): end the read, then write the result in a short unit of its own.
            params = dict(job.params)
            end_read()
            job = db.session.get(Job, job_id)
            job.params = params
        job.params = {**job.params, "_mimetype": result.mimetype}
        job.result_name, job.result_size, job.result_sha256 = result.download_name, size, digest
        job.state, job.progress, job.stage, job.finished_at = JobState.DONE, 100, None, clock.now()
        transaction.commit()
        queue.drop_progress(job_id)
    except Exception as exc:  # noqa: BLE001 - every failure ends the job with a message
        transaction.discard()
        message = exc.message if isinstance(exc, DomainError) else INTERNAL.format(id=job_id)
        if not isinstance(exc, DomainError):
            current_app.logger.exception("job %s (%s) failed", job_id, job.kind)
        _fail(job_id, message, ctx)


@contextmanager
def _acting(ctx: AuditContext) -> Iterator[None]:
    """Run a kind as inside a request of its requester's: whatever the services it calls record
    carries the requester as actor (the ambient audit context), as if the page had done it."""
    with current_app.test_request_context("/", environ_base={"REMOTE_ADDR": ctx.ip or ""}):
        g.audit_context = ctx
        try:
            yield
        finally:
            g.pop("audit_context", None)


def end_read() -> None:
    """For a job that has only read so far and is about to write (a long render, then what it
    records): end the read and begin the next transaction by taking the write lock. On SQLite
    (WAL) a transaction that began by reading cannot become a writer once another connection
    committed since, and pages keep committing while a job runs. Objects loaded before are
    expired: load them again."""
    transaction.discard()
    _write_next()


def _write_next() -> None:
    """The next unit of work on SQLite begins by taking the write lock (BEGIN IMMEDIATE, waiting
    for it) rather than reading first and failing to upgrade."""
    if db.engine.dialect.name == "sqlite":
        g.sqlite_begin_immediate = True


def _fail(job_id: int, message: str, ctx) -> None:
    _write_next()
    job = db.session.get(Job, job_id)
    job.state, job.error, job.finished_at, job.stage = JobState.FAILED, message, clock.now(), None
    result_path(job).unlink(missing_ok=True)
    audit.record(AuditAction.JOB_FAILED, obj=job, data={"kind": job.kind, "error": message}, context=ctx)
    transaction.commit()
    queue.drop_progress(job_id)


def _digest(path: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def requeue_unfinished() -> tuple[int, int]:
    """At a worker's start: jobs left running by a stopped worker fail (they may have half-run);
    queued ones are handed to the queue again (their message may be lost with a memory or
    Redis store; a job runs once whatever happens, see `run`). Returns (failed, requeued); commits."""
    stale = list(db.session.scalars(select(Job.id).where(Job.state == JobState.RUNNING)))
    for job_id in stale:
        job = db.session.get(Job, job_id)
        _fail(job_id, INTERRUPTED, context_for(job.requested_by))
    queued = list(db.session.scalars(select(Job.id).where(Job.state == JobState.QUEUED).order_by(Job.id)))
    for job_id in queued:
        queue.enqueue(job_id)
    return len(stale), len(queued)


__all__ = ["end_read", "get_visible", "job_dir", "progress", "recent", "requeue_unfinished", "result_path", "run",
           "staging_dir", "submit", "take_result"]
