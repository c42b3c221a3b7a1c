"""Import of question files (upload, dry-run preview, confirm; the Excel template; a file over the
upload limit answered on the import page), export of the bank, and images."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from examsys.bank import assets, categories, exchange, import_jobs
from examsys.bank.forms import QTYPE_LABELS, ImportForm
from examsys.bank.models import Item, ItemStatus
from examsys.bank.views.common import bp, standard_choices
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.interchange import DEFAULT_LIMITS
from examsys.interchange.xlsx_template import template_xlsx
from examsys.jobs.views import follow
from examsys.permissions import Permission, has_permission, require
from examsys.standards.models import AssessmentPoint, Standard
from examsys.tenancy import scoped
from examsys.viewutil import attempt


def _staged(token: str) -> tuple[Path, Path]:
    # The token names a file only this user can confirm: user id is part of the name.
    base = import_jobs.staged_base(current_user.id, token)
    if base is None:
        raise NotFound("导入文件已失效，请重新上传")
    return base.with_suffix(".bin"), base.with_suffix(".name")


def _large(token: str) -> bool:
    """A staged upload the job worker imports (examsys.bank.import_jobs): many questions or a big
    file (the count is the upload's preview's)."""
    data_path, _name = _staged(token)
    if not data_path.exists():
        raise NotFound("导入文件已失效，请重新上传")
    count = data_path.with_suffix(".count")
    text = count.read_text() if count.exists() else ""
    items = int(text) if text.isdigit() else 0
    return import_jobs.is_large(items, data_path.stat().st_size)


_MAX_MAPPINGS = 500


def _category_map() -> dict[str, int | None]:
    """The user's mapping from the form: `map-<n>-key` (a category) and `map-<n>-point` (a point id,
    "skip" for "do not import", or empty for "not chosen yet"). Point ids are only parsed here;
    `import_drafts` checks that they belong to the chosen standard."""
    mapping: dict[str, int | None] = {}
    for n in range(_MAX_MAPPINGS):
        key = request.form.get(f"map-{n}-key")
        if key is None:
            break
        value = (request.form.get(f"map-{n}-point") or "").strip()
        if value == "skip":
            mapping[key] = None
        elif value.isdigit():
            mapping[key] = int(value)
    return mapping


def _preview(standard, filename, data, form, approve, category_map):
    """A dry run: checks and reports, writes nothing."""
    return exchange.import_file(current_user, current_user.organisation, standard, filename, data,
                                level=form.level.data or None, partial=form.partial.data,
                                dry_run=True, approve=approve, category_map=category_map)


def _import_step(standard, form, approve, category_map):
    """One step of the import page: preview an upload (staging it), preview again with a new
    mapping, or import the staged file. Returns (the result, whether items were imported)."""
    if form.token.data and (form.confirm.data or request.form.get("remap")):
        data_path, name_path = _staged(form.token.data)
        if not data_path.exists():
            raise NotFound("导入文件已失效，请重新上传")
        filename, data = name_path.read_text(), data_path.read_bytes()
        if not form.confirm.data:
            return _preview(standard, filename, data, form, approve, category_map), False
        result = exchange.import_file(current_user, current_user.organisation, standard, filename, data,
                                      level=form.level.data or None, partial=form.partial.data,
                                      approve=approve, category_map=category_map)
        return result, bool(result.imported)
    if form.file.data:
        upload = form.file.data
        filename = Path(upload.filename or "upload").name
        data = upload.read()
        token = secrets.token_urlsafe(24)
        data_path, name_path = _staged(token)
        data_path.write_bytes(data)
        name_path.write_text(filename)
        form.token.data = token
        result = _preview(standard, filename, data, form, approve, category_map)
        if result.refused:  # nothing in it to confirm: back to choosing a file
            import_jobs.unstage(current_user.id, token)
            form.token.data = ""
        else:
            data_path.with_suffix(".count").write_text(str(result.imported + result.skipped))
        return result, False
    return None, False


def upload_limit() -> int:
    """The largest question file accepted, in bytes: the smaller of the request limit (less room
    for the rest of the form) and the importers' own limit."""
    request_limit = current_app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_LIMITS.max_file_bytes
    return min(request_limit - 64 * 1024, DEFAULT_LIMITS.max_file_bytes)


def _limit_mb() -> str:
    return f"{upload_limit() / 1024 / 1024:.0f}"


def _render_import(form, result=None, category_map=None, status=200):
    standard_id = form.standard_id.data or (form.standard_id.choices[0][0] if form.standard_id.choices else None)
    groups = categories.point_groups(db.session.get(Standard, form.standard_id.data)) \
        if result is not None and result.unmatched else []
    return render_template("bank/import.html", form=form, result=result, point_groups=groups,
                           category_map=category_map or {}, limit_mb=_limit_mb(), limit_bytes=upload_limit(),
                           template_standard_id=standard_id, QTYPE_LABELS=QTYPE_LABELS,
                           large_items=import_jobs.LARGE_ITEMS,
                           large_mb=import_jobs.LARGE_BYTES // (1024 * 1024)), status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    """A file over the limit: the import page again, saying so, rather than a bare 413 page. The
    body was refused unread, so the form starts afresh."""
    message = f"上传的文件超过 {_limit_mb()} MB 的上限，未能接收。请删去图片或拆分成几个文件后分别导入。"
    if request.endpoint != "bank.import_items":
        if request.accept_mimetypes.best == "application/json" or request.endpoint == "bank.asset_upload":
            return {"error": {"code": "http_error", "message": message}}, 413
        return render_template("errors/error.html", status=413, message=message), 413
    form = ImportForm(formdata=None)
    form.standard_id.choices = standard_choices(current_only=True)
    form.file.errors = [message]
    return _render_import(form, status=413)


@bp.get("/import/template.xlsx")
@require(Permission.BANK_IMPORT)
def import_template():
    """The Excel template, its example rows on points of the chosen standard."""
    standard_id = request.args.get("standard_id", type=int)
    codes = list(db.session.scalars(select(AssessmentPoint.code).where(
        AssessmentPoint.standard_id == standard_id, AssessmentPoint.retired.is_(False))
        .order_by(AssessmentPoint.code).limit(8))) if standard_id else []
    return Response(template_xlsx(codes), mimetype=exchange.EXPORT_FORMATS["xlsx"][1], headers={
        "Content-Disposition": "attachment; filename=examsys-import-template.xlsx"})


@bp.route("/import", methods=["GET", "POST"])
@require(Permission.BANK_IMPORT)
def import_items():
    form = ImportForm()
    form.standard_id.choices = standard_choices(current_only=True)
    result, standard, category_map = None, None, {}
    if request.method == "POST" and not form.token.data and not form.file.data:
        form.file.errors = ["请先选择要导入的题库文件（Excel、GIFT、Moodle XML 或 QTI），再点“预检”。"]
        return _render_import(form)
    if request.method == "POST" and form.standard_id.data:
        standard = db.session.get(Standard, form.standard_id.data)
        if standard is None:
            raise NotFound("未找到该职业标准")
        approve = bool(form.approve.data) and has_permission(current_user, Permission.ITEM_REVIEW)
        category_map = _category_map()
        if form.token.data and form.confirm.data and _large(form.token.data):
            return follow(lambda: import_jobs.request_import(
                current_user, standard, form.token.data, level=form.level.data or None,
                partial=bool(form.partial.data), approve=approve, category_map=category_map),
                url_for("bank.import_items"))
        outcome, error = attempt(lambda: _import_step(standard, form, approve, category_map), show=False)
        if isinstance(error, NotFound):
            raise error
        if error is not None:
            flash(error.message, "error")
            if form.token.data:
                # A refused mapping: show the preview again without it, so the user can re-choose.
                category_map = {}
                data_path, name_path = _staged(form.token.data)
                if data_path.exists():
                    result, _ = attempt(lambda: _preview(standard, name_path.read_text(), data_path.read_bytes(),
                                                         form, approve, category_map), show=False)
        else:
            result, imported = outcome
            if imported:
                import_jobs.unstage(current_user.id, form.token.data)
                flash(f"已导入 {result.imported} 道试题", "success")
                return redirect(url_for("bank.items", status="" if approve else "draft"))
            if form.confirm.data and result is not None:
                # Nothing written: keep the staged file so the user can fix the mapping.
                flash("没有导入任何试题，请查看错误清单", "error")
    return _render_import(form, result, category_map)


@bp.get("/export")
@require(Permission.BANK_EXPORT)
def export_items():
    fmt = request.args.get("format", "xlsx")
    if fmt not in exchange.EXPORT_FORMATS:
        raise NotFound("不支持的导出格式")
    stmt = scoped(Item, current_user).where(Item.status == ItemStatus.APPROVED).order_by(Item.id)
    if request.args.get("standard_id", type=int):
        stmt = stmt.where(Item.standard_id == request.args.get("standard_id", type=int))
    data = exchange.export_items(exchange.load_items_for_export(stmt), fmt)
    ext, mime = exchange.EXPORT_FORMATS[fmt]
    return Response(data, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename=examsys-bank.{ext}"})


@bp.post("/assets")
@require(Permission.ITEM_WRITE)
def asset_upload():
    upload = request.files.get("file")
    if upload is None:
        return {"error": {"code": "validation_error", "message": "请选择图片文件"}}, 422
    asset, error = attempt(lambda: assets.store_image(current_user, current_user.organisation,
                                                      Path(upload.filename or "image").name, upload.read()),
                           show=False)
    if error is not None:
        return {"error": {"code": error.code, "message": error.message}}, error.status
    return {"sha256": asset.sha256, "url": assets.asset_url(asset.sha256)}


