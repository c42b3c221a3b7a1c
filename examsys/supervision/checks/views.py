"""The spot-check pages (/spot-checks): the list of checks the user may see with overdue
rectifications flagged; recording a check of an assigned batch against the indicator checklist;
a check's page with its findings, photos and rectification threads — the supervisor adds
findings and closes or reopens them, the organisation answers them with evidence."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from examsys.delivery.batches import services as batches
from examsys.errors import NotFound
from examsys.permissions import (
    Permission,
    has_permission,
    login_only,
    may_answer_finding,
    may_close_finding,
    require,
)
from examsys.supervision import services as supervision
from examsys.supervision.checks import services as svc
from examsys.supervision.checks.models import CHECK_MODE_LABELS, SEVERITY_LABELS
from examsys.supervision.indicators import versions
from examsys.viewutil import attempt, perform

bp = Blueprint("spotchecks", __name__, url_prefix="/spot-checks")


class CheckForm(FlaskForm):
    mode = SelectField(_l("检查方式"), choices=[(k.value, v) for k, v in CHECK_MODE_LABELS.items()])
    checked_on = DateField(_l("检查日期"), validators=[DataRequired()])
    summary = TextAreaField(_l("检查情况"), validators=[Length(max=4000)])
    submit = SubmitField(_l("保存检查记录"))


class FindingForm(FlaskForm):
    severity = SelectField(_l("严重程度"), choices=[(k.value, v) for k, v in SEVERITY_LABELS.items()])
    indicator = SelectField(_l("对应指标"), choices=[])
    text = TextAreaField(_l("问题描述"), validators=[DataRequired(), Length(max=4000)])
    due_on = DateField(_l("整改期限"), validators=[Optional()])
    submit = SubmitField(_l("记录问题"))


class StepForm(FlaskForm):
    text = TextAreaField(_l("说明"), validators=[Length(max=4000)])
    due_on = DateField(_l("新的整改期限"), validators=[Optional()])
    submit = SubmitField(_l("提交"))


class NoteForm(FlaskForm):
    note = StringField(_l("说明"), validators=[Length(max=1000)])


def _uploads(name: str) -> list[tuple[str, bytes]]:
    return [(Path(f.filename or "photo").name, f.read()) for f in request.files.getlist(name) if f and f.filename]


@bp.get("/")
@login_only
def index():
    oversees = has_permission(current_user, Permission.CITY_OVERSEE)
    return render_template("supervision/checks/index.html", checks=svc.visible_checks(current_user),
                           overdue=svc.overdue(current_user) if oversees else [], today=svc.today(),
                           assignments=supervision.my_assignments(current_user)
                           if has_permission(current_user, Permission.SUPERVISE) else [],
                           own_file=has_permission(current_user, Permission.FINDING_ANSWER))


@bp.route("/batches/<int:batch_id>/new", methods=["GET", "POST"])
@require(Permission.SUPERVISE)
def new(batch_id: int):
    batch = supervision.supervised_batch(batch_id, current_user)
    form = CheckForm() if request.method == "POST" else CheckForm(data={"checked_on": svc.today()})
    indicators = versions.current().indicators
    if form.validate_on_submit():
        checklist = [{"code": i.code, "ok": request.form.get(f"ind_{i.code}") == "ok",
                      "note": request.form.get(f"note_{i.code}", "")}
                     for i in indicators if request.form.get(f"ind_{i.code}") in ("ok", "problem")]
        row, _error = attempt(lambda: svc.record_check(current_user, batch, mode=form.mode.data,
                                                       checklist=checklist, summary=form.summary.data,
                                                       checked_on=form.checked_on.data),
                              success="检查记录已保存，请逐项记录发现的问题", form=form)
        if row is not None:
            return redirect(url_for("spotchecks.check", check_id=row.id), 303)
    return render_template("supervision/checks/new.html", form=form, batch=batch, indicators=indicators,
                           window=batches.window_label(batch))


@bp.get("/<int:check_id>")
@login_only
def check(check_id: int):
    row = svc.check_for(current_user, check_id)
    finding_form = FindingForm(data={})
    iset = svc.indicator_set_of(row)
    finding_form.indicator.choices = [("", "—")] + [(i.code, f"{i.code} {i.name}") for i in iset.indicators]
    return render_template("supervision/checks/check.html", check=row, finding_form=finding_form,
                           step_form=StepForm(), today=svc.today(), indicators=iset,
                           window=batches.window_label(row.batch),
                           is_supervisor=bool(may_close_finding(current_user, row)),
                           answers=lambda f: bool(may_answer_finding(current_user, f)))


@bp.post("/<int:check_id>/findings")
@require(Permission.SUPERVISE)
def finding_new(check_id: int):
    row = svc.check_for(current_user, check_id)
    form = FindingForm()
    form.indicator.choices = [("", "—")] + [(i.code, i.code) for i in svc.indicator_set_of(row).indicators]
    if form.validate_on_submit():
        perform(lambda: svc.add_finding(current_user, row, severity=form.severity.data, text=form.text.data,
                                        indicator=form.indicator.data or None, photos=_uploads("photos"),
                                        due_on=form.due_on.data), success="问题已记录，已通知机构整改")
    return redirect(url_for("spotchecks.check", check_id=row.id) + "#findings", 303)


@bp.post("/findings/<int:finding_id>/<step>")
@login_only
def finding_step(finding_id: int, step: str):
    finding = svc.finding_for(current_user, finding_id)
    if step not in ("answer", "close", "reopen"):
        raise NotFound("未找到该操作")
    form = StepForm()
    form.validate()
    if step == "answer":
        perform(lambda: svc.answer(current_user, finding, form.text.data, _uploads("evidence")),
                success="整改情况已提交，等待督导员核验")
    elif step == "close":
        perform(lambda: svc.close(current_user, finding, form.text.data), success="该问题已销号")
    else:
        perform(lambda: svc.reopen(current_user, finding, form.text.data, form.due_on.data),
                success="该问题已重新打开，退回机构整改")
    return redirect(url_for("spotchecks.check", check_id=finding.check_id) + f"#finding-{finding.id}", 303)


@bp.get("/findings/<int:finding_id>/photos/<sha256>")
@login_only
def photo(finding_id: int, sha256: str):
    finding = svc.finding_for(current_user, finding_id)
    path, mime = svc.photo_path(current_user, finding, sha256)
    return send_file(path, mimetype=mime, max_age=0)
