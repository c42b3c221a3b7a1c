"""A batch's statistics as a job (examsys.jobs): computing them reads every score, answer and
save of the batch and fits IRT, which takes longer than a request should. The statistics page
asks for the job, shows its progress, then shows the result the job kept.

The job keeps a snapshot of the figures (plain JSON in the job's params, so the page renders
without computing anything) and writes the statistics PDF as its file. The page shows the latest
finished job's snapshot with the time it was computed; a regrade after a key fix calls for a new
one (the page says so).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts.models import Organisation
from examsys.analysis import charts
from examsys.analysis import services as stats
from examsys.audit.actions import AuditAction
from examsys.delivery.models import Attempt, Batch, CorrectionStatus, ScoreCorrection
from examsys.errors import Conflict, NotFound
from examsys.extensions import db
from examsys.jobs import registry
from examsys.jobs import services as jobs
from examsys.jobs.models import Job, JobState
from examsys.permissions import may_handle_results
from examsys.reports.pdf import render_pdf

KIND = "batch.statistics"


def request_statistics(actor: Any, batch: Batch) -> Job:
    """Queue the computation of `batch`'s statistics (flushes). A job already queued or running
    for the batch is returned instead of a second one. Raises PermissionDenied (no result review
    in the batch's organisation) and NotFound (marking not complete)."""
    may_handle_results(actor, batch).enforce()
    if batch.state not in stats.STATS_STATES:
        raise NotFound("阅卷完成后才有统计")
    pending = latest_job(batch, states=(JobState.QUEUED, JobState.RUNNING))
    if pending is not None:
        return pending
    return jobs.submit(actor, KIND, obj=batch)


def latest_job(batch: Batch, *, states=None) -> Job | None:
    query = select(Job).where(Job.kind == KIND, Job.object_type == "batch", Job.object_id == batch.id)
    if states:
        query = query.where(Job.state.in_(states))
    return db.session.scalar(query.order_by(Job.id.desc()).limit(1))


def latest_snapshot(batch: Batch) -> tuple[Job, dict] | None:
    """(job, snapshot) of the latest finished statistics job of the batch, or None."""
    job = latest_job(batch, states=(JobState.DONE,))
    if job is None or "statistics" not in (job.params or {}):
        return None
    return job, job.params["statistics"]


def is_stale(batch: Batch, snapshot: dict) -> bool:
    """True when a score correction was approved after the snapshot was computed."""
    last = db.session.scalar(select(db.func.max(ScoreCorrection.decided_at))
                             .join(Attempt, Attempt.id == ScoreCorrection.attempt_id)
                             .where(Attempt.batch_id == batch.id,
                                    ScoreCorrection.status == CorrectionStatus.APPROVED))
    if last is None:
        return False
    return last > datetime.fromisoformat(snapshot["computed_at"])


def _f(v) -> float | None:
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def snapshot(reports: list[stats.FormReport]) -> dict:
    """The figures of `reports` as plain JSON: what the page and the PDF show, nothing more."""
    forms = []
    for r in reports:
        s = r.stats
        forms.append({
            "form": {"id": r.form.id, "label": r.form.label},
            "pass_mark": r.pass_mark, "has_irt": r.has_irt, "flag_count": r.flag_count,
            "stats": {"n": s.n, "k": s.k, "max_total": s.max_total, "mean": _f(s.mean), "sd": _f(s.sd),
                      "alpha": _f(s.alpha), "sem": _f(s.sem), "pass_rate": _f(s.pass_rate) or 0.0,
                      "histogram": {"edges": [float(e) for e in s.histogram.get("edges", [])],
                                    "counts": [int(c) for c in s.histogram.get("counts", [])]}},
            "items": [{
                "position": row.position, "section": row.section, "form_item": {"id": row.form_item.id},
                "version": {"id": row.version.id, "item_id": row.version.item_id, "number": row.version.number},
                "max_points": row.max_points, "p": _f(row.p), "omitted": _f(row.omitted), "r": _f(row.r),
                "d": _f(row.d), "options": row.options, "irt": row.irt, "median_seconds": row.median_seconds,
                "flags": [{"kind": f.kind.value, "label": f.label, "reason": f.reason()} for f in row.flags],
            } for row in r.items],
        })
    return {"computed_at": clock.now().isoformat(), "forms": forms,
            "comparisons": stats.comparability(reports)}


def charts_of(snap: dict) -> dict:
    """SVG per form: the histogram, and a distractor chart per choice item (keyed by form item)."""
    out = {}
    for report in snap["forms"]:
        hist = report["stats"]["histogram"]
        one = {"histogram": charts.histogram_svg(hist["edges"], hist["counts"], pass_mark=report["pass_mark"],
                                                 title=report["form"]["label"])}
        for row in report["items"]:
            if row["options"]:
                one[row["form_item"]["id"]] = charts.distractor_svg(row["options"])
        out[report["form"]["id"]] = one
    return out


def _batch(job: Job) -> Batch | None:
    return db.session.get(Batch, job.object_id) if job.object_type == "batch" else None


def _run(job: Job, progress: registry.Progress, *, context: audit.AuditContext) -> registry.Result:
    batch = _batch(job)
    if batch is None:
        raise Conflict("该批次已不存在")
    progress(0.05, "读取成绩与作答")
    reports = stats.batch_statistics(batch, progress=progress)
    snap = snapshot(reports)
    progress(0.9, "生成 PDF")
    data = render_pdf("reports/statistics.html", batch=batch, reports=snap["forms"], charts=charts_of(snap),
                      organisation=db.session.get(Organisation, batch.organisation_id),
                      printed_at=clock.to_display(clock.now()))
    path = jobs.result_path(job)
    path.write_bytes(data)
    # Everything above only read: end the read before writing (see jobs.end_read).
    jobs.end_read()
    batch = db.session.get(Batch, job.object_id)
    job.params = {**job.params, "statistics": snap}
    audit.record(AuditAction.BATCH_STATISTICS_COMPUTED, obj=batch,
                 data={"job": job.id, "forms": len(snap["forms"]),
                       "candidates": sum(f["stats"]["n"] for f in snap["forms"]),
                       "flags": sum(f["flag_count"] for f in snap["forms"])}, context=context)
    return registry.Result(path, f"试题统计-{batch.id}.pdf", "application/pdf")


def _may_view(user: Any, job: Job) -> bool:
    batch = _batch(job)
    return batch is not None and bool(may_handle_results(user, batch))


registry.register(registry.JobKind(name=KIND, label="试题与试卷统计", run=_run, may_view=_may_view))

__all__ = ["KIND", "charts_of", "is_stale", "latest_job", "latest_snapshot", "request_statistics", "snapshot"]
