"""/oversight: the province's and the cities' console (their organisations, overdue
rectifications, filings expiring), each organisation's supervision file (督导档案: page and
PDF, also to the organisation itself), indicator scores entered with evidence (by the authority,
or by the organisation on itself), and periodic assessment: the window's list with progress, a
dossier page with its entries and decision, and the dossier PDF. Looks at another
organisation's file are recorded."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, FloatField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from examsys.accounts.models import Organisation, OrgKind
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.permissions import (
    Permission,
    login_only,
    may_assess,
    may_score_indicators,
    may_view_organisation_file,
    oversees,
    require,
)
from examsys.reports import oversight as reports
from examsys.supervision import files
from examsys.supervision.assessment import services as assessment
from examsys.supervision.assessment.models import DECISION_LABELS, METHOD_LABELS
from examsys.supervision.checks import services as checks
from examsys.supervision.directory import services as directory
from examsys.supervision.indicators import services as indicators
from examsys.supervision.indicators import versions
from examsys.viewutil import perform

bp = Blueprint("oversight", __name__, url_prefix="/oversight")
OVERSEE = Permission.CITY_OVERSEE


class ScoreForm(FlaskForm):
    indicator = SelectField(_l("指标"), choices=[])
    score = FloatField(_l("评分（0～100）"), validators=[DataRequired(), NumberRange(0, 100)])
    evidence = TextAreaField(_l("评分依据"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("录入评分"))


class EntryForm(FlaskForm):
    method = SelectField(_l("评估方式"), choices=[(k.value, v) for k, v in METHOD_LABELS.items()])
    by = StringField(_l("评估人（机构）"), validators=[DataRequired(), Length(max=100)])
    score = FloatField(_l("评分"), validators=[Optional(), NumberRange(0, 100)])
    text = TextAreaField(_l("评估意见"), validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField(_l("添加"))


class DecisionForm(FlaskForm):
    decision = SelectField(_l("评估结论"), choices=[(k.value, v) for k, v in DECISION_LABELS.items()])
    scope = TextAreaField(_l("新的评价范围（扩大或缩小时填写）"), validators=[Length(max=4000)])
    expires_on = DateField(_l("新的有效期至（不填则顺延三年）"), validators=[Optional()])
    reasons = TextAreaField(_l("理由"), validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField(_l("作出结论"))


def _org(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None or org.kind == OrgKind.AUTHORITY or not may_view_organisation_file(current_user, org):
        raise NotFound("未找到该机构")
    return org


def _window() -> tuple[date, date]:
    today = checks.today()
    start = request.args.get("start", type=date.fromisoformat) or today
    end = request.args.get("end", type=date.fromisoformat) or today + timedelta(days=180)
    return start, end


@bp.get("/")
@require(OVERSEE)
def index():
    orgs = [o for o in db.session.scalars(select(Organisation).where(Organisation.kind != OrgKind.AUTHORITY)
                                          .order_by(Organisation.code)) if oversees(current_user, o)]
    start, end = _window()
    due = assessment.due(current_user, start, end)
    return render_template("supervision/oversight/index.html", orgs=orgs, overdue=checks.overdue(current_user),
                           today=checks.today(), due=due, progress=assessment.progress(due), start=start, end=end,
                           entries={e.organisation_id: e for e in directory.entries()})


@bp.get("/organisations/<int:org_id>")
@login_only
def organisation_file(org_id: int):
    org = _org(org_id)
    files.record_view(current_user, org)
    form = None
    if may_score_indicators(current_user, org):
        form = ScoreForm()
        form.indicator.choices = [(i.code, f"{i.code} {i.name}") for i in versions.current().indicators
                                  if not i.computed]
    return render_template("supervision/oversight/file.html", f=files.assemble(org), form=form, today=checks.today(),
                           self_card=indicators.scorecard(org, checks.today().year, "self"))


@bp.get("/organisations/<int:org_id>/file.pdf")
@login_only
def organisation_file_pdf(org_id: int):
    org = _org(org_id)
    files.record_view(current_user, org)
    return _pdf(reports.file_pdf(files.assemble(org)), f"督导档案-{org.name}.pdf")


@bp.post("/organisations/<int:org_id>/scores")
@login_only
def score(org_id: int):
    org = _org(org_id)
    form = ScoreForm()
    form.indicator.choices = [(i.code, i.code) for i in versions.current().indicators]
    if form.validate_on_submit():
        photos = [(Path(f.filename).name, f.read()) for f in request.files.getlist("photos") if f and f.filename]
        perform(lambda: indicators.enter_score(current_user, org, form.indicator.data, year=checks.today().year,
                                               score=form.score.data, evidence=form.evidence.data, photos=photos),
                success="指标评分已录入")
    return redirect(url_for("oversight.organisation_file", org_id=org.id) + "#indicators", 303)


@bp.get("/assessments/<int:org_id>")
@require(OVERSEE)
def dossier(org_id: int):
    org = _org(org_id)
    files.record_view(current_user, org)
    row = assessment.assessment_of(org)
    decides = bool(may_assess(current_user))
    entry = directory.entry_of(org.id)
    return render_template("supervision/oversight/dossier.html", org=org, a=row, entry=entry,
                           d=row.dossier if row.decision else assessment.dossier(org),
                           entry_form=EntryForm() if decides and not row.decision else None,
                           decision_form=DecisionForm(data={"scope": directory.scope_text(entry)})
                           if decides and not row.decision else None)


@bp.post("/assessments/<int:org_id>/entries")
@require(OVERSEE)
def dossier_entry(org_id: int):
    org = _org(org_id)
    form = EntryForm()
    if form.validate_on_submit():
        row = assessment.assessment_of(org)
        perform(lambda: assessment.add_entry(current_user, row, method=form.method.data, by=form.by.data,
                                             text=form.text.data, score=form.score.data), success="评估记录已添加")
    return redirect(url_for("oversight.dossier", org_id=org.id), 303)


@bp.post("/assessments/<int:org_id>/decision")
@require(OVERSEE)
def dossier_decide(org_id: int):
    org = _org(org_id)
    form = DecisionForm()
    if form.validate_on_submit():
        row = assessment.assessment_of(org)
        perform(lambda: assessment.decide(current_user, row, decision=form.decision.data, reasons=form.reasons.data,
                                          scope=directory.parse_scope(form.scope.data) if form.scope.data else None,
                                          expires_on=form.expires_on.data),
                success="评估结论已作出，评价机构目录已更新")
    return redirect(url_for("oversight.dossier", org_id=org.id), 303)


@bp.get("/assessments/<int:org_id>/dossier.pdf")
@require(OVERSEE)
def dossier_pdf(org_id: int):
    org = _org(org_id)
    files.record_view(current_user, org)
    row = assessment.assessment_of(org)
    d = row.dossier if row.decision else assessment.dossier(org)
    return _pdf(reports.dossier_pdf(org, row, d), f"定期评估-{org.name}.pdf")


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=report.pdf; filename*=UTF-8''{quote(name)}"})
