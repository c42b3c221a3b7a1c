"""Statistics pages (blueprint `bp`, /analysis): a marked batch's statistics per form with charts
and flags, computed by a job (its progress, then its snapshot) and its PDF (RESULT_REVIEW in the
batch's organisation), sending flags to the bank, the reviewer's
key confirmation beside the item's evidence (ITEM_REVIEW), and the preview and application of a
confirmed key fix (RESULT_REVIEW, a second person)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from examsys.analysis import charts, keyfix
from examsys.analysis import jobs as stats_jobs
from examsys.analysis import services as stats
from examsys.analysis.flags import FLAG_LABELS, FlagKind
from examsys.analysis.models import KeyFix
from examsys.assembly.models import PaperFormItem
from examsys.bank.models import ItemVersion
from examsys.delivery.models import Batch
from examsys.errors import NotFound, PermissionDenied
from examsys.extensions import db
from examsys.jobs import services as job_services
from examsys.jobs.models import JobState
from examsys.permissions import Permission, require
from examsys.tenancy import get_scoped
from examsys.viewutil import attempt, perform

bp = Blueprint("analysis", __name__, url_prefix="/analysis")


def _batch(batch_id: int) -> Batch:
    return get_scoped(Batch, batch_id, current_user)


def _form_item(batch: Batch, form_item_id: int) -> PaperFormItem:
    fi = db.session.get(PaperFormItem, form_item_id)
    if fi is None or fi.form.paper_id != batch.paper_id:
        raise NotFound("未找到该题")
    return fi


REFRESH_SECONDS = 2


@bp.get("/batches/<int:batch_id>", endpoint="batch")
@require(Permission.RESULT_REVIEW)
def batch_page(batch_id: int):
    """The latest computed statistics; while a computation runs, its progress (the page refreshes)."""
    batch = _batch(batch_id)
    if batch.state not in stats.STATS_STATES:
        raise NotFound("阅卷完成后才有统计")
    pending = stats_jobs.latest_job(batch, states=(JobState.QUEUED, JobState.RUNNING))
    last = stats_jobs.latest_job(batch)
    kept = stats_jobs.latest_snapshot(batch)
    percent, stage = job_services.progress(pending) if pending else (None, None)
    snap = kept[1] if kept else None
    return render_template("analysis/batch.html", batch=batch, pending=pending, percent=percent, stage=stage,
                           refresh=REFRESH_SECONDS if pending else None,
                           failed=last if last is not None and last.state == JobState.FAILED else None,
                           job=kept[0] if kept else None, snap=snap,
                           computed_at=datetime.fromisoformat(snap["computed_at"]) if snap else None,
                           stale=bool(snap) and stats_jobs.is_stale(batch, snap),
                           reports=snap["forms"] if snap else [], charts=stats_jobs.charts_of(snap) if snap else {},
                           comparisons=snap["comparisons"] if snap else [], fixes=keyfix.fixes_of(batch),
                           FLAG_LABELS=FLAG_LABELS, WRONG_KEY=FlagKind.LIKELY_WRONG_KEY.value)


@bp.post("/batches/<int:batch_id>/compute", endpoint="compute")
@require(Permission.RESULT_REVIEW)
def compute(batch_id: int):
    batch = _batch(batch_id)
    perform(lambda: stats_jobs.request_statistics(current_user, batch), success="已开始计算统计")
    return redirect(url_for("analysis.batch", batch_id=batch.id))


@bp.get("/batches/<int:batch_id>/statistics.pdf")
@require(Permission.RESULT_REVIEW)
def batch_pdf(batch_id: int):
    """The statistics PDF is the statistics job's file: its download, on the jobs page."""
    batch = _batch(batch_id)
    kept = stats_jobs.latest_snapshot(batch)
    if kept is None:
        raise NotFound("尚未计算统计；请先在统计页面计算")
    return redirect(url_for("jobs.result", job_id=kept[0].id))


@bp.post("/batches/<int:batch_id>/flags")
@require(Permission.RESULT_REVIEW)
def report_flags(batch_id: int):
    batch = _batch(batch_id)
    selected = []
    for value in request.form.getlist("flag"):
        fi, _, kind = value.partition(":")
        if fi.isdigit() and kind in FlagKind.__members__.values():
            selected.append((int(fi), kind))
    kept = stats_jobs.latest_snapshot(batch)
    if kept is None:
        raise NotFound("尚未计算统计；请先在统计页面计算")
    perform(lambda: stats.report_flags(current_user, batch, selected, forms=kept[1]["forms"]),
            success="已将所选标记报告至题库，题目进入待修订")
    return redirect(url_for("analysis.batch", batch_id=batch.id))


@bp.route("/batches/<int:batch_id>/items/<int:form_item_id>/key", methods=["GET", "POST"], endpoint="key")
@require(Permission.ITEM_REVIEW)
def key_page(batch_id: int, form_item_id: int):
    batch = _batch(batch_id)
    fi = _form_item(batch, form_item_id)
    if request.method == "POST":
        _fix_row, error = attempt(lambda: keyfix.confirm_key(current_user, batch, fi, request.form.get("key"),
                                                        request.form.get("reason")),
                             success="已确认正确答案，待考务人员预览后应用")
        if isinstance(error, PermissionDenied):
            raise error
        if error is None:
            return redirect(url_for("analysis.key", batch_id=batch.id, form_item_id=fi.id))
    kept = stats_jobs.latest_snapshot(batch)
    report = next((r for r in kept[1]["forms"] if r["form"]["id"] == fi.form_id), None) if kept else None
    row = next((r for r in report["items"] if r["form_item"]["id"] == fi.id), None) if report else None
    if row is None:
        raise NotFound("尚未计算本批次的统计，或统计中没有该题；请先在统计页面计算")
    chart = charts.distractor_svg(row["options"]) if row["options"] else None
    fixes = [f for f in keyfix.fixes_of(batch) if f.form_item_id == fi.id]
    return render_template("analysis/key.html", batch=batch, fi=fi, row=row, report=report, chart=chart,
                           fixes=fixes, version=db.session.get(ItemVersion, row["version"]["id"]))


@bp.get("/key-fixes/<int:fix_id>", endpoint="fix")
@require(Permission.RESULT_REVIEW)
def fix_page(fix_id: int):
    fix = _fix(fix_id)
    rows = keyfix.preview(fix)
    return render_template("analysis/fix.html", fix=fix, batch=fix.batch, rows=rows,
                           changed=[r for r in rows if r.changed],
                           pass_changed=sum(1 for r in rows if r.changed and r.pass_changed))


@bp.post("/key-fixes/<int:fix_id>/apply")
@require(Permission.RESULT_REVIEW)
def fix_apply(fix_id: int):
    fix = _fix(fix_id)
    perform(lambda: keyfix.apply_fix(current_user, fix), success="已按更正后的答案重新评分，原始成绩保留")
    return redirect(url_for("analysis.fix", fix_id=fix.id))


def _fix(fix_id: int) -> KeyFix:
    fix = db.session.get(KeyFix, fix_id)
    if fix is None:
        raise NotFound("未找到该答案更正")
    _batch(fix.batch_id)  # scope: the batch's organisation
    return fix
