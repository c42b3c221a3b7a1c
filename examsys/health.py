"""Health: the liveness endpoint for load balancers (answers without touching the database) and
the system status page for staff: the database, and when the process record's chains were last
verified (`examsys audit verify`) and with what result."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import func, select

from examsys.audit import runs
from examsys.audit.models import AuditEvent
from examsys.extensions import db
from examsys.permissions import Permission, public, require

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def health():
    return jsonify({"status": "ok"})


@bp.get("/status")
@require(Permission.AUDIT_VIEW)
def status():
    events, chains = db.session.execute(
        select(func.count(AuditEvent.id), func.count(func.distinct(AuditEvent.scope)))).one()
    return render_template("status.html", run=runs.latest(), events=events, chains=chains,
                           dialect=db.engine.dialect.name)
