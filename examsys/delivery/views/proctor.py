"""Delivery staff pages: the proctor console (考场监控). The batch's own proctors see and act on
it; the supervisor the authority assigned to the batch sees it read-only (no actions, no room
access codes); everyone else gets 404. The live table refreshes from a read-only JSON endpoint
polled by static/js/proctor.js; every action needs a reason and is recorded (Incident + audit)."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from examsys import transaction
from examsys.delivery import pdf_jobs
from examsys.delivery.batches import services as svc
from examsys.delivery.exam import services as exam
from examsys.delivery.forms import ProctorActionForm
from examsys.delivery.views.blueprint import bp
from examsys.errors import NotFound
from examsys.jobs.views import follow
from examsys.permissions import Permission, require

CONSOLE = Permission.PROCTOR_CONSOLE


@bp.get("/proctor")
@require(CONSOLE)
def proctor_batches():
    return render_template("delivery/proctor_batches.html", batches=exam.proctored_batches(current_user),
                           window_label=svc.window_label)


@bp.get("/proctor/<int:batch_id>")
@require(Permission.BATCH_VIEW)
def proctor_console(batch_id: int):
    batch, read_only = exam.get_watched(batch_id, current_user)
    return render_template("delivery/proctor.html", batch=batch, rooms=exam.console(batch), read_only=read_only,
                           window=svc.window_label(batch), form=ProctorActionForm(),
                           incidents=exam.incidents(batch), labels=exam.INCIDENT_LABELS,
                           own_room=next((s.room_id for s in batch.staff if s.user_id == current_user.id), None))


@bp.get("/proctor/<int:batch_id>/events")
@require(Permission.BATCH_VIEW)
def proctor_events(batch_id: int):
    """The integrity events behind the console's anomaly counts (作答异常记录): the batch's, or
    one candidate's (?attempt=ID). Evidence to look at, never a verdict."""
    batch, read_only = exam.get_watched(batch_id, current_user)
    attempt_id = request.args.get("attempt", type=int)
    return render_template("delivery/proctor_events.html", batch=batch, events=exam.events_of(batch, attempt_id),
                           read_only=read_only, attempt_id=attempt_id, kinds=exam.INTEGRITY_LABELS,
                           sources=exam.INTEGRITY_SOURCE_LABELS, data_labels=exam.INTEGRITY_DATA_LABELS)


@bp.get("/proctor/<int:batch_id>/status.json")
@require(Permission.BATCH_VIEW)
def proctor_status(batch_id: int):
    batch, _read_only = exam.get_watched(batch_id, current_user)
    return jsonify(exam.console_json(batch))


@bp.post("/proctor/<int:batch_id>/actions")
@require(CONSOLE)
def proctor_action(batch_id: int):
    batch = exam.get_proctored(batch_id, current_user)
    form = ProctorActionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
        return redirect(url_for("delivery.proctor_console", batch_id=batch.id)), 303

    _done, error = transaction.attempt(lambda: exam.proctor_act(
        current_user, batch, form.action.data, reason=form.reason.data, attempt_id=form.attempt_id.data,
        room_id=form.room_id.data, minutes=form.minutes.data or 0, scope=form.scope.data))
    if isinstance(error, NotFound):
        raise error
    if error is not None:
        flash(error.message, "error")
    else:
        flash("已记录", "success")
    return redirect(url_for("delivery.proctor_console", batch_id=batch.id)), 303


@bp.post("/proctor/<int:batch_id>/rooms/<int:room_id>/record.pdf")
@require(CONSOLE)
def proctor_room_record(batch_id: int, room_id: int):
    batch = exam.get_proctored(batch_id, current_user)
    room = next((r for r in batch.rooms if r.id == room_id), None)
    if room is None:
        raise NotFound("未找到该考场")
    return follow(lambda: pdf_jobs.request_room_record(current_user, batch, room.id),
                  url_for("delivery.proctor_console", batch_id=batch.id))
