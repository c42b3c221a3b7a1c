"""Candidate-facing pages: the `exam` blueprint (/exam). Both pages are static shells; everything
a candidate sees after logging in comes from the JSON API v1 with a Bearer token held in
sessionStorage (never a cookie, never a URL), so these views read no request data and touch no
database. They are public by design (listed in PUBLIC_ENDPOINTS) and sent with no-store."""

from __future__ import annotations

from flask import Blueprint, render_template

from examsys.permissions import public

bp = Blueprint("exam", __name__, url_prefix="/exam")


def _shell(template: str):
    resp = render_template(template)
    # web._security_headers sets no-store on every non-static response; say it here too so the
    # shell stays uncached even if that default ever changes.
    return resp, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.get("/")
@public
def login():
    """考生登录: admission-ticket number + ID number (+ room access code), then the exam list."""
    return _shell("exam/login.html")


@bp.get("/app")
@public
def app():
    """The exam itself (one attempt): questions, navigator, countdown, submit, survey."""
    return _shell("exam/app.html")
