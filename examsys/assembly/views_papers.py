"""Pages of paper assembly, part two: papers — the list, a paper's forms side by side with the
compliance report, freezing (定稿), discarding and re-assembling drafts, replacing a faulty item
of a frozen paper, and the PDFs (paper per form, answer key per form, compliance report).

Registered on the ``bp`` of ``views_common``. Only holders of PAPER_VIEW of the paper's organisation
(or the province) see a paper, and the authority's supervisor of a batch sitting it reads it;
another organisation's paper is reported as not found."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from examsys.assembly import pdf_jobs, services
from examsys.assembly.forms import ActionForm, ReplaceForm
from examsys.assembly.models import Paper, PaperFormItem
from examsys.assembly.queries import (
    effective_compliance,
    form_labels,
    form_view,
    get_form,
    paper_views,
    replacement_candidates,
    rule_label,
)
from examsys.assembly.views_common import ASSEMBLE, VIEW, bp
from examsys.assembly.views_common import get_standard as _standard
from examsys.bank.models import ItemVersion
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.jobs.views import follow
from examsys.permissions import Permission, has_permission, require
from examsys.standards.models import AssessmentPoint
from examsys.supervision import services as supervision
from examsys.tenancy import get_scoped, scoped
from examsys.viewutil import attempt, refusal_status

FORMS_PER_PAGE = 100  # form numbers listed per page of a per-candidate paper


def _readable(paper_id: int) -> Paper:
    """A paper to read: of one's organisation (or the province), or sat by a batch one supervises."""
    if supervision.supervises_paper(current_user, paper_id):
        return db.session.get(Paper, paper_id)
    return get_scoped(Paper, paper_id, current_user)


@bp.get("/papers")
@require(VIEW)
def papers():
    rows = db.session.scalars(scoped(Paper, current_user).order_by(Paper.created_at.desc(), Paper.id.desc())
                              .limit(200)).all()
    return render_template("assembly/papers.html", papers=rows)


@bp.get("/papers/<int:paper_id>")
@require(VIEW)
def paper(paper_id: int):
    p = _readable(paper_id)
    standard = _standard(p.standard_id)
    names = {r.code: r.name for r in standard.ranges}
    if p.per_candidate:
        return _per_candidate_paper(p, standard, names)
    return render_template("assembly/paper.html", paper=p, views=paper_views(p), standard=standard,
                           report=p.compliance, effective=effective_compliance(p), action=ActionForm(),
                           label_of=lambda rule: rule_label(p.blueprint_snapshot, rule, names))


def _per_candidate_paper(p: Paper, standard, names: dict):
    """A paper with a form per candidate: the summary report, the forms' numbers a page at a time,
    and the one form asked for (never all of them)."""
    labels = form_labels(p)
    pages = max(1, -(-len(labels) // FORMS_PER_PAGE))
    wanted = (request.args.get("form") or "").strip()
    form = get_form(p, wanted) if wanted else (get_form(p, labels[0]) if labels else None)
    missing = wanted if wanted and form is None else None
    if form is not None and "page" not in request.args:
        page = labels.index(form.label) // FORMS_PER_PAGE + 1
    else:
        page = min(max(request.args.get("page", 1, type=int), 1), pages)
    shown = labels[(page - 1) * FORMS_PER_PAGE:page * FORMS_PER_PAGE]
    effective = effective_compliance(p)
    return render_template("assembly/paper_per_candidate.html", paper=p, standard=standard, labels=shown,
                           count=len(labels), page=page, pages=pages, view=form_view(p, form) if form else None,
                           missing=missing, report=effective or p.compliance, replaced=effective is not None,
                           action=ActionForm(),
                           label_of=lambda rule: rule_label(p.blueprint_snapshot, rule, names)), 404 if missing else 200


def _act(paper_id: int, call, success: str):
    """A paper action that redirects back to the paper (or the new paper it made); a refused
    re-assembly shows why it was infeasible, keeping only the audit event of the attempt."""
    p = get_scoped(Paper, paper_id, current_user)
    result, error = attempt(lambda: call(p), success=success, show=False)
    if isinstance(error, services.Infeasible):
        return render_template("assembly/infeasible.html", pb=p.blueprint, reasons=error.reasons,
                               standard=_standard(p.standard_id), paper=p), 422
    if error is not None:
        flash(error.message, "error")
    return redirect(url_for("assembly.paper", paper_id=result.id) if isinstance(result, Paper)
                    else url_for("assembly.paper", paper_id=paper_id))


@bp.post("/papers/<int:paper_id>/freeze")
@require(ASSEMBLE)
def freeze(paper_id: int):
    return _act(paper_id, lambda p: services.freeze(current_user, p), "试卷已定稿：题目版本已固定，不再更改")


@bp.post("/papers/<int:paper_id>/discard")
@require(ASSEMBLE)
def discard(paper_id: int):
    p = get_scoped(Paper, paper_id, current_user)
    blueprint_id = p.blueprint_id
    _, error = attempt(lambda: services.discard(current_user, p), success="草稿试卷已删除")
    if error is not None:
        return redirect(url_for("assembly.paper", paper_id=paper_id))
    return redirect(url_for("assembly.blueprint_edit", blueprint_id=blueprint_id)
                    if has_permission(current_user, Permission.BLUEPRINT_MANAGE) else url_for("assembly.papers"))


@bp.post("/papers/<int:paper_id>/reassemble")
@require(ASSEMBLE)
def reassemble(paper_id: int):
    return _act(paper_id, lambda p: services.reassemble(current_user, p), "已用新的随机种子重新组卷")


@bp.route("/papers/<int:paper_id>/items/<int:form_item_id>/replace", methods=["GET", "POST"])
@require(ASSEMBLE)
def replace(paper_id: int, form_item_id: int):
    p = get_scoped(Paper, paper_id, current_user)
    fi = db.session.get(PaperFormItem, form_item_id)
    if fi is None or fi.form.paper_id != p.id:
        raise NotFound("未找到该试题")
    view = form_view(p, fi.form)
    row = next(r for r in view.rows if r.form_item.id == fi.id)
    candidates = replacement_candidates(p, fi)
    form = ReplaceForm()
    form.version_id.choices = [(it.active_version_id, f"#{it.id}") for it in candidates]
    error = None
    if form.validate_on_submit():
        version = db.session.get(ItemVersion, form.version_id.data)
        _, error = attempt(lambda: services.replace_item(current_user, p, fi, version, reason=form.reason.data),
                           show=False)
        if error is None:
            flash(f"已替换 {fi.form.label} 卷第 {row.number} 题，替换已记入审计日志", "success")
            return redirect(url_for("assembly.paper", paper_id=p.id, form=fi.form.label if p.per_candidate else None))
        (form.reason.errors if error.field == "reason" else form.version_id.errors).append(error.message)
    status = refusal_status(error, 422 if request.method == "POST" else 200)
    codes = dict(db.session.execute(select(AssessmentPoint.id, AssessmentPoint.code).where(
        AssessmentPoint.id.in_({it.point_id for it in candidates} or {0}))).all())
    return render_template("assembly/replace.html", paper=p, row=row, form=form, candidates=candidates,
                           codes=codes, standard=_standard(p.standard_id)), status


# --- PDFs: asked for here, rendered by the job worker, followed on the job's page -------------------


@bp.post("/papers/<int:paper_id>/forms/<label>/paper.pdf")
@require(VIEW)
def paper_pdf(paper_id: int, label: str):
    p, form = _paper_and_form(paper_id, label)
    return follow(lambda: pdf_jobs.request_form(current_user, p, form.label), _downloads(p))


@bp.post("/papers/<int:paper_id>/forms/<label>/key.pdf")
@require(VIEW)
def key_pdf(paper_id: int, label: str):
    p, form = _paper_and_form(paper_id, label)
    return follow(lambda: pdf_jobs.request_form(current_user, p, form.label, key=True), _downloads(p))


@bp.post("/papers/<int:paper_id>/compliance.pdf")
@require(VIEW)
def compliance_pdf(paper_id: int):
    p = _readable(paper_id)
    return follow(lambda: pdf_jobs.request_compliance(current_user, p), _downloads(p))


def _paper_and_form(paper_id: int, label: str):
    p = _readable(paper_id)
    form = get_form(p, label)
    if form is None:
        raise NotFound("未找到该套试卷")
    return p, form


def _downloads(p: Paper) -> str:
    return url_for("assembly.paper", paper_id=p.id, _anchor="downloads")
