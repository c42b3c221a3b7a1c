"""The supervision pages (/supervision): the authority assigns supervisors to batches and sees
their conflict-of-interest declarations; a supervisor sees the batches assigned to them, each
batch's timeline, every candidate's timeline and one item's answer history (each such look is
recorded), the anomaly flags, records findings and fills in, signs and downloads the internal
supervision form (内部督导表). A batch not assigned to the supervisor is not found (404).

The batch's console, results and paper are the delivery and assembly pages themselves, which let
the assigned supervisor through read-only (examsys.permissions.may_supervise_batch)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from examsys.audit.archive.build import ARCHIVABLE
from examsys.delivery.batches import services as batches
from examsys.delivery.exam.services import ATTEMPT_STATUS_LABELS
from examsys.delivery.models import Attempt
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.permissions import Permission, Role, has_permission, require
from examsys.reports import supervision as reports
from examsys.supervision import flags, timeline
from examsys.supervision import services as svc
from examsys.supervision.forms import AssignForm, ConfirmForm, ConflictForm, FindingForm, SheetForm
from examsys.viewutil import perform

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
SUPERVISE, ASSIGN = Permission.SUPERVISE, Permission.SUPERVISION_ASSIGN


@bp.context_processor
def _helpers():
    return {"BATCH_STATE_LABELS": batches.BATCH_STATE_LABELS, "ATTEMPT_STATUS_LABELS": ATTEMPT_STATUS_LABELS}


def _orgs() -> dict:
    return {o.id: o for o in svc.organisations()}


# --- the supervisor's batches ----------------------------------------------------------------------


@bp.get("/")
@require(SUPERVISE)
def index():
    if has_permission(current_user, ASSIGN) and not current_user.has_role(Role.SUPERVISOR):
        return redirect(url_for("supervision.assignments"))  # the authority's side of supervision
    return render_template("supervision/index.html", assignments=svc.my_assignments(current_user),
                           window_label=batches.window_label, orgs=_orgs())


@bp.get("/batches/<int:batch_id>")
@require(SUPERVISE)
def batch(batch_id: int):
    b = svc.supervised_batch(batch_id, current_user)
    attempts = {a.roster_entry_id: a for a in db.session.scalars(select(Attempt).where(Attempt.batch_id == b.id))}
    sheet = _sheet_form(b)
    entries, pages = timeline.batch_timeline(b, request.args.get("page", 1, type=int))
    return render_template("supervision/batch.html", batch=b, window=batches.window_label(b),
                           entries=entries, pages=pages, attempts=attempts,
                           flags=flags.batch_anomalies(b.id).flags, findings=svc.findings(b),
                           finding_form=FindingForm(), sheet=sheet, forms=svc.forms_of(b, current_user),
                           current=svc.current_form(b, current_user), confirm=ConfirmForm(),
                           checks=svc.CHECKS, org=_orgs()[b.organisation_id],
                           archivable=b.state in ARCHIVABLE)


@bp.get("/attempts/<int:attempt_id>")
@require(SUPERVISE)
def attempt(attempt_id: int):
    a = svc.supervised_attempt(attempt_id, current_user)
    svc.record_view(current_user, a)
    items = sorted(timeline.paper_view(a).values(), key=lambda i: i["number"])
    form = FindingForm(data={"attempt_id": str(a.id)})
    return render_template("supervision/attempt.html", attempt=a, batch=a.batch, entry=a.roster_entry,
                           entries=timeline.attempt_timeline(a), items=items,
                           flags=flags.attempt_anomalies(a.id).flags, finding_form=form,
                           qtype_label=timeline.qtype_label)


@bp.get("/attempts/<int:attempt_id>/items/<int:form_item_id>")
@require(SUPERVISE)
def item_history(attempt_id: int, form_item_id: int):
    a = svc.supervised_attempt(attempt_id, current_user)
    item = timeline.paper_view(a).get(form_item_id)
    if item is None:
        raise NotFound("未找到该试题")
    svc.record_view(current_user, a, form_item_id=form_item_id)
    saves = [(h, timeline.answer_text(item, h.answer)) for h in timeline.history_rows(a, form_item_id)]
    return render_template("supervision/item.html", attempt=a, batch=a.batch, entry=a.roster_entry, item=item,
                           saves=saves, qtype_label=timeline.qtype_label(item))


# --- findings and the internal supervision form -----------------------------------------------------


@bp.post("/batches/<int:batch_id>/findings")
@require(SUPERVISE)
def finding_new(batch_id: int):
    b = svc.supervised_batch(batch_id, current_user)
    form = FindingForm()
    target = None
    if (form.attempt_id.data or "").isdigit():
        target = svc.supervised_attempt(int(form.attempt_id.data), current_user)
    perform(lambda: svc.record_finding(current_user, b, form.category.data or "", form.text.data or "",
                                       attempt=target), success="督导发现已记录")
    if target is not None:
        return redirect(url_for("supervision.attempt", attempt_id=target.id) + "#findings", 303)
    return redirect(url_for("supervision.batch", batch_id=b.id) + "#findings", 303)


def _sheet_form(b) -> SheetForm:
    current = svc.current_form(b, current_user)
    data = {"checks": current.checks, "conclusion": current.conclusion} if current is not None else None
    sheet = SheetForm(data=data) if request.method == "GET" else SheetForm()
    sheet.checks.choices = list(svc.CHECKS.items())
    return sheet


@bp.post("/batches/<int:batch_id>/form")
@require(SUPERVISE)
def form_save(batch_id: int):
    b = svc.supervised_batch(batch_id, current_user)
    sheet = _sheet_form(b)
    perform(lambda: svc.save_form(current_user, b, checks=list(sheet.checks.data or []),
                                  conclusion=sheet.conclusion.data or ""), success="督导表草稿已保存")
    return redirect(url_for("supervision.batch", batch_id=b.id) + "#sheet", 303)


@bp.post("/forms/<int:form_id>/sign")
@require(SUPERVISE)
def form_sign(form_id: int):
    form = svc.get_form(form_id, current_user)
    perform(lambda: svc.sign_form(current_user, form), success="督导表已签署，内容已冻结")
    return redirect(url_for("supervision.batch", batch_id=form.batch_id) + "#sheet", 303)


@bp.post("/batches/<int:batch_id>/form/new")
@require(SUPERVISE)
def form_new_version(batch_id: int):
    b = svc.supervised_batch(batch_id, current_user)
    perform(lambda: svc.new_version(current_user, b), success="已新建督导表版本")
    return redirect(url_for("supervision.batch", batch_id=b.id) + "#sheet", 303)


@bp.get("/forms/<int:form_id>/form.pdf")
@require(SUPERVISE)
def form_pdf(form_id: int):
    form = svc.get_form(form_id, current_user)
    b = svc.supervised_batch(form.batch_id, current_user)
    name = f"内部督导表-{b.id}-第{form.version}版{'' if form.signed else '（草稿）'}.pdf"
    return Response(reports.supervision_form_pdf(form, b), mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=supervision.pdf; filename*=UTF-8''{quote(name)}"})


# --- conflicts of interest ---------------------------------------------------------------------------


@bp.route("/conflicts", methods=["GET", "POST"])
@require(SUPERVISE)
def conflicts():
    form = ConflictForm()
    form.organisation_id.choices = [(o.id, f"{o.name}（{o.code}）") for o in svc.organisations()
                                    if o.id != current_user.organisation_id]
    if form.validate_on_submit():
        org = next((o for o in svc.organisations() if o.id == form.organisation_id.data), None)
        if org is None:
            raise NotFound("未找到该机构")
        if perform(lambda: svc.declare_conflict(current_user, org, form.reason.data), success="已申报利益冲突"):
            return redirect(url_for("supervision.conflicts"), 303)
    everyone = has_permission(current_user, ASSIGN)  # the authority sees every declaration
    rows = svc.conflicts(None if everyone else current_user)
    return render_template("supervision/conflicts.html", form=form, rows=rows, everyone=everyone,
                           declares=current_user.has_role(Role.SUPERVISOR))


# --- assignments (the authority) -----------------------------------------------------------------------


@bp.get("/assignments")
@require(ASSIGN)
def assignments():
    people = svc.supervisors()
    rows = []
    for b in svc.all_batches():
        form = AssignForm(prefix=f"b{b.id}")
        form.supervisor_id.choices = [(u.id, u.display_name) for u in people]
        rows.append((b, svc.running_assignments(b), form))
    return render_template("supervision/assignments.html", rows=rows, confirm=ConfirmForm(), orgs=_orgs(),
                           window_label=batches.window_label, conflicted={
                               (c.supervisor_id, c.organisation_id) for c in svc.conflicts()})


@bp.post("/batches/<int:batch_id>/assign")
@require(ASSIGN)
def assign(batch_id: int):
    b = svc.batch_for_authority(batch_id)
    form = AssignForm(prefix=f"b{b.id}")
    form.supervisor_id.choices = [(u.id, u.display_name) for u in svc.supervisors()]
    if form.validate_on_submit():
        person = next(u for u in svc.supervisors() if u.id == form.supervisor_id.data)  # a listed choice
        perform(lambda: svc.assign(current_user, b, person), success=f"已委派 {person.display_name} 督导该批次")
    return redirect(url_for("supervision.assignments") + f"#batch-{b.id}", 303)


@bp.post("/assignments/<int:assignment_id>/end")
@require(ASSIGN)
def assignment_end(assignment_id: int):
    row = svc.assignment_for_authority(assignment_id)
    perform(lambda: svc.end_assignment(current_user, row), success="已结束该督导委派")
    return redirect(url_for("supervision.assignments") + f"#batch-{row.batch_id}", 303)
