"""Web pages of the bank: the `bp` blueprint, with items/editor/history, review and import/export
routes in their own modules."""

from flask import Blueprint

from examsys.permissions import Permission, require

bp = Blueprint("bank", __name__, url_prefix="/bank")
# Stored images live at /assets/<sha256>: the only image source the sanitiser lets into content.
assets_bp = Blueprint("assets", __name__)


@bp.app_template_filter("review_field")
def review_field_label(name: str) -> str:
    """题干, 选项 … for the field names stored in per-field review comments."""
    from examsys.bank.workflow import REVIEW_FIELDS

    return REVIEW_FIELDS.get(name, name)


@bp.app_template_filter("math")
def math_filter(fragment):
    """Stored (sanitised) item content with its formulas drawn as SVG images: use it instead of
    `|safe` wherever item content is shown, on screen and in PDFs."""
    from examsys.bank.mathrender import render_math

    return render_math(fragment)


from examsys.bank.views import exchange, items, preview, review  # noqa: E402,F401  (routes register on bp)


@assets_bp.get("/assets/<sha256>")
@require(Permission.ITEM_VIEW)
def asset(sha256: str):
    """An image of the bank: to its organisation's staff and the province only, never cached."""
    from flask import send_file
    from flask_login import current_user

    from examsys.bank import assets as store
    from examsys.bank.models import Asset
    from examsys.errors import NotFound
    from examsys.extensions import db
    from examsys.permissions import can_access_org_object

    row = db.session.get(Asset, sha256)
    if row is None or not can_access_org_object(current_user, row.organisation_id):
        raise NotFound("未找到该图片")
    ext = dict(store.FORMATS.values())[row.mime]
    return send_file(store.asset_path(row.sha256, ext), mimetype=row.mime, max_age=0)
