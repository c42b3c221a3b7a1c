"""What the standards views share: the `bp` blueprint and its template helpers, loading objects,
the optimistic-locking version field, uploads, and the signed payload that carries a parsed tree
from a preview to its confirmation.

A preview carries the parsed tree to its confirmation in a signed, time-limited form field, so
no upload is kept on any one app node between the two requests.
"""

from __future__ import annotations

import os

from flask import Blueprint, Response, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from examsys.errors import NotFound, ValidationError
from examsys.extensions import db
from examsys.permissions import Permission
from examsys.standards import coverage as cov
from examsys.standards import services
from examsys.standards.models import IMPORTANCE_LABELS, LEVELS

bp = Blueprint("standards", __name__, url_prefix="/standards")
VIEW, MANAGE = Permission.STANDARD_VIEW, Permission.STANDARD_MANAGE
PAYLOAD_MAX_AGE = 3600


@bp.context_processor
def _helpers():
    return {"LEVELS": LEVELS, "IMPORTANCE_LABELS": IMPORTANCE_LABELS, "CHANGE_LABELS": services.CHANGE_LABELS,
            "QTYPE_SHORT": cov.QTYPE_SHORT}


def get_object(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        raise NotFound("未找到该对象")
    return obj


def form_version(form) -> int | None:
    value = (form.version.data or "").strip()
    return int(value) if value.isdigit() else None


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
