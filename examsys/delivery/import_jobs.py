"""A large roster import as a job (examsys.jobs): the preview still runs in the request (it only
reads and shows every error with its file, row and column), and when it passed, the confirm step
of a large file (more than LARGE_ROWS candidates or LARGE_BYTES of files) runs in the job worker:
it checks the staged file again, registers the candidates with their photos and seats, and
reports its progress on the job's page. All or nothing as in the request: any error fails the job
with the errors in Chinese and nothing of it is written. Its result is the imported roster
(CSV: ticket number, name, masked ID number, room, seat) for the clerk to check."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from examsys import audit
from examsys.delivery.batches import services as batches
from examsys.delivery.models import Batch, BatchState
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.interchange.model import InterchangeError, issues_summary
from examsys.jobs import registry
from examsys.jobs import services as jobs
from examsys.jobs.models import Job
from examsys.jobs.registry import N_
from examsys.jobs.services import staging_dir
from examsys.permissions import Permission, can_manage_batch, has_permission

KIND = "batch.roster_import"
LARGE_ROWS = 500
LARGE_BYTES = 2 * 1024 * 1024
SHOWN_ERRORS = 10
_STAGED = re.compile(r"^roster-\d+-[A-Za-z0-9_-]{20,64}$")


def is_large(rows: int, size: int) -> bool:
    """Whether an import of `rows` candidates from `size` bytes of files goes to the job worker."""
    return rows > LARGE_ROWS or size > LARGE_BYTES


def request_import(actor: Any, batch: Batch, staged: str, filename: str, photos_name: str | None,
                   rows: int) -> Job:
    """Queue the import of a previewed roster staged under `staged` (a name the upload page
    made; flushes). Raises Conflict once the batch is filed."""
    if batch.state != BatchState.PLANNED:
        raise Conflict("批次已备案，考生名单已锁定")
    if not _STAGED.match(staged):
        raise Conflict("导入文件已失效，请重新上传")
    return jobs.submit(actor, KIND, obj=batch, params={"staged": staged, "file": filename,
                                                      "photos_file": photos_name, "rows": rows})


def _files(staged: str) -> tuple[bytes, bytes | None]:
    if not _STAGED.match(staged or ""):
        raise Conflict("导入文件已失效，请重新上传")
    base = staging_dir() / staged
    xlsx = base.with_suffix(".xlsx")
    if not xlsx.exists():
        raise Conflict("导入文件已失效，请重新上传")
    photos = base.with_suffix(".zip")
    return xlsx.read_bytes(), photos.read_bytes() if photos.exists() else None


def unstage(staged: str) -> None:
    if _STAGED.match(staged or ""):
        base = staging_dir() / staged
        for ext in (".xlsx", ".name", ".zip"):
            base.with_suffix(ext).unlink(missing_ok=True)


def _run(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    batch = db.session.get(Batch, job.object_id) if job.object_type == "batch" else None
    if batch is None:
        raise Conflict("该评价批次已不存在")
    staged = job.params.get("staged", "")
    data, photos = _files(staged)
    try:
        result = batches.import_roster(job.requested_by, batch, job.params.get("file") or "roster.xlsx", data,
                                       job.params.get("photos_file"), photos, progress=progress)
    except InterchangeError as exc:
        unstage(staged)
        raise ValidationError(f"文件被拒绝：{exc}") from exc
    if not result.ok:
        unstage(staged)
        raise ValidationError(f"名单有 {len(result.errors)} 处错误，未导入任何考生："
                              f"{issues_summary(result.errors, SHOWN_ERRORS)}。请修改后重新上传。")
    progress(0.97, "正在生成导入结果")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["准考证号", "姓名", "身份证号码（脱敏）", "考场", "座位号"])
    for e in sorted(batch.roster, key=lambda e: e.ticket_no):
        writer.writerow([e.ticket_no, e.candidate.name, e.candidate.id_number_masked,
                         e.room.name if e.room else "", e.seat_no or ""])
    path = jobs.result_path(job)
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))  # BOM: Excel opens it as UTF-8
    job.params = {**job.params, "imported": result.imported, "reused": result.reused, "photos": result.photos}
    unstage(staged)
    return registry.Result(path, f"考生名单导入结果-{batch.id}.csv", "text/csv")


def _may_view(user: Any, job: Job) -> bool:
    batch = db.session.get(Batch, job.object_id) if job.object_type == "batch" else None
    return batch is not None and has_permission(user, Permission.BATCH_MANAGE) and can_manage_batch(user, batch)


registry.register(registry.JobKind(KIND, N_("考生名单导入"), _run, may_view=_may_view, writes_early=True))

__all__ = ["KIND", "LARGE_BYTES", "LARGE_ROWS", "is_large", "request_import", "staging_dir", "unstage"]
