"""The jobs pages (/jobs): a job's progress (the page refreshes itself until the job ends, then
offers its download) and the list of one's own jobs."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext
from flask_login import current_user

from examsys import transaction
from examsys.errors import NotFound, PermissionDenied
from examsys.jobs import registry
from examsys.jobs import services as svc
from examsys.jobs.models import Job, JobState
from examsys.permissions import require

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
REFRESH_SECONDS = 2


def follow(ask: Callable[[], Job], back: str):
    """The answer to a POST that asks for a job: the job's page (its progress, then the download);
    a refusal about the object (a Conflict: not yet possible) is flashed on `back`, while one
    about who is asking (PermissionDenied, NotFound) refuses the request."""
    job, error = transaction.attempt(ask)
    if error is not None:
        if isinstance(error, PermissionDenied | NotFound):
            raise error
        flash(error.message, "error")
        return redirect(back, 303)
    return redirect(url_for("jobs.job", job_id=job.id), 303)


def _label(job) -> str:
    return gettext(registry.kind_of(job.kind).label) if registry.known(job.kind) else job.kind


def _link(job) -> tuple[str, str] | None:
    """Where the finished job's page sends the user besides the download: what it made, or for a
    failed job where it was asked from (the kind's `link` decides)."""
    if job.state not in (JobState.DONE, JobState.FAILED) or not registry.known(job.kind):
        return None
    make = registry.kind_of(job.kind).link
    found = make(job) if make is not None else None
    return (gettext(found[0]), found[1]) if found else None


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
                           refresh=None if j.finished else REFRESH_SECONDS, link=_link(j))


@bp.get("/<int:job_id>/result")
@require()
def result(job_id: int):
    """The job's file; the download is recorded as the job's kind says (in this request)."""
    j = svc.get_visible(job_id, current_user)
    path, name, mimetype = svc.take_result(current_user, j)
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
