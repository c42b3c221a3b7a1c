"""Delivery staff pages: roster upload with a dry-run preview, the roster template, clearing."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from examsys import transaction
from examsys.delivery import import_jobs
from examsys.delivery.batches import services as svc
from examsys.delivery.forms import (
    ReasonForm,
    RosterUploadForm,
)
from examsys.delivery.models import BatchState
from examsys.delivery.views.blueprint import bp
from examsys.errors import DomainError, NotFound
from examsys.interchange.model import InterchangeError
from examsys.jobs.views import follow
from examsys.permissions import Permission, require

VIEW, MANAGE = Permission.BATCH_VIEW, Permission.BATCH_MANAGE
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


# --- roster -----------------------------------------------------------------------------------


def _staging_dir() -> Path:
    return import_jobs.staging_dir()


def _staged(token: str) -> Path:
    if not _TOKEN.match(token or ""):
        raise NotFound("导入文件已失效，请重新上传")
    return _staging_dir() / f"roster-{current_user.id}-{token}"


def _stage(token: str, name: str, data: bytes, photos_name: str | None, photos: bytes | None, rows: int) -> None:
    base = _staged(token)
    base.with_suffix(".xlsx").write_bytes(data)
    base.with_suffix(".name").write_text(name + "\n" + (photos_name or "") + "\n" + str(rows))
    if photos:
        base.with_suffix(".zip").write_bytes(photos)


def _load(token: str) -> tuple[str, bytes, str | None, bytes | None]:
    base = _staged(token)
    if not base.with_suffix(".xlsx").exists():
        raise NotFound("导入文件已失效，请重新上传")
    name, photos_name, _rows = _names(token)
    zp = base.with_suffix(".zip")
    return name, base.with_suffix(".xlsx").read_bytes(), photos_name or None, zp.read_bytes() if zp.exists() else None


def _names(token: str) -> tuple[str, str | None, int]:
    """(file name, photo archive's name, rows the preview found) of a staged upload."""
    lines = (_staged(token).with_suffix(".name").read_text().split("\n") + ["", ""])[:3]
    return lines[0], lines[1] or None, int(lines[2]) if lines[2].isdigit() else 0


def _large(token: str) -> bool:
    """A staged upload the job worker imports (examsys.delivery.import_jobs): many rows or big files."""
    base = _staged(token)
    if not base.with_suffix(".xlsx").exists():
        raise NotFound("导入文件已失效，请重新上传")
    size = sum(base.with_suffix(ext).stat().st_size for ext in (".xlsx", ".zip") if base.with_suffix(ext).exists())
    return import_jobs.is_large(_names(token)[2], size)


def _import_as_job(batch, token: str):
    """The confirm step of a large import: the job worker imports it, its page shows how far."""
    name, photos_name, rows = _names(token)
    staged = _staged(token).name
    return follow(lambda: import_jobs.request_import(current_user, batch, staged, name, photos_name, rows),
                  url_for("delivery.roster_import", batch_id=batch.id))


def _unstage(token: str) -> None:
    base = _staged(token)
    for ext in (".xlsx", ".name", ".zip"):
        base.with_suffix(ext).unlink(missing_ok=True)


@bp.route("/batches/<int:batch_id>/roster", methods=["GET", "POST"])
@require(MANAGE)
def roster_import(batch_id: int):
    b = svc.get_managed(batch_id, current_user)
    form = RosterUploadForm()
    result, refused = None, None
    if request.method == "POST" and b.state == BatchState.PLANNED and form.token.data and request.form.get("confirm") \
            and _large(form.token.data):
        return _import_as_job(b, form.token.data)
    if request.method == "POST" and b.state == BatchState.PLANNED:
        keep = False  # only a confirmed import that went through is kept; a preview never is
        try:
            with transaction.refusable():
                if form.token.data and request.form.get("confirm"):
                    name, data, pname, pdata = _load(form.token.data)
                    result = svc.import_roster(current_user, b, name, data, pname, pdata)
                    keep = result.ok
                elif form.file.data:
                    upload = form.file.data
                    name = Path(upload.filename or "roster.xlsx").name
                    data = upload.read()
                    photos = form.photos.data
                    pname = Path(photos.filename).name if photos and photos.filename else None
                    pdata = photos.read() if pname else None
                    result = svc.import_roster(current_user, b, name, data, pname, pdata, dry_run=True)
                    if result.ok:
                        token = secrets.token_urlsafe(24)
                        _stage(token, name, data, pname, pdata, len(result.rows))
                        form.token.data = token
                else:
                    flash("请选择考生名单文件", "error")
        except InterchangeError as exc:
            refused = str(exc)
        except NotFound:
            raise
        except DomainError as exc:
            flash(exc.message, "error")
        if keep:
            _unstage(form.token.data)
            flash(f"已导入 {result.imported} 名考生", "success")
            return redirect(url_for("delivery.batch", batch_id=b.id))
        transaction.discard()
    status = 422 if (refused or (result is not None and not result.ok)) else 200
    return render_template("delivery/roster_import.html", batch=b, form=form, result=result, refused=refused,
                           clear_form=ReasonForm(), large_rows=import_jobs.LARGE_ROWS,
                           large_mb=import_jobs.LARGE_BYTES // (1024 * 1024)), status


@bp.get("/batches/roster-template.xlsx")
@require(MANAGE)
def roster_template():
    return Response(svc.template_xlsx(),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=roster-template.xlsx"})


@bp.post("/batches/<int:batch_id>/roster/clear")
@require(MANAGE)
def roster_clear(batch_id: int):
    b = svc.get_managed(batch_id, current_user)
    cleared, error = transaction.attempt(lambda: svc.clear_roster(current_user, b))
    if error is None:
        flash(f"已清空名单（{cleared} 人）", "success")
    else:
        flash(error.message, "error")
    return redirect(url_for("delivery.batch", batch_id=b.id))
