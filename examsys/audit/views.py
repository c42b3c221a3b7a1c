"""Browsing audit events: one's own organisation, or all for the provincial admin."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from examsys.audit.actions import label_for
from examsys.audit.models import AuditEvent
from examsys.extensions import db
from examsys.permissions import Permission, require
from examsys.tenancy import scoped

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@require(Permission.AUDIT_VIEW)
def events():
    stmt = scoped(AuditEvent, current_user).order_by(AuditEvent.id.desc())
    action = (request.args.get("action") or "").strip()
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action))
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.paginate(stmt, page=page, per_page=50, error_out=False)
    return render_template("audit/events.html", rows=rows, action=action, label_for=label_for)
