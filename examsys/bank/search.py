"""Searching the bank: filters over items, Chinese substring search over `Item.search_text`,
stable pagination, and the text normalisation both search and similarity rely on.

`Item.search_text` holds `search_normalise(plain text of the latest version)`; a query is
normalised the same way, so full-width and half-width, upper and lower case, and runs of
whitespace all match each other. Chinese has no word boundaries, so text search is a substring
test: `instr()` on SQLite, `strpos()` on PostgreSQL (one helper, `contains`, picks by dialect).

Ordering is `updated_at DESC, id DESC`, served by the index (organisation_id, updated_at); the
total is counted with a cap (`COUNT_CAP`) so a broad search on a 100,000-item bank never pays
for counting rows nobody will page to.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from examsys import clock
from examsys.bank.models import Item, ItemStatus, QType
from examsys.errors import ValidationError
from examsys.extensions import db
from examsys.permissions import may_search_items
from examsys.standards.models import AssessmentPoint, KnowledgeRange
from examsys.tenancy import scoped

COUNT_CAP = 10_000
MAX_PER_PAGE = 200


def search_normalise(text: str) -> str:
    """NFKC, case folded, whitespace collapsed to single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def contains(column, needle: str) -> ColumnElement[bool]:
    """`needle` occurs in `column`, as a plain substring (no LIKE wildcards), by dialect."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        return func.instr(column, needle) > 0
    if dialect == "postgresql":
        return func.strpos(column, needle) > 0
    return column.contains(needle, autoescape=True)


@dataclass
class SearchFilters:
    """Every filter is optional; None means "any"."""

    standard_id: int | None = None
    level: int | None = None
    range_id: int | None = None  # every point under this range, at any depth
    point_id: int | None = None
    qtype: str | None = None
    status: str | None = None
    difficulty_min: int | None = None
    difficulty_max: int | None = None
    author_id: int | None = None  # who created the item
    created_from: date | None = None  # calendar days in Asia/Shanghai, inclusive
    created_to: date | None = None
    updated_from: date | None = None
    updated_to: date | None = None
    text: str | None = None  # space-separated terms, all must occur
    needs_revision: bool | None = None
    organisation_id: int | None = None  # narrows the provincial admin's view; others are scoped anyway


@dataclass
class Page:
    items: list[Item]
    total: int
    page: int
    per_page: int
    total_capped: bool = False  # True: there are at least `total` results

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.DISPLAY_TZ)


def _range_point_ids(range_id: int):
    """SELECT of the ids of points under `range_id` (its subtree, any depth)."""
    root = db.session.get(KnowledgeRange, range_id)
    if root is None:
        raise ValidationError("鉴定范围不存在", field="range")
    # A knowledge tree has at most a few hundred ranges: walking it in Python is cheaper and more
    # portable than a recursive CTE.
    rows = db.session.execute(select(KnowledgeRange.id, KnowledgeRange.parent_id)
                              .where(KnowledgeRange.standard_id == root.standard_id)).all()
    children: dict[int | None, list[int]] = {}
    for rid, parent in rows:
        children.setdefault(parent, []).append(rid)
    wanted, stack = [], [range_id]
    while stack:
        rid = stack.pop()
        wanted.append(rid)
        stack.extend(children.get(rid, []))
    return select(AssessmentPoint.id).where(AssessmentPoint.range_id.in_(wanted))


def _conditions(f: SearchFilters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.organisation_id is not None:
        conds.append(Item.organisation_id == f.organisation_id)
    if f.standard_id is not None:
        conds.append(Item.standard_id == f.standard_id)
    if f.level is not None:
        conds.append(Item.level_mask.op("&")(1 << int(f.level)) != 0)
    if f.point_id is not None:
        conds.append(Item.point_id == f.point_id)
    elif f.range_id is not None:
        conds.append(Item.point_id.in_(_range_point_ids(f.range_id)))
    if f.qtype:
        try:
            conds.append(Item.qtype == QType(f.qtype))
        except ValueError:
            raise ValidationError(f"未知题型：{f.qtype}", field="qtype") from None
    if f.status:
        try:
            conds.append(Item.status == ItemStatus(f.status))
        except ValueError:
            raise ValidationError(f"未知状态：{f.status}", field="status") from None
    if f.difficulty_min is not None:
        conds.append(Item.difficulty >= f.difficulty_min)
    if f.difficulty_max is not None:
        conds.append(Item.difficulty <= f.difficulty_max)
    if f.author_id is not None:
        conds.append(Item.created_by_id == f.author_id)
    if f.created_from is not None:
        conds.append(Item.created_at >= _day_start(f.created_from))
    if f.created_to is not None:
        conds.append(Item.created_at < _day_start(f.created_to + timedelta(days=1)))
    if f.updated_from is not None:
        conds.append(Item.updated_at >= _day_start(f.updated_from))
    if f.updated_to is not None:
        conds.append(Item.updated_at < _day_start(f.updated_to + timedelta(days=1)))
    if f.needs_revision is not None:
        conds.append(Item.needs_revision.is_(bool(f.needs_revision)))
    for term in search_normalise(f.text or "").split(" "):
        if term:
            conds.append(contains(Item.search_text, term))
    return conds


def search_items(user, filters: SearchFilters | None = None, page: int = 1,
                 per_page: int = 20) -> Page:
    """One page of the items `user` may see that match `filters`, newest change first.

    Raises PermissionDenied without ITEM_VIEW, ValidationError on an unknown type, status or
    range. Another organisation's items never appear (tenancy through `scoped`)."""
    may_search_items(user).enforce()
    filters = filters or SearchFilters()
    page = max(1, int(page))
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    conds = _conditions(filters)

    base = scoped(Item, user, select(Item.id)).where(*conds)
    # Counting a bounded subquery keeps a broad filter from scanning the whole bank twice.
    total = db.session.scalar(select(func.count()).select_from(base.limit(COUNT_CAP + 1).subquery()))
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)

    stmt = (scoped(Item, user).where(*conds)
            .order_by(Item.updated_at.desc(), Item.id.desc())
            .offset((page - 1) * per_page).limit(per_page)
            .options(selectinload(Item.latest_version), selectinload(Item.created_by)))
    items = list(db.session.scalars(stmt))
    return Page(items=items, total=total, page=page, per_page=per_page, total_capped=capped)
