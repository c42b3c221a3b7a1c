"""The review queue (审题), the review page of one version, and batch approval."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from examsys.accounts.models import User
from examsys.bank import services, similarity
from examsys.bank.forms import QTYPE_LABELS, BatchApproveForm, ReviewForm
from examsys.bank.models import Item, ItemVersion, QType, VersionStatus
from examsys.bank.views.common import bp, get_version, point_ranges, standard_choices
from examsys.extensions import db
from examsys.permissions import Permission, require, sees_all_organisations
from examsys.standards.models import IMPORTANCE_LABELS, LEVELS, AssessmentPoint, Standard
from examsys.viewutil import attempt, perform, refusal_status


@bp.get("/review")
@require(Permission.ITEM_REVIEW)
def review_queue():
    stmt = (select(ItemVersion).join(Item, Item.id == ItemVersion.item_id)
            .where(ItemVersion.status == VersionStatus.SUBMITTED)
            .order_by(ItemVersion.submitted_at, ItemVersion.id))
    if not sees_all_organisations(current_user):
        stmt = stmt.where(Item.organisation_id == current_user.organisation_id)
    filters = {k: request.args.get(k, "") for k in ("standard_id", "qtype", "author", "code", "mine")}
    if filters["standard_id"].isdigit():
        stmt = stmt.where(Item.standard_id == int(filters["standard_id"]))
    if filters["qtype"] in {t.value for t in QType}:
        stmt = stmt.where(ItemVersion.qtype == QType(filters["qtype"]))
    if filters["author"]:
        stmt = stmt.join(User, User.id == ItemVersion.author_id).where(
            User.username.contains(filters["author"]) | User.display_name.contains(filters["author"]))
    if filters["code"]:
        stmt = stmt.join(AssessmentPoint, AssessmentPoint.id == ItemVersion.point_id).where(
            AssessmentPoint.code.startswith(filters["code"]))
    if filters["mine"] != "1":
        # Versions one wrote oneself can't be approved by oneself: hide them unless asked.
        stmt = stmt.where(ItemVersion.author_id != current_user.id)
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.paginate(stmt, page=page, per_page=50, error_out=False)
    form = BatchApproveForm()
    args = {k: v for k, v in filters.items() if v}
    return render_template("bank/review_queue.html", rows=rows, form=form, filters=filters, args=args,
                           standards=standard_choices(), QTYPE_LABELS=QTYPE_LABELS)


@bp.route("/versions/<int:version_id>/review", methods=["GET", "POST"])
@require(Permission.ITEM_REVIEW)
def version_review(version_id: int):
    version = get_version(version_id)
    item = version.item
    form = ReviewForm()
    error = None
    if form.validate_on_submit():
        if form.approve.data:
            _, error = attempt(lambda: services.approve(current_user, version, comment=form.comment.data or ""),
                               success="已通过")
        else:
            _, error = attempt(lambda: services.return_version(
                current_user, version, comment=form.comment.data or "", field_comments=form.field_comments()),
                success="已退回命题人修改")
        if error is None:
            return redirect(url_for("bank.review_queue"))
    previous = item.active_version if item.active_version_id != version.id else None
    diff = services.version_diff(previous, version) if previous is not None else None
    similar = similarity.similar_items(item.organisation_id, item.search_text, exclude_item_id=item.id,
                                       limit=5)
    point = db.session.get(AssessmentPoint, version.point_id) if version.point_id else None
    return render_template("bank/review.html", version=version, item=item, form=form, diff=diff,
                           previous=previous, similar=similar, QTYPE_LABELS=QTYPE_LABELS, point=point,
                           standard=db.session.get(Standard, item.standard_id),
                           path=point_ranges(point), LEVELS=LEVELS,
                           IMPORTANCE_LABELS=IMPORTANCE_LABELS), refusal_status(error)


@bp.post("/review/batch")
@require(Permission.ITEM_REVIEW)
def review_batch():
    form = BatchApproveForm()
    ids = [int(v) for v in request.form.getlist("version_ids") if v.isdigit()]
    if not ids:
        flash("请先勾选要通过的试题", "warning")
        return redirect(url_for("bank.review_queue"))
    versions = [get_version(i) for i in ids]
    perform(lambda: services.batch_approve(current_user, versions, comment=form.comment.data or ""),
            success=f"已批量通过 {len(versions)} 道试题")
    return redirect(url_for("bank.review_queue"))
