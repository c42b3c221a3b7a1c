"""A batch's PDFs as jobs (examsys.jobs): the filing pack (备案材料), the admission tickets (准考证),
a room's exam record (考场记录), the score list (成绩单) and one candidate's score report
(成绩报告单). The batch page asks for one, the job worker renders it with its progress on the
job's page, and the page then offers the download: a web worker never loads the PDF renderer
(its fonts and layouts cost a worker far more memory than a page does).

Each kind lets see the job whoever may read the document on the batch's own pages; the views
check the requester before asking (a job's requester always sees it)."""

from __future__ import annotations

from typing import Any

from examsys import audit
from examsys.delivery.models import Attempt, Batch, BatchState
from examsys.errors import Conflict
from examsys.extensions import db
from examsys.jobs import registry
from examsys.jobs import services as jobs
from examsys.jobs.models import Job
from examsys.jobs.registry import N_
from examsys.permissions import (
    Permission,
    can_access_org_object,
    can_view_batch,
    has_permission,
    may_print_tickets,
    may_supervise_batch,
)
from examsys.reports import delivery as delivery_pdf
from examsys.reports import results as results_pdf
from examsys.reports.pdf import write_in_parts

FILING, TICKETS, ROOM_RECORD = "batch.filing_pdf", "batch.tickets_pdf", "batch.room_record_pdf"
SCORE_LIST, SCORE_REPORT = "batch.score_list_pdf", "batch.score_report_pdf"
# Tickets per rendered part: two to a page, so an even number; a part of 100 lays out in a few
# seconds and keeps the worker's memory flat however large the batch.
TICKETS_PART = 100
PDF = "application/pdf"
# The score list exists once marking is done (the results page's rule).
LISTABLE = frozenset({BatchState.MARKED, BatchState.REVIEWED, BatchState.PUBLISHED, BatchState.ARCHIVED})


# --- asking (in the request; the caller has checked that the actor may read the batch) ----------


def request_filing_pack(actor: Any, batch: Batch) -> Job:
    """Queue the filing pack of `batch` (flushes)."""
    return jobs.submit(actor, FILING, obj=batch)


def request_tickets(actor: Any, batch: Batch) -> Job:
    """Queue the admission tickets of `batch` (flushes). Raises PermissionDenied (neither a
    manager of the batch nor one of its proctors) and Conflict (no candidates on the roster)."""
    may_print_tickets(actor, batch).enforce()
    if not batch.roster:
        raise Conflict("该批次还没有考生名单，请先导入考生名单再打印准考证")
    return jobs.submit(actor, TICKETS, obj=batch, params={"count": len(batch.roster)})


def request_room_record(actor: Any, batch: Batch, room_id: int) -> Job:
    """Queue the exam record of one room of `batch` (flushes). Raises Conflict for a room that is
    not the batch's."""
    if not any(r.id == room_id for r in batch.rooms):
        raise Conflict("该考场不属于本批次")
    return jobs.submit(actor, ROOM_RECORD, obj=batch, params={"room_id": room_id})


def request_score_list(actor: Any, batch: Batch) -> Job:
    """Queue the score list of `batch` (flushes). Raises Conflict before marking is done."""
    _listable(batch)
    return jobs.submit(actor, SCORE_LIST, obj=batch)


def request_score_report(actor: Any, batch: Batch, attempt: Attempt) -> Job:
    """Queue one candidate's score report (flushes). Raises Conflict before marking is done or
    for an attempt without a result."""
    _listable(batch)
    if attempt.batch_id != batch.id:
        raise Conflict("该试卷不属于本批次")
    return jobs.submit(actor, SCORE_REPORT, obj=batch, params={"attempt_id": attempt.id})


def _listable(batch: Batch) -> None:
    if batch.state not in LISTABLE:
        raise Conflict("阅卷完成后才有成绩单")


# --- running (in the job worker) ----------------------------------------------------------------


def _batch(job: Job) -> Batch:
    batch = db.session.get(Batch, job.object_id) if job.object_type == "batch" else None
    if batch is None:
        raise Conflict("该评价批次已不存在")
    return batch


def _whole(job: Job, progress: registry.Progress, render, name: str) -> registry.Result:
    progress(0.05, "正在排版…")
    path = jobs.result_path(job)
    path.write_bytes(render())
    return registry.Result(path, name, PDF)


def _run_filing(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    batch = _batch(job)
    return _whole(job, progress, lambda: delivery_pdf.filing_pack_pdf(batch), f"备案材料-{batch.id}.pdf")


def _run_tickets(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    batch = _batch(job)
    roster = delivery_pdf.ticket_order(batch)
    total = len(roster)
    chunks = [roster[i:i + TICKETS_PART] for i in range(0, max(total, 1), TICKETS_PART)]

    def step(done: int, count: int) -> None:
        last = min(done * TICKETS_PART, total)
        progress(0.95 * done / count, f"已生成准考证 {last} / {total} 张")

    progress(0.0, f"正在生成准考证（共 {total} 张）")
    path = jobs.result_path(job)
    pages = write_in_parts(path, ((lambda chunk=chunk: delivery_pdf.tickets_pdf(batch, entries=chunk))
                                  for chunk in chunks), progress=step, count=len(chunks))
    progress(0.99, "正在合并")
    job.params = {**job.params, "pages": pages}
    return registry.Result(path, f"准考证-{batch.id}.pdf", PDF)


def _run_room_record(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    batch = _batch(job)
    room = next((r for r in batch.rooms if r.id == job.params.get("room_id")), None)
    if room is None:
        raise Conflict("该考场已不存在")
    return _whole(job, progress, lambda: delivery_pdf.room_record_pdf(batch, room),
                  f"考场记录-{batch.id}-{room.name}.pdf")


def _run_score_list(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    batch = _batch(job)
    _listable(batch)
    return _whole(job, progress, lambda: results_pdf.score_list_pdf(batch), f"成绩单-{batch.id}.pdf")


def _run_score_report(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    batch = _batch(job)
    _listable(batch)
    attempt = db.session.get(Attempt, job.params.get("attempt_id"))
    if attempt is None or attempt.batch_id != batch.id:
        raise Conflict("该试卷已不存在")
    return _whole(job, progress, lambda: results_pdf.score_report_pdf(batch, attempt),
                  f"成绩报告-{attempt.roster_entry.ticket_no}.pdf")


# --- who else sees the job ----------------------------------------------------------------------


def _found(job: Job) -> Batch | None:
    return db.session.get(Batch, job.object_id) if job.object_type == "batch" else None


def _may_view_batch(user: Any, job: Job) -> bool:
    batch = _found(job)
    return batch is not None and has_permission(user, Permission.BATCH_VIEW) and can_view_batch(user, batch)


def _may_view_tickets(user: Any, job: Job) -> bool:
    batch = _found(job)
    return batch is not None and _may_view_batch(user, job) and bool(may_print_tickets(user, batch))


def _may_view_results(user: Any, job: Job) -> bool:
    """The results pages' rule: the batch's organisation (or the province), or its supervisor."""
    batch = _found(job)
    return batch is not None and has_permission(user, Permission.BATCH_VIEW) and (
        bool(may_supervise_batch(user, batch)) or can_access_org_object(user, batch.organisation_id))


for _name, _label, _run, _may_view in (
        (FILING, N_("备案材料 PDF"), _run_filing, _may_view_batch),
        (TICKETS, N_("准考证 PDF"), _run_tickets, _may_view_tickets),
        (ROOM_RECORD, N_("考场记录 PDF"), _run_room_record, _may_view_batch),
        (SCORE_LIST, N_("成绩单 PDF"), _run_score_list, _may_view_results),
        (SCORE_REPORT, N_("成绩报告单 PDF"), _run_score_report, _may_view_results)):
    registry.register(registry.JobKind(_name, _label, _run, may_view=_may_view, read_only=True))

__all__ = ["FILING", "ROOM_RECORD", "SCORE_LIST", "SCORE_REPORT", "TICKETS", "request_filing_pack",
           "request_room_record", "request_score_list", "request_score_report", "request_tickets"]
