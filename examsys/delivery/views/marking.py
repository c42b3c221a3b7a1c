"""Delivery staff pages: marking (阅卷) — the batches to mark, a batch's marking queue, the
arbitration queue and the marking form. Markers see the item, the answer and a marking code,
never who wrote the answer."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from examsys import transaction
from examsys.delivery.models import Batch, BatchState, ItemScore
from examsys.delivery.scoring import services as scoring
from examsys.delivery.views.blueprint import bp
from examsys.errors import NotFound, PermissionDenied
from examsys.extensions import db
from examsys.permissions import Permission, may_mark, require
from examsys.tenancy import get_scoped, scoped


def _batch(batch_id: int) -> Batch:
    batch = get_scoped(Batch, batch_id, current_user)
    may_mark(current_user, batch).enforce()
    return batch


def _item_score(item_score_id: int) -> ItemScore:
    s = db.session.get(ItemScore, item_score_id)
    if s is None:
        raise NotFound("未找到该评卷任务")
    _batch(s.batch_id)
    return s


@bp.get("/marking")
@require(Permission.MARK)
def marking_index():
    batches = [b for b in db.session.scalars(scoped(Batch, current_user).where(Batch.state == BatchState.CLOSED)
                                             .order_by(Batch.window_start.desc()))
               if may_mark(current_user, b)]
    return render_template("delivery/marking/index.html", rows=[(b, scoring.progress(b)) for b in batches])


@bp.get("/batches/<int:batch_id>/marking")
@require(Permission.MARK)
def marking_queue(batch_id: int):
    batch = _batch(batch_id)
    return render_template("delivery/marking/queue.html", batch=batch, tasks=scoring.queue(batch, current_user),
                           progress=scoring.progress(batch), arbitration=False)


@bp.get("/batches/<int:batch_id>/arbitration")
@require(Permission.MARK)
def marking_arbitration(batch_id: int):
    batch = _batch(batch_id)
    return render_template("delivery/marking/queue.html", batch=batch,
                           tasks=scoring.arbitration_queue(batch, current_user),
                           progress=scoring.progress(batch), arbitration=True)


@bp.route("/marking/<int:item_score_id>", methods=["GET", "POST"])
@require(Permission.MARK)
def marking_form(item_score_id: int):
    item_score = _item_score(item_score_id)
    batch = item_score.attempt.batch
    back = url_for("delivery.marking_queue", batch_id=batch.id)
    if request.method == "POST":
        mark, error = transaction.attempt(lambda: scoring.record_mark(
            current_user, item_score, request.form.get("score", ""), request.form.get("comment", "")))
        if isinstance(error, PermissionDenied):
            raise error
        if error is not None:
            flash(error.message, "error")
        else:
            flash(f"已评分（{item_score.marking_code}，第 {mark.round} 评）", "success")
            if mark.round == 3:
                return redirect(url_for("delivery.marking_arbitration", batch_id=batch.id))
            return redirect(back)
    task, error = transaction.attempt(lambda: scoring.task_for(item_score, current_user))
    if isinstance(error, PermissionDenied):
        raise error
    if error is not None:
        flash(error.message, "warning")
        return redirect(back)
    return render_template("delivery/marking/form.html", batch=batch, task=task, back=back)
