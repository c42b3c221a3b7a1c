"""The certificate-data pages (/certdata): an organisation's published batches and their check,
problems, explanations and reporting; a report with its records, exports, returns and
re-reporting; for the city and the province the return rates, warnings and (province) the
warning rules; the drill-down pages behind the campaign targets."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from examsys import clock
from examsys.campaign.certdata import checks, export, rates, services, warnings
from examsys.campaign.certdata.forms import ActionForm, ExplainForm, ResubmitForm, ReturnForm, RuleForm, WarningStepForm
from examsys.campaign.certdata.models import RETURN_REASON_LABELS
from examsys.campaign.targets import Scope
from examsys.delivery.batches import services as batches
from examsys.permissions import (
    Permission,
    has_permission,
    may_enter_return,
    may_explain_problem,
    may_report_certdata,
    may_resubmit_record,
    require,
)
from examsys.viewutil import attempt, perform

bp = Blueprint("certdata", __name__, url_prefix="/certdata")


@bp.get("/")
@require(Permission.CERTDATA_VIEW)
def index():
    oversees = has_permission(current_user, Permission.CERTDATA_RETURN)
    rows = [(b, services.report_of(b), services.check_of(b)) for b in services.published_batches(current_user)]
    orgs = {o.id: o for o in services.organisations_of(current_user)}
    return render_template("campaign/certdata/index.html", rows=rows, oversees=oversees, orgs=orgs,
                           reports=services.reports_of(current_user)[:50] if oversees else [],
                           open_warnings=warnings.visible_warnings(current_user, include_closed=False)
                           if oversees else [], year=clock.to_display(clock.now()).year)


@bp.get("/batches/<int:batch_id>")
@require(Permission.CERTDATA_VIEW)
def batch(batch_id: int):
    b = services.batch_for(current_user, batch_id)
    org = services.batch_organisation(b)
    report = services.report_of(b)
    if report is not None:
        return redirect(url_for("certdata.report", report_id=report.id))
    problems = services.problems_of(b)
    by_entry: dict[int, list] = {}
    for p in problems:
        by_entry.setdefault(p.roster_entry_id, []).append(p)
    records = checks.sources(b) if checks.is_published(b) else []
    return render_template("campaign/certdata/batch.html", batch=b, organisation=org, records=records,
                           by_entry=by_entry, check=services.check_of(b), blockers=services.blockers(b),
                           published=checks.is_published(b), window=batches.window_label(b),
                           may_report=bool(may_report_certdata(current_user, org)),
                           may_explain=bool(may_explain_problem(current_user, org)),
                           action_form=ActionForm(), explain_form=ExplainForm())


@bp.post("/batches/<int:batch_id>/check")
@require(Permission.CERTDATA_REPORT)
def run_check(batch_id: int):
    b = services.batch_for(current_user, batch_id)
    if ActionForm().validate_on_submit():
        perform(lambda: services.run_check(current_user, b), success="检查完成")
    return redirect(url_for("certdata.batch", batch_id=b.id), 303)


@bp.post("/batches/<int:batch_id>/report")
@require(Permission.CERTDATA_REPORT)
def report_batch(batch_id: int):
    b = services.batch_for(current_user, batch_id)
    if ActionForm().validate_on_submit():
        row, _error = attempt(lambda: services.report(current_user, b), success="证书数据已上报，记录已冻结")
        if row is not None:
            return redirect(url_for("certdata.report", report_id=row.id), 303)
    return redirect(url_for("certdata.batch", batch_id=b.id), 303)


@bp.post("/problems/<int:problem_id>/explain")
@require(Permission.CERTDATA_EXPLAIN)
def explain(problem_id: int):
    problem = services.problem_for(current_user, problem_id)
    form = ExplainForm()
    form.validate()
    perform(lambda: services.explain(current_user, problem, form.explanation.data), success="说明已保存")
    return redirect(url_for("certdata.batch", batch_id=problem.batch_id) + f"#problem-{problem.id}", 303)


@bp.get("/reports/<int:report_id>")
@require(Permission.CERTDATA_VIEW)
def report(report_id: int):
    row = services.report_for(current_user, report_id)
    return render_template("campaign/certdata/report.html", report=row, return_form=ReturnForm(),
                           resubmit_form=ResubmitForm(), open_return=services.open_return,
                           may_return=bool(may_enter_return(current_user, row.organisation)),
                           may_resubmit=bool(may_resubmit_record(current_user, row.organisation)),
                           window=batches.window_label(row.batch))


@bp.get("/reports/<int:report_id>/export.<fmt>")
@require(Permission.CERTDATA_VIEW)
def export_report(report_id: int, fmt: str):
    row = services.report_for(current_user, report_id)
    if fmt == "json":
        data, mime = export.as_json(current_user, row), "application/json"
    elif fmt == "xlsx":
        data, mime = export.as_xlsx(current_user, row), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    resp = Response(data, mimetype=mime)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(export.filename(row, fmt))}"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/reports/<int:report_id>/returns")
@require(Permission.CERTDATA_RETURN)
def enter_returns(report_id: int):
    row = services.report_for(current_user, report_id)
    form = ReturnForm()
    form.validate()
    ids = [int(v) for v in request.form.getlist("records") if v.isdigit()]
    perform(lambda: services.enter_returns(current_user, row, ids, form.reason.data or "", form.note.data),
            success="退回记录已登记")
    return redirect(url_for("certdata.report", report_id=row.id), 303)


@bp.post("/records/<int:record_id>/resubmit")
@require(Permission.CERTDATA_VIEW)
def resubmit(record_id: int):
    record = services.record_for(current_user, record_id)
    form = ResubmitForm()
    form.validate()
    perform(lambda: services.resubmit(current_user, record, form.note.data), success="该记录已重新上报")
    return redirect(url_for("certdata.report", report_id=record.report_id) + f"#record-{record.id}", 303)


@bp.get("/rates")
@require(Permission.CERTDATA_RETURN)
def return_rates():
    n = request.args.get("months", 6, type=int)
    months = rates.months_back(rates.current_month(), max(2, min(24, n)))
    orgs = services.organisations_of(current_user)
    data = rates.rows([o.id for o in orgs])
    by_org = rates.table(data, "organisation_id", months)
    by_city = rates.table(data, "city_id", months)
    cities = {o.city_id: o.city for o in orgs}
    city_series = {cities[c].name: cells for c, cells in sorted(by_city.items())}
    return render_template("campaign/certdata/rates.html", months=months, orgs=[o for o in orgs if o.id in by_org],
                           by_org=by_org, by_city=by_city, cities=cities, total=rates.total,
                           month_label=rates.month_label, threshold=rates.rate_goal(),
                           city_svg=rates.trend_svg(city_series, months, threshold=rates.rate_goal()),
                           org_svg=rates.trend_svg({o.name: by_org[o.id] for o in orgs if o.id in by_org}, months,
                                                   threshold=rates.rate_goal()))


@bp.get("/warnings")
@require(Permission.CERTDATA_RETURN)
def warning_list():
    return render_template("campaign/certdata/warnings.html", rows=warnings.visible_warnings(current_user),
                           action_form=ActionForm(), step_form=WarningStepForm())


@bp.post("/warnings/evaluate")
@require(Permission.CERTDATA_RETURN)
def evaluate():
    if ActionForm().validate_on_submit():
        raised, _error = attempt(lambda: warnings.evaluate(current_user))
        if raised is not None:
            flash(f"评估完成，新发出 {len(raised)} 条预警", "success")
    return redirect(url_for("certdata.warning_list"), 303)


@bp.post("/warnings/<int:warning_id>/<step>")
@require(Permission.CERTDATA_RETURN)
def warning_step(warning_id: int, step: str):
    row = warnings.warning_for(current_user, warning_id)
    if step not in ("acknowledge", "close"):
        abort(404)
    form = WarningStepForm()
    form.validate()
    perform(lambda: warnings.handle(current_user, row, step, form.note.data),
            success="预警已关闭" if step == "close" else "已知悉该预警")
    return redirect(url_for("certdata.warning_list") + f"#warning-{row.id}", 303)


@bp.route("/rules", methods=["GET", "POST"])
@require(Permission.CERTDATA_RULES)
def rules():
    forms = {}
    for rule in warnings.rules():
        data = {"threshold": round(rule.threshold * 100, 1), "months": rule.months, "count": rule.count,
                "active": rule.active}
        forms[rule.kind] = RuleForm(prefix=rule.kind, data=data) if request.method == "GET" \
            else RuleForm(prefix=rule.kind)
    kind = request.form.get("kind")
    if request.method == "POST" and kind in forms and forms[kind].validate_on_submit():
        f = forms[kind]
        saved, _error = attempt(lambda: warnings.save_rule(
            current_user, kind, threshold=float(f.threshold.data) / 100 if f.threshold.data is not None else None,
            months=f.months.data, count=f.count.data, active=f.active.data), success="预警规则已保存", form=f)
        if saved is not None:
            return redirect(url_for("certdata.rules"), 303)
    return render_template("campaign/certdata/rules.html", rules=warnings.rules(), forms=forms)


def _scope_args() -> tuple[int, Scope]:
    year = request.args.get("year", clock.to_display(clock.now()).year, type=int)
    scope = Scope(city_id=request.args.get("city_id", type=int),
                  organisation_id=request.args.get("organisation_id", type=int))
    return year, services.visible_scope(current_user, scope)


@bp.get("/targets/checked")
@require(Permission.CERTDATA_VIEW)
def target_checked():
    year, scope = _scope_args()
    target = next(t for t in services.targets(year, scope) if t.key == "data_checked")
    return render_template("campaign/certdata/target_checked.html", year=year, target=target,
                           rows=services.checked_reports(year, scope))


@bp.get("/targets/returns")
@require(Permission.CERTDATA_VIEW)
def target_returns():
    year, scope = _scope_args()
    target = next(t for t in services.targets(year, scope) if t.key == "return_rate")
    return render_template("campaign/certdata/target_returns.html", year=year, target=target,
                           rows=services.returned_records(year, scope), reasons=RETURN_REASON_LABELS)

