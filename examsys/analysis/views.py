"""Statistics pages (blueprint `bp`, /analysis): a marked batch's statistics per form with charts
and flags, and as PDF (RESULT_REVIEW in the batch's organisation), sending flags to the bank, the reviewer's
key confirmation beside the item's evidence (ITEM_REVIEW), and the preview and application of a
confirmed key fix (RESULT_REVIEW, a second person)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, redirect, render_template, request, url_for
from flask import Response as FlaskResponse
from flask_login import current_user

from examsys import clock
from examsys.accounts.models import Organisation
from examsys.analysis import charts, keyfix
from examsys.analysis import services as stats
from examsys.analysis.flags import FLAG_LABELS, FlagKind
from examsys.analysis.models import KeyFix
from examsys.assembly.models import PaperFormItem
from examsys.delivery.models import Batch
from examsys.errors import NotFound, PermissionDenied
from examsys.extensions import db
from examsys.permissions import Permission, require
from examsys.reports.pdf import render_pdf
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


def _charts(report) -> dict:
    hist = report.stats.histogram
    out = {"histogram": charts.histogram_svg(hist["edges"], hist["counts"], pass_mark=report.pass_mark,
                                             title=report.form.label)}
    for row in report.items:
        if row.options:
            out[row.form_item.id] = charts.distractor_svg(row.options)
    return out


@bp.get("/batches/<int:batch_id>", endpoint="batch")
@require(Permission.RESULT_REVIEW)
def batch_page(batch_id: int):
    batch = _batch(batch_id)
    reports = stats.batch_statistics(batch)
    return render_template("analysis/batch.html", batch=batch, reports=reports,
                           charts={r.form.id: _charts(r) for r in reports},
                           comparisons=stats.comparability(reports), fixes=keyfix.fixes_of(batch),
                           FLAG_LABELS=FLAG_LABELS, WRONG_KEY=FlagKind.LIKELY_WRONG_KEY)


@bp.get("/batches/<int:batch_id>/statistics.pdf")
@require(Permission.RESULT_REVIEW)
def batch_pdf(batch_id: int):
    batch = _batch(batch_id)
    reports = stats.batch_statistics(batch)
    data = render_pdf("reports/statistics.html", batch=batch, reports=reports,
                      charts={r.form.id: _charts(r) for r in reports},
                      organisation=db.session.get(Organisation, batch.organisation_id),
                      printed_at=clock.to_display(clock.now()))
    resp = FlaskResponse(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'试题统计-{batch.id}.pdf')}"
    return resp


@bp.post("/batches/<int:batch_id>/flags")
@require(Permission.RESULT_REVIEW)
def report_flags(batch_id: int):
    batch = _batch(batch_id)
    selected = []
    for value in request.form.getlist("flag"):
        fi, _, kind = value.partition(":")
        if fi.isdigit() and kind in FlagKind.__members__.values():
            selected.append((int(fi), kind))
    perform(lambda: stats.report_flags(current_user, batch, selected), success="已将所选标记报告至题库，题目进入待修订")
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
    report = next((r for r in stats.batch_statistics(batch) if r.form.id == fi.form_id), None)
    row = next((r for r in report.items if r.form_item.id == fi.id), None) if report else None
    if row is None:
        raise NotFound("未找到该题的统计")
    chart = charts.distractor_svg(row.options) if row.options else None
    fixes = [f for f in keyfix.fixes_of(batch) if f.form_item_id == fi.id]
    return render_template("analysis/key.html", batch=batch, fi=fi, row=row, report=report, chart=chart,
                           fixes=fixes, version=row.version)


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
