"""The process-record pages: browsing events as people read them (one's own organisation, or all
for the provincial admin) and exporting the filtered events to xlsx or CSV."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from examsys.audit import browsing
from examsys.permissions import Permission, require
from examsys.viewutil import attempt

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@require(Permission.AUDIT_VIEW)
def events():
    filters = browsing.Filters.from_args(request.args)
    for problem in filters.problems:
        flash(problem, "warning")
    page = browsing.browse(current_user, filters, request.args.get("page", 1, type=int))
    return render_template("audit/events.html", log=page, args=filters.query_args())


@bp.get("/export/<fmt>")
@require(Permission.AUDIT_VIEW)
def export(fmt: str):
    filters = browsing.Filters.from_args(request.args)
    result, error = attempt(lambda: browsing.export(current_user, filters, fmt))
    if error is not None:
        return redirect(url_for("audit.events", **filters.query_args()))
    return Response(result.data, mimetype=result.mimetype, headers={
        "Content-Disposition": f"attachment; filename=audit-log.{fmt}; filename*=UTF-8''{quote(result.filename)}",
        "Cache-Control": "no-store"})
