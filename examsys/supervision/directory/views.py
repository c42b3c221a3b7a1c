"""The directory pages (/directory): the directory of evaluation organisations for every signed-in
user (一公开) with its xlsx export, each organisation's filing record and history; filing and
changes by the province and, for their city, the city administrators."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from examsys.accounts import services as accounts
from examsys.permissions import Permission, has_permission, login_only, may_manage_directory, require
from examsys.supervision.directory import services as svc
from examsys.supervision.directory.forms import SCOPE_HINT, ChangeForm, FilingForm
from examsys.supervision.directory.models import DIRECTORY_STATUS_LABELS, DirectoryStatus
from examsys.viewutil import perform

bp = Blueprint("directory", __name__, url_prefix="/directory")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters() -> tuple[int | None, str | None]:
    status = request.args.get("status") or None
    if status not in {s.value for s in DirectoryStatus}:
        status = None
    return request.args.get("city", type=int) or None, status


@bp.get("/")
@login_only
def index():
    city, status = _filters()
    return render_template("supervision/directory/index.html", rows=svc.entries(city, status),
                           cities=accounts.cities(), city=city, status=status, statuses=DIRECTORY_STATUS_LABELS,
                           manages=has_permission(current_user, Permission.DIRECTORY_MANAGE))


@bp.get("/export.xlsx")
@login_only
def export():
    city, status = _filters()
    name = quote("评价机构目录.xlsx")
    return Response(svc.export_xlsx(svc.entries(city, status)), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=directory.xlsx; filename*=UTF-8''{name}"})


@bp.get("/<int:entry_id>")
@login_only
def entry(entry_id: int):
    row = svc.get_entry(entry_id)
    form = None
    if may_manage_directory(current_user, row.organisation):
        form = ChangeForm(data={"status": row.status, "scope": svc.scope_text(row), "expires_on": row.expires_on})
    return render_template("supervision/directory/entry.html", entry=row, form=form, scope_hint=SCOPE_HINT)


@bp.post("/<int:entry_id>")
@require(Permission.DIRECTORY_MANAGE)
def change(entry_id: int):
    row = svc.get_entry(entry_id)
    form = ChangeForm()
    if form.validate_on_submit():
        perform(lambda: svc.change(current_user, row, reason=form.reason.data, status=form.status.data,
                                   scope=svc.parse_scope(form.scope.data), expires_on=form.expires_on.data),
                success="目录信息已变更")
    else:
        flash("请填写变更原因", "error")
    return redirect(url_for("directory.entry", entry_id=row.id), 303)


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.DIRECTORY_MANAGE)
def new():
    form = FilingForm()
    orgs = svc.unfiled_organisations(current_user)
    form.organisation_id.choices = [(o.id, f"{o.name}（{o.code}，{o.city.name}）") for o in orgs]
    if form.validate_on_submit():
        org = next(o for o in orgs if o.id == form.organisation_id.data)
        if perform(lambda: svc.file_organisation(current_user, org, filing_no=form.filing_no.data,
                                                 scope=svc.parse_scope(form.scope.data), filed_on=form.filed_on.data,
                                                 expires_on=form.expires_on.data),
                   success=f"{org.name} 已列入评价机构目录"):
            return redirect(url_for("directory.index"), 303)
    return render_template("supervision/directory/new.html", form=form, scope_hint=SCOPE_HINT)
