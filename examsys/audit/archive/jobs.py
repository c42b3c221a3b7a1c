"""The batch archive as a job (examsys.jobs): asked for on the batch page, built by the worker
with its progress on the job's page, then downloaded there. Its kind lets through whoever may
take the batch's archive (examsys.permissions.may_download_archive), not only who asked."""

from __future__ import annotations

from typing import Any

from examsys import audit
from examsys.audit.actions import AuditAction
from examsys.audit.archive.build import ARCHIVABLE, write_archive
from examsys.delivery.models import Batch
from examsys.errors import Conflict
from examsys.extensions import db
from examsys.jobs import registry
from examsys.jobs import services as jobs
from examsys.jobs.models import Job
from examsys.jobs.registry import N_
from examsys.permissions import may_download_archive

KIND = "batch.archive"


def request_archive(actor: Any, batch: Batch) -> Job:
    """Queue the building of `batch`'s archive (flushes). Raises PermissionDenied (not the
    batch's exam or org admin, the province, nor its assigned supervisor) and Conflict (the
    batch is not closed yet)."""
    may_download_archive(actor, batch).enforce()
    if batch.state not in ARCHIVABLE:
        raise Conflict(f"批次状态为“{batch.state_label}”，考试结束后才能生成批次档案")
    return jobs.submit(actor, KIND, obj=batch)


def _batch(job: Job) -> Batch | None:
    return db.session.get(Batch, job.object_id) if job.object_type == "batch" else None


def _run(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    batch = _batch(job)
    if batch is None:
        raise Conflict("该批次已不存在")
    path = jobs.result_path(job)
    built = write_archive(batch, path, progress=progress)
    job.params = {**job.params, "summary": built.summary}
    audit.record(AuditAction.BATCH_ARCHIVE_BUILT, obj=batch, data={**built.summary, "job": job.id}, context=context)
    return registry.Result(path, f"批次档案-{batch.id}.zip", "application/zip")


def _may_view(user: Any, job: Job) -> bool:
    batch = _batch(job)
    return batch is not None and bool(may_download_archive(user, batch))


def _downloaded(job: Job) -> None:
    batch = _batch(job)
    audit.record(AuditAction.BATCH_ARCHIVE_DOWNLOADED, obj=batch,
                 data={**job.params.get("summary", {}), "job": job.id})


registry.register(registry.JobKind(name=KIND, label=N_("批次档案"), run=_run, may_view=_may_view,
                                   on_download=_downloaded))

__all__ = ["KIND", "request_archive"]
