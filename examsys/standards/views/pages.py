"""The standards pages anyone with view rights uses: the list of standards, a standard with its
knowledge tree, the Excel downloads (a tree, the template), bank coverage per level, and the
writers' needs-revision worklist.
"""

from __future__ import annotations

import json
import os

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from examsys.accounts.models import Organisation, OrgKind
from examsys.bank.models import Item
from examsys.extensions import db
from examsys.permissions import Permission, has_permission, require, sees_all_organisations
from examsys.standards import coverage as cov
from examsys.standards import services, treeimport
from examsys.standards.forms import CoverageForm, VersionForm
from examsys.standards.models import LEVELS, AssessmentPoint, Standard
from examsys.standards.views.common import VIEW, bp, get_object, xlsx_response
from examsys.tenancy import scoped

DEMO_TREE = os.path.join(os.path.dirname(__file__), "..", "..", "demo", "data",
                         "electrician_6-31-01-03_tree.json")


# --- standards -----------------------------------------------------------------------------------


@bp.get("/")
@require(VIEW)
def index():
    standards = list(db.session.scalars(select(Standard).order_by(Standard.code, Standard.edition.desc())))
    counts = dict(db.session.execute(select(AssessmentPoint.standard_id, func.count())
                                     .where(AssessmentPoint.retired.is_(False))
                                     .group_by(AssessmentPoint.standard_id)).all())
    pending = 0
    if has_permission(current_user, Permission.ITEM_VIEW):
        pending = db.session.scalar(scoped(Item, current_user, select(func.count()).select_from(Item))
                                    .where(Item.needs_revision.is_(True))) or 0
    return render_template("standards/index.html", standards=standards, counts=counts, pending=pending)


@bp.get("/<int:standard_id>")
@require(VIEW)
def detail(standard_id: int):
    standard = get_object(Standard, standard_id)
    return render_template("standards/detail.html", standard=standard, problems=services.tree_problems(standard),
                           successor=services.successor(standard),
                           predecessor=db.session.get(Standard, standard.supersedes_id) if standard.supersedes_id
                           else None, mapping=services.mapping_of(standard), action=VersionForm())


@bp.get("/<int:standard_id>/tree.xlsx")
@require(VIEW)
def tree_export(standard_id: int):
    standard = get_object(Standard, standard_id)
    data = treeimport.emit_tree_xlsx(services.export_tree(standard))
    return xlsx_response(data, f"knowledge-tree-{standard.code}-{standard.edition}.xlsx")


@bp.get("/template.xlsx")
@require(VIEW)
def template():
    tree = {"ranges": []}
    if os.path.exists(DEMO_TREE):
        with open(DEMO_TREE, encoding="utf-8") as fh:
            tree = json.load(fh)
    return xlsx_response(treeimport.emit_tree_xlsx(tree), "knowledge-tree-template.xlsx")



# --- coverage and the worklist -------------------------------------------------------------------


def _coverage_orgs() -> list[Organisation]:
    if sees_all_organisations(current_user):
        return list(db.session.scalars(select(Organisation).where(Organisation.kind != OrgKind.AUTHORITY)
                                       .order_by(Organisation.code)))
    return [current_user.organisation]


def _busiest(standard: Standard, orgs: list[Organisation]) -> Organisation | None:
    """The province's default: the organisation with the most items on this standard."""
    top = db.session.scalar(select(Item.organisation_id).where(Item.standard_id == standard.id)
                            .group_by(Item.organisation_id).order_by(func.count().desc()).limit(1))
    return next((o for o in orgs if o.id == top), orgs[0] if orgs else None)


@bp.get("/<int:standard_id>/coverage")
@require(VIEW, Permission.ITEM_VIEW)
def coverage(standard_id: int):
    standard = get_object(Standard, standard_id)
    form = CoverageForm(request.args)
    orgs = _coverage_orgs()
    form.level.choices = [(lv, LEVELS[lv]) for lv in standard.levels]
    form.org.choices = [(o.id, o.name) for o in orgs]
    level = form.level.data if form.level.data in standard.levels else cov.default_level(standard)
    # Tenancy: only the province may pick; anyone else always sees their own organisation.
    org = next((o for o in orgs if o.id == form.org.data), None) or _busiest(standard, orgs)
    if org is None:
        flash("还没有评价机构，无法统计题库覆盖情况", "warning")
        return redirect(url_for("standards.detail", standard_id=standard.id))
    form.level.data, form.org.data = level, org.id
    result = cov.coverage(standard, level, org)
    return render_template("standards/coverage.html", standard=standard, form=form, cov=result,
                           can_pick_org=len(orgs) > 1)


@bp.get("/worklist")
@require(Permission.ITEM_VIEW)
def worklist():
    standard_id = request.args.get("standard", type=int)
    stmt = scoped(Item, current_user).where(Item.needs_revision.is_(True)).order_by(Item.standard_id, Item.id)
    if standard_id:
        stmt = stmt.where(Item.standard_id == standard_id)
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.paginate(stmt, page=page, per_page=50, error_out=False)
    ids = {i.standard_id for i in rows.items} | {i.point_id for i in rows.items if i.point_id}
    standards = {s.id: s for s in db.session.scalars(select(Standard).where(Standard.id.in_(ids)))}
    points = {p.id: p for p in db.session.scalars(select(AssessmentPoint).where(AssessmentPoint.id.in_(ids)))}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation))} if sees_all_organisations(current_user) \
        else {}
    item_endpoint = next((ep for ep in ("bank.item_detail", "bank.item") if ep in current_app.view_functions), None)
    return render_template("standards/worklist.html", rows=rows, standards=standards, points=points, orgs=orgs,
                           standard_id=standard_id, item_endpoint=item_endpoint,
                           all_standards=db.session.scalars(select(Standard).order_by(Standard.code)).all())
