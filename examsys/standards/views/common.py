"""Helpers shared by the standards views: loading objects, the optimistic-locking version field,
running one service call and committing, uploads, and the signed payload that carries a parsed
tree from a preview to its confirmation.

A preview carries the parsed tree to its confirmation in a signed, time-limited form field, so
no upload is kept on any one app node between the two requests.
"""

from __future__ import annotations

import os

from flask import Response, current_app, flash
from itsdangerous import BadSignature, URLSafeTimedSerializer

from examsys.errors import DomainError, NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import Permission

VIEW, MANAGE = Permission.STANDARD_VIEW, Permission.STANDARD_MANAGE
PAYLOAD_MAX_AGE = 3600


def get_object(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        raise NotFound("未找到该对象")
    return obj


def form_version(form) -> int | None:
    value = (form.version.data or "").strip()
    return int(value) if value.isdigit() else None


def apply(form, call, success: str):
    """Run one service call and commit; on a domain error roll back and show it on the field it
    names (or as a message). Returns (ok, result)."""
    try:
        result = call()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        target = getattr(form, exc.field, None) if form is not None and exc.field else None
        if target is not None:
            target.errors = [*target.errors, exc.message]
        else:
            flash(exc.message, "error")
        for extra in exc.details.get("errors", [])[20:50]:
            flash(extra, "error")
        return False, None
    flash(success, "success")
    return True, result


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="standards.tree-payload")


def load_payload(form) -> dict:
    try:
        return serializer().loads(form.payload.data or "", max_age=PAYLOAD_MAX_AGE)
    except BadSignature as exc:
        raise ValidationError("预览已过期或无效，请重新上传文件") from exc


def upload(field) -> tuple[str, bytes]:
    name = os.path.basename((field.data.filename or "upload.xlsx").replace("\\", "/"))[:100]
    return name, field.data.read()


def xlsx_response(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
