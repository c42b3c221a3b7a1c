"""What the bank's views share: the `bp` blueprint (and `assets_bp` for stored images), the
template filters for item content, loading objects within the user's tenancy, choices."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from sqlalchemy import select

from examsys.bank.mathrender import render_math
from examsys.bank.models import Item, ItemVersion
from examsys.bank.workflow import REVIEW_FIELDS
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.standards.models import AssessmentPoint, Standard, StandardStatus
from examsys.tenancy import get_scoped

bp = Blueprint("bank", __name__, url_prefix="/bank")
# Stored images live at /assets/<sha256>: the only image source the sanitiser lets into content.
assets_bp = Blueprint("assets", __name__)


@bp.app_template_filter("review_field")
def review_field_label(name: str) -> str:
    """题干, 选项 … for the field names stored in per-field review comments."""
    return REVIEW_FIELDS.get(name, name)


@bp.app_template_filter("math")
def math_filter(fragment):
    """Stored (sanitised) item content with its formulas drawn as SVG images: use it instead of
    `|safe` wherever item content is shown, on screen and in PDFs."""
    return render_math(fragment)


def get_item(item_id: int) -> Item:
    return get_scoped(Item, item_id, current_user)


def get_version(version_id: int) -> ItemVersion:
    version = db.session.get(ItemVersion, version_id)
    if version is None:
        raise NotFound("未找到该试题版本")
    get_item(version.item_id)  # tenancy check through the item
    return version


def standard_choices(current_only: bool = False) -> list[tuple[int, str]]:
    stmt = select(Standard).order_by(Standard.code, Standard.edition.desc())
    if current_only:
        stmt = stmt.where(Standard.status == StandardStatus.CURRENT)
    return [(s.id, s.title) for s in db.session.scalars(stmt)]


def point_choices(standard_id: int) -> list[tuple[int, str]]:
    points = db.session.scalars(select(AssessmentPoint).where(
        AssessmentPoint.standard_id == standard_id, AssessmentPoint.retired.is_(False))
        .order_by(AssessmentPoint.code))
    return [(p.id, f"{p.code} {p.name}（{p.importance.value}）") for p in points]
