"""The 双随机 pages (/plans), published to every signed-in user (一公开): each year's plan, its
draws with the seed commitment (SHA-256) before the draw and the seed after, the exact plan input
each draw ran on (JSON, for `examsys supervision draw`), the batches drawn and their supervisors,
and live coverage against the minimum rates per kind, organisation and city. The province makes
plans, commits seeds and performs draws."""

from __future__ import annotations

import json

from flask import Blueprint, Response, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, NumberRange

from examsys import clock
from examsys.delivery.batches import services as batches
from examsys.errors import NotFound
from examsys.permissions import Permission, has_permission, login_only, require
from examsys.supervision.plans import services as svc
from examsys.viewutil import perform

bp = Blueprint("plans", __name__, url_prefix="/plans")
RUN = Permission.SUPERVISION_ASSIGN


class PlanForm(FlaskForm):
    year = IntegerField(_l("年度"), validators=[DataRequired(), NumberRange(2020, 2100)])
    social_rate = StringField(_l("社会培训评价组织最低抽查比例"), default="0.5")
    employer_rate = StringField(_l("用人单位最低抽查比例"), default="0.1")
    submit = SubmitField(_l("制定计划"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("确定"))


@bp.get("/")
@login_only
def index():
    form = PlanForm(data={"year": clock.to_display(clock.now()).year}) if has_permission(current_user, RUN) else None
    return render_template("supervision/plans/index.html", plans=svc.plans(), form=form)


@bp.post("/")
@require(RUN)
def new():
    form = PlanForm()
    if form.validate_on_submit():
        perform(lambda: svc.create_plan(current_user, form.year.data, social_rate=form.social_rate.data,
                                        employer_rate=form.employer_rate.data), success="抽查计划已制定")
    return redirect(url_for("plans.index"), 303)


@bp.get("/<int:plan_id>")
@login_only
def plan(plan_id: int):
    row = svc.get_plan(plan_id)
    picks = svc.picks(row)
    return render_template("supervision/plans/plan.html", plan=row, coverage=svc.live_coverage(row), picks=picks,
                           runs=has_permission(current_user, RUN), confirm=ConfirmForm(),
                           window_label=batches.window_label,
                           waiting=[d for d in row.draws if not d.performed])


@bp.post("/<int:plan_id>/commit")
@require(RUN)
def commit(plan_id: int):
    row = svc.get_plan(plan_id)
    perform(lambda: svc.commit_seed(current_user, row), success="随机种子已承诺，SHA-256 已公开")
    return redirect(url_for("plans.plan", plan_id=row.id), 303)


def _draw(plan_id: int, number: int):
    row = svc.get_plan(plan_id)
    found = next((d for d in row.draws if d.number == number), None)
    if found is None:
        raise NotFound("未找到该次抽取")
    return found


@bp.post("/<int:plan_id>/draws/<int:number>/perform")
@require(RUN)
def perform_draw(plan_id: int, number: int):
    row = _draw(plan_id, number)
    perform(lambda: svc.perform_draw(current_user, row), success="抽取完成，随机种子已公开，督导员已自动委派")
    return redirect(url_for("plans.plan", plan_id=plan_id), 303)


@bp.get("/<int:plan_id>/draws/<int:number>/<what>.json")
@login_only
def draw_json(plan_id: int, number: int, what: str):
    """The inputs a performed draw ran on (the plan file) or its result."""
    row = _draw(plan_id, number)
    if what not in ("plan", "result"):
        raise NotFound("未找到该文件")
    if not row.performed:
        raise NotFound("该次抽取尚未完成，输入与结果抽取后公开")
    body = json.dumps(row.inputs if what == "plan" else row.result, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=draw-{row.plan.year}-{number}-{what}.json"})
