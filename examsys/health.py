"""Liveness endpoint for load balancers: answers without touching the database."""

from flask import Blueprint, jsonify

from examsys.permissions import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def health():
    return jsonify({"status": "ok"})
