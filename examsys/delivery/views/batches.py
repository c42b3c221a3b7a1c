"""Delivery staff pages: batches (评价批次) — the list, the batch page, the editor (planned only),
the roster upload with a dry-run preview and confirm, filing (备案), filing changes (备案变更),
closing, and the batch's PDFs. BATCH_VIEW reads (object policy ``permissions.can_view_batch``),
BATCH_MANAGE changes (own organisation only)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from examsys import transaction
from examsys.accounts.models import CertificateKind, User, UserRole
from examsys.assembly.models import Paper, PaperStatus
from examsys.audit.archive import build as archive
from examsys.audit.archive import jobs as archive_jobs
from examsys.delivery import pdf_jobs
from examsys.delivery.batches import services as svc
from examsys.delivery.forms import (
    BatchForm,
    CloseForm,
    FilingChangeForm,
    ReasonForm,
    to_local_naive,
    to_utc,
)
from examsys.delivery.models import Batch, BatchState
from examsys.delivery.views.blueprint import bp
from examsys.delivery.views.steps import next_step
from examsys.errors import NotFound, PermissionDenied
from examsys.extensions import db
from examsys.jobs.views import follow
from examsys.permissions import (
    Permission,
    Role,
    can_manage_batch,
    is_assigned_supervisor,
    may_download_archive,
    may_print_tickets,
    require,
)
from examsys.standards.models import LEVELS, Standard, StandardStatus
from examsys.viewutil import perform

VIEW, MANAGE = Permission.BATCH_VIEW, Permission.BATCH_MANAGE


@bp.context_processor
def _helpers():
    return {"BATCH_STATE_LABELS": svc.BATCH_STATE_LABELS, "LEVELS": LEVELS}


# --- list and page ----------------------------------------------------------------------------


@bp.get("/batches")
@require(VIEW)
def batches():
    rows = db.session.scalars(svc.visible_batches(current_user).order_by(Batch.window_start.desc())).all()
    standards = {s.id: s for s in db.session.scalars(select(Standard).where(
        Standard.id.in_({b.standard_id for b in rows} or {0})))}
    return render_template("delivery/batches.html", batches=rows, standards=standards,
                           supervised={b.id for b in rows if is_assigned_supervisor(current_user, b)})


def _seat_order(entry) -> tuple:
    """Room by room in the rooms' order, seat by seat; candidates not yet seated (no room had a
    place for them) last, by ticket number."""
    if entry.room is None or entry.seat_no is None:
        return (1, 0, 0, entry.ticket_no)
    return (0, entry.room.position, entry.seat_no, entry.ticket_no)


@bp.get("/batches/<int:batch_id>")
@require(VIEW)
def batch(batch_id: int):
    b = svc.get_visible(batch_id, current_user)
    standard = db.session.get(Standard, b.standard_id)
    paper = db.session.get(Paper, b.paper_id) if b.paper_id else None
    counts = svc.room_counts(b)
    rooms = [{"room": r, "count": counts.get(r.id, 0),
              "proctors": [(s.user, *svc.certificate_status(s.user, CertificateKind.EXAMINER, b))
                           for s in svc.proctors_of(b, r)]} for r in b.rooms]
    supervisor = None
    if b.supervisor is not None:
        supervisor = (b.supervisor, *svc.certificate_status(b.supervisor, CertificateKind.SUPERVISOR, b))
    manage = can_manage_batch(current_user, b)
    return render_template(
        "delivery/batch.html", batch=b, standard=standard, paper=paper, rooms=rooms, supervisor=supervisor,
        roster=sorted(b.roster, key=_seat_order),
        markers=[s.user for s in svc.markers_of(b)], changes=svc.filing_history(b), manage=manage,
        problems=svc.filing_problems(b) if manage and b.state == BatchState.PLANNED else [],
        window=svc.window_label(b), action=ReasonForm(), close_form=CloseForm(),
        next=next_step(b, svc.window_label(b)),
        supervising=is_assigned_supervisor(current_user, b),
        running=svc.in_progress_count(b) if b.state in (BatchState.OPEN, BatchState.FILED) else 0,
        archive=bool(may_download_archive(current_user, b)) and b.state in archive.ARCHIVABLE,
        users={u.id: u for u in db.session.scalars(select(User).where(User.id.in_(
            {c.changed_by_id for c in svc.filing_history(b)} or {0})))})


# --- create / edit ----------------------------------------------------------------------------


def _org_users(role: Role, org_id: int | None) -> list[User]:
    stmt = select(User).join(UserRole).where(UserRole.role == role, User.active.is_(True))
    if org_id is not None:
        stmt = stmt.where(User.organisation_id == org_id)
    return list(db.session.scalars(stmt.order_by(User.display_name)))


def _forms_of(p: Paper) -> str:
    if p.per_candidate:
        return f"一人一卷 {(p.solve_stats or {}).get('forms', '')} 份"
    return "/".join(f.label for f in p.forms) + " 卷"


def _set_choices(form: BatchForm, org_id: int) -> None:
    standards = db.session.scalars(select(Standard).where(Standard.status == StandardStatus.CURRENT)
                                   .order_by(Standard.code)).all()
    form.standard_id.choices = [(s.id, s.title) for s in standards]
    form.level.choices = [(k, v) for k, v in sorted(LEVELS.items(), reverse=True)]
    papers = db.session.scalars(select(Paper).where(Paper.organisation_id == org_id,
                                                    Paper.status == PaperStatus.FROZEN)
                                .order_by(Paper.frozen_at.desc())).all()
    form.paper_id.choices = [(0, "（暂不选择）")] + [
        (p.id, f"{p.name}（{LEVELS.get(p.level, p.level)}，{_forms_of(p)}）") for p in papers]
    proctors = [(u.id, u.display_name) for u in _org_users(Role.PROCTOR, org_id)]
    form.markers.choices = proctors
    for row in form.rooms:
        row.form.proctors.choices = proctors


def _initial(b: Batch) -> dict:
    return {
        "version": str(b.version), "name": b.name, "standard_id": b.standard_id, "level": b.level,
        "venue": b.venue, "window_start": to_local_naive(b.window_start), "window_end": to_local_naive(b.window_end),
        "paper_id": b.paper_id or 0, "duration_minutes": b.duration_minutes,
        "markers": [s.user_id for s in svc.markers_of(b)],
        "rooms": [{"name": r.name, "capacity": r.capacity,
                   "proctors": [s.user_id for s in svc.proctors_of(b, r)]} for r in b.rooms] + [{}],
        **{k: getattr(b, k) for k in ("grace_seconds", "start_jitter_seconds", "candidates_per_proctor",
                                      "min_proctors_per_room", "require_access_code", "shuffle_items",
                                      "shuffle_options", "notice_days", "review_apply_days",
                                      "review_answer_days")},
        "seb_config_key": b.seb_config_key or "",
    }


def _input(form: BatchForm) -> svc.BatchInput:
    settings = {k: getattr(form, k).data for k in ("grace_seconds", "start_jitter_seconds",
                                                   "candidates_per_proctor", "min_proctors_per_room",
                                                   "notice_days", "review_apply_days", "review_answer_days")}
    settings |= {k: bool(getattr(form, k).data) for k in ("require_access_code", "shuffle_items",
                                                           "shuffle_options")}
    settings["seb_config_key"] = form.seb_config_key.data or ""
    rooms = [svc.RoomInput(name=(r.form.name.data or "").strip(), capacity=r.form.capacity.data or 30,
                           proctor_ids=list(r.form.proctors.data or []))
             for r in form.rooms if (r.form.name.data or "").strip()]
    return svc.BatchInput(
        standard_id=form.standard_id.data, level=form.level.data, name=form.name.data or "",
        venue=form.venue.data or "", window_start=to_utc(form.window_start.data),
        window_end=to_utc(form.window_end.data), paper_id=form.paper_id.data or None,
        duration_minutes=form.duration_minutes.data or None, rooms=rooms,
        marker_ids=list(form.markers.data or []), settings=settings)


def _editor(b: Batch | None):
    if request.method == "GET":
        if b is not None:
            form = BatchForm(data=_initial(b))
        else:
            form = BatchForm(data={"rooms": [{"name": "第1考场", "capacity": 30}, {}]})
    else:
        form = BatchForm()
    if request.method == "POST" and request.form.get("action") == "add_room":
        form.rooms.append_entry()
    _set_choices(form, current_user.organisation_id)
    errors: list[str] = []
    if request.method == "POST" and request.form.get("action") != "add_room":
        if form.validate_on_submit():
            data, version = _input(form), form.version.data
            if b is None:
                saved, error = transaction.attempt(
                    lambda: svc.create_batch(current_user, current_user.organisation, data))
            else:
                saved, error = transaction.attempt(lambda: svc.update_batch(
                    current_user, b, data, expected_version=int(version) if (version or "").isdigit() else None))
            if error is not None:
                errors = error.details.get("errors") or [error.message]
            else:
                flash("批次已保存", "success")
                return redirect(url_for("delivery.batch", batch_id=saved.id))
        else:
            errors = ["请检查标红的字段"]
    return render_template("delivery/batch_form.html", form=form, batch=b, errors=errors), 422 if errors else 200


@bp.route("/batches/new", methods=["GET", "POST"])
@require(MANAGE)
def batch_new():
    return _editor(None)


@bp.route("/batches/<int:batch_id>/edit", methods=["GET", "POST"])
@require(MANAGE)
def batch_edit(batch_id: int):
    b = svc.get_managed(batch_id, current_user)
    if b.state != BatchState.PLANNED:
        flash("批次已备案，请通过“备案变更”修改", "error")
        return redirect(url_for("delivery.filing_change", batch_id=b.id))
    return _editor(b)


# --- filing, changes, closing -------------------------------------------------------------------


@bp.post("/batches/<int:batch_id>/file")
@require(MANAGE)
def batch_file(batch_id: int):
    b = svc.get_managed(batch_id, current_user)
    _filed, error = transaction.attempt(lambda: svc.file_batch(current_user, b))
    if error is None:
        flash("已备案：考生名单、试卷和考务人员已锁定", "success")
    else:
        for message in error.details.get("errors") or [error.message]:
            flash(message, "error")
    return redirect(url_for("delivery.batch", batch_id=b.id))


@bp.route("/batches/<int:batch_id>/change", methods=["GET", "POST"])
@require(MANAGE)
def filing_change(batch_id: int):
    b = svc.get_managed(batch_id, current_user)
    if request.method == "GET":
        form = FilingChangeForm(data={
            "name": b.name, "venue": b.venue, "window_start": to_local_naive(b.window_start),
            "window_end": to_local_naive(b.window_end), "duration_minutes": b.duration_minutes,
            "grace_seconds": b.grace_seconds,
            "markers": [s.user_id for s in svc.markers_of(b)],
            "rooms": [{"room_id": str(r.id), "proctors": [s.user_id for s in svc.proctors_of(b, r)]}
                      for r in b.rooms]})
    else:
        form = FilingChangeForm()
    proctors = [(u.id, u.display_name) for u in _org_users(Role.PROCTOR, b.organisation_id)]
    form.markers.choices = proctors
    for row in form.rooms:
        row.form.proctors.choices = proctors
    room_names = {str(r.id): r.name for r in b.rooms}
    errors: list[str] = []
    if request.method == "POST":
        if form.validate_on_submit():
            changes = {"name": form.name.data.strip(), "venue": (form.venue.data or "").strip(),
                       "window_start": to_utc(form.window_start.data), "window_end": to_utc(form.window_end.data),
                       "duration_minutes": form.duration_minutes.data,
                       "grace_seconds": form.grace_seconds.data if form.grace_seconds.data is not None
                       else b.grace_seconds,
                       "marker_ids": list(form.markers.data or []),
                       "proctors": {int(r.form.room_id.data): list(r.form.proctors.data or [])
                                    for r in form.rooms if (r.form.room_id.data or "").isdigit()}}
            row, error = transaction.attempt(lambda: svc.change_filing(current_user, b, form.reason.data, **changes))
            if error is not None:
                errors = error.details.get("errors") or [error.message]
            else:
                flash("备案变更已记录" if row else "没有变更任何内容", "success" if row else "info")
                return redirect(url_for("delivery.batch", batch_id=b.id))
        else:
            errors = ["请检查标红的字段"]
    return render_template("delivery/filing_change.html", batch=b, form=form, errors=errors,
                           room_names=room_names), 422 if errors else 200


@bp.post("/batches/<int:batch_id>/close")
@require(MANAGE)
def batch_close(batch_id: int):
    b = svc.get_managed(batch_id, current_user)
    form = CloseForm()
    perform(lambda: svc.close_batch(current_user, b, force=bool(form.force.data), reason=form.reason.data or ""),
            success="考试已结束")
    return redirect(url_for("delivery.batch", batch_id=b.id))


# --- PDFs -------------------------------------------------------------------------------------


@bp.post("/batches/<int:batch_id>/filing.pdf")
@require(VIEW)
def filing_pdf(batch_id: int):
    """Ask for the filing pack: rendered by the job worker, followed on the job's page."""
    b = svc.get_visible(batch_id, current_user)
    return follow(lambda: pdf_jobs.request_filing_pack(current_user, b), _downloads(b))


@bp.post("/batches/<int:batch_id>/tickets.pdf")
@require(VIEW)
def tickets_pdf(batch_id: int):
    """Ask for the admission tickets of the whole roster (rendered part by part by the worker)."""
    b = svc.get_visible(batch_id, current_user)
    if not may_print_tickets(current_user, b):
        raise NotFound("未找到该评价批次")
    return follow(lambda: pdf_jobs.request_tickets(current_user, b), _downloads(b))


@bp.post("/batches/<int:batch_id>/rooms/<int:room_id>/record.pdf")
@require(VIEW)
def room_record_pdf(batch_id: int, room_id: int):
    b = svc.get_visible(batch_id, current_user)
    if not any(r.id == room_id for r in b.rooms):
        raise NotFound("未找到该考场")
    return follow(lambda: pdf_jobs.request_room_record(current_user, b, room_id), _downloads(b))


def _downloads(b: Batch) -> str:
    return url_for("delivery.batch", batch_id=b.id, _anchor="downloads")


@bp.post("/batches/<int:batch_id>/archive.zip")
@require(VIEW)
def archive_zip(batch_id: int):
    """Ask for the batch archive: built by the job worker, followed on the job's page (progress,
    then the download)."""
    b = svc.get_visible(batch_id, current_user)
    job, error = transaction.attempt(lambda: archive_jobs.request_archive(current_user, b))
    if error is not None:
        if isinstance(error, PermissionDenied):
            raise error
        flash(error.message, "error")
        return redirect(url_for("delivery.batch", batch_id=b.id))
    return redirect(url_for("jobs.job", job_id=job.id))
