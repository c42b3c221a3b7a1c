"""What the bank's views share: the `bp` blueprint (and `assets_bp` for stored images), the
template filters for item content and classification (difficulty and level as words, what a draft
still lacks), loading objects within the user's tenancy, choices."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from sqlalchemy import select

from examsys.bank import qtypes
from examsys.bank.forms import DIFFICULTY_LABELS
from examsys.bank.mathrender import render_math
from examsys.bank.models import Item, ItemVersion
from examsys.bank.workflow import REVIEW_FIELDS
from examsys.errors import NotFound
from examsys.extensions import db
from examsys.standards.models import LEVELS, AssessmentPoint, KnowledgeRange, Standard, StandardStatus
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


@bp.app_template_filter("difficulty_label")
def difficulty_label(value) -> str:
    """易, 较易, 中等, 较难, 难 for difficulty 1–5 (anything else as given)."""
    return str(DIFFICULTY_LABELS.get(value, value if value is not None else ""))


@bp.app_template_filter("level_labels")
def level_labels(levels) -> str:
    """Levels as their names, highest level first: "三级/高级工、四级/中级工"."""
    return "、".join(LEVELS.get(int(lv), str(lv)) for lv in sorted(levels or [], reverse=True))


@bp.app_template_filter("missing_parts")
def missing_parts(version: ItemVersion | None) -> list[str]:
    """What a draft still lacks before review ("缺少评分要点"); [] for a complete version or none."""
    if version is None:
        return []
    return qtypes.missing_labels(version.qtype, version.content)


def point_ranges(point: AssessmentPoint | None) -> list[KnowledgeRange]:
    """The knowledge ranges above a point, from the tree's top down to the point's own range."""
    ranges: list[KnowledgeRange] = []
    rng = point.range if point is not None else None
    while rng is not None and len(ranges) < 10:
        ranges.insert(0, rng)
        rng = rng.parent
    return ranges


def point_path(point: AssessmentPoint | None) -> str:
    """The knowledge-tree path above a point, top first: "基础知识 / 电工基础"."""
    return " / ".join(r.name for r in point_ranges(point))


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
