"""/satisfaction: the share of satisfied candidates per organisation, batch, question and month
against the 90 % goal (the province: all; a city: its organisations; an organisation: itself),
the comments and the organisation's answers, the questionnaire builder with its distribution,
link, QR code, results and xlsx export, the candidate's public questionnaire page (ticket + ID
number, nothing more), and the interview records."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from examsys.campaign.satisfaction import charts, questionnaires, services
from examsys.campaign.satisfaction import results as qresults
from examsys.campaign.satisfaction.figures import GOAL, SOURCE_LABELS
from examsys.campaign.satisfaction.forms import (
    AnswerForm,
    DistributeForm,
    InterviewForm,
    QuestionForm,
    QuestionnaireForm,
)
from examsys.campaign.satisfaction.models import SCALE_LABELS
from examsys.extensions import limiter
from examsys.permissions import (
    Permission,
    may_answer_comment,
    may_edit_questionnaire,
    may_manage_questionnaires,
    public,
    require,
)
from examsys.viewutil import attempt, perform

bp = Blueprint("satisfaction", __name__, url_prefix="/satisfaction")
VIEW = Permission.SATISFACTION_VIEW
MANAGE = Permission.CITY_OVERSEE


def _year() -> int:
    year = request.args.get("year", type=int)
    return year if year and 2000 <= year <= 2100 else services.this_year()


def _trend(months) -> object:
    return charts.trend_svg([(m, c.value, c.total) for m, c in months], goal=GOAL, title="月度满意度")


def _question_bars(questions) -> object:
    return charts.bars_svg([(text, c.value or 0.0, c.total) for text, c in questions], goal=GOAL, label_width=260)


@bp.get("/")
@require(VIEW)
def index():
    year = _year()
    scope = services.scope_for(current_user, request.args.get("city_id", type=int),
                               request.args.get("organisation_id", type=int))
    view = services.overview(year, scope, viewer=current_user)
    return render_template("campaign/satisfaction/index.html", v=view, year=year, trend=_trend(view.months),
                           question_chart=_question_bars(view.questions), goal=GOAL,
                           manages=bool(may_manage_questionnaires(current_user)))


@bp.get("/organisations/<int:org_id>")
@require(VIEW)
def organisation(org_id: int):
    year = _year()
    org = services.organisation_for(current_user, org_id)
    detail = services.organisation_detail(org, year)
    return render_template("campaign/satisfaction/organisation.html", d=detail, year=year,
                           trend=_trend(detail.months), question_chart=_question_bars(detail.questions),
                           answer_form=AnswerForm(), goal=GOAL, sources=SOURCE_LABELS,
                           questionnaires=services.questionnaire_lines(org),
                           may_answer=bool(may_answer_comment(current_user, org.id)))


@bp.post("/comments/<int:response_id>/answer")
@require(VIEW)
def answer(response_id: int):
    services.comment_for(current_user, response_id)  # 404 for a comment the user may not see
    form = AnswerForm()
    form.validate()
    perform(lambda: services.answer_comment(current_user, response_id, form.text.data),
            success="答复已保存，主管部门可以看到")
    target = request.form.get("org_id", type=int)
    if target:
        return redirect(url_for("satisfaction.organisation", org_id=target, year=request.form.get("year", type=int))
                        + f"#comment-{response_id}", 303)
    return redirect(url_for("satisfaction.index"), 303)


# --- questionnaires -------------------------------------------------------------------------------


@bp.route("/questionnaires/", methods=["GET", "POST"])
@require(MANAGE)
def questionnaire_list():
    form = QuestionnaireForm()
    if form.validate_on_submit():
        row, _error = attempt(lambda: questionnaires.create(current_user, form.title.data, form.intro.data),
                              success="问卷已创建，请添加题目", form=form)
        if row is not None:
            return redirect(url_for("satisfaction.questionnaire", questionnaire_id=row.id), 303)
    return render_template("campaign/satisfaction/questionnaires.html", rows=questionnaires.visible(current_user),
                           form=form)


def _public_url(row) -> str | None:
    return url_for("satisfaction.respond", token=row.token, _external=True) if row.token else None


@bp.get("/questionnaires/<int:questionnaire_id>")
@require(MANAGE)
def questionnaire(questionnaire_id: int):
    row = questionnaires.get(current_user, questionnaire_id)
    editable = bool(may_edit_questionnaire(current_user, row))
    batches = questionnaires.distributable_batches(current_user, row) if editable and row.status == "published" else []
    result = qresults.results_for(current_user, row)
    charts_by_question = {qr.question.id: charts.bars_svg([(label, share, n) for label, n, share in qr.bars])
                          for qr in result.questions if qr.bars}
    url = _public_url(row)
    return render_template("campaign/satisfaction/questionnaire.html", q=row, editable=editable,
                           question_form=QuestionForm(), distribute_form=DistributeForm(), result=result,
                           batches=batches, org_of=questionnaires.organisation_of,
                           charts=charts_by_question, public_url=url,
                           qr=questionnaires.qr_svg(url) if url else None)


def _redirect(row, anchor: str = ""):
    return redirect(url_for("satisfaction.questionnaire", questionnaire_id=row.id) + anchor, 303)


@bp.post("/questionnaires/<int:questionnaire_id>/questions")
@require(MANAGE)
def question_add(questionnaire_id: int):
    row = questionnaires.get(current_user, questionnaire_id)
    form = QuestionForm()
    form.validate()
    perform(lambda: questionnaires.add_question(current_user, row, kind=form.kind.data, text=form.text.data,
                                                options=questionnaires.parse_options(form.options.data),
                                                required=form.required.data), success="题目已添加")
    return _redirect(row, "#questions")


@bp.post("/questionnaires/<int:questionnaire_id>/questions/<int:question_id>/<action>")
@require(MANAGE)
def question_change(questionnaire_id: int, question_id: int, action: str):
    row = questionnaires.get(current_user, questionnaire_id)
    if action == "remove":
        perform(lambda: questionnaires.remove_question(current_user, row, question_id), success="题目已删除")
    elif action in ("up", "down"):
        perform(lambda: questionnaires.move_question(current_user, row, question_id, action == "up"),
                success="题目顺序已调整")
    return _redirect(row, "#questions")


@bp.post("/questionnaires/<int:questionnaire_id>/<action>")
@require(MANAGE)
def questionnaire_action(questionnaire_id: int, action: str):
    row = questionnaires.get(current_user, questionnaire_id)
    if action == "publish":
        perform(lambda: questionnaires.publish(current_user, row), success="问卷已发布，题目不再改变；现在可以发放")
    elif action == "close":
        perform(lambda: questionnaires.close(current_user, row), success="问卷已结束，不再接受填写")
    elif action == "copy":
        new, _error = attempt(lambda: questionnaires.copy(current_user, row), success="已复制为新的草稿问卷")
        if new is not None:
            return _redirect(new)
    elif action == "distribute":
        form = DistributeForm()
        form.batches.choices = [(int(v), v) for v in request.form.getlist("batches") if v.isdigit()]
        form.validate()
        perform(lambda: questionnaires.distribute(current_user, row, form.batches.data or []),
                success="问卷已发放给所选批次的考生")
        return _redirect(row, "#distribution")
    return _redirect(row)


@bp.get("/questionnaires/<int:questionnaire_id>/qr.svg")
@require(MANAGE)
def questionnaire_qr(questionnaire_id: int):
    row = questionnaires.get(current_user, questionnaire_id)
    url = _public_url(row)
    if url is None:
        return redirect(url_for("satisfaction.questionnaire", questionnaire_id=row.id))
    return Response(questionnaires.qr_svg(url), mimetype="image/svg+xml",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote('问卷二维码.svg')}"})


@bp.get("/questionnaires/<int:questionnaire_id>/results.xlsx")
@require(MANAGE)
def questionnaire_xlsx(questionnaire_id: int):
    row = questionnaires.get(current_user, questionnaire_id)
    data = qresults.export_xlsx(qresults.results_for(current_user, row))
    name = quote(f"问卷结果-{row.title}.xlsx")
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


# --- the candidate's page -------------------------------------------------------------------------


def _address_rate() -> str:
    return current_app.config["EXAMSYS_CANDIDATE_LOGIN_RATE"]


def _login_rate() -> str:
    return current_app.config["EXAMSYS_LOGIN_RATE"]


def _ticket_key() -> str:
    return "questionnaire-ticket:" + (request.form.get("ticket_no") or "").strip()[:32]


@bp.route("/q/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_address_rate, methods=["POST"])
@limiter.limit(_login_rate, key_func=_ticket_key, methods=["POST"])
def respond(token: str):
    row = questionnaires.by_token(token)
    done = False
    if request.method == "POST":
        values = {k: request.form.getlist(k) for k in request.form if k.startswith("q")}

        def go():
            entry = questionnaires.identify(row, request.form.get("ticket_no", ""),
                                           request.form.get("id_number", ""), ip=request.remote_addr)
            return questionnaires.submit(row, entry, values, ip=request.remote_addr)

        response, _error = attempt(go)
        done = response is not None
    return render_template("campaign/satisfaction/respond.html", q=row, done=done, scale=SCALE_LABELS,
                           form=request.form if request.method == "POST" else {})


# --- interviews -----------------------------------------------------------------------------------


@bp.route("/interviews/", methods=["GET", "POST"])
@require(VIEW)
def interviews():
    orgs = services.visible_organisations(current_user)
    recordable = services.interviewable(current_user)
    form = InterviewForm()
    form.organisation.choices = [(o.id, f"{o.name}（{o.city.name}）") for o in recordable]
    if request.method == "POST" and form.validate_on_submit():
        org = services.organisation_for(current_user, form.organisation.data)
        row, _error = attempt(lambda: services.record_interview(
            current_user, org, held_on=form.held_on.data, interviewee_role=form.interviewee_role.data,
            interviewee=form.interviewee.data, summary=form.summary.data, satisfied=form.satisfied.data == "yes",
            findings=form.findings.data), success="访谈记录已保存", form=form)
        if row is not None:
            return redirect(url_for("satisfaction.interviews") + f"#interview-{row.id}", 303)
    return render_template("campaign/satisfaction/interviews.html", form=form if recordable else None,
                           rows=services.interviews_of([o.id for o in orgs]))
