"""Pages of paper assembly, part one: paper blueprints (细目表) — the list, the editor with rows
added and removed server-side (JS only enhances), pre-filled content rules from the standard's
weights, live feasibility (rendered on every save and re-render, and as JSON for the editor's
script), and the 组卷 action. Papers are in ``views_papers``; both register their routes on the
``bp`` of ``views_common``, and importing this module registers both."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from examsys.assembly import per_candidate_papers, prefill, services, views_papers
from examsys.assembly.forms import (
    ActionForm,
    BlueprintForm,
    PerCandidateForm,
    initial_data,
    replace_content_rows,
    set_choices,
    to_data,
)
from examsys.assembly.models import Paper, PaperBlueprint
from examsys.assembly.queries import papers_of_blueprint, rule_label
from examsys.assembly.views_common import ASSEMBLE, MANAGE, bp
from examsys.assembly.views_common import get_standard as _standard
from examsys.extensions import db
from examsys.jobs.views import follow
from examsys.permissions import require
from examsys.standards.models import LEVELS, Standard, StandardStatus
from examsys.tenancy import get_scoped, scoped
from examsys.viewutil import attempt, refusal_status

__all__ = ["bp", "views_papers"]

DEFAULT_SECTIONS = [{"type": "judge", "count": 20, "points": 1.0}, {"type": "single", "count": 70, "points": 1.0},
                    {"type": "multi", "count": 10, "points": 1.0}]


@bp.get("/")
@require(MANAGE)
def blueprints():
    rows = db.session.scalars(scoped(PaperBlueprint, current_user).order_by(PaperBlueprint.updated_at.desc())).all()
    stds = {s.id: s for s in db.session.scalars(select(Standard).where(
        Standard.id.in_({r.standard_id for r in rows} or {0})))}
    counts = dict(db.session.execute(select(Paper.blueprint_id, func.count()).where(
        Paper.blueprint_id.in_([r.id for r in rows] or [0])).group_by(Paper.blueprint_id)).all())
    return render_template("assembly/blueprints.html", blueprints=rows, standards=stds, counts=counts,
                           action=ActionForm())


@bp.route("/blueprints/new", methods=["GET", "POST"])
@require(MANAGE)
def blueprint_new():
    standard_id = request.args.get("standard_id", type=int)
    if not standard_id:
        standards = db.session.scalars(select(Standard).where(Standard.status == StandardStatus.CURRENT)
                                       .order_by(Standard.code)).all()
        return render_template("assembly/choose_standard.html", standards=standards)
    return _editor(_standard(standard_id), None)


@bp.route("/blueprints/<int:blueprint_id>", methods=["GET", "POST"])
@require(MANAGE)
def blueprint_edit(blueprint_id: int):
    pb = get_scoped(PaperBlueprint, blueprint_id, current_user)
    return _editor(_standard(pb.standard_id), pb)


def _default_data(standard: Standard) -> dict:
    level = 4 if 4 in standard.levels else (sorted(standard.levels, reverse=True) or [5])[0]
    short = LEVELS.get(level, "").split("/")[0]
    return {"name": f"{standard.name}{short}理论知识考试细目表", "level": level, "duration_minutes": 90,
            "total_points": 100, "pass_mark": 60, "forms": 2, "max_shared_items": 0,
            "sections": DEFAULT_SECTIONS, "content_rules": [], "difficulty_rules": [], "importance_rules": [],
            "exclude_recent_papers": 0, "max_exposure": None, "partial_credit": False,
            "difficulty_source": "declared"}


def _editor(standard: Standard, pb: PaperBlueprint | None):
    if request.method == "GET":
        form = BlueprintForm(data=initial_data(services.snapshot(pb) if pb else _default_data(standard)))
        form.version.data = str(pb.version) if pb else ""
    else:
        form = BlueprintForm()
    level = form.level.data if isinstance(form.level.data, int) else None
    ranges = prefill.range_weights(standard, level or 0)
    set_choices(form, standard, ranges)
    errors: list[str] = []
    status = 0
    action = request.form.get("action", "save")
    if request.method == "POST" and action == "add_section":
        form.sections.append_entry()
    elif request.method == "POST" and action == "add_content":
        form.content.append_entry()
        set_choices(form, standard, ranges)
    elif request.method == "POST" and action == "prefill":
        errors = _prefill(form, standard)
        set_choices(form, standard, ranges)
    elif form.validate_on_submit():
        saved, error = attempt(lambda: services.save_blueprint(
            current_user, current_user.organisation, standard, to_data(form, standard.id), pb,
            expected_version=_version(form)), show=False)
        if error is None:
            flash("细目表已保存", "success")
            return redirect(url_for("assembly.blueprint_edit", blueprint_id=saved.id))
        errors = error.details.get("errors") or [error.message]
        status = refusal_status(error, 422)
    elif request.method == "POST":
        errors = ["请检查标红的字段"]
    if not status:
        status = 422 if errors and action == "save" else 200
    return render_template("assembly/editor.html", form=form, standard=standard, pb=pb, errors=errors,
                           feasibility=_feasibility(form, standard), action_form=ActionForm(),
                           papers=papers_of_blueprint(pb.id) if pb else [],
                           tolerance=prefill.DEFAULT_TOLERANCE, count_form=PerCandidateForm(),
                           max_per_candidate=per_candidate_papers.MAX_FORMS), status


def _version(form) -> int | None:
    value = (form.version.data or "").strip()
    return int(value) if value.isdigit() else None


def _prefill(form: BlueprintForm, standard: Standard) -> list[str]:
    """Replace the content rows by rules computed from the range weights (not saved yet)."""
    data = to_data(form, standard.id)
    if not data["sections"] or any(not s["count"] for s in data["sections"]):
        return ["请先填写各题型部分的题量，再按比重表生成内容规则"]
    if not isinstance(form.level.data, int):
        return ["请先选择等级"]
    depths = tuple(int(d) for d in (form.prefill_depth.data or "1,2").split(",") if d.strip().isdigit())
    rules = prefill.content_rules(prefill.range_weights(standard, form.level.data), data["sections"],
                                  depths=depths or (1, 2), per_type=bool(form.prefill_per_type.data),
                                  tolerance=form.prefill_tolerance.data if form.prefill_tolerance.data is not None
                                  else prefill.DEFAULT_TOLERANCE)
    if not rules:
        return [f"该职业标准在{LEVELS.get(form.level.data, form.level.data)}没有设定鉴定范围比重"]
    replace_content_rows(form, rules)
    flash(f"已按比重表生成 {len(rules)} 条内容规则，保存后生效", "info")
    return []


def _feasibility(form: BlueprintForm, standard: Standard) -> dict:
    """Eligible items per rule for the rules as they stand in the form, or why not computable."""
    data = to_data(form, standard.id)
    problems = services.validate_blueprint(data)
    if data["level"] not in standard.levels:
        problems.insert(0, "请选择等级")
    if problems:
        return {"problems": problems, "rows": [], "reasons": [], "eligible": 0}
    report = services.feasibility_report(data, current_user.organisation_id)
    names = {r.code: r.name for r in prefill.range_weights(standard, data["level"])}
    for row in report["rows"]:
        row["label"] = rule_label(data, row["rule"], names)
    report["problems"] = []
    report["forms"] = data["forms"]
    return report


@bp.get("/blueprints/feasibility")
@require(MANAGE)
def blueprint_feasibility():
    """JSON for the editor's script: the feasibility table for the form's current (unsaved)
    values, passed as query parameters. Reads only."""
    standard = _standard(request.args.get("standard_id", type=int))
    form = BlueprintForm(formdata=request.args, meta={"csrf": False})
    set_choices(form, standard, prefill.range_weights(standard, 0))
    report = _feasibility(form, standard)
    html = render_template("assembly/_feasibility.html", feasibility=report)
    return jsonify({"ok": not report["problems"] and all(r["ok"] for r in report["rows"])
                    and not report["reasons"], "html": html,
                    "rows": report["rows"], "reasons": report["reasons"], "problems": report["problems"]})


@bp.post("/blueprints/<int:blueprint_id>/assemble")
@require(ASSEMBLE)
def assemble(blueprint_id: int):
    pb = get_scoped(PaperBlueprint, blueprint_id, current_user)
    if pb.per_candidate:
        # A form per candidate takes seconds to draw and store: a job, followed on its page.
        back = url_for("assembly.blueprint_edit", blueprint_id=pb.id, _anchor="assemble")
        count = request.form.get("count", "").strip()
        return follow(lambda: per_candidate_papers.request(current_user, pb, count), back)
    paper, error = attempt(lambda: services.assemble(current_user, pb), show=False)
    if isinstance(error, services.Infeasible):
        # Nothing of the attempt is stored but its audit event (kept by the service).
        return render_template("assembly/infeasible.html", pb=pb, reasons=error.reasons,
                               standard=_standard(pb.standard_id)), 422
    if error is not None:
        flash(error.message, "error")
        return redirect(url_for("assembly.blueprint_edit", blueprint_id=pb.id))
    flash("组卷完成：请核对合规报告后定稿", "success")
    return redirect(url_for("assembly.paper", paper_id=paper.id))
