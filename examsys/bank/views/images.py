"""The bank's stored images, served at /assets/<sha256>: the only image source the sanitiser
lets into item content."""

from __future__ import annotations

from flask import send_file
from flask_login import current_user

from examsys.bank import assets as store
from examsys.bank.models import Asset
from examsys.bank.views.common import assets_bp
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.permissions import Permission, can_access_held_object, require


@assets_bp.get("/assets/<sha256>")
@require(Permission.ITEM_VIEW)
def asset(sha256: str):
    """An image of the bank: to the staff of each organisation that uploaded it and the province
    only, never cached."""
    row = db.session.get(Asset, sha256)
    if row is None or not can_access_held_object(current_user, store.holders(sha256)):
        raise NotFound("未找到该图片")
    ext = dict(store.FORMATS.values())[row.mime]
    return send_file(store.asset_path(row.sha256, ext), mimetype=row.mime, max_age=0)
