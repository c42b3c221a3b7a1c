"""The jobs pages (/jobs): a job's progress (the page refreshes itself until the job ends, then
offers its download) and the list of one's own jobs."""

from __future__ import annotations

from flask import Blueprint, render_template, send_file
from flask_login import current_user

from examsys.jobs import registry
from examsys.jobs import services as svc
from examsys.permissions import require

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
REFRESH_SECONDS = 2


def _label(job) -> str:
    return registry.kind_of(job.kind).label if registry.known(job.kind) else job.kind


@bp.get("/")
@require()
def index():
    return render_template("jobs/index.html", jobs=svc.recent(current_user, limit=50), label=_label)


@bp.get("/<int:job_id>")
@require()
def job(job_id: int):
    j = svc.get_visible(job_id, current_user)
    percent, stage = svc.progress(j)
    return render_template("jobs/job.html", job=j, label=_label(j), percent=percent, stage=stage,
                           refresh=None if j.finished else REFRESH_SECONDS)


@bp.get("/<int:job_id>/result")
@require()
def result(job_id: int):
    """The job's file; the download is recorded as the job's kind says (in this request)."""
    j = svc.get_visible(job_id, current_user)
    path, name, mimetype = svc.take_result(current_user, j)
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
